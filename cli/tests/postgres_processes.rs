//! Several instances on one PostgreSQL database, as processes: four `civic-router ingest`
//! processes receive the same 2,000 webhooks, each delivered three times to processes chosen at
//! random, while two relay slots run `civic-router relay` over and over against a local HTTP
//! department that counts what it gets — and one relay is killed with SIGKILL mid-delivery.
//!
//! Exactly 2,000 tickets; each case reaches the department under its own idempotency key (a
//! delivery the killed relay made but could not record comes again with the same key, which
//! the department drops); every citizen notification is written once; nothing stays pending.
//!
//! Runs when `CIVIC_ROUTER_POSTGRES_URL` is set (scripts/test-postgres.sh); skipped otherwise.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_civic-router");
const WEBHOOKS: usize = 2_000;

/// A department's case endpoint: counts each POST by its `Idempotency-Key`.
fn department() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cases", listener.local_addr().unwrap());
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counts = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let counts = counts.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut length, mut key) = (0usize, None);
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = h.split_once(':') {
                            match name.trim().to_ascii_lowercase().as_str() {
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                "idempotency-key" => key = Some(value.trim().to_string()),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    *counts
                        .lock()
                        .unwrap()
                        .entry(key.unwrap_or_else(|| "<no key>".into()))
                        .or_default() += 1;
                    if conn
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn config(url: &str) -> String {
    format!(
        r#"
[tickets]
reference_prefix = "SEV"
[tickets.webhooks]
alumbrado = "{url}"
lipasam = "{url}"
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
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = {{ intent = "incident", category = "alumbrado" }}
[[rule]]
id = "contenedor"
when.any_words = ["contenedor*"]
then = {{ intent = "incident", category = "limpieza" }}
"#
    )
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-At", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn relay(cfg: &str, store: &str, mail: &str) -> Child {
    Command::new(BIN)
        .args([
            "relay",
            "--config",
            cfg,
            "--store",
            store,
            "--mail-dir",
            mail,
            "--lease-seconds",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn four_ingesting_and_two_relaying_processes_one_database() {
    let Ok(base) = std::env::var("CIVIC_ROUTER_POSTGRES_URL") else {
        eprintln!("SKIPPED: CIVIC_ROUTER_POSTGRES_URL is not set (no PostgreSQL server given)");
        return;
    };
    if Command::new("psql").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no psql client to inspect the database");
        return;
    }
    let schema = format!("civic_proc_{}", std::process::id());
    psql(&base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    let sep = if base.contains('?') { '&' } else { '?' };
    let store = format!("{base}{sep}schema={schema}");
    let dir = std::env::temp_dir().join(format!("civic-proc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (url, seen) = department();
    let cfg = dir.join("router.toml");
    std::fs::write(&cfg, config(&url)).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let mail = dir.join("mail");
    let mail = mail.to_str().unwrap().to_string();

    // the schema, once, by the migrate command (instances would race for it otherwise too)
    let out = Command::new(BIN)
        .args(["migrate", "--store", &store])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        psql(
            &base,
            &format!("SELECT to_regclass('{schema}.tickets') IS NOT NULL")
        ),
        "t",
        "the store's tables live in the test's own schema"
    );

    // 2,000 webhooks, each delivered three times to processes chosen at random
    let mut files: Vec<String> = vec![String::new(); 4];
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for copy in 0..3 {
        for i in 0..WEBHOOKS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let text = if i % 2 == 0 {
                "la farola de mi calle está apagada"
            } else {
                "el contenedor está lleno"
            };
            let line = format!(
                "{{\"id\":\"wamid.{i:05}\",\"channel\":\"whatsapp\",\"text\":\"{text}\",\"contact\":{{\"phone\":\"+34600{i:06}\"}}}}\n"
            );
            files[(x as usize + copy) % 4].push_str(&line);
        }
    }
    let started = Instant::now();
    let ingesters: Vec<Child> = files
        .iter()
        .enumerate()
        .map(|(n, body)| {
            let f = dir.join(format!("in{n}.jsonl"));
            std::fs::write(&f, body).unwrap();
            Command::new(BIN)
                .args(["ingest", "--config", &cfg, "--store", &store])
                .arg(&f)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();

    // two relay slots run relay passes while the ingesters work; the first pass of slot 0 is
    // killed with SIGKILL a moment after it starts delivering
    let mut killed = false;
    let mut slots: Vec<Option<Child>> = vec![None, None];
    let mut ingesters: Vec<Option<Child>> = ingesters.into_iter().map(Some).collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(
            Instant::now() < deadline,
            "the processes did not finish in 4 minutes"
        );
        for slot in ingesters.iter_mut() {
            if let Some(c) = slot {
                if let Some(status) = c.try_wait().unwrap() {
                    let mut err = String::new();
                    c.stderr.take().unwrap().read_to_string(&mut err).ok();
                    assert!(status.success(), "an ingest process failed: {err}");
                    *slot = None;
                }
            }
        }
        for (i, slot) in slots.iter_mut().enumerate() {
            match slot {
                Some(c) => {
                    if !killed && i == 0 && !seen.lock().unwrap().is_empty() {
                        c.kill().unwrap(); // SIGKILL on Unix
                        c.wait().unwrap();
                        killed = true;
                        *slot = None;
                    } else if let Some(status) = c.try_wait().unwrap() {
                        let mut err = String::new();
                        c.stderr.take().unwrap().read_to_string(&mut err).ok();
                        assert!(status.success(), "a relay failed: {err}");
                        *slot = None;
                    }
                }
                None => *slot = Some(relay(&cfg, &store, &mail)),
            }
        }
        let ingesting = ingesters.iter().any(Option::is_some);
        if !ingesting && killed {
            let pending = psql(
                &base,
                &format!("SELECT count(*) FROM {schema}.outbox WHERE state = 'pending'"),
            );
            if pending == "0" {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for c in slots.iter_mut().flatten() {
        c.wait().unwrap();
    }
    let elapsed = started.elapsed();

    let tickets = psql(&base, &format!("SELECT count(*) FROM {schema}.tickets"));
    assert_eq!(tickets, WEBHOOKS.to_string(), "one ticket per webhook");
    let inbox = psql(
        &base,
        &format!("SELECT count(*) FROM {schema}.entries WHERE direction = 'inbound'"),
    );
    assert_eq!(inbox, WEBHOOKS.to_string(), "one inbox row per provider id");
    let deliveries: usize = psql(
        &base,
        &format!("SELECT count(*) FROM {schema}.outbox WHERE data LIKE '%\"kind\":\"delivery\"%'"),
    )
    .parse()
    .unwrap();
    assert_eq!(deliveries, WEBHOOKS, "one delivery row per ticket");
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.contains_key("<no key>"),
        "every delivery carries its key"
    );
    assert_eq!(seen.len(), WEBHOOKS, "each case reached the department");
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    let notifications: usize = psql(
        &base,
        &format!(
            "SELECT count(*) FROM {schema}.outbox WHERE data LIKE '%\"kind\":\"notification\"%' AND state = 'sent'"
        ),
    )
    .parse()
    .unwrap();
    let files = std::fs::read_dir(&mail).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        files, notifications,
        "one notification file per notification row"
    );
    assert_eq!(
        psql(
            &base,
            &format!("SELECT count(*) FROM {schema}.dead_letters")
        ),
        "0"
    );
    println!(
        "{WEBHOOKS} webhooks x 3 over 4 ingest processes, 2 relay slots, 1 relay SIGKILLed: \
         {tickets} tickets, {} cases delivered ({repeats} repeated deliveries dropped by key), \
         {notifications} notifications, {:.1} s",
        seen.len(),
        elapsed.as_secs_f64()
    );
    psql(&base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    std::fs::remove_dir_all(&dir).ok();
}
