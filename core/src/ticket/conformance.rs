//! The contract every [`TicketStore`] must keep, as checks that run against any store.
//!
//! The memory and SQLite stores run them in their tests; a new store (PostgreSQL) runs the
//! same with one line:
//!
//! ```
//! use std::sync::Arc;
//! use civic_router::ticket::{conformance, block_on, MemoryStore};
//! let failures = block_on(conformance::run_all(&|| Arc::new(MemoryStore::new())));
//! assert!(failures.is_empty(), "{failures:#?}");
//! ```
//!
//! Each check gets a fresh store and returns `Err(what went wrong)`; none panics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::{
    contact_key, reminder_row, schedule_reminders, Desk, OutboxKind, Status, StatusRequest,
    TicketStore,
};
use crate::appointment::{
    Appointment, AppointmentError, AppointmentStatus, AppointmentStore, Appointments,
    MemoryAppointmentStore, Offices, Reminder,
};
use crate::error::StoreErrorKind;
use crate::message::{ChannelKind, Contact, Location, Message};
use crate::pipeline::Router;

/// The configuration the checks route with.
pub const CONFIG: &str = r#"
[tickets]
reference_prefix = "SEV"
duplicate_radius_m = 50
duplicate_window_hours = 72
[categories]
alumbrado = "Alumbrado público"
limpieza = "Limpieza"
general = "General"
[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
[[department]]
id = "lipasam"
name = "LIPASAM"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
category.alumbrado = "alumbrado"
category.limpieza = "lipasam"
[replies]
other = "Hola, ¿en qué podemos ayudarle?"
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = { intent = "incident", category = "alumbrado" }
[[rule]]
id = "contenedor"
when.any_words = ["contenedor*"]
then = { intent = "incident", category = "limpieza" }
[[rule]]
id = "saludo"
when.any_words = ["hola"]
then = { intent = "other" }
"#;

/// The start of the checks' clock.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A message from a WhatsApp contact, optionally at a point.
pub fn message(id: &str, phone: &str, text: &str, at: Option<(f64, f64)>) -> Message {
    let mut m = Message::new(id, ChannelKind::Whatsapp, text);
    m.contact = Contact {
        id: Some(format!("wa:{phone}")),
        phone: Some(phone.to_string()),
        ..Default::default()
    };
    m.location = at.map(|(lat, lon)| Location {
        lat: Some(lat),
        lon: Some(lon),
        address: Some("Calle Feria 12".into()),
    });
    m
}

/// A desk over the store with the checks' configuration.
pub fn desk(store: Arc<dyn TicketStore>) -> Result<Desk, String> {
    let router = Router::from_toml(CONFIG).map_err(|e| e.to_string())?;
    Desk::with_store(Arc::new(router), store).map_err(|e| e.to_string())
}

type Check = fn(Arc<dyn TicketStore>) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        /// The checks, by name.
        pub const CHECKS: &[(&str, Check)] = &[
            $((stringify!($name), |s| Box::pin($name(s)))),*
        ];
    };
}

checks!(
    ingest_opens_a_routed_ticket,
    same_webhook_ten_times_is_one_ticket,
    every_transition_allowed_or_refused,
    one_notification_per_change,
    recategorising_reroutes,
    duplicates_are_linked_and_followed,
    status_question_is_answered,
    unknown_reference_is_typed,
    outbox_lease_retry_and_dead_letter,
    conversation_history,
    pseudonymisation_keeps_statistics,
    references_count_per_year,
    reminders_belong_to_no_ticket,
    reminders_are_queued_once_across_a_crash,
);

/// Runs every check on a fresh store from `make`; returns the failures (name, reason).
pub async fn run_all(make: &(dyn Fn() -> Arc<dyn TicketStore> + Sync)) -> Vec<(String, String)> {
    let mut failures = Vec::new();
    for (name, check) in CHECKS {
        if let Err(e) = check(make()).await {
            failures.push((name.to_string(), e));
        }
    }
    failures
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

async fn ingest_opens_a_routed_ticket(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let out = d
        .ingest_at(&message("m1", "+34600000001", "farola apagada", None), t0())
        .await
        .map_err(s)?;
    let t = out.ticket.ok_or("no ticket")?;
    ensure!(
        t.reference.to_string() == "SEV-2026-000001",
        "reference {}",
        t.reference
    );
    ensure!(t.status == Status::Routed, "status {}", t.status);
    ensure!(t.department == "alumbrado", "department {}", t.department);
    ensure!(t.history.len() == 2, "history {:?}", t.history);
    let pending = store.pending().await.map_err(s)?;
    let deliveries = pending
        .iter()
        .filter(|o| o.kind == OutboxKind::Delivery)
        .count();
    let notes: Vec<_> = pending
        .iter()
        .filter(|o| o.kind == OutboxKind::Notification)
        .collect();
    ensure!(deliveries == 1, "{deliveries} deliveries");
    ensure!(notes.len() == 1, "{} notifications", notes.len());
    ensure!(
        notes[0].text.contains("SEV-2026-000001") && notes[0].target == "whatsapp",
        "notification {:?}",
        notes[0].text
    );
    let again = store.ticket(&t.reference).await.map_err(s)?;
    ensure!(again == t, "stored ticket differs");
    // an information message opens nothing and is answered at once
    let hi = d
        .ingest_at(&message("m2", "+34600000001", "hola", None), t0())
        .await
        .map_err(s)?;
    ensure!(hi.ticket.is_none(), "a greeting opened a ticket");
    ensure!(hi.reply.is_some(), "no reply to a greeting");
    Ok(())
}

async fn same_webhook_ten_times_is_one_ticket(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let m = message("wamid.X", "+34600000001", "contenedor lleno", None);
    let mut refs = Vec::new();
    let mut dups = 0;
    for i in 0..10 {
        let out = d
            .ingest_at(&m, t0() + Duration::seconds(i))
            .await
            .map_err(s)?;
        dups += usize::from(out.duplicate_delivery);
        refs.push(out.ticket.ok_or("no ticket")?.reference);
    }
    ensure!(dups == 9, "{dups} duplicate deliveries");
    ensure!(
        refs.iter().all(|r| r == &refs[0]),
        "references differ: {refs:?}"
    );
    ensure!(
        store.tickets().await.map_err(s)?.len() == 1,
        "more than one ticket"
    );
    let pending = store.pending().await.map_err(s)?;
    let notes = pending
        .iter()
        .filter(|o| o.kind == OutboxKind::Notification)
        .count();
    ensure!(notes == 1, "{notes} notifications");
    ensure!(pending.len() == 2, "{} outbox rows", pending.len());
    let inbound = store
        .entries()
        .await
        .map_err(s)?
        .into_iter()
        .filter(|e| e.direction == super::Direction::Inbound)
        .count();
    ensure!(inbound == 1, "{inbound} inbox rows");
    Ok(())
}

async fn every_transition_allowed_or_refused(store: Arc<dyn TicketStore>) -> Result<(), String> {
    use Status::*;
    let d = desk(store.clone())?;
    // how to reach each status from a fresh (routed) ticket; `received` only exists inside
    // ingestion, which routes at once, so its transitions are checked on `Status` itself
    let paths: &[(Status, &[Status])] = &[
        (Routed, &[]),
        (Accepted, &[Accepted]),
        (InProgress, &[Accepted, InProgress]),
        (Resolved, &[Accepted, Resolved]),
        (Rejected, &[Rejected]),
        (Duplicate, &[Duplicate]),
        (Closed, &[Rejected, Closed]),
    ];
    let mut n = 0;
    for (from, path) in paths {
        for to in Status::ALL {
            n += 1;
            let m = message(&format!("t{n}"), "+34600000002", "farola rota", None);
            let t = d
                .ingest_at(&m, t0())
                .await
                .map_err(s)?
                .ticket
                .ok_or("no ticket")?;
            let r = t.reference.to_string();
            for step in *path {
                d.change_status(&r, StatusRequest::new(*step, "test").at(t0()))
                    .await
                    .map_err(|e| format!("path to {from}: {e}"))?;
            }
            let before = store.ticket(&t.reference).await.map_err(s)?;
            ensure!(
                before.status == *from,
                "reached {} not {from}",
                before.status
            );
            let pending_before = store.pending().await.map_err(s)?.len();
            let res = d
                .change_status(
                    &r,
                    StatusRequest::new(to, "alumbrado")
                        .with_note("nota")
                        .at(t0() + Duration::hours(1)),
                )
                .await;
            match (from.can_go_to(to), res) {
                (true, Ok(after)) => {
                    let c = after.history.last().ok_or("no history")?;
                    ensure!(
                        after.status == to
                            && c.from == Some(*from)
                            && c.to == to
                            && c.actor == "alumbrado"
                            && c.note == "nota"
                            && c.at == t0() + Duration::hours(1),
                        "{from} → {to}: recorded {c:?}"
                    );
                }
                (true, Err(e)) => return Err(format!("{from} → {to} refused: {e}")),
                (false, Ok(_)) => return Err(format!("{from} → {to} allowed")),
                (false, Err(e)) => {
                    let kind = match &e {
                        crate::Error::Store(se) => Some(se.kind),
                        _ => None,
                    };
                    ensure!(
                        kind == Some(StoreErrorKind::RefusedTransition),
                        "{from} → {to}: wrong error {e}"
                    );
                    let after = store.ticket(&t.reference).await.map_err(s)?;
                    ensure!(after == before, "{from} → {to}: a refused change wrote");
                    ensure!(
                        store.pending().await.map_err(s)?.len() == pending_before,
                        "{from} → {to}: a refused change queued something"
                    );
                }
            }
        }
    }
    // a change needs an actor
    let t = d
        .ingest_at(&message("t-actor", "+34600000002", "farola", None), t0())
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    let e = d
        .change_status(&t.reference.to_string(), StatusRequest::new(Accepted, " "))
        .await;
    ensure!(e.is_err(), "a change without actor was accepted");
    Ok(())
}

async fn one_notification_per_change(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let t = d
        .ingest_at(&message("n1", "+34600000003", "farola", None), t0())
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    let r = t.reference.to_string();
    let count = || async {
        store.pending().await.map(|p| {
            p.iter()
                .filter(|o| o.kind == OutboxKind::Notification)
                .count()
        })
    };
    let before = count().await.map_err(s)?;
    for (to, expect) in [
        (Status::Accepted, 1),
        (Status::InProgress, 1),
        (Status::Resolved, 1),
        (Status::Closed, 0), // nothing is said on closing
        (Status::Routed, 1), // reopened
    ] {
        let n0 = count().await.map_err(s)?;
        d.change_status(&r, StatusRequest::new(to, "alumbrado").at(t0()))
            .await
            .map_err(s)?;
        let n1 = count().await.map_err(s)?;
        ensure!(n1 - n0 == expect, "{to}: {} notifications", n1 - n0);
    }
    let pending = store.pending().await.map_err(s)?;
    let keys: std::collections::BTreeSet<_> = pending.iter().map(|o| &o.idempotency_key).collect();
    ensure!(keys.len() == pending.len(), "idempotency keys repeat");
    ensure!(before == 1, "{before} notifications at first");
    let reopened = pending
        .iter()
        .filter(|o| o.kind == OutboxKind::Delivery && o.event == "reopened")
        .count();
    ensure!(
        reopened == 1,
        "reopening told the department {reopened} times"
    );
    Ok(())
}

async fn recategorising_reroutes(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let t = d
        .ingest_at(
            &message(
                "r1",
                "+34600000004",
                "farola caída sobre el contenedor",
                None,
            ),
            t0(),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    let r = t.reference.to_string();
    let old = t.department.clone();
    let t2 = d
        .recategorise(
            &r,
            "limpieza",
            None,
            "agente",
            "",
            t0() + Duration::minutes(5),
        )
        .await
        .map_err(s)?;
    ensure!(
        t2.department == "lipasam" && t2.category == "limpieza",
        "{t2:?}"
    );
    ensure!(t2.status == Status::Routed, "status {}", t2.status);
    let pending = store.pending().await.map_err(s)?;
    let to = |dep: &str, ev: &str| {
        pending
            .iter()
            .filter(|o| o.kind == OutboxKind::Delivery && o.target == dep && o.event == ev)
            .count()
    };
    ensure!(
        to("lipasam", "assigned") == 1,
        "new department not given the case"
    );
    ensure!(to(&old, "withdrawn") == 1, "old department not told");
    ensure!(
        pending
            .iter()
            .any(|o| o.kind == OutboxKind::Notification && o.event == "recategorised"),
        "citizen not told"
    );
    let e = d
        .recategorise(&r, "limpieza", Some("nadie"), "agente", "", t0())
        .await;
    ensure!(
        matches!(&e, Err(crate::Error::Store(se)) if se.kind == StoreErrorKind::UnknownDepartment),
        "unknown department: {e:?}"
    );
    d.change_status(&r, StatusRequest::new(Status::Rejected, "lipasam").at(t0()))
        .await
        .map_err(s)?;
    let e = d
        .recategorise(&r, "alumbrado", None, "agente", "", t0())
        .await;
    ensure!(
        matches!(&e, Err(crate::Error::Store(se)) if se.kind == StoreErrorKind::RefusedTransition),
        "recategorising a rejected ticket: {e:?}"
    );
    Ok(())
}

async fn duplicates_are_linked_and_followed(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let here = (37.3886, -5.9823);
    let near = (37.3888, -5.9825); // ~28 m
    let far = (37.3900, -5.9823); // ~156 m
    let first = d
        .ingest_at(
            &message("d1", "+34600000005", "farola apagada", Some(here)),
            t0(),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    let second = d
        .ingest_at(
            &message("d2", "+34600000006", "la farola no funciona", Some(near)),
            t0() + Duration::hours(2),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    ensure!(
        second.status == Status::Duplicate,
        "second is {}",
        second.status
    );
    ensure!(
        second.duplicate_of.as_ref() == Some(&first.reference),
        "not linked"
    );
    let f = store.ticket(&first.reference).await.map_err(s)?;
    ensure!(
        f.followers.len() == 1,
        "first has {} followers",
        f.followers.len()
    );
    // not duplicates: far away, another category, or after the window
    for (id, text, at, when) in [
        ("d3", "farola apagada", far, t0() + Duration::hours(1)),
        ("d4", "contenedor lleno", near, t0() + Duration::hours(1)),
        ("d5", "farola apagada", near, t0() + Duration::hours(73)),
    ] {
        let t = d
            .ingest_at(&message(id, "+34600000007", text, Some(at)), when)
            .await
            .map_err(s)?
            .ticket
            .ok_or("no ticket")?;
        ensure!(t.duplicate_of.is_none(), "{id} was linked as a duplicate");
    }
    // the second reporter hears the first's updates, under their own reference
    let before = store.pending().await.map_err(s)?.len();
    d.change_status(
        &first.reference.to_string(),
        StatusRequest::new(Status::Accepted, "alumbrado").at(t0() + Duration::hours(3)),
    )
    .await
    .map_err(s)?;
    let pending = store.pending().await.map_err(s)?;
    let new: Vec<_> = pending.iter().skip(before).collect();
    ensure!(
        new.len() == 2,
        "{} notifications for two reporters",
        new.len()
    );
    ensure!(
        new.iter()
            .any(|o| o.reference.as_ref() == Some(&second.reference)
                && o.text.contains(&second.reference.to_string())),
        "the second reporter was not told"
    );
    Ok(())
}

async fn status_question_is_answered(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let t = d
        .ingest_at(&message("q1", "+34600000008", "farola apagada", None), t0())
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    d.change_status(
        &t.reference.to_string(),
        StatusRequest::new(Status::Accepted, "alumbrado").at(t0()),
    )
    .await
    .map_err(s)?;
    let q = format!(
        "¿cómo va mi aviso {}?",
        t.reference.to_string().to_lowercase()
    );
    let out = d
        .ingest_at(
            &message("q2", "+34600000008", &q, None),
            t0() + Duration::hours(1),
        )
        .await
        .map_err(s)?;
    let reply = out.reply.ok_or("no answer")?;
    ensure!(
        reply.contains(&t.reference.to_string()) && reply.contains("aceptado"),
        "answer {reply:?}"
    );
    ensure!(
        out.status_query.as_ref() == Some(&t.reference),
        "query not recognised"
    );
    ensure!(
        store.tickets().await.map_err(s)?.len() == 1,
        "the question opened a ticket"
    );
    let out = d
        .ingest_at(
            &message("q3", "+34600000008", "¿y el SEV-2026-999999?", None),
            t0(),
        )
        .await
        .map_err(s)?;
    ensure!(
        out.ticket.is_none()
            && out
                .reply
                .as_deref()
                .is_some_and(|r| r.contains("No encontramos")),
        "unknown reference answer {:?}",
        out.reply
    );
    Ok(())
}

async fn unknown_reference_is_typed(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store)?;
    for r in ["SEV-2026-000042", "no es una referencia"] {
        let e = d.ticket(r).await;
        ensure!(
            matches!(&e, Err(crate::Error::Store(se)) if se.kind == StoreErrorKind::UnknownTicket),
            "{r}: {e:?}"
        );
        let e = d
            .change_status(r, StatusRequest::new(Status::Accepted, "x"))
            .await;
        ensure!(
            matches!(&e, Err(crate::Error::Store(se)) if se.kind == StoreErrorKind::UnknownTicket),
            "{r}: {e:?}"
        );
    }
    Ok(())
}

async fn outbox_lease_retry_and_dead_letter(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    d.ingest_at(&message("o1", "+34600000009", "farola", None), t0())
        .await
        .map_err(s)?;
    let lease = Duration::minutes(5);
    let claimed = store.claim_due(t0(), 10, lease).await.map_err(s)?;
    ensure!(claimed.len() == 2, "claimed {}", claimed.len());
    let again = store
        .claim_due(t0() + Duration::minutes(1), 10, lease)
        .await
        .map_err(s)?;
    ensure!(again.is_empty(), "leased rows claimed again");
    let (a, b) = (&claimed[0], &claimed[1]);
    store.mark_sent(a.id, t0()).await.map_err(s)?;
    store.mark_sent(a.id, t0()).await.map_err(s)?; // a repeated acknowledgement is harmless
    store
        .mark_failed(b.id, t0(), "HTTP 503", Some(t0() + Duration::minutes(10)))
        .await
        .map_err(s)?;
    let pending = store.pending().await.map_err(s)?;
    ensure!(
        pending.len() == 1 && pending[0].attempts == 1,
        "{pending:?}"
    );
    ensure!(
        pending[0].last_error.as_deref() == Some("HTTP 503"),
        "error not kept"
    );
    let due = store
        .claim_due(t0() + Duration::minutes(9), 10, lease)
        .await
        .map_err(s)?;
    ensure!(due.is_empty(), "retried before its time");
    let due = store
        .claim_due(t0() + Duration::minutes(10), 10, lease)
        .await
        .map_err(s)?;
    ensure!(due.len() == 1, "not retried at its time");
    store
        .mark_failed(b.id, t0(), "HTTP 503", None)
        .await
        .map_err(s)?;
    ensure!(
        store.pending().await.map_err(s)?.is_empty(),
        "dead row still pending"
    );
    let dead = store.dead_letters().await.map_err(s)?;
    ensure!(dead.len() == 1 && dead[0].item.attempts == 2, "{dead:?}");
    Ok(())
}

async fn conversation_history(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let m1 = message("c1", "+34600000010", "hola", None);
    d.ingest_at(&m1, t0()).await.map_err(s)?;
    let t = d
        .ingest_at(
            &message("c2", "+34600000010", "farola apagada", None),
            t0() + Duration::minutes(1),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    d.ingest_at(&message("c3", "+34600000099", "hola", None), t0())
        .await
        .map_err(s)?;
    // the relay delivers the acknowledgement: it joins the conversation
    for o in store
        .claim_due(t0() + Duration::minutes(2), 10, Duration::minutes(5))
        .await
        .map_err(s)?
    {
        store
            .mark_sent(o.id, t0() + Duration::minutes(2))
            .await
            .map_err(s)?;
    }
    let conv = d
        .conversation_of(ChannelKind::Whatsapp, &m1.contact)
        .await
        .map_err(s)?;
    let texts: Vec<&str> = conv.iter().map(|e| e.text.as_str()).collect();
    ensure!(conv.len() == 4, "conversation {texts:?}");
    ensure!(
        texts[0] == "hola"
            && texts[2] == "farola apagada"
            && texts[3].contains(&t.reference.to_string()),
        "order {texts:?}"
    );
    let of_ticket = d
        .conversation_of_ticket(&t.reference.to_string())
        .await
        .map_err(s)?;
    ensure!(
        of_ticket.len() == 2,
        "ticket conversation has {}",
        of_ticket.len()
    );
    let mine = d
        .tickets_of(ChannelKind::Whatsapp, &m1.contact)
        .await
        .map_err(s)?;
    ensure!(
        mine.len() == 1 && mine[0].reference == t.reference,
        "tickets of contact"
    );
    Ok(())
}

async fn pseudonymisation_keeps_statistics(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store.clone())?;
    let phone = "+34600123456";
    let t = d
        .ingest_at(
            &message(
                "p1",
                phone,
                "farola apagada, llamadme al 600123456",
                Some((37.39, -5.98)),
            ),
            t0(),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    let r = t.reference.to_string();
    for to in [Status::Accepted, Status::Resolved, Status::Closed] {
        d.change_status(
            &r,
            StatusRequest::new(to, "alumbrado").at(t0() + Duration::days(2)),
        )
        .await
        .map_err(s)?;
    }
    // a conversation that opened no ticket
    d.ingest_at(&message("p3", "+34600555555", "hola", None), t0())
        .await
        .map_err(s)?;
    let open = d
        .ingest_at(
            &message("p2", "+34600999999", "contenedor lleno", None),
            t0(),
        )
        .await
        .map_err(s)?
        .ticket
        .ok_or("no ticket")?;
    for o in store
        .claim_due(t0() + Duration::days(3), 100, Duration::minutes(5))
        .await
        .map_err(s)?
    {
        store
            .mark_sent(o.id, t0() + Duration::days(3))
            .await
            .map_err(s)?;
    }
    let before = d.report(None).await.map_err(s)?;
    // not yet: closed only two days before
    let n = store
        .pseudonymise(t0() + Duration::days(1), b"key", t0() + Duration::days(400))
        .await
        .map_err(s)?;
    ensure!(n == 0, "pseudonymised {n} tickets too early");
    let n = store
        .pseudonymise(
            t0() + Duration::days(30),
            b"key",
            t0() + Duration::days(400),
        )
        .await
        .map_err(s)?;
    ensure!(n == 1, "pseudonymised {n} tickets");
    let after = d.report(None).await.map_err(s)?;
    ensure!(before == after, "report changed:\n{before:#?}\n{after:#?}");
    let dump = format!(
        "{}{}",
        serde_json::to_string(&store.tickets().await.map_err(s)?).map_err(s)?,
        serde_json::to_string(&store.entries().await.map_err(s)?).map_err(s)?
    );
    ensure!(
        !dump.contains("600123456"),
        "the phone number is still stored"
    );
    ensure!(
        !dump.contains("600555555"),
        "a quiet conversation without a ticket was kept in clear"
    );
    ensure!(
        dump.contains("600999999"),
        "an open ticket's contact was erased"
    );
    let p = store.ticket(&t.reference).await.map_err(s)?;
    ensure!(
        p.pseudonymised_at.is_some() && p.location.is_none(),
        "{p:?}"
    );
    let o = store.ticket(&open.reference).await.map_err(s)?;
    ensure!(o.pseudonymised_at.is_none(), "open ticket pseudonymised");
    Ok(())
}

async fn references_count_per_year(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let d = desk(store)?;
    let mut refs = Vec::new();
    for (i, at) in [t0(), t0(), t0() + Duration::days(365)]
        .into_iter()
        .enumerate()
    {
        let t = d
            .ingest_at(
                &message(&format!("y{i}"), "+34600000011", "farola", None),
                at,
            )
            .await
            .map_err(s)?
            .ticket
            .ok_or("no ticket")?;
        refs.push(t.reference.to_string());
    }
    ensure!(
        refs == ["SEV-2026-000001", "SEV-2026-000002", "SEV-2027-000001"],
        "{refs:?}"
    );
    Ok(())
}

fn reminder(n: u32, phone: &str) -> Reminder {
    Reminder {
        reference: format!("CP-TEST{n}"),
        to: Contact {
            phone: Some(phone.to_string()),
            ..Default::default()
        },
        channel: ChannelKind::Whatsapp,
        text: format!("Recordatorio: tiene cita mañana. Referencia CP-TEST{n}."),
        start: t0().naive_utc() + Duration::days(1),
    }
}

async fn reminders_belong_to_no_ticket(store: Arc<dyn TicketStore>) -> Result<(), String> {
    let (p1, p2) = ("+34600770001", "+34600770002");
    let mut not_a_reminder = reminder_row(&reminder(9, p1), t0());
    not_a_reminder.kind = OutboxKind::Notification;
    let mut nobody = reminder_row(&reminder(9, p1), t0());
    nobody.to = None;
    for bad in [not_a_reminder, nobody] {
        let e = store.enqueue_reminders(vec![bad]).await;
        ensure!(
            matches!(&e, Err(e) if e.kind == StoreErrorKind::Invalid),
            "a bad reminder row was {e:?}"
        );
    }
    let rows = vec![
        reminder_row(&reminder(1, p1), t0()),
        reminder_row(&reminder(2, p2), t0()),
    ];
    let n = store.enqueue_reminders(rows.clone()).await.map_err(s)?;
    ensure!(n == 2, "{n} reminders written, expected 2");
    let n = store.enqueue_reminders(rows.clone()).await.map_err(s)?;
    ensure!(n == 0, "the same reminders written again: {n} new rows");
    let pending = store.pending().await.map_err(s)?;
    ensure!(
        pending.len() == 2
            && pending.iter().all(|o| o.kind == OutboxKind::Reminder
                && o.reference.is_none()
                && o.appointment.is_some()
                && o.target == "whatsapp"),
        "pending {pending:?}"
    );
    let claimed = store
        .claim_due(t0(), 10, Duration::minutes(5))
        .await
        .map_err(s)?;
    ensure!(claimed.len() == 2, "claimed {} reminders", claimed.len());
    let (sent, dead) = if claimed[0].appointment.as_deref() == Some("CP-TEST1") {
        (&claimed[0], &claimed[1])
    } else {
        (&claimed[1], &claimed[0])
    };
    store.mark_sent(sent.id, t0()).await.map_err(s)?;
    store
        .mark_failed(dead.id, t0(), "HTTP 400", None)
        .await
        .map_err(s)?;
    // delivered or dead, its key stays: written again, it is not sent again
    let n = store.enqueue_reminders(rows).await.map_err(s)?;
    ensure!(n == 0, "a delivered reminder was queued again ({n})");
    ensure!(
        store.pending().await.map_err(s)?.is_empty(),
        "reminders still pending"
    );
    let letters = store.dead_letters().await.map_err(s)?;
    ensure!(
        letters.len() == 1
            && letters[0].item.kind == OutboxKind::Reminder
            && letters[0].item.reference.is_none(),
        "dead letters {letters:?}"
    );
    // the delivered one joined the citizen's conversation, about no ticket
    let c1 = Contact {
        phone: Some(p1.into()),
        ..Default::default()
    };
    let conv = store
        .conversation_of_contact(&contact_key(ChannelKind::Whatsapp, &c1))
        .await
        .map_err(s)?;
    ensure!(
        conv.len() == 1
            && conv[0].direction == super::Direction::Outbound
            && conv[0].ticket.is_none()
            && conv[0].text.contains("CP-TEST1")
            && conv[0].provider_id.as_deref() == Some(sent.idempotency_key.as_str()),
        "conversation {conv:?}"
    );
    // the citizen did not write: no conversation in the statistics
    let report = desk(store.clone())?.report(None).await.map_err(s)?;
    ensure!(
        report.conversations.total == 0,
        "a reminder counted as {} conversations",
        report.conversations.total
    );
    // retention: reminders sent or given up before the cut-off keep no contact
    store
        .pseudonymise(t0() + Duration::days(1), b"key", t0() + Duration::days(400))
        .await
        .map_err(s)?;
    let dump = format!(
        "{}{}",
        serde_json::to_string(&store.entries().await.map_err(s)?).map_err(s)?,
        serde_json::to_string(&store.dead_letters().await.map_err(s)?).map_err(s)?
    );
    ensure!(
        !dump.contains("600770001") && !dump.contains("600770002"),
        "a reminder's recipient survived retention: {dump}"
    );
    Ok(())
}

/// An appointment store whose next `mark_reminded_at` calls fail, as if the process died
/// between the two writes.
struct Crashing {
    inner: MemoryAppointmentStore,
    failures: std::sync::atomic::AtomicUsize,
}

impl AppointmentStore for Crashing {
    fn insert_if_free(&self, a: &Appointment, limit: u32) -> Result<(), AppointmentError> {
        self.inner.insert_if_free(a, limit)
    }
    fn get(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        self.inner.get(reference)
    }
    fn set_status(
        &self,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<Appointment, AppointmentError> {
        self.inner.set_status(reference, status)
    }
    fn move_if_free(
        &self,
        reference: &str,
        start: chrono::NaiveDateTime,
        end: chrono::NaiveDateTime,
        limit: u32,
    ) -> Result<Appointment, AppointmentError> {
        self.inner.move_if_free(reference, start, end, limit)
    }
    fn taken(
        &self,
        office: &str,
        from: chrono::NaiveDateTime,
        to: chrono::NaiveDateTime,
    ) -> Result<std::collections::HashMap<chrono::NaiveDateTime, u32>, AppointmentError> {
        self.inner.taken(office, from, to)
    }
    fn for_contact(&self, key: &str) -> Result<Vec<Appointment>, AppointmentError> {
        self.inner.for_contact(key)
    }
    fn unreminded(
        &self,
        from: chrono::NaiveDateTime,
        to: chrono::NaiveDateTime,
    ) -> Result<Vec<Appointment>, AppointmentError> {
        self.inner.unreminded(from, to)
    }
    fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError> {
        self.inner.mark_reminded(reference)
    }
    fn mark_reminded_at(
        &self,
        reference: &str,
        start: chrono::NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        use std::sync::atomic::Ordering;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(AppointmentError::Store("the process died here".into()));
        }
        self.inner.mark_reminded_at(reference, start)
    }
}

async fn reminders_are_queued_once_across_a_crash(
    store: Arc<dyn TicketStore>,
) -> Result<(), String> {
    let offices = Offices::from_toml_str(
        r#"
        [[service]]
        id = "padron"
        name = "Padrón"
        [[office]]
        id = "triana"
        name = "Distrito Triana"
        hours = ["mon-fri 09:00-12:00"]
        services = ["padron"]
        capacity = 4
        "#,
        "offices.toml",
    )
    .map_err(s)?;
    let book = Appointments::new(
        Arc::new(offices),
        Arc::new(Crashing {
            inner: MemoryAppointmentStore::default(),
            failures: std::sync::atomic::AtomicUsize::new(1),
        }),
    );
    // t0 is Monday 2 March 2026, 10:00 (the checks keep local time = UTC)
    let now = t0();
    let local = now.naive_utc();
    let tomorrow = |h: u32, m: u32| {
        (local.date() + Duration::days(1))
            .and_hms_opt(h, m, 0)
            .unwrap_or(local)
    };
    let who = |n: u32| Contact {
        phone: Some(format!("+3460088000{n}")),
        ..Default::default()
    };
    let a = book
        .book(
            "padron",
            "triana",
            tomorrow(9, 0),
            &who(1),
            ChannelKind::Sms,
            local,
        )
        .map_err(s)?;
    book.book(
        "padron",
        "triana",
        tomorrow(9, 15),
        &who(2),
        ChannelKind::Whatsapp,
        local,
    )
    .map_err(s)?;
    let window = Duration::hours(24);
    // the first pass writes both rows, then "dies" marking the first appointment
    let first = schedule_reminders(&*store, &book, now, window).await;
    ensure!(first.is_err(), "the crash did not happen: {first:?}");
    let reminders = |rows: Vec<super::OutboxItem>| {
        rows.into_iter()
            .filter(|o| o.kind == OutboxKind::Reminder)
            .collect::<Vec<_>>()
    };
    let queued = reminders(store.pending().await.map_err(s)?);
    ensure!(queued.len() == 2, "{} reminders queued", queued.len());
    // the next pass finds both unreminded: writes nothing new, marks them
    let r = schedule_reminders(&*store, &book, now, window)
        .await
        .map_err(s)?;
    ensure!(
        (r.due, r.enqueued, r.already_queued, r.marked) == (2, 0, 2, 2),
        "second pass {r:?}"
    );
    let r = schedule_reminders(&*store, &book, now, window)
        .await
        .map_err(s)?;
    ensure!(r.due == 0 && r.enqueued == 0, "third pass {r:?}");
    ensure!(
        reminders(store.pending().await.map_err(s)?).len() == 2,
        "reminders doubled"
    );
    // moved: a fresh reminder for the new time
    book.move_to(&a.reference, tomorrow(9, 30), local)
        .map_err(s)?;
    let r = schedule_reminders(&*store, &book, now, window)
        .await
        .map_err(s)?;
    ensure!(
        (r.due, r.enqueued, r.marked) == (1, 1, 1),
        "after the move {r:?}"
    );
    let queued = reminders(store.pending().await.map_err(s)?);
    let mine: Vec<_> = queued
        .iter()
        .filter(|o| o.appointment.as_deref() == Some(a.reference.as_str()))
        .collect();
    ensure!(
        mine.len() == 2 && mine[0].idempotency_key != mine[1].idempotency_key,
        "the moved appointment's reminders {mine:?}"
    );
    ensure!(
        mine.iter()
            .any(|o| o.text.contains("09:30") && o.target == "sms"),
        "no reminder of the new time: {mine:?}"
    );
    Ok(())
}
