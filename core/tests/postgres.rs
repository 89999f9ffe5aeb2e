//! The PostgreSQL store against a real server: the conformance suite every store passes, and
//! what several instances sharing one database must get right.
//!
//! Runs when `CIVIC_ROUTER_POSTGRES_URL` is set (`.ci/run` sets it to the test machine's
//! server); otherwise each test says it was skipped. Every test works in schemas of its own
//! (random names) and drops them, so runs in parallel do not meet.
#![cfg(feature = "postgres")]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use civic_router::error::StoreErrorKind;
use civic_router::ticket::{
    block_on, conformance, open_store, Desk, PgOptions, PgStore, StoreUrl, TicketStore,
};
use civic_router::{ChannelKind, Message, Router};

fn url() -> Option<String> {
    match std::env::var("CIVIC_ROUTER_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED: CIVIC_ROUTER_POSTGRES_URL is not set (no PostgreSQL server given)");
            None
        }
    }
}

fn schema_name(tag: &str) -> String {
    format!("civic_test_{tag}_{}_{}", std::process::id(), fastrand_u32())
}

fn fastrand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish() as u32
}

fn open(url: &str, schema: &str) -> PgStore {
    PgStore::connect_with(
        url,
        PgOptions {
            schema: schema.to_string(),
            pool_size: 4,
            ..PgOptions::default()
        },
    )
    .expect("connect to the test server")
}

/// Drops the schemas a test made, even when it fails.
struct Cleanup(Mutex<Vec<PgStore>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for s in self.0.lock().unwrap().drain(..) {
            s.drop_schema().ok();
        }
    }
}

#[test]
fn postgres_store_conformance() {
    let Some(url) = url() else { return };
    let made = Cleanup(Mutex::new(Vec::new()));
    let failures = block_on(conformance::run_all(&|| {
        let s = open(&url, &schema_name("conf"));
        made.0.lock().unwrap().push(s.clone());
        Arc::new(s)
    }));
    for (check, _) in conformance::CHECKS {
        let verdict = failures
            .iter()
            .find(|f| f.0 == *check)
            .map_or("ok".to_string(), |f| format!("FAILED: {}", f.1));
        println!("postgres: {check}: {verdict}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn migrations_are_versioned_and_idempotent_and_refuse_a_newer_schema() {
    let Some(url) = url() else { return };
    let schema = schema_name("mig");
    let a = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![a.clone()]));
    // 1: cases, 2: appointments, 3: reminders (outbox rows of no ticket), 4: the
    // knowledge-base gap log and booking-conversation state
    assert_eq!(a.schema_version().unwrap(), 4);
    // a second instance starting on the same schema applies nothing and agrees
    let b = open(&url, &schema);
    assert_eq!(b.migrate().unwrap(), 4);
    assert_eq!(b.schema_version().unwrap(), 4);
    // a schema written by a newer build is refused, not misread
    {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "INSERT INTO \"{schema}\".schema_version (version, applied_at) VALUES (99, 'later')"
        ))
        .unwrap();
    }
    let err = PgStore::connect_with(
        &url,
        PgOptions {
            schema: schema.clone(),
            ..PgOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("version 99"), "{err}");
    drop(made);
}

fn reminder_row_for(n: u32) -> civic_router::ticket::OutboxItem {
    let start = chrono::NaiveDate::from_ymd_opt(2030, 3, 5)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap();
    civic_router::ticket::reminder_row(
        &civic_router::appointment::Reminder {
            reference: format!("CP-PGMIG{n}"),
            to: civic_router::message::Contact {
                phone: Some("+34600111222".into()),
                ..Default::default()
            },
            channel: ChannelKind::Whatsapp,
            text: "Recordatorio".into(),
            start,
        },
        Utc::now(),
    )
}

#[test]
fn a_schema_before_the_reminders_migration_moves_forward_with_its_outbox() {
    let Some(url) = url() else { return };
    let schema = schema_name("remmig");
    let a = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![a.clone()]));
    let desk = Desk::with_store(Arc::new(router()), Arc::new(a.clone())).unwrap();
    block_on(desk.ingest(&msg("before", "farola apagada"))).unwrap();
    let before = block_on(a.pending()).unwrap();
    assert!(!before.is_empty());
    // undo the migrations from the reminders one on (3: reminders, 4: gap log and
    // conversation states), as a database written before them looks
    {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "DELETE FROM \"{schema}\".schema_version WHERE version >= 3;
             DROP TABLE \"{schema}\".faq_gaps; DROP TABLE \"{schema}\".conversation_states;
             DROP INDEX \"{schema}\".outbox_done_reminders;
             ALTER TABLE \"{schema}\".outbox ALTER COLUMN reference SET NOT NULL;
             ALTER TABLE \"{schema}\".dead_letters ALTER COLUMN reference SET NOT NULL;"
        ))
        .unwrap();
    }
    assert_eq!(a.schema_version().unwrap(), 2);
    assert!(
        block_on(a.enqueue_reminders(vec![reminder_row_for(1)])).is_err(),
        "the old schema has no room for a row without a ticket"
    );
    // the next instance to start brings it forward, keeping what was queued
    let b = open(&url, &schema);
    assert_eq!(b.schema_version().unwrap(), 4);
    assert_eq!(block_on(b.pending()).unwrap(), before);
    assert_eq!(
        block_on(b.enqueue_reminders(vec![reminder_row_for(1)])).unwrap(),
        1
    );
    assert_eq!(
        block_on(b.enqueue_reminders(vec![reminder_row_for(1)])).unwrap(),
        0
    );
    assert_eq!(block_on(b.pending()).unwrap().len(), before.len() + 1);
    drop(made);
}

#[test]
fn bad_urls_and_unreachable_servers_are_typed_errors_without_the_password() {
    let err = PgStore::connect("postgres://app:s3cret@127.0.0.1:1/x").unwrap_err();
    assert_eq!(err.kind, StoreErrorKind::Backend);
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("app:***@"), "{err}");
    let err = PgStore::connect("postgres://u@h:notaport/x").unwrap_err();
    assert_eq!(err.kind, StoreErrorKind::Invalid, "{err}");
    assert!(open_store("oracle://x").is_err());
    assert_eq!(
        "postgres://u@h/x".parse::<StoreUrl>().unwrap().kind(),
        "postgres"
    );
}

#[test]
fn a_statement_past_the_timeout_is_cancelled_with_a_clear_error() {
    let Some(url) = url() else { return };
    let schema = schema_name("timeout");
    // migrated first with the default timeout: migrations of other schemas (other tests) hold
    // the database-wide migration lock longer than 200 ms
    let first = open(&url, &schema);
    let s = PgStore::connect_with(
        &url,
        PgOptions {
            schema: schema.clone(),
            statement_timeout: std::time::Duration::from_millis(200),
            ..PgOptions::default()
        },
    )
    .unwrap();
    let made = Cleanup(Mutex::new(vec![first, s.clone()]));
    // hold the lock on a sequence row from another session, then ingest: the insert waits,
    // and the timeout ends the wait instead of hanging the webhook
    let mut blocker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute(&format!(
        "LOCK TABLE \"{schema}\".sequences IN ACCESS EXCLUSIVE MODE"
    ))
    .unwrap();
    let desk = Desk::with_store(Arc::new(router()), Arc::new(s)).unwrap();
    let err =
        block_on(desk.ingest(&msg("timeout-1", "farola apagada en la calle Feria"))).unwrap_err();
    assert!(err.to_string().contains("statement timeout"), "{err}");
    tx.rollback().unwrap();
    drop(made);
}

fn router() -> Router {
    Router::from_toml(conformance::CONFIG).expect("conformance configuration")
}

fn msg(id: &str, text: &str) -> Message {
    let mut m = Message::new(id, ChannelKind::Whatsapp, text);
    m.contact.phone = Some(format!("+3460000{:04}", id.len() * 7 % 10_000));
    m.received_at = Some(
        Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0)
            .unwrap()
            .fixed_offset(),
    );
    m
}

/// Four instances (each its own pool: its own connections) receive the same 300 webhooks,
/// each delivered three times to instances chosen at random, all at once: exactly one ticket
/// per incident, one inbox row per provider id, and references without gaps or repeats.
#[test]
fn instances_racing_on_retried_webhooks_make_each_ticket_once() {
    let Some(url) = url() else { return };
    let schema = schema_name("race");
    let instances: Vec<PgStore> = (0..4).map(|_| open(&url, &schema)).collect();
    let made = Cleanup(Mutex::new(vec![instances[0].clone()]));
    let router = Arc::new(router());
    let n = 300;
    let messages: Vec<Message> = (0..n)
        .map(|i| {
            msg(
                &format!("wamid.{i:05}"),
                if i % 3 == 0 {
                    "hola, ¿qué horario tiene el 010?"
                } else {
                    "la farola de mi calle está apagada"
                },
            )
        })
        .collect();
    // three deliveries of each, spread over the instances by a fixed shuffle
    let mut deliveries: Vec<Vec<Message>> = vec![Vec::new(); 4];
    let mut seed = 0x2545_f491_u64;
    for copy in 0..3 {
        for m in &messages {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            deliveries[((seed >> 3) as usize + copy) % 4].push(m.clone());
        }
    }
    std::thread::scope(|s| {
        for (store, batch) in instances.iter().zip(deliveries) {
            let desk = Desk::with_store(router.clone(), Arc::new(store.clone())).unwrap();
            s.spawn(move || {
                for m in batch {
                    block_on(desk.ingest(&m)).expect("ingest");
                }
            });
        }
    });
    let store = &instances[0];
    let tickets = block_on(store.tickets()).unwrap();
    let incidents = messages
        .iter()
        .filter(|m| m.text.contains("farola"))
        .count();
    assert_eq!(tickets.len(), incidents, "one ticket per incident");
    let refs: HashSet<String> = tickets.iter().map(|t| t.reference.to_string()).collect();
    assert_eq!(refs.len(), incidents, "references are unique");
    let inbound: Vec<_> = block_on(store.entries())
        .unwrap()
        .into_iter()
        .filter(|e| e.direction == civic_router::ticket::Direction::Inbound)
        .collect();
    assert_eq!(inbound.len(), n, "one inbox row per provider message id");
    // every incident's delivery to the department is queued once
    let pending = block_on(store.pending()).unwrap();
    let deliveries = pending
        .iter()
        .filter(|o| o.kind == civic_router::ticket::OutboxKind::Delivery)
        .count();
    assert_eq!(deliveries, incidents);
    drop(made);
}

/// Three relays claim the same outbox at once with a lease: every row is claimed by exactly
/// one of them, and a row is claimed again only after its lease ends without `mark_sent`.
#[test]
fn relays_in_several_instances_claim_each_row_once() {
    let Some(url) = url() else { return };
    let schema = schema_name("relay");
    let instances: Vec<PgStore> = (0..3).map(|_| open(&url, &schema)).collect();
    let made = Cleanup(Mutex::new(vec![instances[0].clone()]));
    let desk = Desk::with_store(Arc::new(router()), Arc::new(instances[0].clone())).unwrap();
    for i in 0..120 {
        block_on(desk.ingest(&msg(&format!("m{i}"), "contenedor lleno en la esquina"))).unwrap();
    }
    let total = block_on(instances[0].pending()).unwrap().len();
    assert!(total >= 120);
    let now = Utc::now() + Duration::hours(1);
    let claimed: Mutex<BTreeMap<i64, usize>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for store in &instances {
            let claimed = &claimed;
            s.spawn(move || loop {
                let batch =
                    block_on(store.claim_due(now, 7, Duration::minutes(10))).expect("claim");
                if batch.is_empty() {
                    break;
                }
                for item in batch {
                    *claimed.lock().unwrap().entry(item.id).or_default() += 1;
                    block_on(store.mark_sent(item.id, now)).expect("mark sent");
                }
            });
        }
    });
    let claimed = claimed.into_inner().unwrap();
    assert_eq!(claimed.len(), total, "every row claimed");
    assert!(claimed.values().all(|&c| c == 1), "no row claimed twice");
    assert!(block_on(instances[1].pending()).unwrap().is_empty());
    // a relay that dies after claiming: the row comes back when the lease ends
    block_on(desk.ingest(&msg("late", "farola apagada"))).unwrap();
    let first = block_on(instances[1].claim_due(now, 10, Duration::minutes(5))).unwrap();
    assert!(!first.is_empty());
    assert!(
        block_on(instances[2].claim_due(now, 10, Duration::minutes(5)))
            .unwrap()
            .is_empty()
    );
    let again =
        block_on(instances[2].claim_due(now + Duration::minutes(6), 10, Duration::minutes(5)))
            .unwrap();
    assert_eq!(
        again.iter().map(|o| o.id).collect::<Vec<_>>(),
        first.iter().map(|o| o.id).collect::<Vec<_>>()
    );
    drop(made);
}

/// Called from a tokio runtime (the bindings, an async web service), the store's blocking
/// calls go to the runtime's blocking pool; many at once all land.
#[test]
fn from_a_tokio_runtime_calls_run_on_the_blocking_pool() {
    let Some(url) = url() else { return };
    let schema = schema_name("tokio");
    let store = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![store.clone()]));
    let desk = Arc::new(Desk::with_store(Arc::new(router()), Arc::new(store.clone())).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let jobs: Vec<_> = (0..40)
            .map(|i| {
                let desk = desk.clone();
                tokio::spawn(
                    async move { desk.ingest(&msg(&format!("rt{i}"), "farola apagada")).await },
                )
            })
            .collect();
        for j in jobs {
            j.await.unwrap().unwrap();
        }
    });
    assert_eq!(block_on(store.tickets()).unwrap().len(), 40);
    drop(made);
}

fn appointment(
    reference: &str,
    office: &str,
    phone: &str,
) -> civic_router::appointment::Appointment {
    use civic_router::appointment::{Appointment, AppointmentStatus};
    let start = chrono::NaiveDate::from_ymd_opt(2030, 3, 4)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap();
    Appointment {
        reference: reference.into(),
        office: office.into(),
        service: "padron".into(),
        start,
        end: start + Duration::minutes(15),
        status: AppointmentStatus::Booked,
        contact: civic_router::message::Contact {
            phone: Some(phone.into()),
            ..Default::default()
        },
        channel: ChannelKind::Whatsapp,
        urgent: false,
        created_at: Utc::now(),
        reminded: false,
    }
}

#[test]
fn postgres_appointment_store_conformance() {
    let Some(url) = url() else { return };
    let store = open(&url, &schema_name("appt"));
    let made = Cleanup(Mutex::new(vec![store.clone()]));
    civic_router::appointment::conformance::check_store(Arc::new(store.appointments()))
        .expect("the appointment store contract");
    drop(made);
}

/// One of the racing processes of `fifty_clients_in_four_processes_race_for_the_last_slot`:
/// runs only when that test starts this binary with the variables below.
#[test]
#[ignore = "a child of the last-slot race, started by it"]
fn last_slot_race_child() {
    use civic_router::appointment::AppointmentStore;
    let (Ok(url), Ok(schema), Ok(clients), Ok(first)) = (
        std::env::var("CIVIC_ROUTER_POSTGRES_URL"),
        std::env::var("CIVIC_RACE_SCHEMA"),
        std::env::var("CIVIC_RACE_CLIENTS"),
        std::env::var("CIVIC_RACE_FIRST"),
    ) else {
        return;
    };
    let clients: usize = clients.parse().unwrap();
    let first: usize = first.parse().unwrap();
    let store = PgStore::connect_with(
        &url,
        PgOptions {
            schema,
            pool_size: clients as u32,
            ..PgOptions::default()
        },
    )
    .unwrap()
    .appointments();
    let barrier = std::sync::Barrier::new(clients);
    std::thread::scope(|s| {
        for i in first..first + clients {
            let (store, barrier) = (&store, &barrier);
            s.spawn(move || {
                let a = appointment(&format!("race-{i}"), "triana", &format!("+346000{i:05}"));
                barrier.wait();
                match store.insert_if_free(&a, 1) {
                    Ok(()) => println!("RACE BOOKED {i}"),
                    Err(civic_router::appointment::AppointmentError::SlotTaken { .. }) => {
                        println!("RACE TAKEN {i}")
                    }
                    Err(e) => println!("RACE ERROR {i} {e}"),
                }
            });
        }
    });
}

/// 50 clients in 4 processes (13 + 13 + 12 + 12 threads, each with its own connection) try
/// to book the last place of one slot at the same moment: exactly one gets it.
#[test]
fn fifty_clients_in_four_processes_race_for_the_last_slot() {
    use civic_router::appointment::AppointmentStore;
    let Some(url) = url() else { return };
    let schema = schema_name("slot");
    let store = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![store.clone()]));
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    let mut first = 0;
    for clients in [13, 13, 12, 12] {
        children.push(
            std::process::Command::new(&exe)
                .args([
                    "last_slot_race_child",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                ])
                .env("CIVIC_RACE_SCHEMA", &schema)
                .env("CIVIC_RACE_CLIENTS", clients.to_string())
                .env("CIVIC_RACE_FIRST", first.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        first += clients;
    }
    let mut booked = 0;
    let mut taken = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("RACE ERROR"), "{text}");
        booked += text.matches("RACE BOOKED").count();
        taken += text.matches("RACE TAKEN").count();
    }
    assert_eq!(
        (booked, taken),
        (1, 49),
        "exactly one booking of the last place"
    );
    let appts = store.appointments();
    let start = appointment("x", "triana", "+34").start;
    let taken_now = appts
        .taken("triana", start, start + Duration::minutes(1))
        .unwrap();
    assert_eq!(taken_now.get(&start), Some(&1));
    println!("last-slot race: 50 clients in 4 processes, {booked} booked, {taken} refused");
    drop(made);
}

#[test]
fn appointment_stores_open_by_url_like_case_stores() {
    use civic_router::appointment::open_appointment_store;
    let Some(url) = url() else { return };
    let schema = schema_name("apurl");
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = open_appointment_store(&format!("{url}{sep}schema={schema}")).unwrap();
    let made = Cleanup(Mutex::new(vec![open(&url, &schema)]));
    let a = appointment("by-url-1", "macarena", "+34600111222");
    store.insert_if_free(&a, 1).unwrap();
    assert_eq!(store.get("by-url-1").unwrap(), a);
    assert!(open_appointment_store("oracle://x").is_err());
    drop(made);
}

/// The gap-log contract on PostgreSQL, every handle a store of its own (its own pool) on one
/// schema, as separate instances are: the racers count one question exactly.
#[test]
fn postgres_gap_log_conformance_across_instances() {
    let Some(url) = url() else { return };
    let schema = schema_name("gaps");
    let first = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![first.clone()]));
    civic_router::faq::conformance::check_gap_log(&|| {
        let s = PgStore::connect_with(
            &url,
            PgOptions {
                schema: schema.clone(),
                pool_size: 2,
                ..PgOptions::default()
            },
        )
        .expect("connect to the test server");
        Arc::new(s.gap_log())
    })
    .expect("the gap-log contract");
    drop(made);
}

/// A schema at version 3 (cases, appointments, reminders; before the gap log and the
/// conversation states) is brought to 4 by the next instance that starts, and the counts it then keeps are
/// shared.
#[test]
fn gap_logs_open_by_url_and_migrate_an_older_schema() {
    use civic_router::faq::{open_gap_log, GapLog};
    let Some(url) = url() else { return };
    let schema = schema_name("gapurl");
    let store = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![store.clone()]));
    {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "DROP TABLE \"{schema}\".faq_gaps; DROP TABLE \"{schema}\".conversation_states;
             DELETE FROM \"{schema}\".schema_version WHERE version = 4"
        ))
        .unwrap();
    }
    assert_eq!(store.schema_version().unwrap(), 3);
    let sep = if url.contains('?') { '&' } else { '?' };
    let by_url = format!("{url}{sep}schema={schema}");
    let a = open_gap_log(&by_url).unwrap();
    assert_eq!(store.schema_version().unwrap(), 4);
    let b = open_gap_log(&by_url).unwrap();
    let now = Utc::now();
    assert_eq!(
        a.record("muebl recog", "¿recogen muebles?", None, now)
            .unwrap(),
        1
    );
    assert_eq!(
        b.record("muebl recog", "muebles viejos", None, now)
            .unwrap(),
        2
    );
    assert_eq!(store.gap_log().top(5).unwrap()[0].count, 2);
    assert!(open_gap_log("oracle://x").is_err());
    let states = civic_router::appointment::open_conversation_state_store(&by_url).unwrap();
    assert!(states.get("+34600000000").unwrap().is_none());
    drop(made);
}

#[test]
fn postgres_conversation_state_conformance_across_instances() {
    let Some(url) = url() else { return };
    let schema = schema_name("states");
    let first = open(&url, &schema);
    let made = Cleanup(Mutex::new(vec![first.clone()]));
    civic_router::appointment::conformance::check_state_store(&|| {
        let s = PgStore::connect_with(
            &url,
            PgOptions {
                schema: schema.clone(),
                pool_size: 2,
                ..PgOptions::default()
            },
        )
        .expect("connect to the test server");
        Arc::new(s.conversation_states())
    })
    .expect("the conversation-state contract");
    drop(made);
}

/// Two instances behind a load balancer, each opening the same PostgreSQL URL (its own pool):
/// the booking request lands on A, "la segunda" on B, and B books the slot A offered; a
/// question nobody answers expires for both.
#[test]
fn another_instance_continues_the_booking_conversation() {
    use civic_router::appointment::conversation::Conversations;
    use civic_router::appointment::{AppointmentError, Offices};
    use civic_router::message::Contact;
    let Some(url) = url() else { return };
    let schema = schema_name("talk");
    let made = Cleanup(Mutex::new(vec![open(&url, &schema)]));
    let sep = if url.contains('?') { '&' } else { '?' };
    let by_url = format!("{url}{sep}schema={schema}");
    let offices = Arc::new(
        Offices::from_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/sevilla/offices.toml"
        ))
        .unwrap(),
    );
    let ttl = Duration::minutes(15);
    let a = Conversations::open(offices.clone(), &by_url, ttl).unwrap();
    let b = Conversations::open(offices, &by_url, ttl).unwrap();
    let me = Contact {
        phone: Some("+34600000077".into()),
        ..Contact::default()
    };
    let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .unwrap();
    let offered = a
        .handle(
            &me,
            ChannelKind::Voice,
            "quiero cita para empadronarme en Triana",
            Some("triana"),
            now,
        )
        .unwrap();
    assert_eq!(offered.options.len(), 3);
    assert!(b.pending(&me, now).unwrap());
    let booked = b
        .handle(&me, ChannelKind::Voice, "la segunda", None, now)
        .unwrap();
    let appt = booked.appointment.expect("B booked what A offered");
    assert_eq!(appt.office, "distrito_triana");
    assert_eq!(appt.start, now + Duration::minutes(45));
    assert!(!a.pending(&me, now).unwrap());
    assert_eq!(a.appointments().for_contact(&me).unwrap().len(), 1);
    // asked on B, never answered: the late answer on A is refused, no second booking
    b.handle(
        &me,
        ChannelKind::Sms,
        "cita para el padrón",
        Some("triana"),
        now,
    )
    .unwrap();
    let later = now + Duration::minutes(16);
    assert!(matches!(
        a.handle(&me, ChannelKind::Sms, "1", None, later),
        Err(AppointmentError::ConversationExpired)
    ));
    assert_eq!(b.appointments().for_contact(&me).unwrap().len(), 1);
    let other = Contact {
        phone: Some("+34600000078".into()),
        ..Contact::default()
    };
    a.handle(&other, ChannelKind::Sms, "cita para el padrón", None, now)
        .unwrap();
    assert_eq!(b.expire(later).unwrap(), 1);
    assert!(!a.pending(&other, now).unwrap());
    drop(made);
}
