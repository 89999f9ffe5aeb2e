//! A plain web form posting JSON, and the JSON it gets back.
//!
//! ```json
//! {"id": "f-1", "text": "Bache en la calle Feria", "name": "Ana", "email": "ana@example.org",
//!  "phone": "+34600111222", "lat": 37.40, "lon": -5.99, "address": "Calle Feria 12",
//!  "attachments": ["https://…/foto.jpg"], "language": "es"}
//! ```
//! Only `text` is required; unknown fields are refused. Without an `id`, the message id is
//! a digest of the body, so a resubmitted form is the same message.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext, web::WebForm};
//! let web = WebForm::new();
//! let out = web.render(&Reply::text("Gracias").with_ticket("SEV-1"), &ReplyContext::default()).unwrap();
//! assert_eq!(out.body, r#"{"text":"Gracias","ticket":"SEV-1","handoff":false,"end":false}"#);
//! let bad = InboundRequest::post("https://x.example/f", br#"{"text": "x", "colour": 1}"#.to_vec());
//! assert!(web.receive(&bad).unwrap_err().reason.contains("colour"));
//! ```

use serde::Deserialize;

use super::signature::sha256_hex;
use super::{
    malformed, Channel, ChannelError, ChannelErrorKind, Inbound, InboundRequest, Limits, Rendered,
    Reply, ReplyContext,
};
use crate::message::{Attachment, ChannelKind, Contact, Location, Message};

const K: ChannelKind = ChannelKind::Web;

/// Longest text accepted (characters).
pub const MAX_TEXT: usize = 4000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    #[serde(default)]
    id: Option<String>,
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    language: Option<String>,
}

/// The web-form channel. Authentication, if any, is the host's (a session, a CAPTCHA).
#[derive(Debug, Clone, Default)]
pub struct WebForm {
    /// Input limits.
    pub limits: Limits,
}

impl WebForm {
    /// A web-form channel with the default limits.
    pub fn new() -> Self {
        WebForm::default()
    }
}

impl Channel for WebForm {
    fn kind(&self) -> ChannelKind {
        K
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn verify(&self, _req: &InboundRequest) -> Result<(), ChannelError> {
        Ok(())
    }

    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        let value: serde_json::Value =
            serde_json::from_slice(&req.body).map_err(|e| malformed(K, "body", e.to_string()))?;
        if !value.is_object() {
            return Err(malformed(K, "body", "expected a JSON object"));
        }
        let f: Form = serde_path_to_error::deserialize(value).map_err(|e| {
            let p = e.path().to_string();
            malformed(
                K,
                if p == "." { "body".into() } else { p },
                e.into_inner().to_string(),
            )
        })?;
        if f.text.chars().count() > MAX_TEXT {
            return Err(ChannelError::new(
                K,
                "text",
                ChannelErrorKind::TooLarge,
                format!("more than {MAX_TEXT} characters"),
            ));
        }
        if f.attachments.len() > 10 {
            return Err(ChannelError::new(
                K,
                "attachments",
                ChannelErrorKind::TooLarge,
                "more than 10",
            ));
        }
        let id = match f.id {
            Some(id) if !id.trim().is_empty() && id.len() <= 128 => id,
            Some(_) => return Err(malformed(K, "id", "empty or longer than 128 bytes")),
            None => format!("web-{}", &sha256_hex(&req.body)[..20]),
        };
        let mut msg = Message::new(id, K, f.text);
        msg.contact = Contact {
            id: None,
            phone: f.phone.filter(|s| !s.is_empty()),
            email: f.email.filter(|s| !s.is_empty()),
            name: f.name.filter(|s| !s.is_empty()),
        };
        msg.language = f.language;
        for (i, u) in f.attachments.into_iter().enumerate() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(malformed(
                    K,
                    format!("attachments[{i}]"),
                    "not an http(s) URL",
                ));
            }
            msg.attachments.push(Attachment {
                kind: "file".into(),
                mime_type: None,
                url: Some(u),
                caption: None,
            });
        }
        if f.lat.is_some() || f.lon.is_some() || f.address.is_some() {
            let loc = Location {
                lat: f.lat,
                lon: f.lon,
                address: f.address,
            };
            if (loc.lat.is_some() || loc.lon.is_some()) && loc.point().is_none() {
                return Err(malformed(
                    K,
                    "lat",
                    "lat and lon must both be given and in range",
                ));
            }
            msg.location = Some(loc);
        }
        Ok(Inbound {
            messages: vec![msg],
            ..Inbound::default()
        })
    }

    /// The [`Reply`] as JSON (`application/json`).
    fn render(&self, reply: &Reply, _cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        let body = serde_json::to_string(reply)
            .map_err(|e| ChannelError::new(K, "reply", ChannelErrorKind::Reply, e.to_string()))?;
        Ok(Rendered::ok("application/json", body))
    }
}
