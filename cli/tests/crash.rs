//! Crash consistency of the SQLite store: a child process ingests and updates tickets and is
//! killed with SIGKILL at random points, at least 200 times. After each kill the store must
//! pass `PRAGMA integrity_check`, and every message the child acknowledged (it prints
//! `ACK <id>` only after the commit) must be in the inbox exactly once, with exactly one
//! ticket when it opened one. Each restart re-sends the last few acknowledged messages, as a
//! provider retrying a webhook would: they must not make second tickets.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_civic-router");

/// xorshift64*: a seeded, dependency-free random sequence (the seed is printed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing_acknowledged() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0007);
    let dir = std::env::temp_dir().join(format!("civic-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("cases.db");
    let mut rng = Rng(seed);
    // id → the ticket reference it opened ("-" for none)
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut next: u64 = 0;
    let mut updates = 0usize;
    let mut resent = 0usize;
    let started = Instant::now();
    for round in 0..kills {
        // re-send up to 3 acknowledged messages, as a provider retrying
        let back = rng.next() % 4;
        let start = next.saturating_sub(back);
        resent += (next - start) as usize;
        let mut child = Command::new(BIN)
            .args(["crash-child", "--store", db.to_str().unwrap(), "--start"])
            .arg(start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait until it writes (its first acknowledgement), then kill it within the next
        // ~60 ms, so every kill lands while it is ingesting and updating (on a loaded machine a
        // fixed delay from the spawn often kills it before it has opened the store)
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(stdout);
            let mut first = String::new();
            if r.read_line(&mut first).unwrap_or(0) > 0 {
                let _ = tx.send(());
            }
            let mut rest = String::new();
            let _ = r.read_to_string(&mut rest);
            first + &rest
        });
        let _ = rx.recv_timeout(Duration::from_secs(20));
        std::thread::sleep(Duration::from_micros(rng.next() % 60_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let out = reader.join().unwrap();
        for line in out.lines() {
            let mut w = line.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some("ACK"), Some(id), Some(r)) => {
                    let n: u64 = id.trim_start_matches("m-").parse().unwrap();
                    if let Some(prev) = acked.get(&n) {
                        assert_eq!(prev, r, "round {round}: m-{n} answered with another ticket");
                    }
                    acked.insert(n, r.to_string());
                    next = next.max(n + 1);
                }
                (Some("UPD"), _, _) => updates += 1,
                _ => {} // a line cut by the kill
            }
        }
        // after the restart (here: reopening), the store is sound and holds every ack once
        let c = rusqlite::Connection::open(&db).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "round {round}: integrity_check");
        let schema: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'entries'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if schema == 0 {
            // killed before the first migration committed: nothing can have been acknowledged
            assert!(acked.is_empty(), "round {round}: acks but no schema");
            continue;
        }
        let dup: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM (SELECT provider_id FROM entries WHERE direction = 'inbound'
                 GROUP BY channel, provider_id HAVING COUNT(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(dup, 0, "round {round}: a message is in the inbox twice");
        let in_inbox: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM entries WHERE direction = 'inbound'
                 AND CAST(substr(provider_id, 3) AS INTEGER) < ?1",
                [next as i64],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            in_inbox as usize >= acked.len(),
            "round {round}: {} acknowledged, {in_inbox} in the inbox",
            acked.len()
        );
        let tickets_per_message: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM (SELECT json_extract(data, '$.messages[0]') AS m FROM tickets
                 GROUP BY m HAVING COUNT(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            tickets_per_message, 0,
            "round {round}: a message opened two tickets"
        );
    }
    // at the end, each acknowledged message individually: in the inbox once, its ticket there
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut lost = 0;
    for (n, r) in &acked {
        let (count, ticket): (i64, Option<String>) = c
            .query_row(
                "SELECT COUNT(*), MAX(ticket) FROM entries WHERE direction = 'inbound' AND provider_id = ?1",
                [format!("m-{n}")],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        let expected = (r != "-").then(|| r.clone());
        if count != 1 || ticket != expected {
            lost += 1;
        }
        if let Some(r) = &expected {
            let t: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM tickets WHERE reference = ?1",
                    [r],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(t, 1, "ticket {r} of m-{n}");
        }
    }
    let tickets: i64 = c
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    println!(
        "crash: {kills} kills (seed {seed:#x}), {} messages acknowledged, {lost} lost, \
         {resent} re-sent after a kill (0 new tickets from them), {updates} status updates, \
         {tickets} tickets, integrity_check ok {kills}/{kills}, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lost, 0, "acknowledged messages lost or duplicated");
    assert!(
        acked.len() > kills,
        "the child hardly ran: {} acks",
        acked.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
