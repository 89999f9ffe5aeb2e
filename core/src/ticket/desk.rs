//! The [`Desk`]: a router, a store and the case policy, together.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lifecycle::Policy;
use super::report::Report;
use super::store::{ConversationEntry, IngestPlan, RecategoriseRequest, StatusRequest};
use super::{contact_key, Reference, Ticket, TicketStore};
use crate::error::{Error, StoreError, StoreErrorKind};
use crate::message::{ChannelKind, Contact, Message};
use crate::pipeline::{Decision, Router};

/// What ingesting one message did: the decision, and what the store kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingested {
    /// The router's decision (pure; the same for a retried delivery).
    pub decision: Decision,
    /// The provider had sent this message before; nothing new was written.
    pub duplicate_delivery: bool,
    /// The ticket the message opened, joined or asked about.
    pub ticket: Option<Ticket>,
    /// What to answer at once on the same channel, if anything.
    pub reply: Option<String>,
    /// The reference the message asked about.
    pub status_query: Option<Reference>,
}

/// Ingests messages into cases and changes them: routing (pure) plus storage (the edge).
///
/// See the [module documentation](super) for a full example.
pub struct Desk {
    router: Arc<Router>,
    store: Arc<dyn TicketStore>,
    policy: Arc<Policy>,
    retention_days: u32,
    max_attempts: u32,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("router", &self.router)
            .field("prefix", &self.policy.prefix)
            .finish_non_exhaustive()
    }
}

fn parse_ref(s: &str) -> Result<Reference, StoreError> {
    s.parse().map_err(|_| StoreError::unknown_ticket(s))
}

impl Desk {
    /// A desk over a store; the policy comes from the router's `[tickets]` section.
    pub fn new(router: Arc<Router>, store: impl TicketStore + 'static) -> Result<Desk, Error> {
        Desk::with_store(router, Arc::new(store))
    }

    /// A desk over a shared store.
    pub fn with_store(router: Arc<Router>, store: Arc<dyn TicketStore>) -> Result<Desk, Error> {
        let cfg = router.config();
        let policy = Policy::from_config(&cfg)?;
        Ok(Desk {
            router,
            store,
            policy: Arc::new(policy),
            retention_days: cfg.tickets.retention_days,
            max_attempts: cfg.tickets.max_attempts,
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TicketStore> {
        &self.store
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The case policy in force.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// Delivery attempts before the dead-letter table (`tickets.max_attempts`).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Routes a message and keeps it: inbox, ticket, outbox, in one commit. Returns after the
    /// commit: acknowledge the provider's webhook then. The message's `received_at` is its
    /// time (for the statistics), else now.
    pub async fn ingest(&self, msg: &Message) -> Result<Ingested, Error> {
        let at = msg
            .received_at
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        self.ingest_at(msg, at).await
    }

    /// [`ingest`](Desk::ingest) at a given time (imports, tests).
    pub async fn ingest_at(&self, msg: &Message, at: DateTime<Utc>) -> Result<Ingested, Error> {
        let decision = self.router.route(msg)?;
        let out = self
            .store
            .ingest(IngestPlan {
                message: msg.clone(),
                decision: decision.clone(),
                at,
                policy: self.policy.clone(),
            })
            .await?;
        Ok(Ingested {
            decision,
            duplicate_delivery: out.duplicate_delivery,
            ticket: out.ticket,
            reply: out.reply,
            status_query: out.status_query,
        })
    }

    /// Changes a ticket's status. A bad reference is [`StoreErrorKind::UnknownTicket`], a
    /// transition the lifecycle does not allow is [`StoreErrorKind::RefusedTransition`].
    pub async fn change_status(
        &self,
        reference: &str,
        request: StatusRequest,
    ) -> Result<Ticket, Error> {
        let r = parse_ref(reference)?;
        Ok(self.store.change_status(&self.policy, &r, request).await?)
    }

    /// Gives a ticket a new category; the department is `department` if given, else the
    /// routing table's for the category (`routing.category`, then `routing.default`). The new
    /// department receives the case and the old one is told.
    pub async fn recategorise(
        &self,
        reference: &str,
        category: &str,
        department: Option<&str>,
        actor: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<Ticket, Error> {
        let r = parse_ref(reference)?;
        let cfg = self.router.config();
        if !cfg.categories.is_empty() && !cfg.categories.contains_key(category) {
            return Err(StoreError::invalid(format!("unknown category `{category}`")).into());
        }
        let dep = match department {
            Some(d) => d.to_string(),
            None => cfg
                .routing
                .category
                .get(category)
                .cloned()
                .unwrap_or_else(|| cfg.routing.default.clone()),
        };
        if self.router.department_name(&dep).is_none() {
            return Err(StoreError::new(
                StoreErrorKind::UnknownDepartment,
                format!("unknown department `{dep}`"),
            )
            .into());
        }
        Ok(self
            .store
            .recategorise(
                &self.policy,
                &r,
                RecategoriseRequest {
                    category: category.to_string(),
                    department: dep,
                    actor: actor.to_string(),
                    note: note.to_string(),
                    at,
                },
            )
            .await?)
    }

    /// One ticket by its reference, as a citizen or an agent writes it.
    pub async fn ticket(&self, reference: &str) -> Result<Ticket, Error> {
        Ok(self.store.ticket(&parse_ref(reference)?).await?)
    }

    /// The tickets a contact reported or asked about.
    pub async fn tickets_of(
        &self,
        channel: ChannelKind,
        contact: &Contact,
    ) -> Result<Vec<Ticket>, Error> {
        Ok(self
            .store
            .tickets_of_contact(&contact_key(channel, contact))
            .await?)
    }

    /// A contact's messages and replies, oldest first.
    pub async fn conversation_of(
        &self,
        channel: ChannelKind,
        contact: &Contact,
    ) -> Result<Vec<ConversationEntry>, Error> {
        Ok(self
            .store
            .conversation_of_contact(&contact_key(channel, contact))
            .await?)
    }

    /// The messages and replies about a ticket, oldest first.
    pub async fn conversation_of_ticket(
        &self,
        reference: &str,
    ) -> Result<Vec<ConversationEntry>, Error> {
        Ok(self
            .store
            .conversation_of_ticket(&parse_ref(reference)?)
            .await?)
    }

    /// The statistics of the store (optionally of one month, `YYYY-MM`).
    pub async fn report(&self, month: Option<&str>) -> Result<Report, Error> {
        Ok(Report::from_store(&*self.store, month, Some(&self.router.config())).await?)
    }

    /// Queues the appointment reminders due within `window` after `now` in this desk's
    /// outbox, in the router's time zone ([`Router::time_zone`]): see
    /// [`schedule_reminders`](super::schedule_reminders). The relay delivers them.
    pub async fn schedule_reminders(
        &self,
        appointments: &crate::appointment::Appointments,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<super::ReminderReport, Error> {
        let local = now.with_timezone(&self.router.time_zone());
        super::schedule_reminders(&*self.store, appointments, local, window).await
    }

    /// Pseudonymises tickets closed more than `tickets.retention_days` before `now`.
    pub async fn apply_retention(&self, now: DateTime<Utc>, key: &[u8]) -> Result<usize, Error> {
        let cutoff = now - chrono::Duration::days(i64::from(self.retention_days));
        Ok(self.store.pseudonymise(cutoff, key, now).await?)
    }
}
