//! `civic-bench ingest`: messages per second ingested into the SQLite ticket store, each
//! committed durably (WAL, `synchronous=FULL`, one `BEGIN IMMEDIATE` transaction per message,
//! as a webhook that acknowledges after the commit does), against a baseline in the same run:
//! a raw rusqlite loop inserting each message's JSON into a table with a unique key, under the
//! same pragmas and one transaction per message, in a file in the same directory.
//!
//! The civic-router figure includes routing (the Seville configuration and its model), the
//! inbox entry, the ticket, its sequence number, and the two outbox rows (the department's
//! case and the citizen's acknowledgement). Both are bound by the disk's flush (`fsync`), which
//! on a shared machine varies from second to second: the two loops run interleaved, in
//! `--rounds` blocks each; the medians of the blocks are reported, and `civic_vs_raw` is the
//! median of the per-pair ratios (each pair ran back to back under the same conditions).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use civic_router::message::Message;
use civic_router::ticket::{block_on, Desk, SqliteStore};
use civic_router::Router;

fn messages(n: usize) -> anyhow::Result<Vec<Message>> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla/messages.jsonl");
    let sample: Vec<Message> = std::fs::read_to_string(&base)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    Ok((0..n)
        .map(|i| {
            let mut m = sample[i % sample.len()].clone();
            m.id = format!("bench-{i}");
            m.received_at = None;
            m
        })
        .collect())
}

fn fresh(dir: &Path, name: &str) -> std::path::PathBuf {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}{suffix}")));
    }
    dir.join(name)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(n: usize, rounds: usize, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let rounds = rounds.max(1);
    let msgs = messages(n)?;
    let jsons: Vec<String> = msgs
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla/router.toml");
    let router = Arc::new(Router::from_path(&config).map_err(|e| anyhow::anyhow!("{e}"))?);

    // routing alone (no I/O), for the split
    let t = Instant::now();
    for m in &msgs {
        router.route(m).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let route_only = n as f64 / t.elapsed().as_secs_f64();

    let raw = rusqlite::Connection::open(fresh(dir, "raw.db"))?;
    raw.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    raw.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE inbox (channel TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
                             UNIQUE (channel, id));",
    )?;
    let store = SqliteStore::open(fresh(dir, "cases.db")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let desk = Desk::new(router, store).map_err(|e| anyhow::anyhow!("{e}"))?;

    let block = n.div_ceil(rounds);
    let (mut raw_rates, mut civic_rates) = (Vec::new(), Vec::new());
    let mut tickets = 0usize;
    for (chunk, jchunk) in msgs.chunks(block).zip(jsons.chunks(block)) {
        let t = Instant::now();
        for (m, j) in chunk.iter().zip(jchunk) {
            let tx = rusqlite::Transaction::new_unchecked(
                &raw,
                rusqlite::TransactionBehavior::Immediate,
            )?;
            tx.execute(
                "INSERT INTO inbox (channel, id, data) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                rusqlite::params![m.channel.as_str(), m.id, j],
            )?;
            tx.commit()?;
        }
        raw_rates.push(chunk.len() as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for m in chunk {
            let r = block_on(desk.ingest(m)).map_err(|e| anyhow::anyhow!("{e}"))?;
            tickets += usize::from(r.ticket.is_some());
        }
        civic_rates.push(chunk.len() as f64 / t.elapsed().as_secs_f64());
    }
    // the same messages again: every one a retried webhook (inbox hit, nothing written)
    let t = Instant::now();
    for m in &msgs {
        let r = block_on(desk.ingest(m)).map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(r.duplicate_delivery, "{} ingested twice", m.id);
    }
    let retried = n as f64 / t.elapsed().as_secs_f64();
    let (raw_m, civic_m) = (median(raw_rates.clone()), median(civic_rates.clone()));
    // each block pair ran back to back under the same disk conditions: compare within pairs
    let ratios: Vec<f64> = civic_rates
        .iter()
        .zip(&raw_rates)
        .map(|(c, r)| c / r)
        .collect();
    let ratio = median(ratios.clone());
    let r0 = |v: &[f64]| v.iter().map(|x| x.round()).collect::<Vec<_>>();
    println!(
        "{}",
        serde_json::json!({
            "messages": n,
            "rounds": rounds,
            "tickets": tickets,
            "raw_rusqlite_insert_per_s": raw_m.round(),
            "civic_ingest_per_s": civic_m.round(),
            "civic_vs_raw": (ratio * 1000.0).round() / 1000.0,
            "ratio_blocks": ratios.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
            "raw_blocks": r0(&raw_rates),
            "civic_blocks": r0(&civic_rates),
            "route_only_per_s": route_only.round(),
            "civic_retried_webhook_per_s": retried.round(),
            "dir": dir.display().to_string(),
        })
    );
    Ok(())
}
