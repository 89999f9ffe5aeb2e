//! `civic-bench ingest-pg`: durable ingestion into one PostgreSQL database by 1, 2 and 4
//! instances at once, beside the SQLite store in the same run.
//!
//! An instance is what a deployment runs behind its load balancer: its own router and its own
//! connection pool (one connection), ingesting its share of the messages one by one, each
//! call returning after its transaction committed (PostgreSQL's default `synchronous_commit =
//! on`: the WAL is flushed before the commit returns). The messages are the Seville sample
//! messages with fresh ids, routed with the Seville configuration and its model; incidents get
//! a ticket, its sequence number and two outbox rows.
//!
//!     cargo build --release -p civic-router-benches --bin civic-bench
//!     ./target/release/civic-bench ingest-pg --url postgres://postgres@127.0.0.1:5432/test

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use civic_router::message::Message;
use civic_router::ticket::{block_on, Desk, PgOptions, PgStore, SqliteStore, TicketStore};
use civic_router::Router;

fn messages(n: usize, tag: &str) -> anyhow::Result<Vec<Message>> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla/messages.jsonl");
    let sample: Vec<Message> = std::fs::read_to_string(&base)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    Ok((0..n)
        .map(|i| {
            let mut m = sample[i % sample.len()].clone();
            m.id = format!("{tag}-{i}");
            m.received_at = None;
            m
        })
        .collect())
}

/// Ingests `msgs` split over `instances` desks, in parallel; messages per second.
fn ingest(desks: &[Desk], msgs: &[Message]) -> anyhow::Result<f64> {
    let per = msgs.len().div_ceil(desks.len());
    let t = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let jobs: Vec<_> = desks
            .iter()
            .zip(msgs.chunks(per))
            .map(|(desk, chunk)| {
                s.spawn(move || -> anyhow::Result<()> {
                    for m in chunk {
                        block_on(desk.ingest(m)).map_err(|e| anyhow::anyhow!("{e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for j in jobs {
            j.join()
                .map_err(|_| anyhow::anyhow!("an instance panicked"))??;
        }
        Ok(())
    })?;
    Ok(msgs.len() as f64 / t.elapsed().as_secs_f64())
}

pub fn run(url: &str, n: usize, dir: &Path) -> anyhow::Result<()> {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla/router.toml");
    let router = Arc::new(Router::from_path(&config).map_err(|e| anyhow::anyhow!("{e}"))?);
    std::fs::create_dir_all(dir)?;
    let db = dir.join("sqlite-beside-pg.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let sqlite: Arc<dyn TicketStore> =
        Arc::new(SqliteStore::open(&db).map_err(|e| anyhow::anyhow!("{e}"))?);
    let sqlite_rate = ingest(
        &[Desk::with_store(router.clone(), sqlite).map_err(|e| anyhow::anyhow!("{e}"))?],
        &messages(n, "sqlite")?,
    )?;
    println!("{:<34}{:>12}{:>12}", "store", "msg/s", "× SQLite");
    println!(
        "{:<34}{:>12.0}{:>12.2}",
        "SQLite, 1 instance", sqlite_rate, 1.0
    );
    for instances in [1usize, 2, 4] {
        let schema = format!("civic_bench_{}_{instances}", std::process::id());
        let stores: Vec<PgStore> = (0..instances)
            .map(|_| {
                PgStore::connect_with(
                    url,
                    PgOptions {
                        schema: schema.clone(),
                        pool_size: 1,
                        ..PgOptions::default()
                    },
                )
                .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<Result<_, _>>()?;
        let desks: Vec<Desk> = stores
            .iter()
            .map(|s| {
                Desk::with_store(router.clone(), Arc::new(s.clone()))
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<Result<_, _>>()?;
        let rate = ingest(&desks, &messages(n, &format!("pg{instances}"))?)?;
        stores[0]
            .drop_schema()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "{:<34}{:>12.0}{:>12.2}",
            format!(
                "PostgreSQL, {instances} instance{}",
                if instances > 1 { "s" } else { "" }
            ),
            rate,
            rate / sqlite_rate
        );
    }
    Ok(())
}
