//! The pipeline end to end on an inline configuration: every routing layer, defaults,
//! replies, plug-ins, reloads, refusals, and bad input.

use std::sync::Arc;

use civic_router::classify::{Classification, ClassifierError, Context};
use civic_router::config::Config;
use civic_router::message::{Attachment, Location};
use civic_router::{ChannelKind, ErrorKind, Intent, Message, Priority, Router};

const CONFIG: &str = r#"
[router]
name = "Test line"
handoff_below = 0.5
mode = "all_match"

[categories]
alumbrado = "Alumbrado público"
via_publica = "Vía pública"
actividades = "Actividades"
medio_ambiente = "Medio ambiente"
emergencias = "Emergencias"
general = "General"

[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
hours = ["mon-fri 08:00-15:00"]
after_hours = "guardia"

[[department]]
id = "guardia"
name = "Retén de guardia"

[[department]]
id = "obras"
name = "Vía Pública"
phone = "955 000 000"

[[department]]
id = "junta_carreteras"
name = "Junta de Andalucía — Carreteras"
kind = "external"

[[department]]
id = "distrito_triana"
name = "Distrito Triana"
kind = "district"

[[department]]
id = "emergencias"
name = "Emergencias 112"
kind = "emergency"

[[department]]
id = "agentes"
name = "Agentes 010"
kind = "agents"

[[department]]
id = "010"
name = "Línea 010"

[[district]]
id = "triana"
name = "Triana"
places = ["Triana", "El Tardón", "Barrio León"]
streets = ["calle Betis", "San Jacinto"]

[[district]]
id = "macarena"
name = "Macarena"
places = ["Macarena"]
streets = ["calle Feria"]

[routing]
default = "010"
emergency = "emergencias"
agents = "agentes"
category.alumbrado = "alumbrado"
category.via_publica = "obras"

[[routing.district]]
district = "triana"
categories = ["actividades"]
department = "distrito_triana"

[[routing.override]]
id = "carretera-autonomica"
when.any_text = ['\b(a|se)-\d+\b']
categories = ["via_publica", "alumbrado"]
department = "junta_carreteras"

[replies]
emergency = "Llame al 112 ahora. ({message_id})"
incident = "Aviso recibido: {category_name}. Lo atenderá {department_name}{district_name}."
handoff = "Le atiende una persona en breve."

[[rule]]
id = "emergency-gas"
priority = 100
when.any_text = ['huele (mucho )?a gas', '\bincendio\b']
then = { intent = "emergency", stop = true }

[[rule]]
id = "lighting"
priority = 50
when.any_words = ["farola*", "alumbrado"]
then = { intent = "incident", category = "alumbrado" }

[[rule]]
id = "pothole"
priority = 50
when.any_words = ["bache*", "socavon"]
then = { intent = "incident", category = "via_publica", tags = ["firme"] }

[[rule]]
id = "workshops"
priority = 40
when.any_words = ["taller*", "curso*"]
then = { intent = "information", category = "actividades" }

[[rule]]
id = "danger-high"
priority = 30
when.any_words = ["peligro*", "cable*"]
then = { priority = "high" }

[[rule]]
id = "vague-noise"
priority = 20
when.any_words = ["ruido"]
then = { intent = "incident", category = "medio_ambiente", confidence = 0.3 }
"#;

fn router() -> Router {
    Router::from_toml(CONFIG).expect("test config loads")
}

fn msg(text: &str) -> Message {
    Message::new("m1", ChannelKind::Whatsapp, text)
}

#[test]
fn category_route_and_reply() {
    let d = router()
        .route(&msg("La farola de mi calle no enciende"))
        .unwrap();
    assert_eq!(d.intent, Intent::Incident);
    assert_eq!(d.category, "alumbrado");
    assert_eq!(d.department, "alumbrado");
    assert_eq!(d.explanation.route.entry, "category:alumbrado");
    assert_eq!(d.rules, vec!["lighting"]);
    assert_eq!(d.explanation.rules[0].patterns, vec!["farola*"]);
    assert_eq!(
        d.reply.as_deref(),
        Some("Aviso recibido: Alumbrado público. Lo atenderá Servicio de Alumbrado.")
    );
    assert!(!d.handoff);
    assert_eq!(d.priority, Priority::Normal);
}

#[test]
fn district_from_gazetteer_and_district_route() {
    let d = router()
        .route(&msg("¿Hay talleres de cerámica en el Tardón?"))
        .unwrap();
    assert_eq!(d.district.as_deref(), Some("triana"));
    assert_eq!(d.department, "distrito_triana");
    assert_eq!(d.explanation.route.entry, "district:triana");
    let dm = d.explanation.district.unwrap();
    assert_eq!(
        (dm.matched.as_str(), dm.source.as_str()),
        ("el tardon", "place")
    );
    // the same category elsewhere falls through to the default
    let d = router()
        .route(&msg("¿hay talleres en la Macarena?"))
        .unwrap();
    assert_eq!(d.district.as_deref(), Some("macarena"));
    assert_eq!(d.explanation.route.entry, "default");
}

#[test]
fn place_beats_street_and_unknown_place_gives_no_district() {
    let d = router()
        .route(&msg("bache en calle Feria esquina Macarena"))
        .unwrap();
    assert_eq!(d.district.as_deref(), Some("macarena"));
    assert_eq!(d.explanation.district.unwrap().source, "place");
    let d = router().route(&msg("bache en la calle Betis")).unwrap();
    assert_eq!(d.explanation.district.unwrap().source, "street");
    let d = router().route(&msg("bache en mi calle")).unwrap();
    assert_eq!(d.district, None);
}

#[test]
fn override_beats_category_for_listed_categories_only() {
    let d = router()
        .route(&msg("Un bache enorme en la SE-30 salida 5"))
        .unwrap();
    assert_eq!(d.department, "junta_carreteras");
    assert_eq!(d.explanation.route.entry, "override:carretera-autonomica");
    // the override is limited to its categories
    let d = router()
        .route(&msg("hay talleres junto a la A-4?"))
        .unwrap();
    assert_ne!(d.department, "junta_carreteras");
}

#[test]
fn emergency_is_urgent_never_queued_and_stops_the_rules() {
    let d = router()
        .route(&msg(
            "huele mucho a gas en el portal, y hay una farola rota",
        ))
        .unwrap();
    assert_eq!(d.intent, Intent::Emergency);
    assert_eq!(d.category, "emergencias");
    assert_eq!(d.department, "emergencias");
    assert_eq!(d.priority, Priority::Urgent);
    assert_eq!(d.explanation.route.entry, "urgent");
    assert_eq!(d.rules, vec!["emergency-gas"], "stop ends the run");
    assert!(!d.handoff, "an emergency never waits for an agent");
    assert_eq!(d.reply.as_deref(), Some("Llame al 112 ahora. (m1)"));
}

#[test]
fn after_hours_fallback_for_high_priority_only() {
    let mut m = msg("farola caída con cables sueltos, peligro");
    // Saturday 23:00 in Madrid
    m.received_at = Some("2026-11-28T23:00:00+01:00".parse().unwrap());
    let d = router().route(&m).unwrap();
    assert_eq!(d.priority, Priority::High);
    assert_eq!(d.department, "guardia");
    assert_eq!(
        d.explanation.route.after_hours_from.as_deref(),
        Some("alumbrado")
    );
    // same time, normal priority: stays with the department
    let mut m2 = msg("farola apagada");
    m2.received_at = m.received_at;
    assert_eq!(router().route(&m2).unwrap().department, "alumbrado");
    // Monday 10:00 local (UTC 09:00): open
    m.received_at = Some("2026-11-30T09:00:00Z".parse().unwrap());
    assert_eq!(router().route(&m).unwrap().department, "alumbrado");
}

#[test]
fn low_confidence_goes_to_a_human_agent() {
    let d = router().route(&msg("mucho ruido")).unwrap();
    assert_eq!(d.category, "medio_ambiente");
    assert!(d.handoff);
    assert_eq!(d.department, "agentes");
    assert_eq!(d.explanation.route.entry, "agents");
    assert_eq!(d.reply.as_deref(), Some("Le atiende una persona en breve."));
}

#[test]
fn unclassified_message_defaults_and_says_so() {
    let d = router().route(&msg("hola buenas")).unwrap();
    assert_eq!(d.intent, Intent::Other);
    assert_eq!(d.category, "general");
    assert_eq!(d.confidence, 0.0);
    assert!(d.handoff);
    assert!(d.explanation.notes[0].contains("intent"));
}

#[test]
fn captions_are_routed_and_tags_kept() {
    let mut m = Message::new("m2", ChannelKind::App, "");
    m.attachments.push(Attachment {
        kind: "image".into(),
        mime_type: Some("image/jpeg".into()),
        url: None,
        caption: Some("socavón en la acera".into()),
    });
    m.location = Some(Location {
        lat: Some(37.38),
        lon: Some(-6.0),
        address: None,
    });
    let d = router().route(&m).unwrap();
    assert_eq!(d.category, "via_publica");
    assert_eq!(d.tags, vec!["firme"]);
}

#[test]
fn plugin_classifier_fills_what_rules_leave_open() {
    let plugin = |cx: &Context<'_>| {
        Ok(cx
            .text
            .tokens()
            .any(|t| t == "parque")
            .then(|| Classification {
                intent: Some(Intent::Incident),
                category: Some("actividades".into()),
                confidence: 0.8,
                ..Default::default()
            }))
    };
    let r = router().with_classifier(Arc::new(plugin));
    assert_eq!(r.classifier_names(), vec!["rules", "closure"]);
    let d = r.route(&msg("el parque está sucio")).unwrap();
    assert_eq!(d.category, "actividades");
    assert_eq!(
        d.explanation.classifiers[1].applied,
        vec!["intent", "category"]
    );
    // rules that fire first keep their labels
    let d = r.route(&msg("farola rota en el parque")).unwrap();
    assert_eq!(d.category, "alumbrado");
}

#[test]
fn plugin_error_is_a_classifier_error() {
    let failing = |_: &Context<'_>| -> Result<Option<Classification>, ClassifierError> {
        Err(ClassifierError::new("model", "weights missing"))
    };
    let r = router().with_classifier(Arc::new(failing));
    let e = r.route(&msg("hola")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Classifier);
    assert!(e.to_string().contains("weights missing"));
}

#[test]
fn bad_input_is_a_typed_error() {
    let r = router();
    let e = r
        .route(&Message::new(" ", ChannelKind::Sms, "x"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    let big = "a".repeat(10 * 1024 * 1024);
    let e = r
        .route(&Message::new("big", ChannelKind::Web, big))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
    assert!(e.to_string().contains("limit"));
}

#[test]
fn malformed_message_json_is_refused() {
    for bad in [
        "{",
        r#"{"id": "1", "channel": "fax", "text": "x"}"#,
        r#"{"id": "1", "channel": "sms", "text": "x", "unknown": 1}"#,
        r#"{"channel": "sms", "text": "x"}"#,
    ] {
        assert!(serde_json::from_str::<Message>(bad).is_err(), "{bad}");
    }
}

#[test]
fn route_batch_equals_route_in_order() {
    let r = router();
    let texts = [
        "farola",
        "bache",
        "huele a gas",
        "talleres en triana",
        "hola",
        "ruido",
    ];
    let msgs: Vec<Message> = (0..300)
        .map(|i| Message::new(format!("m{i}"), ChannelKind::Sms, texts[i % texts.len()]))
        .collect();
    let batch = r.route_batch(&msgs);
    assert_eq!(batch.len(), msgs.len());
    for (m, b) in msgs.iter().zip(batch) {
        assert_eq!(r.route(m).unwrap(), b.unwrap());
    }
}

#[test]
fn shared_across_threads() {
    let r = Arc::new(router());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    let d = r
                        .route(&Message::new(format!("{t}-{i}"), ChannelKind::Sms, "bache"))
                        .unwrap();
                    assert_eq!(d.department, "obras");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn reload_swaps_and_a_bad_reload_keeps_the_old_configuration() {
    let r = router();
    assert_eq!(r.route(&msg("bache")).unwrap().department, "obras");
    let new = CONFIG.replace(
        "category.via_publica = \"obras\"",
        "category.via_publica = \"010\"",
    );
    r.reload(Config::from_toml_str(&new, "new.toml").unwrap())
        .unwrap();
    assert_eq!(r.route(&msg("bache")).unwrap().department, "010");
    let broken = CONFIG.replace("default = \"010\"", "default = \"nadie\"");
    let e = r
        .reload(Config::from_toml_str(&broken, "broken.toml").unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("routing.default"));
    assert_eq!(
        r.route(&msg("bache")).unwrap().department,
        "010",
        "old config kept"
    );
}

fn refused(config: &str) -> String {
    let e = Router::from_toml(config).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    e.to_string()
}

#[test]
fn configuration_refusals_name_the_field() {
    let e = refused(&CONFIG.replace("default = \"010\"", "default = \"nadie\""));
    assert!(
        e.contains("routing.default") && e.contains("unknown department `nadie`"),
        "{e}"
    );
    let e = refused(&CONFIG.replace(
        "name = \"Test line\"",
        "name = \"Test line\"\ntimezone = \"Mars/Base\"",
    ));
    assert!(e.contains("router.timezone"), "{e}");
    let e = refused(&CONFIG.replace(
        "hours = [\"mon-fri 08:00-15:00\"]",
        "hours = [\"mon-fri 08:00-07:00\"]",
    ));
    assert!(e.contains("department[0].hours"), "{e}");
    let e = refused(&CONFIG.replace("after_hours = \"guardia\"", "after_hours = \"nadie\""));
    assert!(e.contains("after_hours"), "{e}");
    let e = refused(&CONFIG.replace(
        "category.via_publica = \"obras\"",
        "category.via_publicas = \"obras\"",
    ));
    assert!(e.contains("routing.category.via_publicas"), "{e}");
    let e = refused(&CONFIG.replace(
        "district = \"triana\"\ncategories",
        "district = \"trianna\"\ncategories",
    ));
    assert!(e.contains("routing.district[0].district"), "{e}");
    let e = refused(&CONFIG.replace("{category_name}", "{categoria}"));
    assert!(
        e.contains("replies.incident") && e.contains("categoria"),
        "{e}"
    );
    let e = refused(&CONFIG.replace("handoff_below = 0.5", "handoff_below = 5.0"));
    assert!(e.contains("router.handoff_below"), "{e}");
    let e = refused(&CONFIG.replace("[[routing.district]]", "[[routing.distric]]"));
    assert!(e.contains("routing") && e.contains("distric"), "{e}");
    let e = refused(&CONFIG.replace(
        "category = \"via_publica\", tags",
        "category = \"baches\", tags",
    ));
    assert!(
        e.contains("rule `pothole`") && e.contains("then.category"),
        "{e}"
    );
    let e = refused(&CONFIG.replace(
        "department = \"junta_carreteras\"",
        "department = \"junta\"",
    ));
    assert!(e.contains("routing.override[0].department"), "{e}");
    let e = refused("[router\nname = 1");
    assert!(e.contains("line"), "{e}");
}

#[test]
fn missing_rule_file_is_refused_with_its_name() {
    let e = Router::from_toml("[router]\nrules = [\"/nonexistent/rules.toml\"]\n[[department]]\nid = \"d\"\nname = \"D\"\n[routing]\ndefault = \"d\"\n").unwrap_err();
    assert!(e.to_string().contains("router.rules[0]"), "{e}");
}

#[test]
fn district_from_the_location_address_when_the_text_names_none() {
    let mut m = msg("bache enorme");
    m.location = Some(Location {
        lat: None,
        lon: None,
        address: Some("Calle San Jacinto 20, Triana".into()),
    });
    let d = router().route(&m).unwrap();
    assert_eq!(d.district.as_deref(), Some("triana"));
    assert_eq!(d.explanation.district.unwrap().source, "address place");
    // the text wins over the address
    let mut m = msg("bache en la Macarena");
    m.location = Some(Location {
        lat: None,
        lon: None,
        address: Some("Triana".into()),
    });
    assert_eq!(
        router().route(&m).unwrap().district.as_deref(),
        Some("macarena")
    );
}

#[test]
fn dry_run_sees_what_route_sees() {
    let r = router();
    let mut with_caption = msg("mirad esto");
    with_caption.attachments.push(Attachment {
        kind: "image".into(),
        mime_type: None,
        url: None,
        caption: Some("bache con cables en Triana".into()),
    });
    let mut cases: Vec<Message> = [
        "farola rota",
        "huele a gas y hay una farola caída",
        "talleres en triana",
        "hola",
        "ruido",
    ]
    .iter()
    .map(|t| msg(t))
    .collect();
    cases.push(with_caption);
    for m in &cases {
        let d = r.route(m).unwrap();
        let trace = r.dry_run(m).unwrap();
        assert_eq!(trace.len(), r.rules().len());
        let applied: Vec<String> = trace
            .iter()
            .filter(|t| t.applies)
            .map(|t| t.id.clone())
            .collect();
        assert_eq!(applied, d.rules, "{:?}", m.text);
    }
    let gas = r.dry_run(&msg("huele a gas y una farola caída")).unwrap();
    let lighting = gas.iter().find(|t| t.id == "lighting").unwrap();
    assert!(lighting.matches && !lighting.applies, "blocked by the stop");
    let e = r
        .dry_run(&Message::new("", ChannelKind::Sms, "x"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Input);
}

#[test]
fn plugin_confidence_out_of_range_is_a_classifier_error() {
    for bad in [1.5_f32, -0.1, f32::NAN] {
        let plugin = move |_: &Context<'_>| {
            Ok(Some(Classification {
                category: Some("general".into()),
                confidence: bad,
                ..Default::default()
            }))
        };
        let r = router().with_classifier(Arc::new(plugin));
        let e = r.route(&msg("hola")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Classifier);
        assert!(e.to_string().contains("closure"), "{e}");
        assert!(e.to_string().contains("between 0 and 1"), "{e}");
    }
}

mod model_chain {
    use super::*;
    use civic_router::classify::model::{Model, TrainOptions, TrainingExample};
    use civic_router::text::Normalizer;

    /// A model that believes anything about "abejas" is an emergency, and "cursos" are
    /// workshops (activities) with high confidence.
    fn model() -> Model {
        let n = Normalizer::spanish();
        let mut rows = Vec::new();
        for i in 0..6 {
            rows.push((
                format!("hay abejas por todas partes {i}"),
                "emergency",
                "emergencias",
            ));
            rows.push((
                format!("cursos de ceramica y talleres {i}"),
                "information",
                "actividades",
            ));
            rows.push((
                format!("farola apagada otra vez {i}"),
                "incident",
                "alumbrado",
            ));
        }
        let data: Vec<TrainingExample> = rows
            .iter()
            .map(|(t, i, c)| TrainingExample::new(&n.normalize(t), None, i, c))
            .collect();
        Model::train(
            &data,
            &TrainOptions {
                epochs: 40,
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn router_with(lead: f32, min: f32, emergency: f32) -> Router {
        let mut cfg = Config::from_toml_str(CONFIG, "test.toml").unwrap();
        cfg.model = Some(civic_router::config::ModelSection {
            path: "model.json".into(),
            min_confidence: min,
            emergency_threshold: emergency,
            lead_above: lead,
        });
        cfg.model_source = Some(("model.json".into(), model().to_json()));
        Router::from_config(cfg).unwrap()
    }

    #[test]
    fn the_model_fills_what_rules_leave_open() {
        let r = router_with(1.1, 0.5, 1.1);
        let d = r.route(&msg("cursos de ceramica")).unwrap();
        // the `workshops` rule of CONFIG does not match "ceramica" alone... but "curso*" does
        assert_eq!(d.category, "actividades");
        let d = r.route(&msg("talleres")).unwrap();
        assert_eq!(d.category, "actividades");
        let names: Vec<&str> = d
            .explanation
            .classifiers
            .iter()
            .map(|t| t.classifier.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["model-lead", "rules", "emergency-detector", "model"]
        );
    }

    #[test]
    fn the_emergency_detector_overrides_the_rules_intent_but_not_an_emergency_rule() {
        let r = router_with(1.1, 0.5, 0.5);
        // the rules say incident (ruido), the detector says emergency
        let d = r
            .route(&msg("abejas por todas partes, mucho ruido"))
            .unwrap();
        assert_eq!(d.intent, Intent::Emergency);
        assert_eq!(d.department, "emergencias");
        assert!(d
            .explanation
            .classifiers
            .iter()
            .any(|t| t.classifier == "emergency-detector" && t.output.is_some()));
        // with the detector off, the rules decide
        let r = router_with(1.1, 0.5, 1.1);
        assert_eq!(
            r.route(&msg("abejas por todas partes, mucho ruido"))
                .unwrap()
                .intent,
            Intent::Incident
        );
    }

    #[test]
    fn confident_model_labels_lead_but_emergency_rules_still_win() {
        let r = router_with(0.5, 0.5, 1.1);
        // rules alone: lighting; the model leads with its own (also lighting) at high confidence
        let d = r.route(&msg("farola apagada otra vez")).unwrap();
        assert_eq!(d.category, "alumbrado");
        assert!(
            d.explanation.classifiers[0].output.is_some(),
            "model-lead spoke"
        );
        // an emergency rule (stop) overrides the model's lead
        let d = r
            .route(&msg("farola apagada otra vez y huele a gas"))
            .unwrap();
        assert_eq!(d.intent, Intent::Emergency);
        assert_eq!(d.rules, vec!["emergency-gas"]);
    }

    #[test]
    fn a_bad_model_file_is_a_config_error() {
        let mut cfg = Config::from_toml_str(CONFIG, "test.toml").unwrap();
        cfg.model = Some(civic_router::config::ModelSection {
            path: "model.json".into(),
            min_confidence: 0.5,
            emergency_threshold: 0.5,
            lead_above: 0.9,
        });
        cfg.model_source = Some(("model.json".into(), "{\"format\": \"x\"}".into()));
        let e = Router::from_config(cfg.clone()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("model.path"), "{e}");
        // a model whose categories the configuration lacks is refused
        let n = Normalizer::spanish();
        let m = Model::train(
            &[
                TrainingExample::new(&n.normalize("x y z"), None, "incident", "astronautas"),
                TrainingExample::new(&n.normalize("a b c"), None, "information", "alumbrado"),
            ],
            &TrainOptions::default(),
        )
        .unwrap();
        cfg.model_source = Some(("model.json".into(), m.to_json()));
        let e = Router::from_config(cfg).unwrap_err();
        assert!(e.to_string().contains("astronautas"), "{e}");
    }
}

#[test]
fn district_with_a_typo_and_from_a_point() {
    let d = router().route(&msg("bache en el Tardoon")).unwrap();
    // "tardoon" is one edit from "tardon" (6 letters)
    assert_eq!(d.district.as_deref(), Some("triana"));
    assert!(d.explanation.district.unwrap().source.contains("typo"));
    let d = router().route(&msg("bache en la Macarrena")).unwrap();
    assert_eq!(d.district.as_deref(), Some("macarena"));
    // short names must be exact: "trian" is not "triana"? (5 letters: no fuzziness)
    assert_eq!(
        router()
            .route(&msg("bache en la Mecerana"))
            .unwrap()
            .district,
        None
    );
    // from the point, with centres configured
    let cfg = CONFIG.replace(
        "id = \"triana\"\nname = \"Triana\"",
        "id = \"triana\"\nname = \"Triana\"\ncentre = [37.383, -6.008]",
    );
    let r = Router::from_toml(&cfg).unwrap();
    let mut m = msg("bache");
    m.location = Some(Location {
        lat: Some(37.3845),
        lon: Some(-6.0042),
        address: None,
    });
    let d = r.route(&m).unwrap();
    assert_eq!(d.district.as_deref(), Some("triana"));
    assert_eq!(d.explanation.district.unwrap().source, "point");
    m.location = Some(Location {
        lat: Some(37.5),
        lon: Some(-6.2),
        address: None,
    });
    assert_eq!(
        r.route(&m).unwrap().district,
        None,
        "too far from any centre"
    );
    let bad = CONFIG.replace(
        "id = \"triana\"\nname = \"Triana\"",
        "id = \"triana\"\nname = \"Triana\"\ncentre = [137.0, -6.0]",
    );
    assert!(Router::from_toml(&bad)
        .unwrap_err()
        .to_string()
        .contains("district[0].centre"));
}
