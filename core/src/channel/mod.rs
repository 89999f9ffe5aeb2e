//! Channels: provider webhooks in, replies out.
//!
//! Each real channel format lives in its own file and implements [`Channel`]: it turns an
//! [`InboundRequest`] (method, URL, headers, raw body bytes — exactly as received) into an
//! [`Inbound`] of [`Message`]s and delivery [`StatusUpdate`]s kept apart, and renders a
//! [`Reply`] in the channel's own idiom.
//!
//! | file | channel | in | out |
//! |---|---|---|---|
//! | [`whatsapp`] | WhatsApp Business Cloud API | JSON webhook, `X-Hub-Signature-256` | send-message JSON (text, buttons, lists, templates) |
//! | [`sms`] | Twilio Messaging | form webhook, `X-Twilio-Signature` | TwiML `<Message>` with its [`segments`] |
//! | [`voice`] | Twilio Voice (phone bot) | `<Gather>` results | TwiML `<Say>`, `<Gather>`, `<Dial>`, `<Hangup>` |
//! | [`open311`] | Open311 GeoReport v2 (city app) | `POST requests.{xml,json}` | services, requests, updates, errors |
//! | [`web`] | plain web-form JSON | JSON | JSON |
//!
//! Every request goes through [`Channel::receive`]: the body size is checked before anything
//! else ([`Limits`], default 1 MiB), then the signature over the raw bytes, then the parse.
//! Nothing here panics on input: every refusal is a [`ChannelError`] naming the channel and
//! the field.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, web::WebForm};
//!
//! let web = WebForm::new();
//! let req = InboundRequest::post(
//!     "https://010.example/form",
//!     br#"{"id": "f-1", "text": "Hay un bache en la calle Feria"}"#.to_vec(),
//! );
//! let inbound = web.receive(&req).unwrap();
//! assert_eq!(inbound.messages[0].text, "Hay un bache en la calle Feria");
//! assert_eq!(civic_router::channel::dedup_key(&inbound.messages[0]), "web:f-1");
//! ```

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use crate::error::{ChannelError, ChannelErrorKind};
use crate::message::{ChannelKind, Contact, Message};
use crate::pipeline::Decision;

pub mod open311;
pub mod segments;
pub mod settings;
pub mod signature;
pub mod sms;
pub mod voice;
pub mod web;
pub mod whatsapp;

mod form;
mod xml;

pub use form::{parse_form, percent_decode};

/// The default largest body accepted: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Input limits shared by every channel.
///
/// ```
/// use civic_router::channel::Limits;
/// assert_eq!(Limits::default().max_body_bytes, 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Bodies larger than this are refused before any parsing or hashing.
    pub max_body_bytes: usize,
    /// Most messages plus statuses one request may carry (WhatsApp batches).
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_items: 1000,
        }
    }
}

/// An HTTP request as the provider sent it: nothing decoded, nothing re-serialised.
///
/// `url` is the full URL the provider called (scheme, host, port if any, path, query), as
/// configured at the provider: Twilio signs it. Behind a proxy, rebuild it from the public
/// address, not from the proxy's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The full URL the provider called.
    pub url: String,
    /// Header names and values (names compared without case).
    pub headers: Vec<(String, String)>,
    /// The raw body bytes.
    pub body: Vec<u8>,
}

impl InboundRequest {
    /// A `POST` with no headers.
    ///
    /// ```
    /// use civic_router::channel::InboundRequest;
    /// let r = InboundRequest::post("https://x.example/a", b"k=v".to_vec())
    ///     .with_header("Content-Type", "application/x-www-form-urlencoded");
    /// assert_eq!(r.header("content-type"), Some("application/x-www-form-urlencoded"));
    /// ```
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        InboundRequest {
            method: "POST".into(),
            url: url.into(),
            headers: Vec::new(),
            body,
        }
    }

    /// A `GET` with no headers and no body.
    pub fn get(url: impl Into<String>) -> Self {
        InboundRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The same request with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of a header, the name compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The URL's path (without query or fragment).
    ///
    /// ```
    /// use civic_router::channel::InboundRequest;
    /// let r = InboundRequest::get("https://x.example:8443/open311/v2/requests/42.json?k=1");
    /// assert_eq!(r.path(), "/open311/v2/requests/42.json");
    /// ```
    pub fn path(&self) -> &str {
        let u = self.url.split('#').next().unwrap_or("");
        let u = u.split('?').next().unwrap_or("");
        match u.find("://") {
            Some(i) => {
                let rest = &u[i + 3..];
                rest.find('/').map_or("/", |j| &rest[j..])
            }
            None => u,
        }
    }

    /// The URL's query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        let u = self.url.split('#').next().unwrap_or("");
        u.split_once('?').map(|(_, q)| q)
    }

    /// The decoded query parameters, in order.
    pub fn query_params(
        &self,
        channel: ChannelKind,
    ) -> Result<Vec<(String, String)>, ChannelError> {
        match self.query() {
            Some(q) => parse_form(q.as_bytes(), channel, "query"),
            None => Ok(Vec::new()),
        }
    }

    /// Refuses a body larger than the limit, before anything reads it.
    pub fn check_size(&self, channel: ChannelKind, limits: &Limits) -> Result<(), ChannelError> {
        if self.body.len() > limits.max_body_bytes {
            return Err(ChannelError::new(
                channel,
                "body",
                ChannelErrorKind::TooLarge,
                format!(
                    "{} bytes; the limit is {}",
                    self.body.len(),
                    limits.max_body_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// The delivery state a provider reports for a message the city sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Accepted by the provider, not yet sent (Twilio `accepted`, `queued`, `sending`).
    Queued,
    /// Sent to the network.
    Sent,
    /// Delivered to the handset.
    Delivered,
    /// Read by the citizen.
    Read,
    /// Not delivered (WhatsApp `failed`, Twilio `failed`, `undelivered`).
    Failed,
    /// A call's progress (Twilio Voice `CallStatus`: `ringing`, `in-progress`, `completed`, …).
    Call(String),
    /// Anything else the provider says, kept verbatim.
    Other(String),
}

impl DeliveryState {
    /// The state as a string (`sent`, `failed`, `call:ringing`, …).
    pub fn as_string(&self) -> String {
        match self {
            DeliveryState::Queued => "queued".into(),
            DeliveryState::Sent => "sent".into(),
            DeliveryState::Delivered => "delivered".into(),
            DeliveryState::Read => "read".into(),
            DeliveryState::Failed => "failed".into(),
            DeliveryState::Call(s) => format!("call:{s}"),
            DeliveryState::Other(s) => s.clone(),
        }
    }
}

/// A provider's error attached to a status (WhatsApp `errors[]`, Twilio `ErrorCode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderError {
    /// The provider's code (`131047`, `30003`).
    pub code: String,
    /// Its title or message, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A status callback: what happened to a message the city sent (or to a call). Kept apart
/// from citizens' messages: it never reaches the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The channel.
    pub channel: ChannelKind,
    /// The provider's id of the message (or call) the status is about.
    pub message_id: String,
    /// The new state.
    pub state: DeliveryState,
    /// The recipient's id on the channel, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Unix time of the event, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Data the city attached when sending (WhatsApp `biz_opaque_callback_data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<String>,
    /// Errors the provider reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProviderError>,
}

impl StatusUpdate {
    /// The de-duplication key: channel, message id and state, so `sent` then `delivered`
    /// are two events but a retried `delivered` is one.
    ///
    /// ```
    /// use civic_router::channel::{DeliveryState, StatusUpdate};
    /// use civic_router::ChannelKind;
    /// let s = StatusUpdate {
    ///     channel: ChannelKind::Whatsapp, message_id: "wamid.X".into(),
    ///     state: DeliveryState::Read, recipient: None, timestamp: None,
    ///     correlation: None, errors: vec![],
    /// };
    /// assert_eq!(s.dedup_key(), "whatsapp:status:wamid.X:read");
    /// ```
    pub fn dedup_key(&self) -> String {
        format!(
            "{}:status:{}:{}",
            self.channel,
            self.message_id,
            self.state.as_string()
        )
    }
}

/// Something a request carried that is neither a message nor a status (a reaction, a system
/// notice, a message type the provider itself marks unsupported). Reported, never routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    /// The provider's id for it, when given.
    pub id: Option<String>,
    /// Why it was not turned into a message.
    pub reason: String,
}

/// What one provider request carried: citizens' messages and status callbacks, apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    /// Messages to route.
    pub messages: Vec<Message>,
    /// Delivery and call status callbacks.
    pub statuses: Vec<StatusUpdate>,
    /// Items neither routed nor tracked, with the reason.
    pub ignored: Vec<Ignored>,
}

/// The de-duplication key of a message: the channel and the provider's message id.
///
/// ```
/// use civic_router::{channel::dedup_key, message::{ChannelKind, Message}};
/// assert_eq!(dedup_key(&Message::new("SM123", ChannelKind::Sms, "hola")), "sms:SM123");
/// ```
pub fn dedup_key(msg: &Message) -> String {
    format!("{}:{}", msg.channel, msg.id)
}

/// A bounded, thread-safe memory of keys already seen: providers deliver at least once and
/// retry (Meta for up to 7 days), so the same provider id must never make two cases.
/// The oldest keys are forgotten first; a durable store (the inbox of the cases issue) does
/// the same across restarts.
///
/// ```
/// use civic_router::channel::Deduplicator;
/// let d = Deduplicator::new(2);
/// assert!(d.first_time("sms:SM1"));
/// assert!(!d.first_time("sms:SM1"));
/// assert!(d.first_time("sms:SM2"));
/// assert!(d.first_time("sms:SM3")); // SM1 forgotten: capacity 2
/// assert!(d.first_time("sms:SM1"));
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Deduplicator {
    /// Remembers at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        Deduplicator {
            capacity: capacity.max(1),
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// Records the key; true the first time it is seen.
    pub fn first_time(&self, key: &str) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if set.contains(key) {
            return false;
        }
        if set.len() >= self.capacity {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        set.insert(key.to_string());
        order.push_back(key.to_string());
        true
    }

    /// Keeps only the messages and statuses not seen before.
    pub fn filter(&self, inbound: Inbound) -> Inbound {
        Inbound {
            messages: inbound
                .messages
                .into_iter()
                .filter(|m| self.first_time(&dedup_key(m)))
                .collect(),
            statuses: inbound
                .statuses
                .into_iter()
                .filter(|s| self.first_time(&s.dedup_key()))
                .collect(),
            ignored: inbound.ignored,
        }
    }
}

/// A self-service link in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// What the link is (`Cita previa`).
    pub title: String,
    /// The URL.
    pub url: String,
}

/// A quick-reply option: a button on WhatsApp, a number by SMS, a spoken choice by voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOption {
    /// The id that comes back when chosen (`cita:ok`).
    pub id: String,
    /// What the citizen sees or hears (`Sí`).
    pub title: String,
    /// A longer description (WhatsApp list rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One reply, independent of the channel; each channel renders it in its own idiom and
/// within its own limits.
///
/// ```
/// use civic_router::channel::{Reply, ReplyOption};
/// let r = Reply::text("¿Confirma la cita?")
///     .with_option("cita:ok", "Sí")
///     .with_option("cita:no", "No")
///     .with_ticket("SEV-2026-000123");
/// assert_eq!(r.options.len(), 2);
/// assert_eq!(r.ticket.as_deref(), Some("SEV-2026-000123"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The text to send or say.
    pub text: String,
    /// Self-service links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The first link is the reply's call to action: a channel with link buttons shows it as
    /// one (WhatsApp: an interactive `cta_url` message); the others treat it as any link.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub link_button: bool,
    /// Quick-reply options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ReplyOption>,
    /// The ticket reference a citizen can quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Hand the conversation to a human agent (voice: `<Dial>`).
    #[serde(default)]
    pub handoff: bool,
    /// The exchange is over (voice: `<Hangup>`; otherwise the bot listens again).
    #[serde(default)]
    pub end: bool,
}

impl Reply {
    /// A reply with just a text.
    pub fn text(text: impl Into<String>) -> Self {
        Reply {
            text: text.into(),
            ..Reply::default()
        }
    }

    /// Adds a quick-reply option.
    pub fn with_option(mut self, id: impl Into<String>, title: impl Into<String>) -> Self {
        self.options.push(ReplyOption {
            id: id.into(),
            title: title.into(),
            description: None,
        });
        self
    }

    /// Puts a link first and makes it the call to action (see [`link_button`](Self::link_button)).
    ///
    /// ```
    /// use civic_router::channel::Reply;
    /// let r = Reply::text("Pida cita en la sede electrónica.")
    ///     .with_link_button("Cita previa", "https://example.invalid/cita");
    /// assert!(r.link_button);
    /// assert_eq!(r.links[0].title, "Cita previa");
    /// ```
    pub fn with_link_button(mut self, title: impl Into<String>, url: impl Into<String>) -> Self {
        self.links.insert(
            0,
            Link {
                title: title.into(),
                url: url.into(),
            },
        );
        self.link_button = true;
        self
    }

    /// Adds a self-service link.
    pub fn with_link(mut self, title: impl Into<String>, url: impl Into<String>) -> Self {
        self.links.push(Link {
            title: title.into(),
            url: url.into(),
        });
        self
    }

    /// The same reply, ending the exchange (voice: hang up after speaking).
    pub fn ended(mut self) -> Self {
        self.end = true;
        self
    }

    /// Sets the ticket reference.
    pub fn with_ticket(mut self, ticket: impl Into<String>) -> Self {
        self.ticket = Some(ticket.into());
        self
    }

    /// The reply a [`Decision`] asks for: a knowledge-base answer on the channel's terms
    /// ([`FaqAnswer::reply`](crate::faq::FaqAnswer::reply): its self-service link as a button
    /// on WhatsApp); otherwise its reply text (or `fallback` when the configuration has none
    /// for the situation) with the URLs in that text as self-service links. With the hand-off
    /// flag; an emergency reply ends the exchange.
    ///
    /// ```
    /// use civic_router::{Router, message::{ChannelKind, Message}, channel::Reply};
    /// let router = Router::from_toml(r#"
    ///     [router]
    ///     handoff_below = 0.0
    ///     [[department]]
    ///     id = "010"
    ///     name = "010"
    ///     [routing]
    ///     default = "010"
    ///     [replies]
    ///     other = "Consulte https://010.example/tramites o llame al 010."
    /// "#).unwrap();
    /// let d = router.route(&Message::new("m1", ChannelKind::Sms, "hola")).unwrap();
    /// let r = Reply::from_decision(&d, "Recibido.");
    /// assert_eq!(r.text, "Consulte https://010.example/tramites o llame al 010.");
    /// assert_eq!(r.links[0].url, "https://010.example/tramites");
    /// ```
    pub fn from_decision(decision: &Decision, fallback: &str) -> Reply {
        if let Some(a) = &decision.answer {
            let mut r = a.reply(decision.channel);
            r.handoff = decision.handoff;
            return r;
        }
        let text = decision
            .reply
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| fallback.to_string());
        let links = extract_urls(&text)
            .into_iter()
            .map(|u| Link {
                title: u.clone(),
                url: u,
            })
            .collect();
        Reply {
            text,
            links,
            link_button: false,
            options: Vec::new(),
            ticket: None,
            handoff: decision.handoff,
            end: decision.intent == crate::classify::Intent::Emergency,
        }
    }

    /// The text followed by the links not already in it and the ticket reference, for
    /// channels without buttons.
    pub fn plain_text(&self, phrases: &Phrases) -> String {
        let mut s = self.text.trim().to_string();
        for l in &self.links {
            if !s.contains(&l.url) {
                push_line(&mut s, &format!("{}: {}", l.title, l.url));
            }
        }
        if let Some(t) = &self.ticket {
            if !s.contains(t.as_str()) {
                push_line(&mut s, &format!("{} {t}", phrases.ticket));
            }
        }
        s
    }
}

fn push_line(s: &mut String, line: &str) {
    if !s.is_empty() {
        s.push('\n');
    }
    s.push_str(line);
}

/// The `http://` and `https://` URLs in a text, trailing punctuation removed.
///
/// ```
/// assert_eq!(
///     civic_router::channel::extract_urls("Ver https://a.example/x, o http://b.example."),
///     vec!["https://a.example/x", "http://b.example"],
/// );
/// ```
pub fn extract_urls(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace())
        .filter_map(|w| {
            let start = w.find("https://").or_else(|| w.find("http://"))?;
            let u = w[start..].trim_end_matches(|c: char| ".,;:!?)]}»\"'".contains(c));
            (u.len() > "https://".len()).then(|| u.to_string())
        })
        .collect()
}

/// The fixed words channels add around a reply. Spanish by default; a deployment may
/// translate them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrases {
    /// Before a ticket reference (`Referencia:`).
    pub ticket: String,
    /// After numbered SMS options (`Responda con el número de su opción.`).
    pub reply_with_number: String,
    /// The label of a WhatsApp list button (`Ver opciones`).
    pub list_button: String,
    /// Spoken before each option, with `{n}` and `{title}` (`Para {title}, diga {title} o pulse {n}.`).
    pub spoken_option: String,
    /// Said before handing a call to an agent (`Le paso con un agente.`).
    pub handoff: String,
}

impl Default for Phrases {
    fn default() -> Self {
        Phrases {
            ticket: "Referencia:".into(),
            reply_with_number: "Responda con el número de su opción.".into(),
            list_button: "Ver opciones".into(),
            spoken_option: "Para {title}, diga {title} o pulse {n}.".into(),
            handoff: "Le paso con un agente.".into(),
        }
    }
}

/// What a channel answers: an HTTP response body (TwiML, JSON, XML) or, for WhatsApp, the
/// JSON to `POST` to the Graph API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// HTTP status for a response (200 unless an error).
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: String,
    /// SMS only: what the text costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<segments::SegmentInfo>,
}

impl Rendered {
    pub(crate) fn ok(content_type: &str, body: String) -> Self {
        Rendered {
            status: 200,
            content_type: content_type.into(),
            body,
            segments: None,
        }
    }
}

/// Who a reply goes to and whether the channel's conversation window is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplyContext {
    /// The citizen, as the inbound message gave it ([`Message::contact`]).
    pub to: Contact,
    /// Hours since the citizen last wrote (WhatsApp allows free text within 24 h; beyond,
    /// only templates). `None`: replying to the message just received.
    pub hours_since_last_inbound: Option<f64>,
    /// The id of the message answered (voice numbers the turns of a call from it).
    pub in_reply_to: Option<String>,
}

impl ReplyContext {
    /// Replying at once to a message just received.
    pub fn replying_to(msg: &Message) -> Self {
        ReplyContext {
            to: msg.contact.clone(),
            hours_since_last_inbound: None,
            in_reply_to: Some(msg.id.clone()),
        }
    }
}

/// A real channel: provider requests in, replies out.
pub trait Channel: Send + Sync {
    /// The channel kind its messages carry.
    fn kind(&self) -> ChannelKind;

    /// The input limits.
    fn limits(&self) -> &Limits;

    /// Checks the request's authenticity (signature, API key) over the raw bytes.
    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError>;

    /// Parses a verified request.
    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError>;

    /// Renders a reply in the channel's idiom.
    fn render(&self, reply: &Reply, cx: &ReplyContext) -> Result<Rendered, ChannelError>;

    /// Size check, then [`verify`](Channel::verify), then [`parse`](Channel::parse): what a
    /// webhook endpoint calls.
    fn receive(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        req.check_size(self.kind(), self.limits())?;
        self.verify(req)?;
        let inbound = self.parse(req)?;
        let n = inbound.messages.len() + inbound.statuses.len() + inbound.ignored.len();
        if n > self.limits().max_items {
            return Err(ChannelError::new(
                self.kind(),
                "body",
                ChannelErrorKind::TooLarge,
                format!("{n} items; the limit is {}", self.limits().max_items),
            ));
        }
        Ok(inbound)
    }
}

/// Cuts a string to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub(crate) fn malformed(
    channel: ChannelKind,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> ChannelError {
    ChannelError::new(channel, field, ChannelErrorKind::Malformed, reason)
}

/// Unix seconds to a UTC time, when in range.
pub(crate) fn unix_time(secs: i64) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.fixed_offset())
}
