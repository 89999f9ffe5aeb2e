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
