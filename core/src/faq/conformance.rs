//! The contract every [`GapLog`] keeps, as one function a log's tests call: the memory and
//! SQLite logs here, the PostgreSQL one in `core/tests/postgres.rs`.
//!
//! [`check_gap_log`] takes a function that opens the log under test once more each time it is
//! called — another handle on the same counts, as another instance of the service would open
//! it (the same `Arc` for memory, another connection to the same SQLite file or PostgreSQL
//! schema) — so the concurrent part races several instances, not only several threads.
//!
//! ```
//! use std::sync::Arc;
//! use civic_router::faq::{conformance, GapLog, MemoryGapLog};
//! let log: Arc<dyn GapLog> = Arc::new(MemoryGapLog::default());
//! conformance::check_gap_log(&|| log.clone()).unwrap();
//! ```

use chrono::TimeZone;

use super::*;

macro_rules! ensure {
    ($c:expr, $($m:tt)*) => {
        if !$c {
            return Err(format!($($m)*));
        }
    };
}

/// Threads (each with its own handle) recording one question at once, and times each.
pub const RACERS: usize = 16;
/// How many times each racer records it.
pub const RECORDS_EACH: usize = 25;

/// Runs the whole contract. `open` gives a handle on the log under test (a new one per call,
/// or the same). Keys are unique to the run, so a log others use passes too. `Err` names the
/// broken promise.
pub fn check_gap_log(open: &dyn Fn() -> Arc<dyn GapLog>) -> Result<(), String> {
    let run = crate::appointment::new_reference().replace("CP-", "gap-");
    let k = |s: &str| format!("{run}-{s}");
    let e = |r: Result<u64, Error>| r.map_err(|e| e.to_string());
    // whole seconds plus nanoseconds: every store must give the instants back exactly
    let t0 = Utc
        .timestamp_opt(1_900_000_000, 123_456_789)
        .single()
        .ok_or("test time")?;
    let secs = |s: i64| t0 + chrono::Duration::seconds(s);
    let a = open();
    let b = open();

    // counting: the first wording, category and time stay; the last time is the latest
    ensure!(
        e(a.record(&k("dni"), "¿Dónde renuevo el DNI?", Some("tramites"), t0))? == 1,
        "the first record of a key did not count 1"
    );
    ensure!(
        e(b.record(&k("dni"), "renovar dni", None, secs(2)))? == 2,
        "a second record from another handle did not count 2"
    );
    ensure!(
        e(a.record(&k("dni"), "dni renovar", Some("otra"), secs(1)))? == 3,
        "a third record did not count 3"
    );
    // ties on count and time are ordered by the key's bytes ('B' before 'a')
    e(a.record(&k("a"), "a", None, secs(5)))?;
    e(b.record(&k("B"), "B", None, secs(5)))?;
    e(a.record(&k("old"), "lo más antiguo", None, secs(1)))?;
    e(b.record(
        &k("ñandú"),
        "¿dónde está el ñandú?",
        Some("parques"),
        secs(3),
    ))?;

    let mine = |log: &Arc<dyn GapLog>| -> Result<Vec<Gap>, String> {
        Ok(log
            .top(usize::MAX >> 1)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|g| g.key.starts_with(&run))
            .collect())
    };
    let top = mine(&b)?;
    let keys: Vec<&str> = top.iter().map(|g| &g.key[run.len() + 1..]).collect();
    ensure!(
        keys == ["dni", "B", "a", "ñandú", "old"],
        "top() ordered {keys:?}; expected most asked, then most recent, then by key bytes"
    );
    let dni = &top[0];
    ensure!(dni.count == 3, "the key counted {} times, not 3", dni.count);
    ensure!(
        dni.example == "¿Dónde renuevo el DNI?",
        "the example is {:?}, not the first wording",
        dni.example
    );
    ensure!(
        dni.category.as_deref() == Some("tramites"),
        "the category is {:?}, not the first one given",
        dni.category
    );
    ensure!(
        dni.first_seen == t0,
        "first_seen is {}, not {t0}",
        dni.first_seen
    );
    ensure!(
        dni.last_seen == secs(2),
        "last_seen is {}, not the latest record {}",
        dni.last_seen,
        secs(2)
    );
    ensure!(
        top[1].category.is_none(),
        "a gap recorded without a category has {:?}",
        top[1].category
    );
    ensure!(
        top[3].category.as_deref() == Some("parques") && top[3].example == "¿dónde está el ñandú?",
        "a non-ASCII key or question did not come back: {:?}",
        top[3]
    );
    for n in [1, 2] {
        let got = a.top(n).map_err(|e| e.to_string())?.len();
        ensure!(got == n, "top({n}) gave {got} gaps");
    }

    // resolving forgets a key; it counts afresh afterwards
    ensure!(
        a.resolve(&k("dni")).map_err(|e| e.to_string())?,
        "resolve of a counted key said it was not there"
    );
    ensure!(
        !b.resolve(&k("dni")).map_err(|e| e.to_string())?,
        "resolving a key twice said it was there twice"
    );
    ensure!(
        !a.resolve(&k("never")).map_err(|e| e.to_string())?,
        "resolve of an unknown key said it was there"
    );
    ensure!(
        mine(&a)?.iter().all(|g| g.key != k("dni")),
        "a resolved key is still listed"
    );
    ensure!(
        e(b.record(&k("dni"), "otra vez el DNI", None, secs(9)))? == 1,
        "a resolved key did not count afresh"
    );
    let again = mine(&a)?;
    let dni = again.iter().find(|g| g.key == k("dni")).ok_or("lost")?;
    ensure!(
        dni.example == "otra vez el DNI" && dni.first_seen == secs(9),
        "a key counted afresh kept its old example or time: {dni:?}"
    );

    // the race: RACERS threads, each with a handle of its own, record one question at once;
    // every record counts once, and each gets a count no other got
    let hot = k("hot");
    let handles: Vec<Arc<dyn GapLog>> = (0..RACERS).map(|_| open()).collect();
    let barrier = std::sync::Barrier::new(RACERS);
    let results: Mutex<Vec<Result<u64, String>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (i, log) in handles.iter().enumerate() {
            let (barrier, results, hot) = (&barrier, &results, &hot);
            s.spawn(move || {
                barrier.wait();
                for j in 0..RECORDS_EACH {
                    let r = log
                        .record(hot, &format!("racer {i} {j}"), None, secs(20 + j as i64))
                        .map_err(|e| e.to_string());
                    results.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut counts = Vec::new();
    for r in results {
        counts.push(r.map_err(|e| format!("a racing record failed: {e}"))?);
    }
    counts.sort_unstable();
    let total = (RACERS * RECORDS_EACH) as u64;
    ensure!(
        counts == (1..=total).collect::<Vec<u64>>(),
        "{total} racing records returned counts {:?}…, not 1..={total} each once",
        &counts[..counts.len().min(12)]
    );
    let hot_gap = mine(&a)?
        .into_iter()
        .find(|g| g.key == hot)
        .ok_or("the raced key is missing")?;
    ensure!(
        hot_gap.count == total,
        "the raced key counted {}, not {total}",
        hot_gap.count
    );
    ensure!(
        hot_gap.last_seen == secs(20 + RECORDS_EACH as i64 - 1),
        "the raced key's last_seen is {}",
        hot_gap.last_seen
    );
    Ok(())
}
