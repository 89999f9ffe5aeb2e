//! Delivery through real routes: an HTTP server on 127.0.0.1 (hyper) for the webhook route,
//! a directory for the e-mail route, the relay's retries, dead letters and per-department
//! limits.
#![cfg(feature = "delivery")]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Duration as CDuration;
use civic_router::ticket::route::{FnRoute, HttpRoute, MailRoute, Relay, RetryPolicy, Route};
use civic_router::ticket::{conformance, MemoryStore, OutboxItem, OutboxKind, TicketStore};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[derive(Default)]
struct Seen {
    /// path → (idempotency key, body) of every request
    requests: HashMap<String, Vec<(String, serde_json::Value)>>,
}

/// A department's webhook: `/flaky` answers 503 three times then 200, `/down` always 500,
/// `/bad` 400, anything else 200.
async fn serve() -> (String, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let key = req
                            .headers()
                            .get("idempotency-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let json: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let n = {
                            let mut g = s.lock().unwrap();
                            let v = g.requests.entry(path.clone()).or_default();
                            v.push((key, json));
                            v.len()
                        };
                        let status = match path.as_str() {
                            "/flaky" if n <= 3 => 503,
                            "/down" => 500,
                            "/bad" => 400,
                            _ => 200,
                        };
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"{}")))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn no_jitter(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_secs(1),
        max: Duration::from_secs(60),
        jitter: 0.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_department_gets_the_case_once_and_a_dead_one_ends_in_dead_letters() {
    let (base, seen) = serve().await;
    let store: Arc<dyn TicketStore> = Arc::new(MemoryStore::new());
    let desk = conformance::desk(store.clone()).unwrap();
    let t0 = conformance::t0();
    // alumbrado's webhook fails 3 times then accepts; lipasam's is down for good
    desk.ingest_at(
        &conformance::message("h1", "+34600000001", "farola apagada", None),
        t0,
    )
    .await
    .unwrap();
    desk.ingest_at(
        &conformance::message("h2", "+34600000002", "contenedor lleno", None),
        t0,
    )
    .await
    .unwrap();
    let citizens = Arc::new(Mutex::new(Vec::<String>::new()));
    let c = citizens.clone();
    let relay = Relay::new(store.clone())
        .department(
            "alumbrado",
            Arc::new(HttpRoute::new(&format!("{base}/flaky")).unwrap()),
        )
        .department(
            "lipasam",
            Arc::new(HttpRoute::new(&format!("{base}/down")).unwrap()),
        )
        .channel(
            "whatsapp",
            Arc::new(FnRoute::new(move |item: &OutboxItem| {
                c.lock().unwrap().push(item.text.clone());
                Ok(())
            })),
        )
        .retry(no_jitter(5));
    // each pass at the time the failed rows are due again (backoff 1, 2, 4, 8 s)
    let mut now = t0;
    let mut passes = 0;
    loop {
        relay.run_once_at(now).await.unwrap();
        passes += 1;
        if store.pending().await.unwrap().is_empty() || passes > 20 {
            break;
        }
        now += CDuration::seconds(16);
    }
    let dead = store.dead_letters().await.unwrap();
    let g = seen.lock().unwrap();
    let flaky = &g.requests["/flaky"];
    assert_eq!(flaky.len(), 4, "3 failures then the success");
    let keys: std::collections::BTreeSet<_> = flaky.iter().map(|r| r.0.clone()).collect();
    assert_eq!(
        keys.len(),
        1,
        "one idempotency key across attempts: {keys:?}"
    );
    assert!(keys.iter().next().unwrap().starts_with("SEV-2026-000001"));
    assert_eq!(flaky[3].1["case"]["reference"], "SEV-2026-000001");
    assert_eq!(flaky[3].1["case"]["category"], "alumbrado");
    assert_eq!(g.requests["/down"].len(), 5, "max_attempts attempts");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].item.target, "lipasam");
    assert_eq!(dead[0].item.attempts, 5);
    assert!(dead[0]
        .item
        .last_error
        .as_deref()
        .unwrap()
        .contains("HTTP 500"));
    assert_eq!(citizens.lock().unwrap().len(), 2, "each citizen told once");
    println!(
        "flaky: {} requests, 1 accepted; down: {} requests, dead letters: {}; passes: {passes}",
        flaky.len(),
        g.requests["/down"].len(),
        dead.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_is_final_and_timeouts_are_retried() {
    let (base, seen) = serve().await;
    let store: Arc<dyn TicketStore> = Arc::new(MemoryStore::new());
    let desk = conformance::desk(store.clone()).unwrap();
    let t0 = conformance::t0();
    desk.ingest_at(
        &conformance::message("b1", "+34600000001", "farola", None),
        t0,
    )
    .await
    .unwrap();
    // a server that accepts the connection and never answers
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let relay = Relay::new(store.clone())
        .department(
            "alumbrado",
            Arc::new(HttpRoute::new(&format!("{base}/bad")).unwrap()),
        )
        .channel(
            "whatsapp",
            Arc::new(
                HttpRoute::new(&format!("http://{silent_addr}/notify"))
                    .unwrap()
                    .with_timeout(Duration::from_millis(300)),
            ),
        )
        .retry(no_jitter(3));
    let r = relay.run_once_at(t0).await.unwrap();
    assert_eq!(
        (r.claimed, r.sent, r.retried, r.dead),
        (2, 0, 1, 1),
        "{r:?}"
    );
    assert_eq!(seen.lock().unwrap().requests["/bad"].len(), 1);
    let pending = store.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("timed out"),
        "{pending:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_department_does_not_stall_the_others() {
    struct Slow(Arc<Mutex<Vec<(String, Instant)>>>, Duration);
    #[async_trait::async_trait]
    impl Route for Slow {
        async fn send(&self, item: &OutboxItem) -> Result<(), civic_router::DeliveryError> {
            tokio::time::sleep(self.1).await;
            self.0
                .lock()
                .unwrap()
                .push((item.target.clone(), Instant::now()));
            Ok(())
        }
    }
    let store: Arc<dyn TicketStore> = Arc::new(MemoryStore::new());
    let desk = conformance::desk(store.clone()).unwrap();
    let t0 = conformance::t0();
    for i in 0..4 {
        let m = conformance::message(&format!("s{i}"), "+34600000001", "farola", None);
        desk.ingest_at(&m, t0).await.unwrap();
        let m = conformance::message(&format!("f{i}"), "+34600000002", "contenedor", None);
        desk.ingest_at(&m, t0).await.unwrap();
    }
    let done = Arc::new(Mutex::new(Vec::new()));
    let relay = Relay::new(store.clone())
        .department(
            "alumbrado",
            Arc::new(Slow(done.clone(), Duration::from_millis(300))),
        )
        .department(
            "lipasam",
            Arc::new(Slow(done.clone(), Duration::from_millis(10))),
        )
        .default_channel(Arc::new(FnRoute::new(|_: &OutboxItem| Ok(()))))
        .per_target(1);
    let start = Instant::now();
    let r = relay.run_once_at(t0).await.unwrap();
    assert_eq!(r.sent, 16);
    let done = done.lock().unwrap();
    let last = |dep: &str| {
        done.iter()
            .filter(|d| d.0 == dep)
            .map(|d| d.1 - start)
            .max()
            .unwrap()
    };
    // one in flight at a time each: the slow one takes 4 × 300 ms, the fast one 4 × 10 ms
    assert!(
        last("alumbrado") >= Duration::from_millis(1200),
        "{:?}",
        last("alumbrado")
    );
    assert!(
        last("lipasam") < Duration::from_millis(400),
        "{:?}",
        last("lipasam")
    );
    println!(
        "slow department done at {:?}, fast at {:?}",
        last("alumbrado"),
        last("lipasam")
    );
}

#[tokio::test]
async fn mail_route_writes_one_message_per_delivery() {
    let dir = std::env::temp_dir().join(format!("civic-mail-test-{}", std::process::id()));
    let store: Arc<dyn TicketStore> = Arc::new(MemoryStore::new());
    let desk = conformance::desk(store.clone()).unwrap();
    let t0 = conformance::t0();
    let m = conformance::message("e1", "+34600000001", "farola apagada", Some((37.39, -5.98)));
    desk.ingest_at(&m, t0).await.unwrap();
    let mail = Arc::new(
        MailRoute::new(&dir, "010@sevilla.example")
            .with_recipient("alumbrado", "averias@alumbrado.example"),
    );
    let relay = Relay::new(store.clone())
        .default_department(mail.clone())
        .default_channel(Arc::new(FnRoute::new(|_: &OutboxItem| Ok(()))));
    relay.run_once_at(t0).await.unwrap();
    // the same row sent again (a crash before it was marked) is the same file
    let item = store.dead_letters().await.unwrap();
    assert!(item.is_empty());
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(eml.contains("To: averias@alumbrado.example\r\n"), "{eml}");
    assert!(
        eml.contains("Subject: [SEV-2026-000001] Nuevo aviso\r\n"),
        "{eml}"
    );
    assert!(eml.contains("Categoría: Alumbrado público\r\n"), "{eml}");
    assert!(
        eml.contains("Coordenadas: 37.390000, -5.980000\r\n"),
        "{eml}"
    );
    assert!(eml.contains("Content-Type: text/plain; charset=utf-8\r\n"));
    assert!(
        !eml.contains("600000001"),
        "the citizen's phone is not sent to departments"
    );
    let again = OutboxItem {
        kind: OutboxKind::Delivery,
        ..serde_json::from_value(serde_json::json!({
            "id": 1, "kind": "delivery", "target": "alumbrado",
            "reference": "SEV-2026-000001", "event": "new",
            "idempotency_key": "SEV-2026-000001:1:d:alumbrado:new", "payload": {},
            "text": "x", "attempts": 0, "next_attempt_at": "2026-03-02T10:00:00Z",
            "created_at": "2026-03-02T10:00:00Z"
        }))
        .unwrap()
    };
    mail.send(&again).await.unwrap();
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "same key, same file"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Counts what a channel's route was given, failing the first `fail` attempts.
struct Citizen {
    seen: Mutex<Vec<OutboxItem>>,
    fail: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Route for Citizen {
    async fn send(&self, item: &OutboxItem) -> Result<(), civic_router::DeliveryError> {
        use std::sync::atomic::Ordering;
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(civic_router::DeliveryError::retryable(
                &item.target,
                "HTTP 503",
            ));
        }
        self.seen.lock().unwrap().push(item.clone());
        Ok(())
    }
}

async fn reminder_delivered_once(store: Arc<dyn TicketStore>) {
    use civic_router::appointment::{Appointments, MemoryAppointmentStore, Offices};
    use civic_router::message::Contact;
    use civic_router::ChannelKind;

    let offices = Offices::from_toml_str(
        r#"
        [[service]]
        id = "padron"
        name = "Padrón"
        [[office]]
        id = "triana"
        name = "Distrito Triana"
        hours = ["mon-fri 09:00-10:00"]
        services = ["padron"]
        capacity = 2
        "#,
        "offices.toml",
    )
    .unwrap();
    let book = Appointments::new(
        Arc::new(offices),
        Arc::new(MemoryAppointmentStore::default()),
    );
    // the desk's router keeps Seville's time: 10:00 UTC on Monday 2 March is 11:00 there
    let desk = conformance::desk(store.clone()).unwrap();
    let t0 = conformance::t0();
    let local = t0.with_timezone(&chrono_tz::Europe::Madrid).naive_local();
    let tomorrow_9 = (local.date() + CDuration::days(1))
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let ana = Contact {
        phone: Some("+34600111222".into()),
        ..Contact::default()
    };
    let a = book
        .book(
            "padron",
            "triana",
            tomorrow_9,
            &ana,
            ChannelKind::Whatsapp,
            local,
        )
        .unwrap();
    let whatsapp = Arc::new(Citizen {
        seen: Mutex::new(Vec::new()),
        fail: std::sync::atomic::AtomicUsize::new(1),
    });
    let departments = Arc::new(Citizen {
        seen: Mutex::new(Vec::new()),
        fail: std::sync::atomic::AtomicUsize::new(0),
    });
    let relay = Relay::new(store.clone())
        .channel("whatsapp", whatsapp.clone())
        .default_department(departments.clone())
        .retry(RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(60),
            max: Duration::from_secs(60),
            jitter: 0.0,
        });
    let day = CDuration::hours(24);
    let r = desk.schedule_reminders(&book, t0, day).await.unwrap();
    assert_eq!((r.due, r.enqueued, r.marked), (1, 1, 1), "{r:?}");
    // the first attempt fails (503): retried a minute later, then sent
    let first = relay.run_once_at(t0).await.unwrap();
    assert_eq!((first.claimed, first.retried), (1, 1), "{first:?}");
    // schedule and relay again and again: nothing more goes out
    for minutes in [1, 2, 10, 60] {
        desk.schedule_reminders(&book, t0, day).await.unwrap();
        relay
            .run_once_at(t0 + CDuration::minutes(minutes))
            .await
            .unwrap();
    }
    let seen = whatsapp.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let r = &seen[0];
    assert_eq!(r.kind, OutboxKind::Reminder);
    assert_eq!(r.appointment.as_deref(), Some(a.reference.as_str()));
    assert_eq!(
        r.to.as_ref().unwrap().phone.as_deref(),
        Some("+34600111222")
    );
    assert!(
        r.text.contains("martes 3 de marzo a las 09:00") && r.text.contains(&a.reference),
        "{}",
        r.text
    );
    assert!(departments.seen.lock().unwrap().is_empty());
    assert!(store.pending().await.unwrap().is_empty());
    assert!(store.dead_letters().await.unwrap().is_empty());
    // it is in Ana's conversation on WhatsApp, about no ticket
    let conv = desk
        .conversation_of(ChannelKind::Whatsapp, &ana)
        .await
        .unwrap();
    assert_eq!(conv.len(), 1);
    assert!(conv[0].ticket.is_none() && conv[0].text == r.text);
}

#[tokio::test]
async fn a_reminder_is_delivered_once_on_the_citizens_channel() {
    reminder_delivered_once(Arc::new(MemoryStore::new())).await;
    #[cfg(feature = "sqlite")]
    reminder_delivered_once(Arc::new(
        civic_router::ticket::SqliteStore::open_in_memory().unwrap(),
    ))
    .await;
}
