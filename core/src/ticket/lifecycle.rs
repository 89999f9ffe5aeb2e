//! What each case operation writes, independent of the store.
//!
//! A store opens a transaction, wraps it in a [`Tx`], and calls [`ingest`], [`change_status`]
//! or [`recategorise`]; these read and write only through the `Tx`, so every store — memory,
//! SQLite, a future PostgreSQL — behaves the same by construction, and one conformance suite
//! checks them all.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::notify::{status_name, Templates};
use super::store::{
    ConversationEntry, Direction, IngestOutcome, IngestPlan, OutboxItem, OutboxKind,
    RecategoriseRequest, StatusRequest,
};
use super::{contact_key, distance_m, Follower, Reference, Status, StatusChange, Ticket};
use crate::classify::Intent;
use crate::config::Config;
use crate::error::{ConfigError, StoreError};
use crate::message::{ChannelKind, Contact};

/// The deployment's rules for cases, from `[tickets]` and the department and category names.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Reference prefix (`SEV`).
    pub prefix: String,
    /// Intents that open a ticket.
    pub open_for: Vec<Intent>,
    /// Duplicate radius in metres.
    pub duplicate_radius_m: f64,
    /// Duplicate time window.
    pub duplicate_window: Duration,
    /// Follow-up texts.
    pub templates: Templates,
    /// Department id → name.
    pub department_names: BTreeMap<String, String>,
    /// Category id → name.
    pub category_names: BTreeMap<String, String>,
}

impl Policy {
    /// The policy a configuration describes.
    ///
    /// ```
    /// use civic_router::{config::Config, ticket::lifecycle::Policy};
    /// let cfg = Config::from_toml_str("[tickets]\nreference_prefix = 'SEV'\n", "c.toml").unwrap();
    /// assert_eq!(Policy::from_config(&cfg).unwrap().prefix, "SEV");
    /// let bad = Config::from_toml_str("[tickets]\nreference_prefix = 'S-1'\n", "c.toml").unwrap();
    /// assert!(Policy::from_config(&bad).is_err());
    /// ```
    pub fn from_config(cfg: &Config) -> Result<Policy, ConfigError> {
        let t = &cfg.tickets;
        if !Reference::valid_prefix(&t.reference_prefix) {
            return Err(ConfigError::one(
                &cfg.origin,
                "tickets.reference_prefix",
                format!("`{}` is not 2 to 6 ASCII letters", t.reference_prefix),
            ));
        }
        if t.duplicate_radius_m.is_nan() || t.duplicate_radius_m < 0.0 {
            return Err(ConfigError::one(
                &cfg.origin,
                "tickets.duplicate_radius_m",
                "must be a distance in metres, 0 or more",
            ));
        }
        let templates = Templates::with_overrides(&t.templates)
            .map_err(|e| ConfigError::one(&cfg.origin, "tickets.templates", e))?;
        Ok(Policy {
            prefix: t.reference_prefix.to_ascii_uppercase(),
            open_for: t.open_for.clone(),
            duplicate_radius_m: t.duplicate_radius_m,
            duplicate_window: Duration::hours(i64::from(t.duplicate_window_hours)),
            templates,
            department_names: cfg
                .departments
                .iter()
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect(),
            category_names: cfg.categories.clone(),
        })
    }

    fn department_name(&self, id: &str) -> String {
        self.department_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn category_name(&self, id: &str) -> String {
        self.category_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn text(&self, event: &str, t: &Ticket, reference: &Reference, note: &str) -> Option<String> {
        self.templates.render(event, &|k| match k {
            "reference" => Some(reference.to_string()),
            "status" => Some(t.status.as_str().to_string()),
            "status_name" => Some(status_name(t.status).to_string()),
            "department_name" => Some(self.department_name(&t.department)),
            "category_name" => Some(self.category_name(&t.category)),
            "note" => Some(note.to_string()),
            "duplicate_of" => t
                .duplicate_of
                .as_ref()
                .map(|r| r.to_string())
                .or_else(|| (reference != &t.reference).then(|| t.reference.to_string())),
            _ => None,
        })
    }
}

/// An outbox row to write (the store assigns the id).
pub type NewOutbox = OutboxItem;

/// The reads and writes a store offers inside one transaction.
pub trait Tx {
    /// The inbound entry with this channel and provider id, if the inbox has it.
    fn inbox_get(
        &mut self,
        channel: ChannelKind,
        provider_id: &str,
    ) -> Result<Option<ConversationEntry>, StoreError>;
    /// Appends a conversation entry (inbound entries are unique per channel and provider id).
    fn append_entry(&mut self, entry: &ConversationEntry) -> Result<(), StoreError>;
    /// The next sequence number for references with this prefix and year (from 1).
    fn next_seq(&mut self, prefix: &str, year: i32) -> Result<u32, StoreError>;
    /// Open tickets (routed, accepted, in progress; not themselves duplicates) of a category,
    /// created at or after `since`, with a point within `radius_m` of `point` — or a superset
    /// of them (a bounding box is fine: the caller measures the distance) — oldest first.
    fn duplicate_candidates(
        &mut self,
        category: &str,
        since: DateTime<Utc>,
        point: (f64, f64),
        radius_m: f64,
    ) -> Result<Vec<Ticket>, StoreError>;
    /// One ticket.
    fn load(&mut self, reference: &Reference) -> Result<Option<Ticket>, StoreError>;
    /// Writes a ticket (insert or replace).
    fn save(&mut self, ticket: &Ticket) -> Result<(), StoreError>;
    /// Adds an outbox row; a row whose idempotency key exists already is not added again.
    fn enqueue(&mut self, item: &NewOutbox) -> Result<(), StoreError>;
}

/// The channel's thread id; else the contact and the day; an anonymous sender's message is a
/// conversation of its own.
fn conversation_key(plan: &IngestPlan, contact_key: &str) -> String {
    let m = &plan.message;
    match &m.conversation_id {
        Some(c) if !c.is_empty() => format!("{}:{c}", m.channel),
        _ if m.contact.identifiers().next().is_none() => format!("{}:message:{}", m.channel, m.id),
        _ => format!("{contact_key}:{}", plan.at.format("%Y-%m-%d")),
    }
}

/// The case as a department receives it: JSON, with no contact data of the citizen (the
/// service line follows up with them).
///
/// ```
/// use civic_router::ticket::lifecycle::case_payload;
/// # use civic_router::ticket::*;
/// # let t: Ticket = serde_json::from_value(serde_json::json!({
/// #   "reference": "SEV-2026-000001", "status": "routed", "intent": "incident",
/// #   "category": "alumbrado", "department": "alumbrado", "priority": "normal",
/// #   "channel": "sms", "contact": {"phone": "+34600111222"}, "messages": ["m1"],
/// #   "text": "farola apagada", "history": [], "created_at": "2026-01-05T10:00:00Z"})).unwrap();
/// let p = case_payload(&t, "new");
/// assert_eq!(p["reference"], "SEV-2026-000001");
/// assert!(!p.to_string().contains("600111222"));
/// ```
pub fn case_payload(t: &Ticket, event: &str) -> serde_json::Value {
    json!({
        "reference": t.reference,
        "event": event,
        "status": t.status,
        "intent": t.intent,
        "category": t.category,
        "department": t.department,
        "priority": t.priority,
        "district": t.district,
        "location": t.location,
        "channel": t.channel,
        "text": t.text,
        "created_at": t.created_at,
        "duplicate_of": t.duplicate_of,
        "history": t.history.iter().map(|c| json!({
            "at": c.at, "from": c.from, "to": c.to, "actor": c.actor, "note": c.note,
            "department": c.department,
        })).collect::<Vec<_>>(),
    })
}

fn case_text(policy: &Policy, t: &Ticket, event: &str) -> String {
    let mut s = String::new();
    let what = match event {
        "new" => "Nuevo aviso",
        "assigned" => "Aviso reasignado a este servicio",
        "withdrawn" => "Aviso retirado de este servicio (recategorizado)",
        "reopened" => "Aviso reabierto",
        other => other,
    };
    s.push_str(&format!("{what}: {}\n\n", t.reference));
    s.push_str(&format!(
        "Categoría: {}\n",
        policy.category_name(&t.category)
    ));
    s.push_str(&format!(
        "Servicio: {}\n",
        policy.department_name(&t.department)
    ));
    s.push_str(&format!("Prioridad: {}\n", t.priority.as_str()));
    if let Some(d) = &t.district {
        s.push_str(&format!("Distrito: {d}\n"));
    }
    if let Some(l) = &t.location {
        if let Some(a) = &l.address {
            s.push_str(&format!("Dirección: {a}\n"));
        }
        if let Some((lat, lon)) = l.point() {
            s.push_str(&format!("Coordenadas: {lat:.6}, {lon:.6}\n"));
        }
    }
    s.push_str(&format!("Canal: {}\n", t.channel));
    s.push_str(&format!(
        "Recibido: {}\n",
        t.created_at.format("%Y-%m-%d %H:%M UTC")
    ));
    s.push_str(&format!("Estado: {}\n", t.status));
    if let Some(c) = t.history.last() {
        if !c.note.is_empty() {
            s.push_str(&format!("Nota: {}\n", c.note));
        }
    }
    s.push_str("\nTexto del aviso:\n");
    s.push_str(&t.text);
    s.push('\n');
    s
}

fn delivery(
    policy: &Policy,
    t: &Ticket,
    department: &str,
    event: &str,
    at: DateTime<Utc>,
) -> NewOutbox {
    let index = t.history.len().saturating_sub(1);
    OutboxItem {
        id: 0,
        kind: OutboxKind::Delivery,
        target: department.to_string(),
        reference: Some(t.reference.clone()),
        appointment: None,
        event: event.to_string(),
        idempotency_key: format!("{}:{index}:d:{department}:{event}", t.reference),
        to: None,
        payload: case_payload(t, event),
        text: case_text(policy, t, event),
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
        last_error: None,
    }
}

/// The people who hear about a ticket's changes: its reporter, then the reporters of its
/// duplicates, each with their own reference.
fn recipients(t: &Ticket) -> Vec<Follower> {
    let mut v = vec![Follower {
        channel: t.channel,
        contact: t.contact.clone(),
        reference: t.reference.clone(),
    }];
    v.extend(t.followers.iter().cloned());
    v
}

fn notifications(
    policy: &Policy,
    t: &Ticket,
    event: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Vec<NewOutbox> {
    let index = t.history.len().saturating_sub(1);
    recipients(t)
        .into_iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let text = policy.text(event, t, &f.reference, note)?;
            Some(OutboxItem {
                id: 0,
                kind: OutboxKind::Notification,
                target: f.channel.as_str().to_string(),
                reference: Some(f.reference.clone()),
                appointment: None,
                event: event.to_string(),
                idempotency_key: format!("{}:{index}:n:{i}", t.reference),
                to: Some(f.contact),
                payload: json!({
                    "channel": f.channel,
                    "reference": f.reference,
                    "about": t.reference,
                    "status": t.status,
                    "event": event,
                    "text": text,
                }),
                text,
                attempts: 0,
                next_attempt_at: at,
                created_at: at,
                last_error: None,
            })
        })
        .collect()
}

fn change(t: &mut Ticket, to: Status, actor: &str, note: &str, at: DateTime<Utc>) {
    t.history.push(StatusChange {
        at,
        from: Some(t.status),
        to,
        actor: actor.to_string(),
        note: note.to_string(),
        department: t.department.clone(),
    });
    t.status = to;
}

/// The latitude and longitude half-widths, in degrees, of a box holding every point within
/// `radius_m` of `point` (stores use it to narrow duplicate candidates with an index).
pub fn bounding_box(point: (f64, f64), radius_m: f64) -> (f64, f64) {
    let dlat = radius_m / 111_000.0;
    let cos = point.0.to_radians().cos().abs().max(0.01);
    (dlat * 1.01, dlat / cos * 1.01)
}

/// Ingests one message (see [`TicketStore::ingest`](super::TicketStore::ingest)).
pub fn ingest(tx: &mut dyn Tx, plan: &IngestPlan) -> Result<IngestOutcome, StoreError> {
    let msg = &plan.message;
    if msg.id.trim().is_empty() {
        return Err(StoreError::invalid("a message needs a non-empty id"));
    }
    if let Some(prev) = tx.inbox_get(msg.channel, &msg.id)? {
        let ticket = match &prev.ticket {
            Some(r) => tx.load(r)?,
            None => None,
        };
        return Ok(IngestOutcome {
            duplicate_delivery: true,
            ticket,
            reply: prev.answer,
            status_query: None,
        });
    }
    let policy = &plan.policy;
    let d = &plan.decision;
    let at = plan.at;
    let ckey = contact_key(msg.channel, &msg.contact);
    let conversation = conversation_key(plan, &ckey);
    let mut entry = ConversationEntry {
        direction: Direction::Inbound,
        channel: msg.channel,
        provider_id: Some(msg.id.clone()),
        contact_key: ckey.clone(),
        conversation: conversation.clone(),
        ticket: None,
        text: msg.text.clone(),
        at,
        automatic: false,
        handoff: d.handoff,
        intent: Some(d.intent),
        department: Some(d.department.clone()),
        district: d.district.clone(),
        answer: None,
    };
    let outbound = |text: &str, ticket: Option<Reference>| ConversationEntry {
        direction: Direction::Outbound,
        channel: msg.channel,
        provider_id: None,
        contact_key: ckey.clone(),
        conversation: conversation.clone(),
        ticket,
        text: text.to_string(),
        at,
        automatic: true,
        handoff: false,
        intent: None,
        department: None,
        district: None,
        answer: None,
    };

    // "¿cómo va mi aviso SEV-2026-000123?": answer with its status
    if let Some(r) = Reference::find_in(&msg.routable_text(), &policy.prefix) {
        let found = tx.load(&r)?;
        let reply = match &found {
            Some(t) => policy.text("status_reply", t, &r, ""),
            None => policy.templates.render("unknown_reference", &|k| {
                (k == "reference").then(|| r.to_string())
            }),
        };
        entry.ticket = found.as_ref().map(|t| t.reference.clone());
        entry.answer = reply.clone();
        tx.append_entry(&entry)?;
        if let Some(text) = &reply {
            tx.append_entry(&outbound(text, entry.ticket.clone()))?;
        }
        return Ok(IngestOutcome {
            duplicate_delivery: false,
            ticket: found,
            reply,
            status_query: Some(r),
        });
    }

    if !policy.open_for.contains(&d.intent) {
        entry.answer = d.reply.clone();
        tx.append_entry(&entry)?;
        if let Some(text) = &d.reply {
            tx.append_entry(&outbound(text, None))?;
        }
        return Ok(IngestOutcome {
            duplicate_delivery: false,
            ticket: None,
            reply: d.reply.clone(),
            status_query: None,
        });
    }

    let seq = tx.next_seq(&policy.prefix, at.year())?;
    let reference = Reference::new(&policy.prefix, at.year(), seq);
    let mut t = Ticket {
        reference: reference.clone(),
        status: Status::Received,
        intent: d.intent,
        category: d.category.clone(),
        department: d.department.clone(),
        priority: d.priority,
        district: d.district.clone(),
        location: msg.location.clone(),
        channel: msg.channel,
        contact: msg.contact.clone(),
        messages: vec![msg.id.clone()],
        text: msg.routable_text().into_owned(),
        decision: serde_json::to_value(d).unwrap_or_default(),
        history: vec![StatusChange {
            at,
            from: None,
            to: Status::Received,
            actor: "system".into(),
            note: String::new(),
            department: d.department.clone(),
        }],
        duplicate_of: None,
        followers: Vec::new(),
        created_at: at,
        pseudonymised_at: None,
    };

    // the same problem reported again nearby, while the first is open
    let first = match t.point() {
        Some(p) if policy.duplicate_radius_m > 0.0 => tx
            .duplicate_candidates(
                &t.category,
                at - policy.duplicate_window,
                p,
                policy.duplicate_radius_m,
            )?
            .into_iter()
            .filter(|o| o.status.is_open() && o.duplicate_of.is_none())
            .find(|o| {
                o.point()
                    .is_some_and(|q| distance_m(p, q) <= policy.duplicate_radius_m)
            }),
        _ => None,
    };
    let mut rows = Vec::new();
    if let Some(mut first) = first {
        t.duplicate_of = Some(first.reference.clone());
        let note = format!("same problem as {}", first.reference);
        change(&mut t, Status::Duplicate, "system", &note, at);
        rows.extend(notifications(policy, &t, "duplicate", "", at));
        first.followers.push(Follower {
            channel: t.channel,
            contact: t.contact.clone(),
            reference: t.reference.clone(),
        });
        tx.save(&first)?;
    } else {
        let dep = t.department.clone();
        change(&mut t, Status::Routed, "system", "", at);
        rows.push(delivery(policy, &t, &dep, "new", at));
        rows.extend(notifications(policy, &t, "routed", "", at));
    }
    tx.save(&t)?;
    entry.ticket = Some(reference);
    tx.append_entry(&entry)?;
    for r in &rows {
        tx.enqueue(r)?;
    }
    Ok(IngestOutcome {
        duplicate_delivery: false,
        ticket: Some(t),
        reply: None,
        status_query: None,
    })
}

/// Changes a ticket's status (see [`TicketStore::change_status`](super::TicketStore::change_status)).
pub fn change_status(
    tx: &mut dyn Tx,
    policy: &Policy,
    reference: &Reference,
    req: &StatusRequest,
) -> Result<Ticket, StoreError> {
    if req.actor.trim().is_empty() {
        return Err(StoreError::invalid("a status change needs an actor"));
    }
    let mut t = tx
        .load(reference)?
        .ok_or_else(|| StoreError::unknown_ticket(reference))?;
    let from = t.status;
    if !from.can_go_to(req.to) {
        return Err(StoreError::refused(
            reference,
            from.as_str(),
            req.to.as_str(),
        ));
    }
    change(&mut t, req.to, &req.actor, &req.note, req.at);
    let mut rows = Vec::new();
    if from.is_reopen(req.to) {
        let dep = t.department.clone();
        rows.push(delivery(policy, &t, &dep, "reopened", req.at));
        rows.extend(notifications(policy, &t, "reopened", &req.note, req.at));
    } else {
        rows.extend(notifications(
            policy,
            &t,
            req.to.as_str(),
            &req.note,
            req.at,
        ));
    }
    tx.save(&t)?;
    for r in &rows {
        tx.enqueue(r)?;
    }
    Ok(t)
}

/// Recategorises a ticket (see [`TicketStore::recategorise`](super::TicketStore::recategorise)).
pub fn recategorise(
    tx: &mut dyn Tx,
    policy: &Policy,
    reference: &Reference,
    req: &RecategoriseRequest,
) -> Result<Ticket, StoreError> {
    if req.actor.trim().is_empty() {
        return Err(StoreError::invalid("a recategorisation needs an actor"));
    }
    let mut t = tx
        .load(reference)?
        .ok_or_else(|| StoreError::unknown_ticket(reference))?;
    if !(t.status.is_open() || t.status == Status::Received) {
        return Err(StoreError::refused(
            reference,
            t.status.as_str(),
            "routed (recategorised)",
        ));
    }
    let old = t.department.clone();
    let note = if req.note.is_empty() {
        format!("recategorised: {} → {}", t.category, req.category)
    } else {
        req.note.clone()
    };
    t.category = req.category.clone();
    t.department = req.department.clone();
    change(&mut t, Status::Routed, &req.actor, &note, req.at);
    let mut rows = Vec::new();
    if old != t.department {
        rows.push(delivery(policy, &t, &old, "withdrawn", req.at));
    }
    let dep = t.department.clone();
    rows.push(delivery(policy, &t, &dep, "assigned", req.at));
    rows.extend(notifications(
        policy,
        &t,
        "recategorised",
        &req.note,
        req.at,
    ));
    tx.save(&t)?;
    for r in &rows {
        tx.enqueue(r)?;
    }
    Ok(t)
}

/// Checks a row given to [`TicketStore::enqueue_reminders`](super::TicketStore::enqueue_reminders):
/// a reminder, with a recipient, an idempotency key and a channel, and no ticket.
///
/// ```
/// use civic_router::ticket::{lifecycle::check_reminder, OutboxKind};
/// # let row: civic_router::ticket::OutboxItem = serde_json::from_value(serde_json::json!({
/// #   "id": 0, "kind": "reminder", "target": "sms", "appointment": "CP-7KD3QX",
/// #   "to": {"phone": "+34600111222"}, "event": "reminder",
/// #   "idempotency_key": "reminder:CP-7KD3QX:2026-12-09T09:00", "payload": {},
/// #   "text": "Recordatorio", "attempts": 0,
/// #   "next_attempt_at": "2026-12-08T10:00:00Z", "created_at": "2026-12-08T10:00:00Z"})).unwrap();
/// assert!(check_reminder(&row).is_ok());
/// let mut other = row.clone();
/// other.kind = OutboxKind::Notification;
/// assert!(check_reminder(&other).is_err());
/// ```
pub fn check_reminder(row: &OutboxItem) -> Result<(), StoreError> {
    let bad = |why: &str| {
        Err(StoreError::invalid(format!(
            "outbox row `{}`: {why}",
            row.idempotency_key
        )))
    };
    if row.kind != OutboxKind::Reminder {
        return bad("only reminders are written outside a ticket's transaction");
    }
    if row.idempotency_key.trim().is_empty() {
        return bad("a reminder needs an idempotency key");
    }
    if row.reference.is_some() {
        return bad("a reminder belongs to no ticket");
    }
    if row.to.is_none() {
        return bad("a reminder needs a recipient");
    }
    if row.target.parse::<ChannelKind>().is_err() {
        return bad("a reminder's target must be a channel");
    }
    Ok(())
}

/// The channel and [`contact_key`] of the citizen a row goes to (notifications and
/// reminders), `None` for a department's row.
pub fn recipient_key(o: &OutboxItem) -> Option<(ChannelKind, String)> {
    match (o.kind.is_for_citizen(), &o.to) {
        (true, Some(to)) => {
            let channel = o.target.parse().unwrap_or(ChannelKind::Web);
            Some((channel, contact_key(channel, to)))
        }
        _ => None,
    }
}

/// The conversation entry a delivered row adds for its citizen, if it goes to one. A
/// notification joins `conversation` (the last one about its ticket, which the store looks
/// up) or else the contact's conversation of the day; a reminder starts a conversation of its
/// own (`<contact>:appointment:<reference>`): the citizen did not write, so the statistics
/// count no conversation for it and it times no first reply.
pub fn delivered_entry(
    o: &OutboxItem,
    at: DateTime<Utc>,
    conversation: Option<String>,
) -> Option<ConversationEntry> {
    let (channel, ckey) = recipient_key(o)?;
    let conversation = match (o.kind, &o.appointment) {
        (OutboxKind::Reminder, Some(a)) => format!("{ckey}:appointment:{a}"),
        _ => conversation.unwrap_or_else(|| format!("{ckey}:{}", at.format("%Y-%m-%d"))),
    };
    Some(ConversationEntry {
        direction: Direction::Outbound,
        channel,
        provider_id: Some(o.idempotency_key.clone()),
        contact_key: ckey,
        conversation,
        ticket: o.reference.clone(),
        text: o.text.clone(),
        at,
        automatic: true,
        handoff: false,
        intent: None,
        department: None,
        district: None,
        answer: None,
    })
}

/// Drops the recipient and the texts of a delivered or dead row kept as JSON (retention).
pub fn scrub_outbox_json(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert("text".into(), ERASED.into());
        o.remove("to");
        if let Some(p) = o.get_mut("payload").and_then(|p| p.as_object_mut()) {
            p.remove("text");
        }
    }
}

/// A keyed pseudonym: `p:` and the first 16 hex digits of HMAC-SHA256(key, value). The same
/// value always gets the same pseudonym under one key (so counts per contact survive), and
/// without the key it cannot be reversed by enumerating phone numbers.
///
/// ```
/// use civic_router::ticket::lifecycle::pseudonym;
/// let a = pseudonym(b"k", "sms:+34600111222");
/// assert_eq!(a, pseudonym(b"k", "sms:+34600111222"));
/// assert_ne!(a, pseudonym(b"other key", "sms:+34600111222"));
/// assert!(a.starts_with("p:") && a.len() == 18);
/// ```
pub fn pseudonym(key: &[u8], value: &str) -> String {
    if value.starts_with("p:") {
        return value.to_string();
    }
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(value.as_bytes());
    let out = mac.finalize().into_bytes();
    let hex: String = out.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("p:{hex}")
}

/// The text that replaces erased free text.
pub const ERASED: &str = "[suprimido]";

/// Pseudonymises a ticket in place: contacts become pseudonyms, texts and addresses are
/// erased, the decision keeps only its labels. Category, department, district, channel,
/// priority and the whole history (times, statuses) stay, so the statistics do not change.
pub fn pseudonymise_ticket(t: &mut Ticket, key: &[u8], at: DateTime<Utc>) {
    let pseudo_contact = |channel: ChannelKind, c: &Contact| Contact {
        id: Some(pseudonym(key, &contact_key(channel, c))),
        ..Default::default()
    };
    t.contact = pseudo_contact(t.channel, &t.contact);
    for f in &mut t.followers {
        f.contact = pseudo_contact(f.channel, &f.contact);
    }
    t.text = ERASED.to_string();
    t.location = None;
    for c in &mut t.history {
        if !c.note.is_empty() {
            c.note = ERASED.to_string();
        }
    }
    let d = &t.decision;
    t.decision = json!({
        "intent": d.get("intent"), "category": d.get("category"),
        "department": d.get("department"), "priority": d.get("priority"),
        "district": d.get("district"), "confidence": d.get("confidence"),
        "handoff": d.get("handoff"), "rules": d.get("rules"),
    });
    t.pseudonymised_at = Some(at);
}

/// Pseudonymises a conversation entry in place (contact and conversation keys become
/// pseudonyms, texts are erased; direction, times and labels stay).
pub fn pseudonymise_entry(e: &mut ConversationEntry, key: &[u8]) {
    // the contact key embeds the channel after pseudonymisation too, so per-channel counts hold
    if !e.contact_key.starts_with("p:") {
        e.contact_key = pseudonym(key, &e.contact_key);
    }
    e.conversation = pseudonym(key, &e.conversation);
    e.text = ERASED.to_string();
    e.answer = e.answer.as_ref().map(|_| ERASED.to_string());
}
