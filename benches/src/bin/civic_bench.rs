//! `civic-bench`: writes the synthetic workload for the peer comparison, and measures
//! civic-router's compiled rule set on it (one thread).
//!
//! ```text
//! civic-bench dump --rules 1000 --messages 20000 --seed 42 --out target/compare/r1000
//! civic-bench measure --dir target/compare/r1000 [--seconds 3]
//! civic-bench ingest [--messages 2000] [--rounds 10] [--dir target/bench-ingest]
//! ```
//!
//! `ingest` measures durable ingestion into the SQLite ticket store (see `ingest.rs`).
//!
//! `measure` prints one JSON line: messages per second through `RuleSet::evaluate` on
//! pre-normalised text, the total number of (message, pattern) hits (the peers print the
//! same figure, so the engines are checked to agree), and the heap taken by the compiled set,
//! counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use civic_router::message::Message;
use civic_router::rules::{RuleInput, RuleSet, Vocabulary};

#[path = "ingest_bench.rs"]
mod ingest;
#[path = "ingest_pg.rs"]
mod ingest_pg;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as `GlobalAlloc::realloc`, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: Option<T>) -> anyhow::Result<T> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} needs a value")),
        None => default.with_context(|| format!("missing {name}")),
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dump") => {
            let n: usize = arg(&args, "--rules", None)?;
            let m: usize = arg(&args, "--messages", Some(20_000))?;
            let seed: u64 = arg(&args, "--seed", Some(42))?;
            let out: PathBuf = arg(&args, "--out", None)?;
            let rules = civic_router_benches::rules(n, seed);
            let msgs = civic_router_benches::messages(m, seed);
            civic_router_benches::dump(&out, &rules, &msgs)?;
            eprintln!(
                "wrote {n} rules ({} distinct patterns) and {m} messages to {}",
                rules.engine_patterns(&civic_router::text::Normalizer::spanish()).len(),
                out.display()
            );
            Ok(())
        }
        Some("measure") => {
            let dir: PathBuf = arg(&args, "--dir", None)?;
            let seconds: f64 = arg(&args, "--seconds", Some(3.0))?;
            let check: usize = arg(&args, "--check", Some(1000))?;
            measure(&dir, seconds, check)
        }
        Some("route") => {
            let config: PathBuf = arg(
                &args,
                "--config",
                Some(PathBuf::from("examples/sevilla/router.toml")),
            )?;
            let corpus: PathBuf = arg(
                &args,
                "--corpus",
                Some(PathBuf::from("../shared/corpus/dev.jsonl")),
            )?;
            let seconds: f64 = arg(&args, "--seconds", Some(3.0))?;
            let passes: usize = arg(&args, "--passes", Some(0))?;
            route(&config, &corpus, seconds, passes)
        }
        Some("ingest") => {
            let n: usize = arg(&args, "--messages", Some(2_000))?;
            let rounds: usize = arg(&args, "--rounds", Some(10))?;
            let dir: PathBuf = arg(&args, "--dir", Some(PathBuf::from("target/bench-ingest")))?;
            ingest::run(n, rounds, &dir)
        }
        Some("ingest-pg") => {
            let url: String = arg(&args, "--url", None)?;
            let n: usize = arg(&args, "--messages", Some(2_000))?;
            let dir: PathBuf = arg(&args, "--dir", Some(PathBuf::from("target/bench-ingest")))?;
            ingest_pg::run(&url, n, &dir)
        }
        _ => bail!("usage: civic-bench route [--config TOML] [--corpus JSONL] [--seconds S | --passes N] | ingest-pg --url URL [--messages N] | ingest [--messages N] [--rounds R] [--dir DIR] | dump --rules N [--messages M] [--seed S] --out DIR | measure --dir DIR [--seconds S] [--check K]"),
    }
}

/// Steady-state routing, one message at a time on one thread, through a whole configuration
/// (normalisation, rules, model, routing, the decision with its explanation) over a labelled
/// corpus (the labels are ignored): every message of the corpus once to warm up, then passes
/// over the corpus until `seconds` have gone by (or exactly `passes` passes when it is not 0:
/// what an instruction-counting profiler wants).
fn route(
    config: &std::path::Path,
    corpus: &std::path::Path,
    seconds: f64,
    passes: usize,
) -> anyhow::Result<()> {
    let router = civic_router::Router::from_path(config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let msgs: Vec<Message> = std::fs::read_to_string(corpus)
        .with_context(|| format!("cannot read {}", corpus.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            civic_router::eval::LabelledMessage::from_json_line(l)
                .map(|g| g.message)
                .map_err(|e| anyhow::anyhow!("{}: {e}", corpus.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    if msgs.is_empty() {
        bail!("{} holds no message", corpus.display());
    }
    let mut sink = 0usize;
    for m in &msgs {
        sink += router.route(m).map_or(0, |d| d.rules.len());
    }
    let (mut n, start) = (0usize, Instant::now());
    while if passes > 0 {
        n < passes * msgs.len()
    } else {
        start.elapsed() < Duration::from_secs_f64(seconds)
    } {
        for m in &msgs {
            sink += router
                .route(std::hint::black_box(m))
                .map_or(0, |d| d.rules.len());
        }
        n += msgs.len();
    }
    let per_second = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "config": config.display().to_string(),
            "messages": msgs.len(),
            "routed": n,
            "messages_per_second": per_second,
            "rules_fired": sink,
        })
    );
    Ok(())
}

fn measure(dir: &std::path::Path, seconds: f64, check: usize) -> anyhow::Result<()> {
    let src = std::fs::read_to_string(dir.join("rules.toml"))?;
    let patterns: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("patterns.json"))?)?;
    let msgs: Vec<Message> = std::fs::read_to_string(dir.join("messages.jsonl"))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let normalized = std::fs::read_to_string(dir.join("normalized.txt"))?;

    let normalizer = civic_router::text::Normalizer::spanish();
    let texts: Vec<_> = msgs.iter().map(|m| normalizer.normalize(&m.text)).collect();
    for (i, (t, line)) in texts.iter().zip(normalized.lines()).enumerate() {
        if t.as_str() != line {
            bail!("message {i}: normalized.txt differs from the normaliser's output");
        }
    }
    let inputs: Vec<_> = msgs
        .iter()
        .zip(&texts)
        .map(|(m, t)| RuleInput::new(t, m.channel))
        .collect();

    let before = LIVE.load(Ordering::Relaxed);
    let rules = RuleSet::from_toml(&src, "rules.toml", &Vocabulary::permissive())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let compiled_bytes = LIVE.load(Ordering::Relaxed) - before;
    if rules.pattern_count() != patterns.len() {
        bail!(
            "the rule set compiled {} distinct patterns, patterns.json lists {}",
            rules.pattern_count(),
            patterns.len()
        );
    }

    // correctness figures, compared by run.sh with the peers'
    let hits: usize = texts.iter().map(|t| rules.matching_patterns(t).len()).sum();
    let hits_first_k: usize = texts
        .iter()
        .take(check)
        .map(|t| rules.matching_patterns(t).len())
        .sum();
    let fired: usize = inputs.iter().map(|i| rules.evaluate(i).fired.len()).sum();
    let used_bytes = LIVE.load(Ordering::Relaxed) - before;

    // timing: whole passes over the messages until `seconds` have gone by
    let budget = Duration::from_secs_f64(seconds);
    let time = |f: &mut dyn FnMut(&RuleInput<'_>) -> usize| {
        let start = Instant::now();
        let mut done = 0usize;
        let mut sink = 0usize;
        while start.elapsed() < budget {
            for i in &inputs {
                sink += f(std::hint::black_box(i));
            }
            done += inputs.len();
        }
        assert_eq!(sink, fired * (done / inputs.len()));
        done as f64 / start.elapsed().as_secs_f64()
    };
    let evaluate = time(&mut |i| rules.evaluate(i).fired.len());
    let mut ids = Vec::new();
    let fired_ids = time(&mut |i| {
        ids.clear();
        rules.fired_ids(i, &mut ids);
        ids.len()
    });
    println!(
        "{}",
        serde_json::json!({
            "engine": "civic-router",
            "rules": rules.len(),
            "patterns": rules.pattern_count(),
            "messages": msgs.len(),
            "msgs_per_sec": evaluate,
            "msgs_per_sec_fired_ids": fired_ids,
            "hits": hits,
            "hits_first_k": hits_first_k,
            "k": check,
            "fired": fired,
            "compiled_bytes": compiled_bytes,
            "bytes_after_use": used_bytes,
        })
    );
    Ok(())
}
