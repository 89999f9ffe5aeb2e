//! Criterion benches: normalisation alone, the compiled rule set (`RuleSet::evaluate` on
//! pre-normalised text) and the whole pipeline (`Router::route`), on synthetic sets of 100 and
//! 1,000 rules and, when it is present, on the Seville configuration.
//!
//! `cargo bench -p civic-router-benches` (one thread: criterion runs the closures serially).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use civic_router::config::Config;
use civic_router::message::Message;
use civic_router::rules::{RuleInput, RuleSet, Vocabulary};
use civic_router::text::Normalizer;
use civic_router::Router;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const MESSAGES: usize = 2_000;
const SEED: u64 = 42;

fn synthetic_router(rules_toml: &str) -> Router {
    let cfg = Config::from_toml_with_loader(
        &civic_router_benches::router_config(),
        "bench.toml",
        &|_| Ok(rules_toml.to_string()),
    )
    .expect("synthetic configuration loads");
    Router::from_config(cfg).expect("synthetic router builds")
}

fn bench_set(c: &mut Criterion, name: &str, rules: &RuleSet, router: &Router, msgs: &[Message]) {
    let texts: Vec<_> = msgs
        .iter()
        .map(|m| rules.normalizer().normalize(&m.text))
        .collect();
    let inputs: Vec<_> = msgs
        .iter()
        .zip(&texts)
        .map(|(m, t)| RuleInput::new(t, m.channel))
        .collect();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            let mut fired = 0;
            for i in &inputs {
                fired += rules.evaluate(black_box(i)).fired.len();
            }
            fired
        })
    });
    g.bench_function("route", |b| {
        b.iter(|| {
            let mut n = 0;
            for m in msgs {
                n += router.route(black_box(m)).map_or(0, |d| d.rules.len());
            }
            n
        })
    });
    g.finish();
}

fn synthetic(c: &mut Criterion) {
    let msgs = civic_router_benches::messages(MESSAGES, SEED);
    for n in [100, 1_000] {
        let set = civic_router_benches::rules(n, SEED);
        let rules = RuleSet::from_toml(&set.toml, "synthetic.toml", &Vocabulary::permissive())
            .expect("synthetic rules compile");
        let router = synthetic_router(&set.toml);
        bench_set(c, &format!("synthetic_{n}_rules"), &rules, &router, &msgs);
    }
}

fn normalization(c: &mut Criterion) {
    let msgs = civic_router_benches::messages(MESSAGES, SEED);
    let n = Normalizer::spanish();
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("spanish", |b| {
        b.iter(|| {
            let mut len = 0;
            for m in &msgs {
                len += n.normalize(black_box(&m.text)).len();
            }
            len
        })
    });
    g.finish();
}

fn sevilla(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla");
    let config = root.join("router.toml");
    if !config.exists() {
        eprintln!(
            "skipping the Seville benches: {} not found",
            config.display()
        );
        return;
    }
    let router = Router::from_path(&config).expect("the Seville configuration loads");
    let rules = router.rules();
    // the sample messages, then synthetic ones for volume
    let mut msgs: Vec<Message> = std::fs::read_to_string(root.join("messages.jsonl"))
        .map(|s| {
            s.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default();
    msgs.extend(civic_router_benches::messages(
        MESSAGES - msgs.len().min(MESSAGES),
        SEED,
    ));
    bench_set(c, "sevilla", &rules, &router, &msgs);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = normalization, synthetic, sevilla
}
criterion_main!(benches);
