//! Retrieval benchmark of the knowledge base: load a knowledge base (JSON), then search each
//! question of a file (one a line) one at a time, as a service answering messages would, and
//! print the time per question. Run by `benches/faq/run.sh`, which compares it with `bm25s`
//! and `rank-bm25` on the same entries and questions.
//!
//! ```text
//! cargo run --release -p civic-router --example faq_bench -- ENTRIES.json QUESTIONS.txt [ROUNDS]
//! ```

use std::time::Instant;

use civic_router::faq::KnowledgeBase;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: faq_bench ENTRIES.json QUESTIONS.txt [ROUNDS]");
        std::process::exit(2);
    }
    let src = std::fs::read_to_string(&args[1]).expect("read entries");
    let questions: Vec<String> = std::fs::read_to_string(&args[2])
        .expect("read questions")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    let t = Instant::now();
    let kb = KnowledgeBase::from_json_str(&src, &args[1]).expect("valid knowledge base");
    let index_s = t.elapsed().as_secs_f64();
    // warm-up, and a checksum so the work is not optimised away
    let mut found = 0usize;
    for q in &questions {
        found += kb.search(q).is_some() as usize;
    }
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for q in &questions {
            found += std::hint::black_box(kb.search(std::hint::black_box(q))).is_some() as usize;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let per_q_us = best * 1e6 / questions.len() as f64;
    println!(
        "{{\"system\": \"civic-router\", \"entries\": {}, \"questions\": {}, \"index_seconds\": {index_s:.3}, \"us_per_question\": {per_q_us:.3}, \"checksum\": {found}}}",
        kb.len(),
        questions.len()
    );
}
