//! Cases: tickets, their lifecycle, follow-up to the citizen, delivery to departments, durable
//! storage and statistics.
//!
//! The decision stays pure ([`Router::route`](crate::Router::route)); everything here is the
//! edge that keeps the case. A [`Desk`] ingests a message: it routes it (pure), then hands the
//! decision to a [`TicketStore`], which writes — in one transaction — the message in the inbox
//! (unique per channel and provider message id, so a retried webhook never makes a second
//! ticket), the ticket with its [`Reference`], and the outbox rows: the case for the department
//! and the acknowledgement for the citizen. Only after that commit does ingestion return, so
//! a webhook endpoint acknowledges the provider only for what is durably kept.
//!
//! | piece | what |
//! |---|---|
//! | [`Ticket`], [`Status`], [`Reference`] | the case, its lifecycle with allowed transitions only, its public reference |
//! | [`lifecycle`] | the store-independent logic: what ingesting, changing status, recategorising write |
//! | [`TicketStore`], [`MemoryStore`], `SqliteStore` (feature `sqlite`) | durable storage, inbox, outbox, dead letters, history |
//! | [`notify`] | the Spanish follow-up texts per status |
//! | [`schedule_reminders`] | appointment reminders queued in the outbox (rows of no ticket), delivered like follow-ups |
//! | [`route`] | where cases and notifications go: the `Route` trait, the e-mail route, the HTTP webhook route and the relay (feature `delivery`) |
//! | [`report`] | statistics per month, channel, department and district, as a table, JSON or HTML |
//! | [`privacy`] | redaction for logs, pseudonymisation after the retention period |
//! | [`conformance`] | the checks every store must pass (memory and SQLite run them; a PostgreSQL store will) |
//!
//! ```
//! use civic_router::{Router, message::{ChannelKind, Message}};
//! use civic_router::ticket::{Desk, MemoryStore, Status, StatusRequest, block_on};
//!
//! let router = Router::from_toml(r#"
//!     [tickets]
//!     reference_prefix = "SEV"
//!     [categories]
//!     alumbrado = "Alumbrado público"
//!     general = "General"
//!     [[department]]
//!     id = "alumbrado"
//!     name = "Alumbrado"
//!     [[department]]
//!     id = "010"
//!     name = "010"
//!     [routing]
//!     default = "010"
//!     category.alumbrado = "alumbrado"
//!     [[rule]]
//!     id = "farola"
//!     when.any_words = ["farola*"]
//!     then = { intent = "incident", category = "alumbrado" }
//! "#).unwrap();
//! let desk = Desk::new(router.into(), MemoryStore::new()).unwrap();
//!
//! let msg = Message::new("wamid.1", ChannelKind::Whatsapp, "farola apagada en calle Feria");
//! let first = block_on(desk.ingest(&msg)).unwrap();
//! let again = block_on(desk.ingest(&msg)).unwrap(); // the provider retried the webhook
//! let t = first.ticket.clone().unwrap();
//! assert_eq!(again.ticket.as_ref().unwrap().reference, t.reference);
//! assert!(again.duplicate_delivery);
//! assert_eq!(t.status, Status::Routed);
//! assert!(t.reference.to_string().starts_with("SEV-"));
//!
//! let t = block_on(desk.change_status(&t.reference.to_string(),
//!     StatusRequest::new(Status::Accepted, "alumbrado"))).unwrap();
//! assert_eq!(t.history.last().unwrap().to, Status::Accepted);
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::classify::{Intent, Priority};
use crate::message::{ChannelKind, Contact, Location};

mod block;
pub mod conformance;
mod desk;
pub mod lifecycle;
mod memory;
pub mod notify;
mod open;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub mod privacy;
mod reference;
pub mod remind;
pub mod report;
pub mod route;
#[cfg(feature = "sqlite")]
mod sqlite;
mod status;
mod store;

pub use block::block_on;
pub use desk::{Desk, Ingested};
pub use memory::MemoryStore;
pub use open::{open_store, redact_url, StoreUrl};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgStore};
pub use reference::{BadReference, Reference};
pub use remind::{reminder_key, reminder_row, schedule_reminders, ReminderReport};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use status::{Status, UnknownStatus};
pub use store::{
    ConversationEntry, DeadLetter, Direction, IngestOutcome, IngestPlan, OutboxItem, OutboxKind,
    RecategoriseRequest, StatusRequest, TicketStore,
};

/// One status change: when, from what to what, who made it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The status before (`None` for the first entry, the ticket's creation).
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// Who made it: `system`, a department id, an agent's name.
    pub actor: String,
    /// Why, in words (may be empty).
    #[serde(default)]
    pub note: String,
    /// The department that has the ticket after this change.
    pub department: String,
}

/// A citizen who follows a ticket: the reporter and those whose reports were its duplicates.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Follower {
    /// The channel they wrote on, where their notifications go.
    pub channel: ChannelKind,
    /// Who they are on it.
    pub contact: Contact,
    /// Their own ticket (for a duplicate's reporter), else the ticket itself.
    pub reference: Reference,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("channel", &self.channel)
            .field("contact", &self.contact) // redacted by Contact's Debug
            .field("reference", &self.reference.to_string())
            .finish()
    }
}

/// A case: an incident (or another intent the configuration opens tickets for) that a
/// department must act on, with everything needed to follow it up.
///
/// `Debug` redacts personal data (the contact, and phone numbers, e-mails and ID numbers in
/// the text) and leaves out the decision, so a ticket can be logged.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// The public reference the citizen can quote.
    pub reference: Reference,
    /// Where it is in its life.
    pub status: Status,
    /// What the person wanted.
    pub intent: Intent,
    /// The area concerned.
    pub category: String,
    /// The department that has it now.
    pub department: String,
    /// How soon.
    pub priority: Priority,
    /// The district, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Where the problem is, when the citizen said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The channel of the first report.
    pub channel: ChannelKind,
    /// The reporter (redacted in `Debug`).
    pub contact: Contact,
    /// The provider ids of the messages about this ticket, first the one that opened it.
    pub messages: Vec<String>,
    /// The text of the first report.
    pub text: String,
    /// Why the router decided as it did (the first decision's explanation, as JSON).
    #[serde(default)]
    pub decision: serde_json::Value,
    /// Every status change, the first being the creation.
    pub history: Vec<StatusChange>,
    /// The earlier ticket this one duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Reference>,
    /// Reporters of later duplicates, notified of this ticket's changes too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<Follower>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When its personal data was pseudonymised (retention), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonymised_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("reference", &self.reference.to_string())
            .field("status", &self.status)
            .field("category", &self.category)
            .field("department", &self.department)
            .field("priority", &self.priority)
            .field("district", &self.district)
            .field("channel", &self.channel)
            .field("contact", &self.contact)
            .field("text", &privacy::redact(&self.text))
            .field("history", &self.history.len())
            .field(
                "duplicate_of",
                &self.duplicate_of.as_ref().map(|r| r.to_string()),
            )
            .field("followers", &self.followers.len())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Ticket {
    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.history.last().map_or(self.created_at, |c| c.at)
    }

    /// When it was first resolved, if ever.
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|c| c.to == Status::Resolved)
            .map(|c| c.at)
    }

    /// When it was last closed, if it is closed.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        if self.status != Status::Closed {
            return None;
        }
        self.history
            .iter()
            .rev()
            .find(|c| c.to == Status::Closed)
            .map(|c| c.at)
    }

    /// The location's point, if any.
    pub fn point(&self) -> Option<(f64, f64)> {
        self.location.as_ref().and_then(Location::point)
    }
}

/// The key a contact is known by in the store: the channel and the first identifier of the
/// contact (id, phone, e-mail), or `anonymous`. Personal data: pseudonymised with the rest.
///
/// ```
/// use civic_router::{ChannelKind, message::Contact, ticket::contact_key};
/// let c = Contact { phone: Some("+34600111222".into()), ..Default::default() };
/// assert_eq!(contact_key(ChannelKind::Sms, &c), "sms:+34600111222");
/// assert_eq!(contact_key(ChannelKind::App, &Contact::default()), "app:anonymous");
/// ```
pub fn contact_key(channel: ChannelKind, contact: &Contact) -> String {
    format!(
        "{channel}:{}",
        contact.identifiers().next().unwrap_or("anonymous")
    )
}

/// Great-circle distance in metres between two points (haversine, mean Earth radius).
///
/// ```
/// let d = civic_router::ticket::distance_m((37.3886, -5.9823), (37.3891, -5.9845));
/// assert!((d - 202.0).abs() < 5.0, "{d}");
/// ```
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8_f64;
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().min(1.0).asin()
}
