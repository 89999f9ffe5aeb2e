//! WhatsApp Business Cloud API (Meta): the verification handshake, the webhook payload in
//! (messages and status callbacks, apart), `X-Hub-Signature-256`, and the send-message JSON
//! out (text with link preview, a link button, reply buttons, lists, templates beyond the
//! 24-hour window).
//!
//! Since 2026 Meta adds a business-scoped user id (`contacts[].user_id`, `from_user_id`) and
//! may omit `from` for users with a username; a [`Message`] then has the user id as
//! `contact.id` and no phone, and replies address `recipient` instead of `to`.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, whatsapp::WhatsApp};
//! use civic_router::channel::signature::hub_signature;
//!
//! let wa = WhatsApp::new(b"app-secret".to_vec(), "verify-me");
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
//!   "messaging_product":"whatsapp","metadata":{"display_phone_number":"34955000010","phone_number_id":"11"},
//!   "contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],
//!   "messages":[{"from":"34600111222","id":"wamid.T1","timestamp":"1749416383","type":"text",
//!                "text":{"body":"Farola apagada en la calle Betis"}}]}}]}]}"#.to_vec();
//! let req = InboundRequest::post("https://010.example/wa", body.clone())
//!     .with_header("X-Hub-Signature-256", hub_signature(b"app-secret", &body));
//! let inbound = wa.receive(&req).unwrap();
//! assert_eq!(inbound.messages[0].id, "wamid.T1");
//! assert_eq!(inbound.messages[0].contact.phone.as_deref(), Some("+34600111222"));
//!
//! let forged = InboundRequest::post("https://010.example/wa", body)
//!     .with_header("X-Hub-Signature-256", hub_signature(b"other", b"x"));
//! assert!(wa.receive(&forged).is_err());
//! ```

use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::signature::{ct_eq, verify_hub_signature};
use super::{
    malformed, truncate_chars, unix_time, Channel, ChannelError, ChannelErrorKind, DeliveryState,
    Ignored, Inbound, InboundRequest, Limits, Phrases, ProviderError, Rendered, Reply,
    ReplyContext, StatusUpdate,
};
use crate::message::{Attachment, ChannelKind, Contact, Location, Message};

const K: ChannelKind = ChannelKind::Whatsapp;

/// Longest `text.body` WhatsApp sends or accepts.
pub const MAX_TEXT: usize = 4096;
/// Longest interactive body text.
pub const MAX_INTERACTIVE_BODY: usize = 1024;
/// Most reply buttons.
pub const MAX_BUTTONS: usize = 3;
/// Longest reply-button title.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Longest reply-button id.
pub const MAX_BUTTON_ID: usize = 256;
/// Most rows in a list message (over all sections).
pub const MAX_LIST_ROWS: usize = 10;
/// Longest list row title.
pub const MAX_ROW_TITLE: usize = 24;
/// Longest list row description.
pub const MAX_ROW_DESCRIPTION: usize = 72;
/// Longest list row id.
pub const MAX_ROW_ID: usize = 200;
/// Longest list button label.
pub const MAX_LIST_BUTTON: usize = 20;
/// Longest label of a call-to-action URL button (`cta_url` `display_text`).
pub const MAX_CTA_DISPLAY_TEXT: usize = 20;
/// Hours after the citizen's last message during which free-form messages may be sent.
pub const SESSION_HOURS: f64 = 24.0;

/// The approved template sent when the 24-hour window is closed. Its body must take one
/// text parameter (the reply text, or the ticket reference when there is one and
/// `ticket_only` is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Template name (`incidencia_estado`).
    pub name: String,
    /// Language code (`es`).
    pub language: String,
    /// Send only the ticket reference as the parameter (the template words the rest).
    pub ticket_only: bool,
}

/// The WhatsApp Business Cloud API channel.
#[derive(Debug, Clone)]
pub struct WhatsApp {
    app_secret: Vec<u8>,
    verify_token: String,
    /// Input limits.
    pub limits: Limits,
    /// The template for replies outside the 24-hour window.
    pub template: Option<Template>,
    /// Words added around replies.
    pub phrases: Phrases,
}

impl WhatsApp {
    /// A channel that verifies signatures with the app secret and answers the subscription
    /// handshake with the verify token.
    pub fn new(app_secret: Vec<u8>, verify_token: impl Into<String>) -> Self {
        WhatsApp {
            app_secret,
            verify_token: verify_token.into(),
            limits: Limits::default(),
            template: None,
            phrases: Phrases::default(),
        }
    }

    /// The call-to-action button of a reply without options, when it has one WhatsApp can
    /// show: (label, URL, body text — the reply's text with its other links and ticket).
    fn link_button(&self, reply: &Reply) -> Option<(String, String, String)> {
        if !reply.link_button || !reply.options.is_empty() {
            return None;
        }
        let link = reply.links.first()?;
        let label = link.title.trim();
        let url = link.url.trim();
        if label.is_empty() || !(url.starts_with("https://") || url.starts_with("http://")) {
            return None;
        }
        let rest = Reply {
            links: reply.links[1..].to_vec(),
            link_button: false,
            ..reply.clone()
        };
        let text = rest.plain_text(&self.phrases);
        if text.trim().is_empty() || text.chars().count() > MAX_INTERACTIVE_BODY {
            return None;
        }
        Some((
            truncate_chars(label, MAX_CTA_DISPLAY_TEXT),
            url.to_string(),
            text,
        ))
    }

    /// Sets the template used outside the 24-hour window.
    pub fn with_template(mut self, template: Template) -> Self {
        self.template = Some(template);
        self
    }

    /// Answers Meta's subscription handshake
    /// (`GET …?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`): the challenge to
    /// send back as `text/plain` with status 200, or an `Unauthorized` error (answer 403).
    ///
    /// ```
    /// use civic_router::channel::{InboundRequest, whatsapp::WhatsApp};
    /// let wa = WhatsApp::new(b"s".to_vec(), "tok");
    /// let ok = InboundRequest::get("https://x.example/wa?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444");
    /// assert_eq!(wa.handshake(&ok).unwrap(), "1158201444");
    /// let bad = InboundRequest::get("https://x.example/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1");
    /// assert_eq!(wa.handshake(&bad).unwrap_err().kind.http_status(), 403);
    /// ```
    pub fn handshake(&self, req: &InboundRequest) -> Result<String, ChannelError> {
        let q = req.query_params(K)?;
        let get = |n: &str| {
            q.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        if get("hub.mode") != "subscribe" {
            return Err(ChannelError::new(
                K,
                "hub.mode",
                ChannelErrorKind::Unauthorized,
                "expected `subscribe`",
            ));
        }
        if self.verify_token.is_empty()
            || !ct_eq(
                get("hub.verify_token").as_bytes(),
                self.verify_token.as_bytes(),
            )
        {
            return Err(ChannelError::new(
                K,
                "hub.verify_token",
                ChannelErrorKind::Unauthorized,
                "does not match",
            ));
        }
        let challenge = get("hub.challenge");
        if challenge.is_empty() || challenge.len() > 256 {
            return Err(malformed(K, "hub.challenge", "missing or too long"));
        }
        Ok(challenge.to_string())
    }
}

// ---- inbound payload -------------------------------------------------------------------

#[derive(Deserialize)]
struct Payload {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct ChangeValue {
    #[serde(default)]
    contacts: Vec<WaContact>,
    #[serde(default)]
    messages: Vec<WaMessage>,
    #[serde(default)]
    statuses: Vec<WaStatus>,
}

#[derive(Deserialize)]
struct WaContact {
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    wa_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct WaMessage {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_user_id: Option<String>,
    id: String,
    #[serde(deserialize_with = "str_or_int")]
    timestamp: i64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    context: Option<Value>,
    #[serde(default)]
    text: Option<WaText>,
    #[serde(default)]
    image: Option<WaMedia>,
    #[serde(default)]
    video: Option<WaMedia>,
    #[serde(default)]
    audio: Option<WaMedia>,
    #[serde(default)]
    document: Option<WaMedia>,
    #[serde(default)]
    sticker: Option<WaMedia>,
    #[serde(default)]
    location: Option<WaLocation>,
    #[serde(default)]
    interactive: Option<WaInteractive>,
    #[serde(default)]
    button: Option<WaButton>,
    #[serde(default)]
    contacts: Option<Vec<Value>>,
    #[serde(default)]
    errors: Option<Vec<WaError>>,
}

#[derive(Deserialize)]
struct WaText {
    body: String,
}

#[derive(Deserialize)]
struct WaMedia {
    id: String,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    voice: Option<bool>,
}

#[derive(Deserialize)]
struct WaLocation {
    #[serde(deserialize_with = "num_or_str")]
    latitude: f64,
    #[serde(deserialize_with = "num_or_str")]
    longitude: f64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Deserialize)]
struct WaInteractive {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    button_reply: Option<WaReply>,
    #[serde(default)]
    list_reply: Option<WaReply>,
}

#[derive(Deserialize)]
struct WaReply {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct WaButton {
    payload: String,
    text: String,
}

#[derive(Deserialize)]
struct WaError {
    #[serde(deserialize_with = "str_or_int")]
    code: i64,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct WaStatus {
    id: String,
    status: String,
    #[serde(deserialize_with = "str_or_int")]
    timestamp: i64,
    #[serde(default)]
    recipient_id: Option<String>,
    #[serde(default)]
    recipient_user_id: Option<String>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    errors: Vec<WaError>,
}

fn str_or_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an integer"))),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom("not an integer")),
        _ => Err(serde::de::Error::custom("expected a string or an integer")),
    }
}

fn num_or_str<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = match Value::deserialize(d)? {
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number")))?,
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("not a number"))?,
        _ => return Err(serde::de::Error::custom("expected a number")),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(serde::de::Error::custom("not a finite number"))
    }
}

fn de_at<T: for<'de> Deserialize<'de>>(v: Value, path: &str) -> Result<T, ChannelError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let field = if inner == "." || inner.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{inner}")
        };
        malformed(K, field, e.into_inner().to_string())
    })
}

fn state_of(s: &str) -> DeliveryState {
    match s {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        other => DeliveryState::Other(other.to_string()),
    }
}

fn check_len(field: String, s: &str, max: usize) -> Result<(), ChannelError> {
    let n = s.chars().count();
    if n > max {
        return Err(ChannelError::new(
            K,
            field,
            ChannelErrorKind::TooLarge,
            format!("{n} characters; WhatsApp allows {max}"),
        ));
    }
    Ok(())
}

impl WhatsApp {
    fn message(
        &self,
        m: WaMessage,
        contacts: &[WaContact],
        at: &str,
        inbound: &mut Inbound,
    ) -> Result<(), ChannelError> {
        if m.id.is_empty() {
            return Err(malformed(K, format!("{at}.id"), "empty"));
        }
        // who: the phone (`from`) when given; the business-scoped user id otherwise
        let contact_rec = contacts
            .iter()
            .find(|c| m.from.is_some() && c.wa_id == m.from)
            .or_else(|| {
                contacts.iter().find(|c| {
                    m.from_user_id.is_some() && c.user_id.as_deref() == m.from_user_id.as_deref()
                })
            })
            .or(if contacts.len() == 1 {
                contacts.first()
            } else {
                None
            });
        let user_id = m
            .from_user_id
            .clone()
            .or_else(|| contact_rec.and_then(|c| c.user_id.clone()));
        let phone = m.from.clone().filter(|f| !f.is_empty());
        if phone.is_none() && user_id.is_none() {
            return Err(malformed(
                K,
                format!("{at}.from"),
                "neither `from` nor a business-scoped user id (`from_user_id`, `contacts[].user_id`)",
            ));
        }
        let contact = Contact {
            id: user_id.clone().or_else(|| phone.clone()),
            phone: phone.as_ref().map(|p| {
                if p.starts_with('+') {
                    p.clone()
                } else {
                    format!("+{p}")
                }
            }),
            email: None,
            name: contact_rec
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.clone()),
        };
        let mut msg = Message::new(m.id.clone(), K, "");
        msg.received_at = unix_time(m.timestamp);
        msg.conversation_id = contact.id.clone().map(|c| format!("whatsapp:{c}"));
        msg.contact = contact;
        msg.metadata
            .insert("type".into(), Value::from(m.kind.clone()));
        if let Some(u) = &user_id {
            msg.metadata
                .insert("user_id".into(), Value::from(u.clone()));
        }
        if let Some(ctx) = m
            .context
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
        {
            msg.metadata
                .insert("in_reply_to".into(), Value::from(ctx.to_string()));
        }
        let missing = |what: &str| malformed(K, format!("{at}.{what}"), "missing for this type");
        match m.kind.as_str() {
            "text" => {
                let t = m.text.ok_or_else(|| missing("text"))?;
                check_len(format!("{at}.text.body"), &t.body, MAX_TEXT)?;
                msg.text = t.body;
            }
            "image" | "video" | "audio" | "document" | "sticker" => {
                let media = match m.kind.as_str() {
                    "image" => m.image,
                    "video" => m.video,
                    "audio" => m.audio,
                    "document" => m.document,
                    _ => m.sticker,
                }
                .ok_or_else(|| missing(&m.kind))?;
                if let Some(c) = &media.caption {
                    check_len(format!("{at}.{}.caption", m.kind), c, MAX_TEXT)?;
                }
                if let Some(f) = media.filename {
                    msg.metadata.insert("filename".into(), Value::from(f));
                }
                if media.voice == Some(true) {
                    msg.metadata.insert("voice_note".into(), Value::from(true));
                }
                msg.attachments.push(Attachment {
                    kind: m.kind.clone(),
                    mime_type: media.mime_type,
                    url: Some(format!("whatsapp-media:{}", media.id)),
                    caption: media.caption,
                });
            }
            "location" => {
                let l = m.location.ok_or_else(|| missing("location"))?;
                let address = match (l.name, l.address) {
                    (Some(n), Some(a)) if !a.contains(n.as_str()) => Some(format!("{n}, {a}")),
                    (_, Some(a)) => Some(a),
                    (n, None) => n,
                };
                msg.location = Some(Location {
                    lat: Some(l.latitude),
                    lon: Some(l.longitude),
                    address,
                });
            }
            "interactive" => {
                let i = m.interactive.ok_or_else(|| missing("interactive"))?;
                let r = match i.kind.as_str() {
                    "button_reply" => i.button_reply,
                    "list_reply" => i.list_reply,
                    other => {
                        inbound.ignored.push(Ignored {
                            id: Some(m.id),
                            reason: format!("interactive reply of type `{other}`"),
                        });
                        return Ok(());
                    }
                }
                .ok_or_else(|| missing(&format!("interactive.{}", i.kind)))?;
                msg.metadata.insert("reply_id".into(), Value::from(r.id));
                msg.text = match r.description {
                    Some(d) if !d.is_empty() => format!("{} — {d}", r.title),
                    _ => r.title,
                };
            }
            "button" => {
                let b = m.button.ok_or_else(|| missing("button"))?;
                msg.metadata
                    .insert("reply_id".into(), Value::from(b.payload));
                msg.text = b.text;
            }
            "contacts" => {
                let cards = m.contacts.ok_or_else(|| missing("contacts"))?;
                for _ in &cards {
                    msg.attachments.push(Attachment {
                        kind: "contact".into(),
                        mime_type: Some("text/vcard".into()),
                        url: None,
                        caption: None,
                    });
                }
                msg.metadata
                    .insert("shared_contacts".into(), Value::Array(cards));
            }
            "unsupported" | "unknown" | "reaction" | "system" | "order" | "request_welcome" => {
                let why = m
                    .errors
                    .unwrap_or_default()
                    .iter()
                    .map(|e| format!("{} {}", e.code, e.title.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("; ");
                inbound.ignored.push(Ignored {
                    id: Some(m.id),
                    reason: format!("message type `{}` {why}", m.kind)
                        .trim()
                        .to_string(),
                });
                return Ok(());
            }
            other => {
                inbound.ignored.push(Ignored {
                    id: Some(m.id),
                    reason: format!("message type `{other}` not handled"),
                });
                return Ok(());
            }
        }
        inbound.messages.push(msg);
        Ok(())
    }
}

impl Channel for WhatsApp {
    fn kind(&self) -> ChannelKind {
        K
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError> {
        let sig = req.header("X-Hub-Signature-256").ok_or_else(|| {
            ChannelError::new(
                K,
                "X-Hub-Signature-256",
                ChannelErrorKind::Unauthorized,
                "missing",
            )
        })?;
        if self.app_secret.is_empty() || !verify_hub_signature(&self.app_secret, &req.body, sig) {
            return Err(ChannelError::new(
                K,
                "X-Hub-Signature-256",
                ChannelErrorKind::Unauthorized,
                "does not sign the body",
            ));
        }
        Ok(())
    }

    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        if !req.method.eq_ignore_ascii_case("POST") {
            return Err(ChannelError::new(
                K,
                "method",
                ChannelErrorKind::Unsupported,
                format!(
                    "`{}`: messages come by POST (GET is the handshake)",
                    req.method
                ),
            ));
        }
        let value: Value =
            serde_json::from_slice(&req.body).map_err(|e| malformed(K, "body", e.to_string()))?;
        let payload: Payload = de_at(value, "body")?;
        if payload.object != "whatsapp_business_account" {
            return Err(malformed(
                K,
                "object",
                format!("`{}`, expected `whatsapp_business_account`", payload.object),
            ));
        }
        let mut inbound = Inbound::default();
        for (ei, entry) in payload.entry.into_iter().enumerate() {
            for (ci, change) in entry.changes.into_iter().enumerate() {
                let at = format!("entry[{ei}].changes[{ci}].value");
                if change.field != "messages" {
                    inbound.ignored.push(Ignored {
                        id: None,
                        reason: format!("change of field `{}`", change.field),
                    });
                    continue;
                }
                let value: ChangeValue = de_at(change.value, &at)?;
                for (mi, m) in value.messages.into_iter().enumerate() {
                    self.message(
                        m,
                        &value.contacts,
                        &format!("{at}.messages[{mi}]"),
                        &mut inbound,
                    )?;
                }
                for (si, s) in value.statuses.into_iter().enumerate() {
                    if s.id.is_empty() {
                        return Err(malformed(K, format!("{at}.statuses[{si}].id"), "empty"));
                    }
                    inbound.statuses.push(StatusUpdate {
                        channel: K,
                        message_id: s.id,
                        state: state_of(&s.status),
                        recipient: s.recipient_id.or(s.recipient_user_id),
                        timestamp: Some(s.timestamp),
                        correlation: s.biz_opaque_callback_data,
                        errors: s
                            .errors
                            .into_iter()
                            .map(|e| ProviderError {
                                code: e.code.to_string(),
                                title: e.title,
                            })
                            .collect(),
                    });
                }
            }
        }
        Ok(inbound)
    }

    /// The JSON to `POST` to `https://graph.facebook.com/{version}/{phone-number-id}/messages`.
    ///
    /// Within 24 hours of the citizen's last message: up to 3 options become reply buttons,
    /// 4 to 10 a list, more than 10 numbered lines of text; no options and a call-to-action
    /// link ([`Reply::link_button`]), an interactive `cta_url` message — the body text and a
    /// button labelled with the link's title (cut to 20 characters) that opens the URL — as
    /// long as the body fits its 1,024 characters; otherwise a text message with a link
    /// preview when it carries a link. Beyond 24 hours: the configured template, or a `Reply`
    /// error when there is none.
    fn render(&self, reply: &Reply, cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        let mut body = serde_json::Map::new();
        body.insert("messaging_product".into(), json!("whatsapp"));
        body.insert("recipient_type".into(), json!("individual"));
        match (&cx.to.phone, &cx.to.id) {
            (Some(p), _) => body.insert("to".into(), json!(p.trim_start_matches('+'))),
            (None, Some(id)) => body.insert("recipient".into(), json!(id)),
            (None, None) => {
                return Err(ChannelError::new(
                    K,
                    "to",
                    ChannelErrorKind::Reply,
                    "the contact has neither a phone number nor a user id",
                ))
            }
        };
        let in_session = cx
            .hours_since_last_inbound
            .is_none_or(|h| h < SESSION_HOURS);
        if !in_session {
            let t = self.template.as_ref().ok_or_else(|| {
                ChannelError::new(
                    K,
                    "template",
                    ChannelErrorKind::Reply,
                    "more than 24 hours since the citizen last wrote: only a template may be sent, and none is configured",
                )
            })?;
            let param = match (&reply.ticket, t.ticket_only) {
                (Some(tk), true) => tk.clone(),
                _ => truncate_chars(&reply.plain_text(&self.phrases), MAX_INTERACTIVE_BODY),
            };
            body.insert("type".into(), json!("template"));
            body.insert(
                "template".into(),
                json!({
                    "name": t.name,
                    "language": {"policy": "deterministic", "code": t.language},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": param}]}],
                }),
            );
        } else if let Some((label, url, text)) = self.link_button(reply) {
            body.insert("type".into(), json!("interactive"));
            body.insert(
                "interactive".into(),
                json!({
                    "type": "cta_url",
                    "body": {"text": text},
                    "action": {
                        "name": "cta_url",
                        "parameters": {"display_text": label, "url": url},
                    },
                }),
            );
        } else if (1..=MAX_BUTTONS).contains(&reply.options.len()) {
            let buttons: Vec<Value> = reply
                .options
                .iter()
                .map(|o| {
                    json!({"type": "reply", "reply": {
                        "id": truncate_chars(&o.id, MAX_BUTTON_ID),
                        "title": truncate_chars(&o.title, MAX_BUTTON_TITLE),
                    }})
                })
                .collect();
            body.insert("type".into(), json!("interactive"));
            body.insert(
                "interactive".into(),
                json!({
                    "type": "button",
                    "body": {"text": truncate_chars(&reply.plain_text(&self.phrases), MAX_INTERACTIVE_BODY)},
                    "action": {"buttons": buttons},
                }),
            );
        } else if (MAX_BUTTONS + 1..=MAX_LIST_ROWS).contains(&reply.options.len()) {
            let rows: Vec<Value> = reply
                .options
                .iter()
                .map(|o| {
                    let mut r = json!({
                        "id": truncate_chars(&o.id, MAX_ROW_ID),
                        "title": truncate_chars(&o.title, MAX_ROW_TITLE),
                    });
                    if let Some(d) = &o.description {
                        r["description"] = json!(truncate_chars(d, MAX_ROW_DESCRIPTION));
                    }
                    r
                })
                .collect();
            body.insert("type".into(), json!("interactive"));
            body.insert(
                "interactive".into(),
                json!({
                    "type": "list",
                    "body": {"text": truncate_chars(&reply.plain_text(&self.phrases), MAX_INTERACTIVE_BODY)},
                    "action": {
                        "button": truncate_chars(&self.phrases.list_button, MAX_LIST_BUTTON),
                        "sections": [{"rows": rows}],
                    },
                }),
            );
        } else {
            let mut text = reply.plain_text(&self.phrases);
            for (i, o) in reply.options.iter().enumerate() {
                text.push_str(&format!("\n{}. {}", i + 1, o.title));
            }
            if !reply.options.is_empty() {
                text.push('\n');
                text.push_str(&self.phrases.reply_with_number);
            }
            let preview = !reply.links.is_empty() || text.contains("https://");
            body.insert("type".into(), json!("text"));
            body.insert(
                "text".into(),
                json!({"preview_url": preview, "body": truncate_chars(&text, MAX_TEXT)}),
            );
        }
        if let Some(t) = &reply.ticket {
            body.insert(
                "biz_opaque_callback_data".into(),
                json!(format!("ticket={t}")),
            );
        }
        Ok(Rendered::ok(
            "application/json",
            Value::Object(body).to_string(),
        ))
    }
}
