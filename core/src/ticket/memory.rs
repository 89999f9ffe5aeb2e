//! The in-memory store: tests, demos, ephemeral use. Nothing survives the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::lifecycle::{self, NewOutbox, Policy, Tx};
use super::store::*;
use super::{Reference, Ticket};
use crate::error::StoreError;
use crate::message::ChannelKind;

#[derive(Default)]
struct State {
    tickets: BTreeMap<Reference, Ticket>,
    order: Vec<Reference>,
    entries: Vec<ConversationEntry>,
    inbox: HashMap<(ChannelKind, String), usize>,
    seqs: HashMap<(String, i32), u32>,
    outbox: BTreeMap<i64, OutboxItem>,
    keys: HashSet<String>,
    next_id: i64,
    dead: Vec<DeadLetter>,
}

/// Writes staged by one operation, applied together at the end (all or nothing).
struct MemTx<'a> {
    state: &'a mut State,
    tickets: BTreeMap<Reference, Ticket>,
    entries: Vec<ConversationEntry>,
    seqs: HashMap<(String, i32), u32>,
    outbox: Vec<NewOutbox>,
}

impl<'a> MemTx<'a> {
    fn new(state: &'a mut State) -> Self {
        MemTx {
            state,
            tickets: BTreeMap::new(),
            entries: Vec::new(),
            seqs: HashMap::new(),
            outbox: Vec::new(),
        }
    }

    fn commit(self) {
        let s = self.state;
        for (r, t) in self.tickets {
            if !s.tickets.contains_key(&r) {
                s.order.push(r.clone());
            }
            s.tickets.insert(r, t);
        }
        for e in self.entries {
            if let (Direction::Inbound, Some(id)) = (e.direction, &e.provider_id) {
                s.inbox.insert((e.channel, id.clone()), s.entries.len());
            }
            s.entries.push(e);
        }
        s.seqs.extend(self.seqs);
        for mut o in self.outbox {
            if s.keys.insert(o.idempotency_key.clone()) {
                s.next_id += 1;
                o.id = s.next_id;
                s.outbox.insert(o.id, o);
            }
        }
    }
}

impl Tx for MemTx<'_> {
    fn inbox_get(
        &mut self,
        channel: ChannelKind,
        provider_id: &str,
    ) -> Result<Option<ConversationEntry>, StoreError> {
        let staged = self.entries.iter().find(|e| {
            e.direction == Direction::Inbound
                && e.channel == channel
                && e.provider_id.as_deref() == Some(provider_id)
        });
        if let Some(e) = staged {
            return Ok(Some(e.clone()));
        }
        Ok(self
            .state
            .inbox
            .get(&(channel, provider_id.to_string()))
            .and_then(|i| self.state.entries.get(*i))
            .cloned())
    }

    fn append_entry(&mut self, entry: &ConversationEntry) -> Result<(), StoreError> {
        if entry.direction == Direction::Inbound {
            if let Some(id) = &entry.provider_id {
                if self.inbox_get(entry.channel, id)?.is_some() {
                    return Err(StoreError::backend(format!(
                        "inbox: {}:{id} is already there",
                        entry.channel
                    )));
                }
            }
        }
        self.entries.push(entry.clone());
        Ok(())
    }

    fn next_seq(&mut self, prefix: &str, year: i32) -> Result<u32, StoreError> {
        let k = (prefix.to_string(), year);
        let cur = self
            .seqs
            .get(&k)
            .or_else(|| self.state.seqs.get(&k))
            .copied()
            .unwrap_or(0);
        self.seqs.insert(k, cur + 1);
        Ok(cur + 1)
    }

    fn duplicate_candidates(
        &mut self,
        category: &str,
        since: DateTime<Utc>,
        _point: (f64, f64),
        _radius_m: f64,
    ) -> Result<Vec<Ticket>, StoreError> {
        let mut v: Vec<Ticket> = self
            .state
            .order
            .iter()
            .filter_map(|r| self.tickets.get(r).or_else(|| self.state.tickets.get(r)))
            .filter(|t| t.category == category && t.created_at >= since && t.status.is_open())
            .cloned()
            .collect();
        v.sort_by_key(|t| (t.created_at, t.reference.clone()));
        Ok(v)
    }

    fn load(&mut self, reference: &Reference) -> Result<Option<Ticket>, StoreError> {
        Ok(self
            .tickets
            .get(reference)
            .or_else(|| self.state.tickets.get(reference))
            .cloned())
    }

    fn save(&mut self, ticket: &Ticket) -> Result<(), StoreError> {
        self.tickets
            .insert(ticket.reference.clone(), ticket.clone());
        Ok(())
    }

    fn enqueue(&mut self, item: &NewOutbox) -> Result<(), StoreError> {
        self.outbox.push(item.clone());
        Ok(())
    }
}

/// Tickets, inbox, outbox and history in memory, behind one lock.
///
/// ```
/// use civic_router::ticket::{MemoryStore, TicketStore, block_on};
/// let store = MemoryStore::new();
/// assert!(block_on(store.tickets()).unwrap().is_empty());
/// ```
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("MemoryStore")
            .field("tickets", &s.tickets.len())
            .field("entries", &s.entries.len())
            .field("outbox", &s.outbox.len())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // a panic while holding the lock cannot leave half a write: writes are staged
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut MemTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut s = self.lock();
        let mut tx = MemTx::new(&mut s);
        let v = f(&mut tx)?;
        tx.commit();
        Ok(v)
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn ingest(&self, plan: IngestPlan) -> Result<IngestOutcome, StoreError> {
        self.write(|tx| lifecycle::ingest(tx, &plan))
    }

    async fn change_status(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: StatusRequest,
    ) -> Result<Ticket, StoreError> {
        self.write(|tx| lifecycle::change_status(tx, policy, reference, &request))
    }

    async fn recategorise(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: RecategoriseRequest,
    ) -> Result<Ticket, StoreError> {
        self.write(|tx| lifecycle::recategorise(tx, policy, reference, &request))
    }

    async fn ticket(&self, reference: &Reference) -> Result<Ticket, StoreError> {
        self.lock()
            .tickets
            .get(reference)
            .cloned()
            .ok_or_else(|| StoreError::unknown_ticket(reference))
    }

    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        let s = self.lock();
        Ok(s.order
            .iter()
            .filter_map(|r| s.tickets.get(r))
            .cloned()
            .collect())
    }

    async fn tickets_of_contact(&self, contact_key: &str) -> Result<Vec<Ticket>, StoreError> {
        let s = self.lock();
        let refs: HashSet<&Reference> = s
            .entries
            .iter()
            .filter(|e| e.contact_key == contact_key)
            .filter_map(|e| e.ticket.as_ref())
            .collect();
        Ok(s.order
            .iter()
            .filter(|r| refs.contains(r))
            .filter_map(|r| s.tickets.get(r))
            .cloned()
            .collect())
    }

    async fn record_outbound(&self, entry: ConversationEntry) -> Result<(), StoreError> {
        self.write(|tx| tx.append_entry(&entry))
    }

    async fn conversation_of_contact(
        &self,
        contact_key: &str,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        Ok(self
            .lock()
            .entries
            .iter()
            .filter(|e| e.contact_key == contact_key)
            .cloned()
            .collect())
    }

    async fn conversation_of_ticket(
        &self,
        reference: &Reference,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        Ok(self
            .lock()
            .entries
            .iter()
            .filter(|e| e.ticket.as_ref() == Some(reference))
            .cloned()
            .collect())
    }

    async fn entries(&self) -> Result<Vec<ConversationEntry>, StoreError> {
        Ok(self.lock().entries.clone())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut s = self.lock();
        let mut due: Vec<&mut OutboxItem> = s
            .outbox
            .values_mut()
            .filter(|o| o.next_attempt_at <= now)
            .collect();
        due.sort_by_key(|o| (o.next_attempt_at, o.id));
        Ok(due
            .into_iter()
            .take(limit)
            .map(|o| {
                let claimed = o.clone();
                o.next_attempt_at = now + lease;
                claimed
            })
            .collect())
    }

    async fn enqueue_reminders(&self, rows: Vec<OutboxItem>) -> Result<usize, StoreError> {
        for r in &rows {
            lifecycle::check_reminder(r)?;
        }
        let mut s = self.lock();
        let mut added = 0;
        for mut o in rows {
            if s.keys.insert(o.idempotency_key.clone()) {
                s.next_id += 1;
                o.id = s.next_id;
                s.outbox.insert(o.id, o);
                added += 1;
            }
        }
        Ok(added)
    }

    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(o) = s.outbox.remove(&id) else {
            return Ok(()); // already marked (a relay retried after a lost acknowledgement)
        };
        let conversation = match (o.kind, lifecycle::recipient_key(&o)) {
            (OutboxKind::Notification, Some((_, ckey))) => s
                .entries
                .iter()
                .rev()
                .find(|e| e.contact_key == ckey && e.ticket.is_some() && e.ticket == o.reference)
                .map(|e| e.conversation.clone()),
            _ => None,
        };
        if let Some(e) = lifecycle::delivered_entry(&o, at, conversation) {
            s.entries.push(e);
        }
        Ok(())
    }

    async fn mark_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(o) = s.outbox.get_mut(&id) else {
            return Ok(());
        };
        o.attempts += 1;
        o.last_error = Some(error.to_string());
        match retry_at {
            Some(t) => o.next_attempt_at = t,
            None => {
                if let Some(item) = s.outbox.remove(&id) {
                    s.dead.push(DeadLetter { item, dead_at: at });
                }
            }
        }
        Ok(())
    }

    async fn pending(&self) -> Result<Vec<OutboxItem>, StoreError> {
        Ok(self.lock().outbox.values().cloned().collect())
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self.lock().dead.clone())
    }

    async fn pseudonymise(
        &self,
        closed_before: DateTime<Utc>,
        key: &[u8],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut s = self.lock();
        let due: Vec<Reference> = s
            .tickets
            .values()
            .filter(|t| t.pseudonymised_at.is_none())
            .filter(|t| t.closed_at().is_some_and(|c| c < closed_before))
            .map(|t| t.reference.clone())
            .collect();
        let mut conversations: HashSet<String> = s
            .entries
            .iter()
            .filter(|e| e.ticket.as_ref().is_some_and(|r| due.contains(r)))
            .map(|e| e.conversation.clone())
            .collect();
        // conversations that opened no ticket, quiet since before the cut-off
        let mut quiet: HashMap<&str, (bool, DateTime<Utc>, bool)> = HashMap::new();
        for e in &s.entries {
            let q = quiet
                .entry(e.conversation.as_str())
                .or_insert((false, e.at, false));
            q.0 |= e.ticket.is_some();
            q.1 = q.1.max(e.at);
            q.2 |= !e.contact_key.starts_with("p:");
        }
        conversations.extend(
            quiet
                .into_iter()
                .filter(|(_, (ticket, last, clear))| !ticket && *last < closed_before && *clear)
                .map(|(c, _)| c.to_string()),
        );
        for r in &due {
            if let Some(t) = s.tickets.get_mut(r) {
                lifecycle::pseudonymise_ticket(t, key, at);
            }
        }
        for e in s.entries.iter_mut() {
            if conversations.contains(&e.conversation) {
                lifecycle::pseudonymise_entry(e, key);
            }
        }
        for d in s.dead.iter_mut() {
            let ticket_gone = d.item.reference.as_ref().is_some_and(|r| due.contains(r));
            let old_reminder = d.item.kind == OutboxKind::Reminder && d.dead_at < closed_before;
            if ticket_gone || old_reminder {
                d.item.to = None;
                d.item.text = lifecycle::ERASED.to_string();
                if let Some(p) = d.item.payload.as_object_mut() {
                    p.remove("text");
                }
            }
        }
        // the inbox index points at positions, which did not move
        Ok(due.len())
    }
}
