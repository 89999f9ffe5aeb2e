//! The message model: what a citizen sent, on which channel, with what.
//!
//! A [`Message`] is the unit every stage of the pipeline works on. It is plain data with serde in
//! and out; JSON Lines of messages is the exchange format of the CLI.
//!
//! ```
//! use civic_router::message::{ChannelKind, Message};
//!
//! let msg: Message = serde_json::from_str(
//!     r#"{"id": "m1", "channel": "whatsapp", "text": "hay una farola apagada"}"#,
//! ).unwrap();
//! assert_eq!(msg.channel, ChannelKind::Whatsapp);
//! assert!(msg.attachments.is_empty());
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The channel a message arrived on.
///
/// Serialised in `snake_case`: `whatsapp`, `sms`, `voice`, `app`, `web`, `email`, `in_person`.
///
/// ```
/// use civic_router::message::ChannelKind;
/// assert_eq!("sms".parse::<ChannelKind>().unwrap(), ChannelKind::Sms);
/// assert_eq!(ChannelKind::InPerson.as_str(), "in_person");
/// assert!("fax".parse::<ChannelKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// WhatsApp Business.
    Whatsapp,
    /// SMS.
    Sms,
    /// The phone bot: a speech-recognition transcript.
    Voice,
    /// The city app (incident reports with photo and location).
    App,
    /// A web form.
    Web,
    /// E-mail.
    Email,
    /// At a district office counter.
    InPerson,
}

impl ChannelKind {
    /// Every channel kind, in declaration order.
    pub const ALL: [ChannelKind; 7] = [
        ChannelKind::Whatsapp,
        ChannelKind::Sms,
        ChannelKind::Voice,
        ChannelKind::App,
        ChannelKind::Web,
        ChannelKind::Email,
        ChannelKind::InPerson,
    ];

    /// The identifier used in files and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Sms => "sms",
            ChannelKind::Voice => "voice",
            ChannelKind::App => "app",
            ChannelKind::Web => "web",
            ChannelKind::Email => "email",
            ChannelKind::InPerson => "in_person",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown channel name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}` (expected one of whatsapp, sms, voice, app, web, email, in_person)")]
pub struct UnknownChannel(pub String);

impl FromStr for ChannelKind {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

/// Who sent the message. Every field is optional: an app report may be anonymous.
///
/// The `Debug` output redacts personal data, so a contact can never reach a log line in clear.
///
/// ```
/// use civic_router::message::Contact;
/// let c = Contact { phone: Some("+34600111222".into()), ..Default::default() };
/// assert!(!format!("{c:?}").contains("600111222"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// A stable id for the sender on its channel (WhatsApp user id, app account, e-mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Phone number, E.164 where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Contact {
    /// The identifiers of this contact that sender lists are matched against, in order:
    /// id, phone, e-mail.
    pub fn identifiers(&self) -> impl Iterator<Item = &str> {
        [&self.id, &self.phone, &self.email]
            .into_iter()
            .filter_map(|s| s.as_deref())
    }
}

/// Says which identifiers a contact has, never their values:
/// `contact(id, phone)`, or `contact(anonymous)`.
///
/// ```
/// use civic_router::message::Contact;
/// let c = Contact { phone: Some("+34600111222".into()), email: Some("a@b.es".into()), ..Default::default() };
/// assert_eq!(c.to_string(), "contact(phone, email)");
/// assert_eq!(Contact::default().to_string(), "contact(anonymous)");
/// ```
impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = [
            ("id", &self.id),
            ("phone", &self.phone),
            ("email", &self.email),
            ("name", &self.name),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k)
        .collect();
        if present.is_empty() {
            f.write_str("contact(anonymous)")
        } else {
            write!(f, "contact({})", present.join(", "))
        }
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |o: &Option<String>| if o.is_some() { "[REDACTED]" } else { "None" };
        f.debug_struct("Contact")
            .field("id", &r(&self.id))
            .field("phone", &r(&self.phone))
            .field("email", &r(&self.email))
            .field("name", &r(&self.name))
            .finish()
    }
}

/// A file sent with a message: a photo of the incident, a voice note, a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// `image`, `audio`, `video`, `document`, `sticker`, …
    pub kind: String,
    /// MIME type where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Where the file can be fetched (a provider URL or media id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Caption sent with the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// Where the problem is: a point, an address, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude in degrees (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// A postal address or place description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Location {
    /// The point, when both coordinates are present and within range.
    ///
    /// ```
    /// use civic_router::message::Location;
    /// let l = Location { lat: Some(37.39), lon: Some(-5.99), address: None };
    /// assert_eq!(l.point(), Some((37.39, -5.99)));
    /// let bad = Location { lat: Some(137.0), lon: Some(-5.99), address: None };
    /// assert_eq!(bad.point(), None);
    /// ```
    pub fn point(&self) -> Option<(f64, f64)> {
        match (self.lat, self.lon) {
            (Some(lat), Some(lon))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
            {
                Some((lat, lon))
            }
            _ => None,
        }
    }
}

/// One message from a citizen.
///
/// Only `id`, `channel` and `text` are required in JSON; everything else defaults to empty.
/// `text` may be empty (a photo without caption); captions of attachments are routed too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The provider's message id (WhatsApp `wamid`, Twilio `MessageSid`, …) or one of the caller's.
    pub id: String,
    /// The channel it arrived on.
    pub channel: ChannelKind,
    /// The sender.
    #[serde(default)]
    pub contact: Contact,
    /// What the person wrote or said (a transcript for voice).
    #[serde(default)]
    pub text: String,
    /// Files sent with the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Where the problem is, when the channel gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// BCP 47 language tag, when known (`es`, `es-ES`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When the provider received it (RFC 3339). Time-of-day rules use it; without it they
    /// do not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<FixedOffset>>,
    /// Conversation or thread id, to group messages of one exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Free metadata from the channel (speech confidence, provider fields, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl Message {
    /// A message with just an id, a channel and a text.
    ///
    /// ```
    /// use civic_router::message::{ChannelKind, Message};
    /// let m = Message::new("m1", ChannelKind::Sms, "sin agua en mi calle");
    /// assert_eq!(m.text, "sin agua en mi calle");
    /// ```
    pub fn new(id: impl Into<String>, channel: ChannelKind, text: impl Into<String>) -> Self {
        Message {
            id: id.into(),
            channel,
            contact: Contact::default(),
            text: text.into(),
            attachments: Vec::new(),
            location: None,
            language: None,
            received_at: None,
            conversation_id: None,
            metadata: serde_json::Map::new(),
        }
    }

    /// The text the pipeline reads: the message text followed by attachment captions.
    ///
    /// ```
    /// use civic_router::message::{Attachment, ChannelKind, Message};
    /// let mut m = Message::new("m1", ChannelKind::App, "");
    /// m.attachments.push(Attachment {
    ///     kind: "image".into(), mime_type: None, url: None,
    ///     caption: Some("contenedor roto".into()),
    /// });
    /// assert_eq!(m.routable_text(), "contenedor roto");
    /// ```
    pub fn routable_text(&self) -> std::borrow::Cow<'_, str> {
        let captions: Vec<&str> = self
            .attachments
            .iter()
            .filter_map(|a| a.caption.as_deref())
            .filter(|c| !c.is_empty())
            .collect();
        if captions.is_empty() {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut s = self.text.clone();
        for c in captions {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(c);
        }
        std::borrow::Cow::Owned(s)
    }

    /// Whether a usable location (a point or an address) came with the message.
    pub fn has_location(&self) -> bool {
        self.location.as_ref().is_some_and(|l| {
            l.point().is_some() || l.address.as_deref().is_some_and(|a| !a.is_empty())
        })
    }
}
