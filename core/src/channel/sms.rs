//! SMS through Twilio's webhook conventions (the de facto standard): form-encoded inbound
//! messages and status callbacks, `X-Twilio-Signature`, TwiML `<Response><Message>` replies
//! whose cost ([`segments`](super::segments)) is reported and bounded.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext, sms::Sms};
//! use civic_router::channel::signature::{twilio_signature, TwilioAlgorithm};
//! use civic_router::channel::parse_form;
//! use civic_router::ChannelKind;
//!
//! let sms = Sms::new(vec!["auth-token".into()]);
//! let url = "https://010.example/sms";
//! let body = b"MessageSid=SM1&From=%2B34600111222&To=%2B34955000010&Body=Sin+agua+en+Triana&NumMedia=0".to_vec();
//! let params = parse_form(&body, ChannelKind::Sms, "body").unwrap();
//! let sig = twilio_signature(b"auth-token", url, &params, TwilioAlgorithm::HmacSha1);
//! let req = InboundRequest::post(url, body).with_header("X-Twilio-Signature", sig);
//! let msg = &sms.receive(&req).unwrap().messages[0];
//! assert_eq!(msg.text, "Sin agua en Triana");
//!
//! let out = sms.render(&Reply::text("Avería registrada."), &ReplyContext::replying_to(msg)).unwrap();
//! // `í` is not GSM-7: folded, the reply stays one GSM-7 segment
//! assert!(out.body.ends_with("<Response><Message>Averia registrada.</Message></Response>"));
//! assert_eq!(out.segments.unwrap().segments, 1);
//! ```

use serde_json::Value;

use super::form::{field, required};
use super::segments::{cheapest, segment_info, shorten_to_segments};
use super::signature::{verify_twilio_signature, TwilioAlgorithm};
use super::xml::Xml;
use super::{
    malformed, parse_form, Channel, ChannelError, ChannelErrorKind, DeliveryState, Inbound,
    InboundRequest, Limits, Phrases, ProviderError, Rendered, Reply, ReplyContext, StatusUpdate,
};
use crate::message::{Attachment, ChannelKind, Contact, Location, Message};

/// Longest SMS body Twilio accepts (characters).
pub const MAX_BODY_CHARS: usize = 1600;
/// Most media a Twilio message carries.
pub const MAX_MEDIA: usize = 10;

/// What a form-encoded Twilio request carried, and whether its signature holds. Shared by
/// SMS and Voice.
pub(crate) fn twilio_verify(
    channel: ChannelKind,
    keys: &[String],
    shared_keys: &[String],
    req: &InboundRequest,
) -> Result<(), ChannelError> {
    let unauthorized = |field: &str, why: &str| {
        ChannelError::new(channel, field, ChannelErrorKind::Unauthorized, why)
    };
    let sig = req
        .header("X-Twilio-Signature")
        .ok_or_else(|| unauthorized("X-Twilio-Signature", "missing"))?;
    let settings = req.header("X-Twilio-Webhooks-Signature-Settings");
    let algorithm = TwilioAlgorithm::from_settings(settings).ok_or_else(|| {
        unauthorized(
            "X-Twilio-Webhooks-Signature-Settings",
            "names an unknown algorithm",
        )
    })?;
    // Webhook Rules sign with a shared key; the legacy scheme with the Auth Token
    let keys = if settings.is_some() {
        shared_keys
    } else {
        keys
    };
    let is_json = req
        .header("Content-Type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    let params = if is_json || req.method.eq_ignore_ascii_case("GET") {
        Vec::new()
    } else {
        parse_form(&req.body, channel, "body")?
    };
    let json_body = is_json.then_some(req.body.as_slice());
    let ok = keys.iter().filter(|k| !k.is_empty()).any(|k| {
        verify_twilio_signature(k.as_bytes(), &req.url, &params, json_body, sig, algorithm)
    });
    if ok {
        Ok(())
    } else {
        Err(unauthorized(
            "X-Twilio-Signature",
            "does not sign the URL and parameters",
        ))
    }
}

/// The request's parameters: the form body of a POST, the query of a GET.
pub(crate) fn twilio_params(
    channel: ChannelKind,
    req: &InboundRequest,
) -> Result<Vec<(String, String)>, ChannelError> {
    if req.method.eq_ignore_ascii_case("GET") {
        req.query_params(channel)
    } else if req.method.eq_ignore_ascii_case("POST") {
        parse_form(&req.body, channel, "body")
    } else {
        Err(ChannelError::new(
            channel,
            "method",
            ChannelErrorKind::Unsupported,
            format!("`{}`", req.method),
        ))
    }
}

/// The Twilio SMS channel (also WhatsApp through Twilio: `From=whatsapp:+34…`).
#[derive(Debug, Clone)]
pub struct Sms {
    auth_tokens: Vec<String>,
    shared_keys: Vec<String>,
    /// Input limits.
    pub limits: Limits,
    /// Fold the characters GSM-7 lacks (`á`→`a`) so replies stay GSM-7, when that is
    /// cheaper (default on).
    pub fold_to_gsm: bool,
    /// Replies longer than this many segments are shortened (default 3).
    pub max_segments: usize,
    /// Words added around replies.
    pub phrases: Phrases,
}

impl Sms {
    /// A channel verifying with these Auth Tokens (the primary and, while rotating, the
    /// secondary).
    pub fn new(auth_tokens: Vec<String>) -> Self {
        Sms {
            auth_tokens,
            shared_keys: Vec::new(),
            limits: Limits::default(),
            fold_to_gsm: true,
            max_segments: 3,
            phrases: Phrases::default(),
        }
    }

    /// Also accepts Webhook Rules signatures made with these shared keys
    /// (`X-Twilio-Webhooks-Signature-Settings`, HMAC-SHA256).
    pub fn with_shared_keys(mut self, keys: Vec<String>) -> Self {
        self.shared_keys = keys;
        self
    }

    /// The text an SMS reply carries: options numbered, links and ticket appended, folded to
    /// GSM-7 if set, shortened to `max_segments`.
    pub fn reply_text(&self, reply: &Reply) -> String {
        let mut text = reply.plain_text(&self.phrases);
        for (i, o) in reply.options.iter().enumerate() {
            text.push_str(&format!("\n{}) {}", i + 1, o.title));
        }
        if !reply.options.is_empty() {
            text.push('\n');
            text.push_str(&self.phrases.reply_with_number);
        }
        if self.fold_to_gsm {
            text = cheapest(&text).into_owned();
        }
        shorten_to_segments(&text, self.max_segments)
    }
}

fn state_of(s: &str) -> DeliveryState {
    match s {
        "accepted" | "queued" | "sending" | "scheduled" => DeliveryState::Queued,
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" | "undelivered" => DeliveryState::Failed,
        other => DeliveryState::Other(other.to_string()),
    }
}

impl Channel for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError> {
        twilio_verify(ChannelKind::Sms, &self.auth_tokens, &self.shared_keys, req)
    }

    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        const C: ChannelKind = ChannelKind::Sms;
        let form = twilio_params(C, req)?;
        let sid = field(&form, "MessageSid")
            .or_else(|| field(&form, "SmsSid"))
            .or_else(|| field(&form, "SmsMessageSid"))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(C, "MessageSid", "missing"))?;
        let mut inbound = Inbound::default();
        // a status callback: MessageStatus, and no inbound SmsStatus=received
        if let Some(status) = field(&form, "MessageStatus").filter(|_| {
            field(&form, "SmsStatus") != Some("received") && field(&form, "Body").is_none()
        }) {
            inbound.statuses.push(StatusUpdate {
                channel: C,
                message_id: sid.to_string(),
                state: state_of(status),
                recipient: field(&form, "To").map(str::to_string),
                timestamp: None,
                correlation: None,
                errors: field(&form, "ErrorCode")
                    .filter(|c| !c.is_empty())
                    .map(|c| ProviderError {
                        code: c.to_string(),
                        title: field(&form, "ErrorMessage").map(str::to_string),
                    })
                    .into_iter()
                    .collect(),
            });
            return Ok(inbound);
        }
        let from = required(&form, "From", C)?;
        let body = field(&form, "Body").unwrap_or("");
        let n = body.chars().count();
        if n > MAX_BODY_CHARS {
            return Err(ChannelError::new(
                C,
                "Body",
                ChannelErrorKind::TooLarge,
                format!("{n} characters; Twilio allows {MAX_BODY_CHARS}"),
            ));
        }
        let num_media: usize =
            match field(&form, "NumMedia") {
                None | Some("") => 0,
                Some(v) => v.parse().ok().filter(|n| *n <= MAX_MEDIA).ok_or_else(|| {
                    malformed(C, "NumMedia", format!("`{v}` is not 0..={MAX_MEDIA}"))
                })?,
            };
        let (kind, phone) = match from.strip_prefix("whatsapp:") {
            Some(p) => (ChannelKind::Whatsapp, p),
            None => (C, from),
        };
        let mut msg = Message::new(sid, kind, body);
        msg.contact = Contact {
            id: field(&form, "WaId").map(str::to_string),
            phone: Some(phone.to_string()),
            email: None,
            name: field(&form, "ProfileName").map(str::to_string),
        };
        msg.conversation_id = Some(format!("{}:{phone}", kind.as_str()));
        for i in 0..num_media {
            let url = required(&form, &format!("MediaUrl{i}"), C)?;
            let mime = field(&form, &format!("MediaContentType{i}")).map(str::to_string);
            let kind = mime
                .as_deref()
                .and_then(|m| m.split('/').next())
                .unwrap_or("file")
                .to_string();
            msg.attachments.push(Attachment {
                kind,
                mime_type: mime,
                url: Some(url.to_string()),
                caption: None,
            });
        }
        if let (Some(lat), Some(lon)) = (field(&form, "Latitude"), field(&form, "Longitude")) {
            let p = |f: &str, v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| malformed(C, f, format!("`{v}` is not a number")))
            };
            msg.location = Some(Location {
                lat: Some(p("Latitude", lat)?),
                lon: Some(p("Longitude", lon)?),
                address: field(&form, "Address").map(str::to_string),
            });
        }
        if let Some(payload) = field(&form, "ButtonPayload") {
            msg.metadata.insert("reply_id".into(), Value::from(payload));
            if msg.text.is_empty() {
                msg.text = field(&form, "ButtonText").unwrap_or("").to_string();
            }
        }
        for (k, meta) in [
            ("To", "to"),
            ("FromCountry", "from_country"),
            ("FromCity", "from_city"),
            ("NumSegments", "num_segments"),
        ] {
            if let Some(v) = field(&form, k).filter(|v| !v.is_empty()) {
                msg.metadata.insert(meta.into(), Value::from(v));
            }
        }
        inbound.messages.push(msg);
        Ok(inbound)
    }

    /// TwiML: `<Response><Message>…</Message></Response>` (`text/xml`), with the segment
    /// count of the text; an empty reply is `<Response/>` (no message sent).
    fn render(&self, reply: &Reply, _cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        let text = self.reply_text(reply);
        let mut x = Xml::new();
        if text.is_empty() {
            x.empty("Response", &[]);
        } else {
            x.open("Response", &[])
                .leaf("Message", &[], &text)
                .close("Response");
        }
        let mut r = Rendered::ok("text/xml", x.finish());
        r.segments = Some(segment_info(&text));
        Ok(r)
    }
}
