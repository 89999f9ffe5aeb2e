//! The Seville example configuration loads, uses exactly the corpus taxonomy, routes its
//! sample messages and routes the golden corpus (`tests/data/routing/sevilla.jsonl`) as
//! expected. The tests crate checks every golden file too; this one keeps the Seville corpus
//! honest from inside the core crate.

use std::collections::BTreeSet;
use std::path::PathBuf;

use civic_router::{ChannelKind, Message, Router};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn router() -> Router {
    Router::from_path(repo().join("examples/sevilla/router.toml"))
        .unwrap_or_else(|e| panic!("the Seville configuration does not load: {e}"))
}

/// The category ids of the corpus taxonomy (`corpus/TAXONOMY.md`).
const TAXONOMY: &[&str] = &[
    "limpieza",
    "alumbrado",
    "via_publica",
    "parques_jardines",
    "agua",
    "movilidad",
    "medio_ambiente",
    "vivienda",
    "tramites",
    "servicios_sociales",
    "actividades",
    "seguridad",
    "emergencias",
    "general",
];

const DISTRICTS: &[&str] = &[
    "casco_antiguo",
    "macarena",
    "nervion",
    "cerro_amate",
    "sur",
    "triana",
    "norte",
    "san_pablo_santa_justa",
    "este_alcosa_torreblanca",
    "bellavista_la_palmera",
    "los_remedios",
];

#[test]
fn uses_exactly_the_taxonomy_and_the_eleven_districts() {
    let cfg = router().config();
    let cats: BTreeSet<&str> = cfg.categories.keys().map(String::as_str).collect();
    assert_eq!(cats, TAXONOMY.iter().copied().collect());
    let districts: BTreeSet<&str> = cfg.districts.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(districts, DISTRICTS.iter().copied().collect());
    for d in &cfg.districts {
        assert!(
            !d.places.is_empty() && !d.streets.is_empty(),
            "district {} has no gazetteer",
            d.id
        );
    }
    // every category has a department, and every district an office for its workshops
    for c in TAXONOMY.iter().filter(|c| **c != "emergencias") {
        assert!(cfg.routing.category.contains_key(*c), "no route for {c}");
    }
    for d in DISTRICTS {
        assert!(
            cfg.routing
                .districts
                .iter()
                .any(|e| e.district == *d && e.categories.iter().any(|c| c == "actividades")),
            "no district office entry for {d}"
        );
    }
}

#[test]
fn sample_messages_route_on_every_channel() {
    let router = router();
    let text = std::fs::read_to_string(repo().join("examples/sevilla/messages.jsonl")).unwrap();
    let mut channels = BTreeSet::new();
    let mut n = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let msg: Message = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("messages.jsonl line {}: {e}", i + 1));
        let d = router
            .route(&msg)
            .unwrap_or_else(|e| panic!("messages.jsonl line {}: {e}", i + 1));
        assert!(TAXONOMY.contains(&d.category.as_str()));
        channels.insert(msg.channel);
        n += 1;
    }
    assert!(n >= 30, "only {n} sample messages");
    for c in [
        ChannelKind::Whatsapp,
        ChannelKind::Sms,
        ChannelKind::Voice,
        ChannelKind::App,
        ChannelKind::Web,
        ChannelKind::Email,
    ] {
        assert!(channels.contains(&c), "no sample message on {c:?}");
    }
}

#[test]
fn golden_corpus_routes_as_expected() {
    let router = router();
    let path = repo().join("tests/data/routing/sevilla.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = format!("sevilla.jsonl:{}", i + 1);
        let case: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(
            case["config"], "examples/sevilla/router.toml",
            "{at}: another configuration"
        );
        let name = case["name"].as_str().unwrap_or("?");
        let msg: Message = serde_json::from_value(case["message"].clone())
            .unwrap_or_else(|e| panic!("{at} {name}: message: {e}"));
        let d = router
            .route(&msg)
            .unwrap_or_else(|e| panic!("{at} {name}: {e}"));
        let e = &case["expect"];
        let mut wrong = Vec::new();
        let got = [
            ("intent", Value::from(d.intent.as_str())),
            ("category", Value::from(d.category.as_str())),
            ("department", Value::from(d.department.as_str())),
            (
                "district",
                d.district.clone().map_or(Value::Null, Value::from),
            ),
        ];
        for (field, value) in got {
            if e[field] != value {
                wrong.push(format!("{field} {value} (expected {})", e[field]));
            }
        }
        if let Some(route) = e.get("route").and_then(Value::as_str) {
            if d.explanation.route.entry != route {
                wrong.push(format!(
                    "route {} (expected {route})",
                    d.explanation.route.entry
                ));
            }
        }
        if let Some(h) = e.get("handoff").and_then(Value::as_bool) {
            if d.handoff != h {
                wrong.push(format!("handoff {} (expected {h})", d.handoff));
            }
        }
        for r in e
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !d.rules.iter().any(|f| f == r) {
                wrong.push(format!("rule {r} did not fire (fired: {:?})", d.rules));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!("{at} {name}: {}", wrong.join("; ")));
        }
        count += 1;
    }
    assert!(count >= 60, "only {count} golden cases");
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn emergencies_get_the_112_reply_at_once() {
    let router = router();
    for text in [
        "huele muchísimo a gas en la escalera",
        "sale humo negro por la ventana del segundo",
        "mi padre se ha desmayado y no responde",
        "están pegando a una mujer en el portal",
    ] {
        let d = router
            .route(&Message::new("e", ChannelKind::Whatsapp, text))
            .unwrap();
        assert_eq!(d.intent.as_str(), "emergency", "{text}");
        assert_eq!(d.department, "emergencias_112", "{text}");
        assert!(d.reply.as_deref().unwrap_or("").contains("112"), "{text}");
        assert!(!d.handoff, "{text}");
    }
}

#[test]
fn look_alikes_of_emergencies_stay_in_their_queues() {
    // an injured animal, a lift broken for weeks: urgent to the person, not a 112 case
    let router = router();
    for text in [
        "hay una paloma herida en el balcon que no puede volar",
        "El ascensor de mi bloque lleva dos semanas roto y mi madre de 85 años no puede salir de casa",
    ] {
        let d = router
            .route(&Message::new("n", ChannelKind::Whatsapp, text))
            .unwrap();
        assert_ne!(d.intent.as_str(), "emergency", "{text}: {:?}", d.rules);
        assert_ne!(d.department, "emergencias_112", "{text}");
    }
}
