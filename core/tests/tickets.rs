//! Cases: the store conformance suite on every store, the SQLite specifics, delivery through
//! real routes (a local HTTP server, e-mail files), and the report on a known data set.
#![cfg(feature = "tickets")]

use std::sync::Arc;

use civic_router::ticket::{block_on, conformance, MemoryStore, Status, TicketStore};

fn run(name: &str, make: &(dyn Fn() -> Arc<dyn TicketStore> + Sync)) {
    let failures = block_on(conformance::run_all(make));
    for (check, _) in conformance::CHECKS {
        let verdict = failures
            .iter()
            .find(|f| f.0 == *check)
            .map_or("ok".to_string(), |f| format!("FAILED: {}", f.1));
        println!("{name}: {check}: {verdict}");
    }
    assert!(failures.is_empty(), "{name}: {failures:#?}");
}

#[test]
fn memory_store_conformance() {
    run("memory", &|| Arc::new(MemoryStore::new()));
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_store_conformance() {
    run("sqlite (memory)", &|| {
        Arc::new(civic_router::ticket::SqliteStore::open_in_memory().expect("open"))
    });
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_file_store_conformance() {
    let dir = tempdir("conformance");
    let n = std::sync::atomic::AtomicUsize::new(0);
    run("sqlite (file)", &|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Arc::new(
            civic_router::ticket::SqliteStore::open(dir.join(format!("s{i}.db"))).expect("open"),
        )
    });
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn status_table_every_pair() {
    use Status::*;
    let allowed = [
        (Received, Routed),
        (Received, Rejected),
        (Received, Duplicate),
        (Routed, Accepted),
        (Routed, Rejected),
        (Routed, Duplicate),
        (Accepted, InProgress),
        (Accepted, Resolved),
        (Accepted, Rejected),
        (Accepted, Duplicate),
        (InProgress, Resolved),
        (InProgress, Rejected),
        (Resolved, Closed),
        (Resolved, Routed),
        (Rejected, Closed),
        (Rejected, Routed),
        (Duplicate, Closed),
        (Duplicate, Routed),
        (Closed, Routed),
    ];
    let mut n_allowed = 0;
    for from in Status::ALL {
        for to in Status::ALL {
            let expect = allowed.contains(&(from, to));
            assert_eq!(from.can_go_to(to), expect, "{from} → {to}");
            n_allowed += usize::from(expect);
        }
    }
    assert_eq!(n_allowed, allowed.len());
    println!(
        "{} allowed, {} refused transitions",
        n_allowed,
        64 - n_allowed
    );
}

pub fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "civic-tickets-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Builds the known data set of the report test in a store.
///
/// | conv | channel | when (UTC) | what | first reply | ticket |
/// |---|---|---|---|---|---|
/// | A | whatsapp | 2026-01-10 10:00 | farola apagada | ack sent +30 s | T1 alumbrado, resolved +48 h |
/// | B | sms | 2026-01-10 11:00 | hola | inline, 0 s | — |
/// | C | whatsapp | 2026-02-03 09:00 | contenedor lleno | ack sent +120 s | T2 lipasam, resolved +24 h |
/// | D | web | 2026-02-03 12:00 | contenedor roto | none | T3 lipasam, open |
/// | E | sms | 2026-02-05 08:00 | (unclassifiable: handed to an agent) | agent, +600 s | — |
fn known_data_set(store: Arc<dyn TicketStore>) -> civic_router::ticket::Desk {
    use chrono::{Duration, TimeZone, Utc};
    use civic_router::message::{ChannelKind, Contact, Message};
    use civic_router::ticket::{ConversationEntry, Direction, StatusRequest};
    let desk = conformance::desk(store.clone()).unwrap();
    let at = |m: u32, d: u32, h: u32, min: u32, s: u32| {
        Utc.with_ymd_and_hms(2026, m, d, h, min, s)
            .single()
            .unwrap()
    };
    let msg = |id: &str, ch: ChannelKind, who: &str, text: &str| {
        let mut m = Message::new(id, ch, text);
        m.contact = Contact {
            phone: Some(who.to_string()),
            ..Default::default()
        };
        m
    };
    let deliver = |now| {
        for o in block_on(store.claim_due(now, 100, Duration::minutes(5))).unwrap() {
            block_on(store.mark_sent(o.id, now)).unwrap();
        }
    };
    let ingest = |m: &Message, t| block_on(desk.ingest_at(m, t)).unwrap();
    let a = ingest(
        &msg("A", ChannelKind::Whatsapp, "+34600000001", "farola apagada"),
        at(1, 10, 10, 0, 0),
    );
    deliver(at(1, 10, 10, 0, 30));
    let b = ingest(
        &msg("B", ChannelKind::Sms, "+34600000002", "hola"),
        at(1, 10, 11, 0, 0),
    );
    assert!(b.reply.is_some());
    let c = ingest(
        &msg(
            "C",
            ChannelKind::Whatsapp,
            "+34600000003",
            "contenedor lleno",
        ),
        at(2, 3, 9, 0, 0),
    );
    deliver(at(2, 3, 9, 2, 0));
    ingest(
        &msg("D", ChannelKind::Web, "+34600000004", "contenedor roto"),
        at(2, 3, 12, 0, 0),
    );
    let e = ingest(
        &msg("E", ChannelKind::Sms, "+34600000005", "qwerty asdf"),
        at(2, 5, 8, 0, 0),
    );
    assert!(e.decision.handoff && e.reply.is_none(), "{:?}", e.decision);
    block_on(store.record_outbound(ConversationEntry {
        direction: Direction::Outbound,
        channel: ChannelKind::Sms,
        provider_id: None,
        contact_key: civic_router::ticket::contact_key(
            ChannelKind::Sms,
            &msg("E", ChannelKind::Sms, "+34600000005", "").contact,
        ),
        conversation: "sms:+34600000005:2026-02-05".into(),
        ticket: None,
        text: "Le atiende un agente.".into(),
        at: at(2, 5, 8, 10, 0),
        automatic: false,
        handoff: false,
        intent: None,
        department: None,
        district: None,
        answer: None,
    }))
    .unwrap();
    for (t, resolved) in [
        (a.ticket.unwrap(), at(1, 12, 10, 0, 0)),
        (c.ticket.unwrap(), at(2, 4, 9, 0, 0)),
    ] {
        let r = t.reference.to_string();
        for to in [Status::Accepted, Status::Resolved] {
            block_on(desk.change_status(&r, StatusRequest::new(to, "dept").at(resolved))).unwrap();
        }
    }
    desk
}

fn check_known_report(name: &str, store: Arc<dyn TicketStore>) {
    let desk = known_data_set(store.clone());
    let r = block_on(desk.report(None)).unwrap();
    println!("{name}:\n{}", r.to_table());
    let m = |pairs: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(r.conversations.total, 5);
    assert_eq!(
        r.conversations.by_month,
        m(&[("2026-01", 2), ("2026-02", 3)])
    );
    assert_eq!(
        r.conversations.by_channel,
        m(&[("sms", 2), ("web", 1), ("whatsapp", 2)])
    );
    assert_eq!(
        r.conversations.by_department,
        m(&[("010", 2), ("alumbrado", 1), ("lipasam", 2)])
    );
    assert_eq!(r.tickets.total, 3);
    assert_eq!(r.tickets.by_month, m(&[("2026-01", 1), ("2026-02", 2)]));
    assert_eq!(
        r.tickets.by_department,
        m(&[("alumbrado", 1), ("lipasam", 2)])
    );
    assert_eq!(r.tickets_by_status, m(&[("resolved", 2), ("routed", 1)]));
    assert_eq!(r.answered_automatically, 3);
    assert!((r.automatic_share - 0.6).abs() < 1e-9);
    // first replies 0, 30, 120, 600 s
    assert_eq!(r.first_reply.count, 4);
    assert_eq!(r.first_reply.median_s, Some(75.0));
    assert_eq!(r.first_reply.p90_s, Some(456.0));
    // resolutions 24 h and 48 h
    assert_eq!(r.resolution.count, 2);
    assert_eq!(r.resolution.median_s, Some(129_600.0));
    assert_eq!(r.resolution.p90_s, Some(164_160.0));
    let feb = block_on(desk.report(Some("2026-02"))).unwrap();
    assert_eq!((feb.conversations.total, feb.tickets.total), (3, 2));
    assert_eq!(feb.first_reply.count, 2); // C 120 s, E 600 s
    assert_eq!(feb.answered_automatically, 1);
    // JSON and HTML carry the same figures
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["first_reply"]["median_s"], 75.0);
    let html = r.to_html();
    assert!(
        html.contains("60.0 %") && html.contains("LIPASAM"),
        "{html}"
    );

    // retention: close the resolved tickets, pseudonymise, the figures stay
    for t in block_on(store.tickets()).unwrap() {
        if t.status == Status::Resolved {
            let req = civic_router::ticket::StatusRequest::new(Status::Closed, "010")
                .at(t.updated_at() + chrono::Duration::days(1));
            block_on(desk.change_status(&t.reference.to_string(), req)).unwrap();
        }
    }
    let before = block_on(desk.report(None)).unwrap();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 6, 1, 0, 0, 0).unwrap();
    let n = block_on(desk.apply_retention(now, b"secret pepper")).unwrap();
    assert_eq!(n, 2);
    let after = block_on(desk.report(None)).unwrap();
    assert_eq!(before, after, "pseudonymisation changed the report");
    let dump = serde_json::to_string(&block_on(store.entries()).unwrap()).unwrap();
    assert!(!dump.contains("600000001") && !dump.contains("600000003"));
    assert!(
        dump.contains("600000004"),
        "the open ticket's conversation was kept"
    );
}

#[test]
fn report_on_a_known_data_set_memory() {
    check_known_report("memory", Arc::new(MemoryStore::new()));
}

#[cfg(feature = "sqlite")]
#[test]
fn report_on_a_known_data_set_sqlite() {
    let dir = tempdir("report");
    let store = civic_router::ticket::SqliteStore::open(dir.join("r.db")).unwrap();
    check_known_report("sqlite", Arc::new(store));
    std::fs::remove_dir_all(&dir).ok();
}

/// Nothing a store returns prints personal data in `Debug` (what reaches a log line).
#[test]
fn debug_output_carries_no_personal_data() {
    use civic_router::ticket::{block_on, conformance};
    let store: Arc<dyn TicketStore> = Arc::new(MemoryStore::new());
    let desk = conformance::desk(store.clone()).unwrap();
    let m = conformance::message(
        "pii",
        "+34600123456",
        "farola apagada, llamadme al 600 123 456 o a ana@example.org",
        None,
    );
    let out = block_on(desk.ingest_at(&m, conformance::t0())).unwrap();
    let mut logged = format!("{:?} {:?} {}", out.ticket, m.contact, m.contact);
    for o in block_on(store.pending()).unwrap() {
        logged += &format!("{o:?}");
    }
    for e in block_on(store.entries()).unwrap() {
        logged += &format!("{e:?}");
    }
    for needle in ["600123456", "600 123 456", "ana@example.org"] {
        assert!(!logged.contains(needle), "{needle} in {logged}");
    }
    assert!(logged.contains("SEV-2026-000001"));
}
