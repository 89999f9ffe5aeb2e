//! The golden routing corpus: every case routes as expected.

use std::collections::HashMap;

use civic_router::Router;
use civic_router_tests::{golden_cases, repo_root};

#[test]
fn golden_corpus_routes_as_expected() {
    let cases = golden_cases();
    assert!(
        cases.len() >= 40,
        "the golden corpus went missing: {} cases",
        cases.len()
    );
    let mut routers: HashMap<String, Router> = HashMap::new();
    let mut failures = Vec::new();
    for (at, case) in &cases {
        let router = routers.entry(case.config.clone()).or_insert_with(|| {
            Router::from_path(repo_root().join(&case.config))
                .unwrap_or_else(|e| panic!("{at}: config {}: {e}", case.config))
        });
        let d = match router.route(&case.message) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{at} {}: error {e}", case.name));
                continue;
            }
        };
        let e = &case.expect;
        let mut wrong = Vec::new();
        if d.intent.as_str() != e.intent {
            wrong.push(format!("intent {} (expected {})", d.intent, e.intent));
        }
        if d.category != e.category {
            wrong.push(format!("category {} (expected {})", d.category, e.category));
        }
        if d.department != e.department {
            wrong.push(format!(
                "department {} (expected {})",
                d.department, e.department
            ));
        }
        if d.district != e.district {
            wrong.push(format!(
                "district {:?} (expected {:?})",
                d.district, e.district
            ));
        }
        if let Some(rules) = &e.rules {
            for r in rules {
                if !d.rules.contains(r) {
                    wrong.push(format!("rule {r} did not fire (fired: {:?})", d.rules));
                }
            }
        }
        if let Some(h) = e.handoff {
            if d.handoff != h {
                wrong.push(format!("handoff {} (expected {h})", d.handoff));
            }
        }
        if let Some(r) = &e.route {
            if &d.explanation.route.entry != r {
                wrong.push(format!(
                    "route {} (expected {r})",
                    d.explanation.route.entry
                ));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!("{at} {}: {}", case.name, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_corpus_agrees_between_route_and_route_batch() {
    let cases = golden_cases();
    let mut by_config: HashMap<String, Vec<civic_router::Message>> = HashMap::new();
    for (_, c) in &cases {
        by_config
            .entry(c.config.clone())
            .or_default()
            .push(c.message.clone());
    }
    for (config, msgs) in by_config {
        let router = Router::from_path(repo_root().join(&config)).unwrap();
        let batch = router.route_batch(&msgs);
        for (m, b) in msgs.iter().zip(batch) {
            assert_eq!(router.route(m).unwrap(), b.unwrap(), "{config}: {}", m.id);
        }
    }
}
