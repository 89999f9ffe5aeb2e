//! The [`TicketStore`] trait and the records it keeps.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::lifecycle::Policy;
use super::{Reference, Status, Ticket};
use crate::classify::Intent;
use crate::error::StoreError;
use crate::message::{ChannelKind, Contact, Message};
use crate::pipeline::Decision;

/// Which way a conversation entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the citizen.
    Inbound,
    /// To the citizen.
    Outbound,
}

/// One message of a conversation, in or out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationEntry {
    /// In or out.
    pub direction: Direction,
    /// The channel.
    pub channel: ChannelKind,
    /// Inbound: the provider's message id (unique per channel: the inbox key). Outbound: the
    /// outbox idempotency key, or `None` for an immediate reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The contact ([`contact_key`](super::contact_key)); personal data.
    pub contact_key: String,
    /// The conversation: the channel's thread id, else the contact and the day.
    pub conversation: String,
    /// The ticket it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Reference>,
    /// What was said.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Outbound: sent by the router, not by a person.
    #[serde(default)]
    pub automatic: bool,
    /// Inbound: the decision handed it to a human agent.
    #[serde(default)]
    pub handoff: bool,
    /// Inbound: the decision's intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// Inbound: the decision's department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Inbound: the decision's district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Inbound: what was answered at once (returned again when the provider retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

impl std::fmt::Debug for ConversationEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationEntry")
            .field("direction", &self.direction)
            .field("channel", &self.channel)
            .field("provider_id", &self.provider_id)
            .field("contact_key", &super::privacy::redact(&self.contact_key))
            .field("ticket", &self.ticket.as_ref().map(|r| r.to_string()))
            .field("text", &super::privacy::redact(&self.text))
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A row of the outbox: something to send, written in the same transaction as the change
/// that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A case (or a change to it) for a department.
    Delivery,
    /// A follow-up message for a citizen.
    Notification,
    /// A reminder of an appointment for a citizen: it belongs to no ticket (see
    /// [`schedule_reminders`](super::schedule_reminders)). Delivered like a notification,
    /// through the route of the citizen's channel.
    Reminder,
}

impl OutboxKind {
    /// `delivery`, `notification` or `reminder`.
    ///
    /// ```
    /// use civic_router::ticket::OutboxKind;
    /// assert_eq!(OutboxKind::Reminder.as_str(), "reminder");
    /// assert!(OutboxKind::Reminder.is_for_citizen() && !OutboxKind::Delivery.is_for_citizen());
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Delivery => "delivery",
            OutboxKind::Notification => "notification",
            OutboxKind::Reminder => "reminder",
        }
    }

    /// Whether the row goes to a citizen (a notification or a reminder, on their channel)
    /// rather than to a department.
    pub fn is_for_citizen(self) -> bool {
        !matches!(self, OutboxKind::Delivery)
    }
}

/// Something to deliver: to a department (the case), to a citizen (a follow-up about a
/// ticket, or a reminder of an appointment).
///
/// `Debug` redacts the recipient and personal data in the texts; the payload is left out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The store's id of the row (0 before it is written).
    pub id: i64,
    /// Delivery, notification or reminder.
    pub kind: OutboxKind,
    /// The department id (delivery) or the channel name (notification, reminder).
    pub target: String,
    /// The ticket (deliveries and notifications; `None` for a reminder, which belongs to no
    /// ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// The appointment a reminder is about (`CP-7KD3QX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<String>,
    /// What happened: `new`, `assigned`, `withdrawn`, `reopened` (deliveries), the status
    /// (notifications) or `reminder`.
    pub event: String,
    /// Unique per row and stable across attempts: receivers drop repeats with it.
    pub idempotency_key: String,
    /// The recipient of a notification (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Contact>,
    /// The machine-readable body (the case as JSON for departments).
    pub payload: serde_json::Value,
    /// The human-readable body (the e-mail text, the notification text).
    pub text: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The last failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl OutboxItem {
    /// What the row is about, as a citizen or a department quotes it: the ticket's reference,
    /// else the appointment's (empty when it has neither).
    ///
    /// ```
    /// # use civic_router::ticket::{OutboxItem, OutboxKind};
    /// # let mut item: OutboxItem = serde_json::from_value(serde_json::json!({
    /// #   "id": 1, "kind": "reminder", "target": "sms", "appointment": "CP-7KD3QX",
    /// #   "event": "reminder", "idempotency_key": "reminder:CP-7KD3QX:2026-12-09T09:00",
    /// #   "payload": {}, "text": "Recordatorio", "attempts": 0,
    /// #   "next_attempt_at": "2026-12-08T10:00:00Z", "created_at": "2026-12-08T10:00:00Z"})).unwrap();
    /// assert_eq!(item.kind, OutboxKind::Reminder);
    /// assert!(item.reference.is_none());
    /// assert_eq!(item.about(), "CP-7KD3QX");
    /// ```
    pub fn about(&self) -> String {
        match (&self.reference, &self.appointment) {
            (Some(r), _) => r.to_string(),
            (None, Some(a)) => a.clone(),
            (None, None) => String::new(),
        }
    }
}

impl std::fmt::Debug for OutboxItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxItem")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("target", &self.target)
            .field("reference", &self.reference.as_ref().map(|r| r.to_string()))
            .field("appointment", &self.appointment)
            .field("event", &self.event)
            .field("idempotency_key", &self.idempotency_key)
            .field("to", &self.to)
            .field("text", &super::privacy::redact(&self.text))
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field(
                "last_error",
                &self.last_error.as_deref().map(super::privacy::redact),
            )
            .finish_non_exhaustive()
    }
}

/// An outbox row given up on after too many attempts (or a permanent failure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The row as it was at its last attempt.
    pub item: OutboxItem,
    /// When it was given up.
    pub dead_at: DateTime<Utc>,
}

/// What to ingest: the message, the router's decision, when, and the deployment's policy.
#[derive(Debug, Clone)]
pub struct IngestPlan {
    /// The inbound message.
    pub message: Message,
    /// The router's decision for it.
    pub decision: Decision,
    /// When it is ingested.
    pub at: DateTime<Utc>,
    /// References, duplicates, templates.
    pub policy: Arc<Policy>,
}

/// What ingesting a message did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// The provider had sent this message before: nothing new was written; the rest is what
    /// the first ingestion did.
    pub duplicate_delivery: bool,
    /// The ticket the message opened, joined (a duplicate of an open one) or asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
    /// The text to answer at once on the same channel, if any (the decision's reply, or the
    /// status of the ticket the citizen asked about). Follow-ups about a ticket go through
    /// the outbox instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// The message asked about this ticket's status ("¿cómo va mi aviso SEV-…?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_query: Option<Reference>,
}

/// A status change to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// The new status.
    pub to: Status,
    /// Who makes it.
    pub actor: String,
    /// Why (may be empty; quoted to the citizen in some templates).
    #[serde(default)]
    pub note: String,
    /// When (default: now).
    pub at: DateTime<Utc>,
}

impl StatusRequest {
    /// A change to `to` by `actor`, now, without a note.
    ///
    /// ```
    /// use civic_router::ticket::{Status, StatusRequest};
    /// let r = StatusRequest::new(Status::Accepted, "lipasam").with_note("Brigada avisada");
    /// assert_eq!(r.note, "Brigada avisada");
    /// ```
    pub fn new(to: Status, actor: impl Into<String>) -> Self {
        StatusRequest {
            to,
            actor: actor.into(),
            note: String::new(),
            at: Utc::now(),
        }
    }

    /// The same request with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The same request at another time.
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }
}

/// A new category (and so a new department) for a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecategoriseRequest {
    /// The new category.
    pub category: String,
    /// The department that receives it (resolved from the routing table by [`Desk`](super::Desk)).
    pub department: String,
    /// Who makes it.
    pub actor: String,
    /// Why.
    #[serde(default)]
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Durable storage of cases: inbox, tickets, history, outbox, dead letters.
///
/// Every write method is one transaction: the ticket change, its history entry and the outbox
/// rows it causes commit together or not at all, and the method returns only after the
/// commit. The logic of what to write is shared ([`lifecycle`](super::lifecycle)); a store
/// provides a transaction ([`lifecycle::Tx`](super::lifecycle::Tx)) and the queries.
/// [`conformance`](super::conformance) checks a store against this contract.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Records an inbound message and everything it causes. A message already in the inbox
    /// (same channel and provider id) changes nothing and returns what the first one did,
    /// with `duplicate_delivery` set.
    async fn ingest(&self, plan: IngestPlan) -> Result<IngestOutcome, StoreError>;

    /// Changes a ticket's status, if the lifecycle allows it, with its notifications.
    async fn change_status(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: StatusRequest,
    ) -> Result<Ticket, StoreError>;

    /// Gives an open ticket a new category and department: the new department receives the
    /// case, the old one is told it was withdrawn.
    async fn recategorise(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: RecategoriseRequest,
    ) -> Result<Ticket, StoreError>;

    /// One ticket.
    async fn ticket(&self, reference: &Reference) -> Result<Ticket, StoreError>;

    /// Every ticket, oldest first (statistics, exports).
    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError>;

    /// The tickets a contact reported or follows, oldest first.
    async fn tickets_of_contact(&self, contact_key: &str) -> Result<Vec<Ticket>, StoreError>;

    /// Records a message sent to a citizen outside the outbox (an agent's answer).
    async fn record_outbound(&self, entry: ConversationEntry) -> Result<(), StoreError>;

    /// A contact's messages and replies, oldest first.
    async fn conversation_of_contact(
        &self,
        contact_key: &str,
    ) -> Result<Vec<ConversationEntry>, StoreError>;

    /// The messages and replies about a ticket, oldest first.
    async fn conversation_of_ticket(
        &self,
        reference: &Reference,
    ) -> Result<Vec<ConversationEntry>, StoreError>;

    /// Every conversation entry, oldest first (statistics).
    async fn entries(&self) -> Result<Vec<ConversationEntry>, StoreError>;

    /// Claims up to `limit` outbox rows due at `now`, hiding them from other claimers for
    /// `lease` (a relay that dies mid-send leaves them due again after it: at-least-once,
    /// with the same idempotency key).
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// Adds reminder rows ([`OutboxKind::Reminder`]: no ticket) to the outbox in one
    /// transaction, returning after the commit how many were new. A row whose idempotency key
    /// the outbox already holds — pending, sent or dead — is not added again, so writing the
    /// same reminders twice (a re-run after a crash) sends each once. Rows of another kind,
    /// or without a recipient or a key, are refused ([`StoreErrorKind::Invalid`](crate::error::StoreErrorKind::Invalid)).
    async fn enqueue_reminders(&self, rows: Vec<OutboxItem>) -> Result<usize, StoreError>;

    /// A row was delivered: it leaves the outbox (a notification or a reminder joins the
    /// citizen's conversation).
    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// A delivery attempt failed: retry at `retry_at`, or (`None`) move the row to the
    /// dead-letter table.
    async fn mark_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// Rows still to deliver, oldest first.
    async fn pending(&self) -> Result<Vec<OutboxItem>, StoreError>;

    /// Rows given up on.
    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError>;

    /// Pseudonymises the personal data of tickets closed before `closed_before` (contacts,
    /// texts, addresses, and their conversations), and of conversations that opened no ticket
    /// and were last active before it, keeping every figure the statistics use; reminders
    /// delivered or given up before it lose their recipient and text. Returns how many tickets
    /// were pseudonymised.
    async fn pseudonymise(
        &self,
        closed_before: DateTime<Utc>,
        key: &[u8],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError>;
}
