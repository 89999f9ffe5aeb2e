//! Tests of the rule language: every condition, every action, ordering and stop semantics,
//! dry runs, determinism, loading, every refusal of a bad rule file; and the property that the
//! prefilter engine fires exactly the rules a naive evaluation fires.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};

use super::*;
use crate::classify::{Intent, Priority};
use crate::message::ChannelKind;
use crate::text::{fold_regex, Normalizer};

// ---------------------------------------------------------------------------------------------
// helpers

fn rules(src: &str) -> RuleSet {
    RuleSet::from_toml(src, "t.toml", &Vocabulary::permissive()).unwrap_or_else(|e| panic!("{e}"))
}

fn text(s: &str) -> NormalizedText {
    Normalizer::spanish().normalize(s)
}

fn ids(out: &RuleOutcome) -> Vec<&str> {
    out.fired.iter().map(|f| f.id.as_str()).collect()
}

/// The rules that fire on `s`, sent by WhatsApp with nothing else.
fn fire(rs: &RuleSet, s: &str) -> Vec<String> {
    let t = text(s);
    let out = rs.evaluate(&RuleInput::new(&t, ChannelKind::Whatsapp));
    out.fired.into_iter().map(|f| f.id).collect()
}

fn fires(rs: &RuleSet, s: &str) -> bool {
    !fire(rs, s).is_empty()
}

fn refuse_with(src: &str, vocab: &Vocabulary) -> RuleSetError {
    match RuleSet::from_toml(src, "bad.toml", vocab) {
        Ok(_) => panic!("accepted a bad rule file:\n{src}"),
        Err(e) => e,
    }
}

fn refuse(src: &str) -> RuleSetError {
    refuse_with(src, &Vocabulary::permissive())
}

/// Asserts the error has an issue for `rule` at `field` whose reason contains `reason`.
#[track_caller]
fn has_issue(e: &RuleSetError, rule: Option<&str>, field: &str, reason: &str) {
    assert!(
        e.issues.iter().any(|i| i.rule.as_deref() == rule
            && i.field == field
            && i.reason.contains(reason)
            && (i.file == "bad.toml" || i.file.ends_with(".json") || i.file == "b.toml")),
        "expected an issue for rule {rule:?}, field `{field}`, reason containing `{reason}`; got:\n{e}"
    );
}

fn at(date: (i32, u32, u32), hm: (u32, u32)) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(date.0, date.1, date.2)
        .unwrap()
        .and_hms_opt(hm.0, hm.1, 0)
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// text conditions

#[test]
fn any_text_matches_any_pattern_over_folded_text() {
    let rs = rules(
        r#"
        [[rule]]
        id = "hole"
        when.any_text = ['\bsocavón\b', '\bbaches?\b']
        then.category = "via_publica"
        "#,
    );
    assert!(fires(&rs, "Hay un SOCAVÓN enorme"));
    assert!(fires(&rs, "dos baches en la calle"));
    assert!(fires(&rs, "socavon sin tilde"));
    assert!(!fires(&rs, "un bachecito")); // `\b` after the optional `s`
    assert!(!fires(&rs, "todo bien"));
}

#[test]
fn all_text_needs_every_pattern() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.all_text = ['\bfarolas?\b', '\bapagad[ao]s?\b']
        then.category = "alumbrado"
        "#,
    );
    assert!(fires(&rs, "la farola está apagada"));
    assert!(!fires(&rs, "la farola está rota"));
    assert!(!fires(&rs, "la luz está apagada"));
}

#[test]
fn none_text_excludes() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.any_words = ["farola"]
        when.none_text = ['\bya (esta )?arreglad[ao]\b', 'gracias']
        then.category = "alumbrado"
        "#,
    );
    assert!(fires(&rs, "la farola no funciona"));
    assert!(!fires(&rs, "la farola ya está arreglada"));
    assert!(!fires(&rs, "la farola, muchas gracias"));
}

#[test]
fn any_words_match_whole_tokens_and_phrases() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.any_words = ["farol", "paso de cebra", "Cañería"]
        then.category = "x"
        "#,
    );
    assert!(fires(&rs, "el farol de la esquina"));
    assert!(!fires(&rs, "la farola de la esquina")); // not a whole token
    assert!(!fires(&rs, "unfarol"));
    assert!(fires(&rs, "el PASO  DE   CEBRA borrado"));
    assert!(!fires(&rs, "el paso de la cebra"));
    assert!(fires(&rs, "una canyeria rota")); // ñ folds to ny on both sides
    assert!(fires(&rs, "una cañería rota"));
    assert!(!fires(&rs, "una caneria rota"));
}

#[test]
fn trailing_star_matches_any_ending() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.any_words = ["farol*", "contenedor de basur*"]
        then.category = "x"
        "#,
    );
    for yes in [
        "farola",
        "las farolas",
        "un farol",
        "farolillo roto",
        "el contenedor de basuras",
    ] {
        assert!(fires(&rs, yes), "{yes}");
    }
    for no in ["elfarol", "far ola", "contenedor de vidrio"] {
        assert!(!fires(&rs, no), "{no}");
    }
}

#[test]
fn all_words_and_none_words() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.all_words = ["contenedor", "lleno"]
        when.none_words = ["vidrio", "ya vaciado*"]
        then.category = "limpieza"
        "#,
    );
    assert!(fires(&rs, "el contenedor está lleno"));
    assert!(!fires(&rs, "el contenedor está roto"));
    assert!(!fires(&rs, "el contenedor de vidrio está lleno"));
    assert!(!fires(&rs, "el contenedor lleno ya vaciados todos"));
}

// ---------------------------------------------------------------------------------------------
// other conditions

#[test]
fn channel_attachment_location_district() {
    let rs = rules(
        r#"
        [[rule]]
        id = "app-photo"
        when.channel = ["app", "web"]
        when.has_attachment = true
        then.tags = ["photo"]

        [[rule]]
        id = "no-location"
        when.has_location = false
        then.tags = ["ask-location"]

        [[rule]]
        id = "triana"
        when.district = ["triana", "los-remedios"]
        then.department = "distrito_triana"
        "#,
    );
    let t = text("hola");
    let mut i = RuleInput::new(&t, ChannelKind::App);
    let run = |i: &RuleInput<'_>| {
        let mut v = Vec::new();
        rs.fired_ids(i, &mut v);
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(run(&i), ["no-location"]);
    i.has_attachment = true;
    assert_eq!(run(&i), ["app-photo"]); // first-match: the first rule stops the run
    i.channel = ChannelKind::Sms;
    assert_eq!(run(&i), ["no-location"]);
    i.has_location = true;
    assert!(run(&i).is_empty());
    i.district = Some("los-remedios");
    assert_eq!(run(&i), ["triana"]);
    i.district = Some("macarena");
    assert!(run(&i).is_empty());
}

#[test]
fn time_windows_including_across_midnight() {
    let rs = rules(
        r#"
        mode = "all_match"
        [[rule]]
        id = "office"
        when.time = { from = "08:00", to = "15:00" }
        then.tags = ["office"]

        [[rule]]
        id = "night"
        when.time = { from = "22:00", to = "07:00" }
        then.tags = ["night"]
        "#,
    );
    let t = text("hola");
    let tags = |dt: Option<NaiveDateTime>| {
        let mut i = RuleInput::new(&t, ChannelKind::Sms);
        i.local_time = dt;
        rs.evaluate(&i).classification.tags
    };
    let d = (2026, 3, 4);
    assert_eq!(tags(Some(at(d, (8, 0)))), ["office"]); // start included
    assert_eq!(tags(Some(at(d, (14, 59)))), ["office"]);
    assert!(tags(Some(at(d, (15, 0)))).is_empty()); // end excluded
    assert_eq!(tags(Some(at(d, (22, 0)))), ["night"]);
    assert_eq!(tags(Some(at(d, (23, 30)))), ["night"]);
    assert_eq!(tags(Some(at(d, (0, 0)))), ["night"]);
    assert_eq!(tags(Some(at(d, (3, 15)))), ["night"]);
    assert!(tags(Some(at(d, (7, 0)))).is_empty());
    assert!(tags(Some(at(d, (21, 59)))).is_empty());
    assert!(tags(None).is_empty()); // unknown time never satisfies a window
}

#[test]
fn days_of_week_in_english_and_spanish() {
    let rs = rules(
        r#"
        [[rule]]
        id = "weekend"
        when.days = ["sat", "Domingo"]
        then.tags = ["weekend"]
        "#,
    );
    let t = text("hola");
    let on = |date| {
        let mut i = RuleInput::new(&t, ChannelKind::Sms);
        i.local_time = Some(at(date, (12, 0)));
        !rs.evaluate(&i).fired.is_empty()
    };
    assert!(on((2026, 3, 7))); // Saturday
    assert!(on((2026, 3, 8))); // Sunday
    assert!(!on((2026, 3, 9))); // Monday
    assert!(!on((2026, 3, 6))); // Friday
    assert!(!fires(&rs, "hola")); // no time: no day
}

#[test]
fn sender_and_sender_lists() {
    let mut vocab = Vocabulary::permissive();
    vocab.sender_lists.insert(
        "staff".into(),
        vec!["+34600000001".into(), "inspector@sevilla.example".into()],
    );
    let rs = RuleSet::from_toml(
        r#"
        mode = "all_match"
        [[rule]]
        id = "vip"
        when.sender = ["contact-42"]
        then.tags = ["vip"]

        [[rule]]
        id = "staff"
        when.sender_list = ["staff"]
        then.tags = ["staff"]
        "#,
        "t.toml",
        &vocab,
    )
    .unwrap();
    let t = text("hola");
    let tags = |senders: [Option<&str>; 3]| {
        let mut i = RuleInput::new(&t, ChannelKind::Email);
        i.senders = senders;
        rs.evaluate(&i).classification.tags
    };
    assert_eq!(tags([Some("contact-42"), None, None]), ["vip"]);
    assert_eq!(tags([None, Some("+34600000001"), None]), ["staff"]);
    assert_eq!(
        tags([None, None, Some("inspector@sevilla.example")]),
        ["staff"]
    );
    assert_eq!(
        tags([Some("contact-42"), Some("+34600000001"), None]),
        ["vip", "staff"]
    );
    assert!(tags([Some("someone"), Some("+34699999999"), None]).is_empty());
    assert!(tags([None; 3]).is_empty());
}

#[test]
fn nested_any_all_not() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.any = [
            { all_words = ["farola", "apagada"] },
            { all = [{ any_words = ["alumbrado"] }, { not = { any_words = ["nuevo"] } }] },
        ]
        when.not = { channel = ["voice"] }
        then.category = "alumbrado"
        "#,
    );
    assert!(fires(&rs, "la farola está apagada"));
    assert!(!fires(&rs, "la farola está encendida"));
    assert!(fires(&rs, "el alumbrado falla"));
    assert!(!fires(&rs, "el alumbrado nuevo falla"));
    let t = text("la farola está apagada");
    assert!(rs
        .evaluate(&RuleInput::new(&t, ChannelKind::Voice))
        .fired
        .is_empty());
}

#[test]
fn unless_stops_a_rule() {
    let rs = rules(
        r#"
        [[rule]]
        id = "fire"
        when.any_words = ["fuego", "incendio"]
        unless.any_text = ['\bfuegos artificiales\b']
        unless.channel = ["sms"]
        then.intent = "emergency"
        "#,
    );
    assert!(fires(&rs, "hay fuego en el portal"));
    // `unless` holds only when all its parts hold
    assert!(fires(&rs, "fuegos artificiales y fuego")); // on WhatsApp, not SMS
    let t = text("fuegos artificiales y fuego");
    assert!(rs
        .evaluate(&RuleInput::new(&t, ChannelKind::Sms))
        .fired
        .is_empty());
    let t = text("hay fuego");
    assert_eq!(
        rs.evaluate(&RuleInput::new(&t, ChannelKind::Sms)).fired[0].id,
        "fire"
    );
}

// ---------------------------------------------------------------------------------------------
// actions, ordering, modes

#[test]
fn every_action() {
    let rs = rules(
        r#"
        [[rule]]
        id = "r"
        when.any_words = ["bache"]
        then = { intent = "incident", category = "via_publica", department = "obras", priority = "high", tags = ["calzada", "riesgo"], reply = "Aviso recibido: {category}", confidence = 0.75, handoff = true }
        "#,
    );
    let t = text("un bache");
    let out = rs.evaluate(&RuleInput::new(&t, ChannelKind::App));
    let c = &out.classification;
    assert_eq!(c.intent, Some(Intent::Incident));
    assert_eq!(c.category.as_deref(), Some("via_publica"));
    assert_eq!(c.department.as_deref(), Some("obras"));
    assert_eq!(c.priority, Some(Priority::High));
    assert_eq!(c.tags, ["calzada", "riesgo"]);
    assert_eq!(c.reply.as_deref(), Some("Aviso recibido: {category}"));
    assert_eq!(c.confidence, 0.75);
    assert!(c.handoff);
    assert!(c.authoritative); // first-match: the rule stops, so its labels are final
    assert!(c.evidence.is_empty()); // the rule classifier builds evidence from `fired`
    assert_eq!(out.fired[0].patterns, ["bache"]);
}

#[test]
fn default_confidence_and_no_handoff() {
    let rs = rules("[[rule]]\nid='r'\nwhen.any_words=['x']\nthen.category='c'\n");
    let t = text("x");
    let c = rs
        .evaluate(&RuleInput::new(&t, ChannelKind::Sms))
        .classification;
    assert_eq!(c.confidence, 0.9);
    assert!(!c.handoff);
}

#[test]
fn priority_order_then_file_order() {
    let rs = rules(
        r#"
        mode = "all_match"
        [[rule]]
        id = "low"
        priority = -5
        when.any_words = ["x"]
        then.tags = ["low"]
        [[rule]]
        id = "tie-1"
        when.any_words = ["x"]
        then.tags = ["tie-1"]
        [[rule]]
        id = "high"
        priority = 50
        when.any_words = ["x"]
        then.tags = ["high"]
        [[rule]]
        id = "tie-2"
        when.any_words = ["x"]
        then.tags = ["tie-2"]
        "#,
    );
    assert_eq!(
        rs.rule_ids().collect::<Vec<_>>(),
        ["high", "tie-1", "tie-2", "low"]
    );
    assert_eq!(fire(&rs, "x"), ["high", "tie-1", "tie-2", "low"]);
}

#[test]
fn file_order_spans_files() {
    let a = compile::parse_toml(
        "[[rule]]\nid='a'\nwhen.any_words=['x']\nthen.tags=['a']\nthen.stop=false\n",
        "a.toml",
    )
    .unwrap();
    let b = compile::parse_toml(
        "[[rule]]\nid='b'\npriority=1\nwhen.any_words=['x']\nthen.tags=['b']\nthen.stop=false\n[[rule]]\nid='c'\nwhen.any_words=['x']\nthen.tags=['c']\n",
        "b.toml",
    )
    .unwrap();
    let rs =
        RuleSet::from_files(&[("a.toml", a), ("b.toml", b)], &Vocabulary::permissive()).unwrap();
    assert_eq!(rs.rule_ids().collect::<Vec<_>>(), ["b", "a", "c"]);
    assert_eq!(fire(&rs, "x"), ["b", "a", "c"]);
}

#[test]
fn first_match_stops_unless_told_not_to() {
    let rs = rules(
        r#"
        [[rule]]
        id = "tag"
        priority = 10
        when.any_words = ["urgente"]
        then = { priority = "high", stop = false }
        [[rule]]
        id = "bache"
        when.any_words = ["bache"]
        then.category = "via_publica"
        [[rule]]
        id = "never-reached"
        when.any_words = ["bache"]
        then.category = "other"
        "#,
    );
    assert_eq!(rs.mode(), MatchMode::FirstMatch);
    assert_eq!(fire(&rs, "bache urgente"), ["tag", "bache"]);
    assert_eq!(fire(&rs, "bache"), ["bache"]);
    assert_eq!(fire(&rs, "urgente"), ["tag"]);
    let t = text("urgente");
    assert!(
        !rs.evaluate(&RuleInput::new(&t, ChannelKind::Sms))
            .classification
            .authoritative
    );
}

#[test]
fn all_match_runs_every_rule_until_an_explicit_stop() {
    let rs = rules(
        r#"
        mode = "all_match"
        [[rule]]
        id = "emergency"
        priority = 100
        when.any_words = ["incendio"]
        then = { intent = "emergency", category = "emergencias", stop = true }
        [[rule]]
        id = "category"
        priority = 50
        when.any_words = ["contenedor", "incendio"]
        then = { intent = "incident", category = "limpieza", tags = ["a"] }
        [[rule]]
        id = "more"
        when.any_words = ["contenedor"]
        then = { category = "otra", tags = ["a", "b"], priority = "low" }
        "#,
    );
    let t = text("contenedor");
    let out = rs.evaluate(&RuleInput::new(&t, ChannelKind::Sms));
    assert_eq!(ids(&out), ["category", "more"]);
    // the first rule that sets a field wins; tags accumulate without repeats
    assert_eq!(out.classification.category.as_deref(), Some("limpieza"));
    assert_eq!(out.classification.tags, ["a", "b"]);
    assert_eq!(out.classification.priority, Some(Priority::Low));
    assert!(!out.classification.authoritative);
    let t = text("incendio en el contenedor");
    let out = rs.evaluate(&RuleInput::new(&t, ChannelKind::Sms));
    assert_eq!(ids(&out), ["emergency"]);
    assert!(out.classification.authoritative);
}

#[test]
fn dry_run_explains_every_rule() {
    let rs = rules(
        r#"
        [[rule]]
        id = "stopper"
        priority = 9
        when.any_text = ['\bbaches?\b']
        then.category = "via_publica"
        [[rule]]
        id = "shadowed"
        priority = 5
        when.any_words = ["bache"]
        then.category = "other"
        [[rule]]
        id = "sms-only"
        when.channel = ["sms"]
        then.category = "general"
        [[rule]]
        id = "excluded"
        when.none_words = ["bache"]
        then.category = "general"
        [[rule]]
        id = "missing"
        when.any_words = ["farola", "luz"]
        then.category = "alumbrado"
        "#,
    );
    let t = text("un bache");
    let tr = rs.dry_run(&RuleInput::new(&t, ChannelKind::App));
    let by: HashMap<&str, &RuleTrace> = tr.iter().map(|t| (t.id.as_str(), t)).collect();
    assert_eq!(tr[0].id, "stopper");
    assert!(by["stopper"].matches && by["stopper"].applies);
    assert_eq!(by["stopper"].patterns, [r"\bbaches?\b"]);
    assert!(by["shadowed"].matches && !by["shadowed"].applies);
    assert_eq!(
        by["sms-only"].reason.as_deref(),
        Some("channel is not one of [sms]")
    );
    assert_eq!(
        by["excluded"].reason.as_deref(),
        Some("`bache` matches (excluded)")
    );
    assert_eq!(
        by["missing"].reason.as_deref(),
        Some("none of [farola, luz] matches")
    );
    // a dry run and an evaluation agree
    let applied: Vec<&str> = tr
        .iter()
        .filter(|t| t.applies)
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(
        applied,
        ids(&rs.evaluate(&RuleInput::new(&t, ChannelKind::App)))
    );
}

#[test]
fn evaluation_is_deterministic_across_runs_threads_and_builds() {
    let src = r#"
        mode = "all_match"
        [[rule]]
        id = "a"
        when.any_text = ['\bfarolas?\b.{0,20}\bapagad[ao]s?\b', '\bluz\b']
        then = { category = "alumbrado", tags = ["x"] }
        [[rule]]
        id = "b"
        when.any_words = ["apagada", "calle*"]
        then = { tags = ["y"] }
    "#;
    let rs = std::sync::Arc::new(rules(src));
    let msgs = [
        "la farola de la calle está apagada",
        "sin luz",
        "calles oscuras",
        "nada",
    ];
    let expect: Vec<RuleOutcome> = msgs
        .iter()
        .map(|m| {
            let t = text(m);
            rs.evaluate(&RuleInput::new(&t, ChannelKind::Web))
        })
        .collect();
    assert_eq!(ids(&expect[0]), ["a", "b"]);
    let again = rules(src);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let rs = rs.clone();
            std::thread::spawn(move || {
                msgs.iter()
                    .map(|m| {
                        let t = text(m);
                        rs.evaluate(&RuleInput::new(&t, ChannelKind::Web))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), expect);
    }
    for (m, e) in msgs.iter().zip(&expect) {
        let t = text(m);
        assert_eq!(&again.evaluate(&RuleInput::new(&t, ChannelKind::Web)), e);
        assert_eq!(&rs.evaluate(&RuleInput::new(&t, ChannelKind::Web)), e);
    }
}

// ---------------------------------------------------------------------------------------------
// loading

const SAME_TOML: &str = r#"
mode = "all_match"
[[rule]]
id = "lighting"
priority = 5
when.any_text = ['\bfarolas?\b']
when.channel = ["whatsapp", "app"]
unless.any_words = ["arreglada"]
then = { intent = "incident", category = "alumbrado", tags = ["luz"] }
"#;

const SAME_JSON: &str = r#"{
  "mode": "all_match",
  "rule": [{
    "id": "lighting",
    "priority": 5,
    "when": { "any_text": ["\\bfarolas?\\b"], "channel": ["whatsapp", "app"] },
    "unless": { "any_words": ["arreglada"] },
    "then": { "intent": "incident", "category": "alumbrado", "tags": ["luz"] }
  }]
}"#;

#[test]
fn toml_and_json_load_the_same_rules() {
    let a = rules(SAME_TOML);
    let b = RuleSet::from_json(SAME_JSON, "r.json", &Vocabulary::permissive()).unwrap();
    assert_eq!(a.mode(), b.mode());
    for m in [
        "la farola",
        "la farola arreglada",
        "farolas por todas partes",
        "nada",
    ] {
        let t = text(m);
        for ch in [ChannelKind::Whatsapp, ChannelKind::Sms] {
            assert_eq!(
                a.evaluate(&RuleInput::new(&t, ch)),
                b.evaluate(&RuleInput::new(&t, ch)),
                "{m} on {ch}"
            );
        }
    }
    assert!(fires(&a, "la farola"));
}

#[test]
fn from_path_reads_toml_and_json_by_extension() {
    let dir = std::env::temp_dir().join(format!("civic-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml_path = dir.join("rules.toml");
    let json_path = dir.join("rules.JSON");
    std::fs::write(&toml_path, SAME_TOML).unwrap();
    std::fs::write(&json_path, SAME_JSON).unwrap();
    let a = RuleSet::from_path(&toml_path, &Vocabulary::permissive()).unwrap();
    let b = RuleSet::from_path(&json_path, &Vocabulary::permissive()).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    // a JSON file is not read as TOML: a syntax error names the file
    std::fs::write(&toml_path, SAME_JSON).unwrap();
    let e = RuleSet::from_path(&toml_path, &Vocabulary::permissive()).unwrap_err();
    assert_eq!(e.issues[0].file, toml_path.display().to_string());
    assert_eq!(e.issues[0].field, "(syntax)");
    let missing = RuleSet::from_path(dir.join("nope.toml"), &Vocabulary::permissive()).unwrap_err();
    assert_eq!(missing.issues[0].field, "(file)");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn disabled_rules_are_validated_but_never_run() {
    let rs = rules("[[rule]]\nid='off'\nenabled=false\nwhen.any_words=['x']\nthen.category='c'\n[[rule]]\nid='on'\nwhen.any_words=['x']\nthen.category='d'\n");
    assert_eq!(rs.len(), 1);
    assert_eq!(fire(&rs, "x"), ["on"]);
    let e = refuse("[[rule]]\nid='off'\nenabled=false\nwhen.any_text=['(']\nthen.category='c'\n");
    has_issue(&e, Some("off"), "when.any_text[0]", "invalid pattern");
}

// ---------------------------------------------------------------------------------------------
// refusals

#[test]
fn refuses_an_invalid_regex() {
    let e =
        refuse("[[rule]]\nid = 'r1'\nwhen.any_text = ['ok', '(unclosed']\nthen.category = 'c'\n");
    has_issue(
        &e,
        Some("r1"),
        "when.any_text[1]",
        "invalid pattern `(unclosed`",
    );
    assert_eq!(e.issues.len(), 1);
    let shown = e.to_string();
    assert!(
        shown.contains("bad.toml: rule `r1`: when.any_text[1]"),
        "{shown}"
    );
}

#[test]
fn refuses_unknown_fields_naming_rule_and_path() {
    let e = refuse("[[rule]]\nid = 'typo'\nwhen.any_txt = ['x']\nthen.category = 'c'\n");
    has_issue(&e, Some("typo"), "when.any_txt", "unknown field `any_txt`");
    let e = refuse("[[rule]]\nid = 'deep'\nwhen.any = [{ any_words = ['x'] }, { chanel = ['sms'] }]\nthen.category = 'c'\n");
    has_issue(
        &e,
        Some("deep"),
        "when.any[1].chanel",
        "unknown field `chanel`",
    );
    let e = refuse("[[rule]]\nid = 'act'\nwhen.any_words = ['x']\nthen.categori = 'c'\n");
    has_issue(&e, Some("act"), "then.categori", "unknown field `categori`");
    let e = refuse(
        "modes = 'all_match'\n[[rule]]\nid = 'r'\nwhen.any_words = ['x']\nthen.category = 'c'\n",
    );
    has_issue(&e, None, "modes", "unknown field");
    // a rule without an id is named by its position
    let e = refuse("[[rule]]\nwhen.any_words = ['x']\nthen.category = 'c'\n");
    has_issue(&e, Some("#1"), "(rule)", "missing field `id`");
}

#[test]
fn refuses_wrong_types_and_values() {
    let e = refuse("[[rule]]\nid = 'r'\npriority = 'high'\nthen.category = 'c'\n");
    has_issue(&e, Some("r"), "priority", "invalid type");
    let e = refuse("[[rule]]\nid = 'r'\nwhen.channel = ['fax']\nthen.category = 'c'\n");
    has_issue(&e, Some("r"), "when.channel[0]", "fax");
    let e = refuse("[[rule]]\nid = 'r'\nwhen.any_words = ['x']\nthen.intent = 'complaint'\n");
    has_issue(&e, Some("r"), "then.intent", "complaint");
    let e = refuse("mode = 'best_match'\n");
    has_issue(&e, None, "mode", "first_match");
    let e = refuse("rule = 3\n");
    has_issue(&e, None, "rule", "array");
    let e = refuse("[[rule]]\nid = 'r'\nwhen.any_words = ['x']\nthen.confidence = 1.5\n");
    has_issue(&e, Some("r"), "then.confidence", "between 0 and 1");
    let e = refuse("[[rule]]\nid = 'r'\nwhen.days = ['funday']\nthen.category = 'c'\n");
    has_issue(&e, Some("r"), "when.days[0]", "not a day");
    let e = refuse(
        "[[rule]]\nid = 'r'\nwhen.time = { from = '25:00', to = '07:00' }\nthen.category = 'c'\n",
    );
    has_issue(&e, Some("r"), "when.time.from", "HH:MM");
    let e = refuse(
        "[[rule]]\nid = 'r'\nwhen.time = { from = '07:00', to = '7h' }\nthen.category = 'c'\n",
    );
    has_issue(&e, Some("r"), "when.time.to", "HH:MM");
    let e = refuse("[[rule]]\nid = 'r'\nwhen.any_words = ['x']\nthen = {}\n");
    has_issue(&e, Some("r"), "then", "does nothing");
    let e = refuse("[[rule]]\nid = ' '\nwhen.any_words = ['x']\nthen.category = 'c'\n");
    has_issue(&e, None, "id", "non-empty");
}

#[test]
fn refuses_unknown_names() {
    let vocab = Vocabulary {
        departments: Some(["obras".to_string()].into()),
        categories: Some(["via_publica".to_string()].into()),
        districts: Some(["triana".to_string()].into()),
        sender_lists: HashMap::new(),
        placeholders: Some(["ticket".to_string()].into()),
    };
    let e = refuse_with(
        r#"
        [[rule]]
        id = "r"
        when.district = ["triana", "atlantis"]
        when.sender_list = ["vips"]
        then = { category = "parques", department = "bomberos", reply = "Aviso {numero}" }
        "#,
        &vocab,
    );
    has_issue(
        &e,
        Some("r"),
        "when.district[1]",
        "unknown district `atlantis`",
    );
    has_issue(
        &e,
        Some("r"),
        "when.sender_list[0]",
        "unknown sender list `vips`",
    );
    has_issue(&e, Some("r"), "then.category", "unknown category `parques`");
    has_issue(
        &e,
        Some("r"),
        "then.department",
        "unknown department `bomberos`",
    );
    has_issue(
        &e,
        Some("r"),
        "then.reply",
        "unknown placeholder `{numero}`",
    );
    assert_eq!(e.issues.len(), 5, "every problem is reported at once:\n{e}");
    // the known names pass
    RuleSet::from_toml(
        "[[rule]]\nid='ok'\nwhen.district=['triana']\nthen={category='via_publica', department='obras', reply='Aviso {ticket}'}\n",
        "ok.toml",
        &vocab,
    )
    .unwrap();
}

#[test]
fn refuses_duplicate_ids_within_and_across_files() {
    let e = refuse("[[rule]]\nid='r'\nwhen.any_words=['x']\nthen.category='c'\n[[rule]]\nid='r'\nwhen.any_words=['y']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "id", "duplicate rule id");
    let a = compile::parse_toml(
        "[[rule]]\nid='r'\nwhen.any_words=['x']\nthen.category='c'\n",
        "a.toml",
    )
    .unwrap();
    let b = a.clone();
    let e = RuleSet::from_files(&[("a.toml", a), ("b.toml", b)], &Vocabulary::permissive())
        .unwrap_err();
    has_issue(&e, Some("r"), "id", "also in a.toml");
}

#[test]
fn refuses_empty_lists() {
    for (field, cond) in [
        ("when.any_text", "any_text = []"),
        ("when.all_text", "all_text = []"),
        ("when.none_text", "none_text = []"),
        ("when.any_words", "any_words = []"),
        ("when.all_words", "all_words = []"),
        ("when.none_words", "none_words = []"),
        ("when.channel", "channel = []"),
        ("when.district", "district = []"),
        ("when.days", "days = []"),
        ("when.sender", "sender = []"),
        ("when.sender_list", "sender_list = []"),
        ("when.any", "any = []"),
        ("when.all", "all = []"),
    ] {
        let e = refuse(&format!(
            "[[rule]]\nid = 'r'\nwhen.{cond}\nthen.category = 'c'\n"
        ));
        has_issue(&e, Some("r"), field, "empty list");
    }
}

#[test]
fn refuses_rules_that_can_never_fire() {
    let e = refuse(
        "[[rule]]\nid='r'\nwhen.any_words=['x']\nwhen.none_words=['x']\nthen.category='c'\n",
    );
    has_issue(&e, Some("r"), "when", "required and excluded");
    let e = refuse("[[rule]]\nid='r'\nwhen.all_text=['\\bx\\b', 'y']\nwhen.none_text=['y']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when", "required and excluded");
    let e = refuse("[[rule]]\nid='r'\nwhen.channel=['sms']\nwhen.not={channel=['sms', 'app']}\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when", "no channel");
    let e = refuse("[[rule]]\nid='r'\nwhen.any_words=['bache']\nunless.any_words=['bache']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "unless", "contradicts");
    let e = refuse("[[rule]]\nid='r'\nwhen.any_words=['x']\nunless={}\nthen.category='c'\n");
    has_issue(&e, Some("r"), "unless", "always holds");
    let e = refuse("[[rule]]\nid='r'\nwhen.not={}\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.not", "always holds");
    let e = refuse("[[rule]]\nid='r'\nwhen.time={from='08:00', to='08:00'}\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.time", "window is empty");
}

#[test]
fn refuses_rules_shadowed_by_a_catch_all_stop() {
    let e = refuse(
        r#"
        [[rule]]
        id = "catch-all"
        priority = 100
        then.category = "general"
        [[rule]]
        id = "never"
        when.any_words = ["bache"]
        then.category = "via_publica"
        "#,
    );
    has_issue(
        &e,
        Some("never"),
        "priority",
        "rule `catch-all` (priority 100)",
    );
    // a catch-all that does not stop, or that runs last, is fine
    rules("[[rule]]\nid='a'\npriority=100\nthen={tags=['seen'], stop=false}\n[[rule]]\nid='b'\nwhen.any_words=['x']\nthen.category='c'\n");
    rules("[[rule]]\nid='a'\npriority=-1\nthen.category='general'\n[[rule]]\nid='b'\nwhen.any_words=['x']\nthen.category='c'\n");
}

#[test]
fn refuses_patterns_that_fold_to_nothing_or_stay_non_ascii() {
    let e = refuse("[[rule]]\nid='r'\nwhen.any_words=['😀', '¡!']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.any_words[0]", "no letters or digits");
    has_issue(&e, Some("r"), "when.any_words[1]", "no letters or digits");
    let e = refuse("[[rule]]\nid='r'\nwhen.any_text=['5 €', '日本']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.any_text[0]", "non-ASCII");
    has_issue(&e, Some("r"), "when.any_text[1]", "non-ASCII");
    let e = refuse("[[rule]]\nid='r'\nwhen.any_text=['[ñ]']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.any_text[0]", "character class");
}

#[test]
fn refuses_regexes_that_can_match_the_empty_string() {
    for p in ["a*", "(foo)?", r"\b", "^", "x?y?", "(|abc)", r"\bfoo\b|"] {
        let e = refuse(&format!(
            "[[rule]]\nid='r'\nwhen.any_text=['{p}']\nthen.category='c'\n"
        ));
        has_issue(&e, Some("r"), "when.any_text[0]", "empty string");
    }
}

#[test]
fn refuses_oversized_patterns_and_nesting() {
    let long = "a".repeat(2000);
    let e = refuse(&format!(
        "[[rule]]\nid='r'\nwhen.any_text=['{long}']\nwhen.any_words=['{long}']\nthen.category='c'\n"
    ));
    has_issue(&e, Some("r"), "when.any_text[0]", "limit is 1024");
    has_issue(&e, Some("r"), "when.any_words[0]", "limit is 1024");
    let e = refuse("[[rule]]\nid='r'\nwhen.any_text=['a{1000}{1000}']\nthen.category='c'\n");
    has_issue(&e, Some("r"), "when.any_text[0]", "size limit");
    let deep_regex = format!("{}a{}", "(".repeat(60), ")".repeat(60));
    let e = refuse(&format!(
        "[[rule]]\nid='r'\nwhen.any_text=['{deep_regex}']\nthen.category='c'\n"
    ));
    has_issue(&e, Some("r"), "when.any_text[0]", "nest");
    let mut cond = "{ any_words = ['x'] }".to_string();
    for _ in 0..20 {
        cond = format!("{{ all = [{cond}] }}");
    }
    let e = refuse(&format!(
        "[[rule]]\nid='r'\nwhen.all=[{cond}]\nthen.category='c'\n"
    ));
    assert!(
        e.issues
            .iter()
            .any(|i| i.rule.as_deref() == Some("r") && i.reason.contains("nest deeper")),
        "{e}"
    );
}

#[test]
fn refuses_mode_conflicts_between_files() {
    let a = compile::parse_toml(
        "mode='first_match'\n[[rule]]\nid='a'\nwhen.any_words=['x']\nthen.category='c'\n",
        "a.toml",
    )
    .unwrap();
    let b = compile::parse_toml(
        "mode='all_match'\n[[rule]]\nid='b'\nwhen.any_words=['y']\nthen.category='c'\n",
        "b.toml",
    )
    .unwrap();
    let e = RuleSet::from_files(
        &[("a.toml", a.clone()), ("b.toml", b)],
        &Vocabulary::permissive(),
    )
    .unwrap_err();
    has_issue(&e, None, "mode", "differs from FirstMatch stated in a.toml");
    // a file that states no mode takes the set's
    let c = compile::parse_toml(
        "[[rule]]\nid='c'\nwhen.any_words=['z']\nthen.category='c'\n",
        "c.toml",
    )
    .unwrap();
    let rs =
        RuleSet::from_files(&[("c.toml", c), ("a.toml", a)], &Vocabulary::permissive()).unwrap();
    assert_eq!(rs.mode(), MatchMode::FirstMatch);
}

#[test]
fn refuses_malformed_toml_and_json() {
    let e = refuse("[[rule]\nid = 'r'\n");
    has_issue(&e, None, "(syntax)", "");
    assert!(!e.issues[0].reason.contains('\n'));
    let e = RuleSet::from_json("{\"rule\": [", "bad.json", &Vocabulary::permissive()).unwrap_err();
    has_issue(&e, None, "(syntax)", "EOF");
    let e = RuleSet::from_json("[1, 2]", "bad.json", &Vocabulary::permissive()).unwrap_err();
    has_issue(&e, None, "(top)", "table");
    let e = RuleSet::from_json(
        r#"{"rule": [{"id": "j", "when": {"any_words": "bache"}, "then": {"category": "c"}}]}"#,
        "bad.json",
        &Vocabulary::permissive(),
    )
    .unwrap_err();
    has_issue(&e, Some("j"), "when.any_words", "invalid type");
}

#[test]
fn a_bad_file_never_panics() {
    // byte-level mutations of a valid file, in TOML and JSON: every outcome is Ok or Err
    const NOISE: &[u8] = b"[]{}'\",=*\\.?()|^$x0 \n";
    let mut rng = Rng(7);
    let sources = [SAME_TOML, SAME_JSON];
    let mut refused = 0;
    for round in 0..600 {
        let src = sources[round % 2];
        let mut bytes = src.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[i] = NOISE[rng.below(NOISE.len())],
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, NOISE[rng.below(NOISE.len())]),
            }
        }
        let s = String::from_utf8_lossy(&bytes);
        let r = if round % 2 == 0 {
            RuleSet::from_toml(&s, "m.toml", &Vocabulary::permissive())
        } else {
            RuleSet::from_json(&s, "m.json", &Vocabulary::permissive())
        };
        if let Err(e) = r {
            refused += 1;
            assert!(!e.issues.is_empty());
            let _ = e.to_string();
        }
    }
    assert!(refused > 100, "mutations should mostly break the file");
}

// ---------------------------------------------------------------------------------------------
// matching_patterns and fired_ids agree with evaluate

#[test]
fn matching_patterns_and_fired_ids() {
    let rs = rules(
        r#"
        mode = "all_match"
        [[rule]]
        id = "a"
        when.any_text = ['\bfarolas?\b.{0,20}\bapagad[ao]s?\b', '\bno (hay )?luz\b', 'luz\w*']
        then.tags = ["a"]
        [[rule]]
        id = "b"
        when.any_words = ["luces", "calle*"]
        then.tags = ["b"]
        "#,
    );
    let t = text("No hay luz: la farola de la calle está apagada");
    assert_eq!(
        rs.matching_patterns(&t),
        vec![
            r"\bfarolas?\b.{0,20}\bapagad[ao]s?\b",
            r"\bno (hay )?luz\b",
            r"luz\w*",
            "calle*"
        ]
    );
    let mut v = Vec::new();
    rs.fired_ids(&RuleInput::new(&t, ChannelKind::Sms), &mut v);
    assert_eq!(v, ["a", "b"]);
    let out = rs.evaluate(&RuleInput::new(&t, ChannelKind::Sms));
    assert_eq!(ids(&out), v);
    assert_eq!(out.fired[0].patterns.len(), 3);
    // too far apart for the proximity pattern
    let t = text("la farola de la calle de enfrente de mi casa esta apagada");
    assert_eq!(rs.matching_patterns(&t), vec!["calle*"]);
}

// ---------------------------------------------------------------------------------------------
// the prefilter engine against a naive evaluation

/// SplitMix64, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// Tokens of the random messages: short and overlapping on purpose, so patterns hit, miss
/// by one letter, and meet at token edges.
const VOCAB: &[&str] = &[
    "farola",
    "farolas",
    "farol",
    "apagada",
    "apagado",
    "no",
    "luz",
    "luces",
    "la",
    "de",
    "calle",
    "callejon",
    "bache",
    "baches",
    "agua",
    "fuga",
    "hay",
    "sin",
    "rota",
    "roto",
    "?",
    "10:30",
    "c3",
    "ya",
    "esta",
    "arreglada",
    "a",
    "ab",
    "abc",
    "b",
    "ba",
    "nunca",
    "x",
];

/// Random patterns in every class the matcher has: exact strings with edges, proximity chains,
/// regexes verified after a literal hit, and regexes without literals.
fn random_regex(r: &mut Rng) -> String {
    let w = |r: &mut Rng| r.pick(VOCAB).replace('?', r"\?");
    match r.below(16) {
        0 => format!(r"\b{}\b", w(r)),
        1 => format!(r"\b({}|{})s?\b", w(r), w(r)),
        2 => format!(r"{}.{{0,{}}}{}", w(r), r.below(12), w(r)),
        3 => format!(
            r"\b{}\b.{{{},{}}}\b{}\b",
            w(r),
            r.below(3),
            3 + r.below(15),
            w(r)
        ),
        4 => format!(r"{}\w*", w(r)),
        5 => format!(r"\b{} (\w+ ){{0,2}}{}\b", w(r), w(r)),
        6 => format!("^{}", w(r)),
        7 => format!("{}$", w(r)),
        8 => format!(r"\B{}", w(r)),
        9 => format!(r"{}\B", w(r)),
        10 => format!("(?:{}|{}) {}", w(r), w(r), w(r)),
        11 => format!("{}.*{}", w(r), w(r)),
        12 => r"\d+".to_string(),
        13 => r"[a-c]{2} [a-z]".to_string(),
        14 => format!("{}[oa]s?", w(r)),
        _ => format!(r"\b[fb]a(rol|che)[ae]?s?\b.{{0,{}}}\?", r.below(20)),
    }
}

fn random_words(r: &mut Rng) -> String {
    let mut s = r.pick(VOCAB).to_string();
    if r.below(4) == 0 {
        s.push(' ');
        s.push_str(r.pick(VOCAB));
    }
    if r.below(4) == 0 {
        s.push('*');
    }
    s
}

fn random_list(r: &mut Rng, regex: bool) -> Vec<String> {
    (0..1 + r.below(3))
        .map(|_| {
            if regex {
                random_regex(r)
            } else {
                random_words(r)
            }
        })
        .collect()
}

fn random_cond(r: &mut Rng, depth: usize) -> ConditionSpec {
    let mut c = ConditionSpec::default();
    for _ in 0..1 + r.below(3) {
        match r.below(if depth < 2 { 12 } else { 9 }) {
            0 => c.any_text = Some(random_list(r, true)),
            1 => c.all_text = Some(random_list(r, true)),
            2 => c.none_text = Some(random_list(r, true)),
            3 => c.any_words = Some(random_list(r, false)),
            4 => c.all_words = Some(random_list(r, false)),
            5 => c.none_words = Some(random_list(r, false)),
            6 => {
                c.channel = Some(vec![
                    ChannelKind::ALL[r.below(7)],
                    ChannelKind::ALL[r.below(7)],
                ])
            }
            7 => c.has_attachment = Some(r.below(2) == 0),
            8 => c.any_text = Some(vec![random_regex(r)]),
            9 => c.any = Some((0..2).map(|_| random_cond(r, depth + 1)).collect()),
            10 => c.all = Some((0..2).map(|_| random_cond(r, depth + 1)).collect()),
            _ => c.not = Some(Box::new(random_cond(r, depth + 1))),
        }
    }
    c
}

fn random_file(r: &mut Rng, n: usize) -> RuleFile {
    let rules = (0..n)
        .map(|i| RuleSpec {
            id: format!("r{i}"),
            priority: r.below(4) as i32,
            description: None,
            enabled: r.below(10) != 0,
            when: random_cond(r, 0),
            unless: (r.below(4) == 0).then(|| random_cond(r, 1)),
            then: ActionSpec {
                tags: vec![format!("t{i}")],
                stop: match r.below(4) {
                    0 => Some(true),
                    1 => Some(false),
                    _ => None,
                },
                ..Default::default()
            },
        })
        .collect();
    RuleFile {
        mode: Some(if r.below(2) == 0 {
            MatchMode::FirstMatch
        } else {
            MatchMode::AllMatch
        }),
        rules,
    }
}

/// The reference: every pattern run on its own with `regex` (words as a plain token search),
/// every rule evaluated in turn.
struct Naive<'a> {
    text: &'a str,
    input: &'a RuleInput<'a>,
    n: &'a Normalizer,
    /// each pattern compiled once per rule set
    cache: &'a std::cell::RefCell<HashMap<String, regex::bytes::Regex>>,
}

impl Naive<'_> {
    fn regex(&self, p: &str) -> bool {
        let mut cache = self.cache.borrow_mut();
        let re = cache.entry(p.to_string()).or_insert_with(|| {
            regex::bytes::RegexBuilder::new(&fold_regex(p).unwrap())
                .unicode(false)
                .build()
                .unwrap()
        });
        re.is_match(self.text.as_bytes())
    }

    fn words(&self, w: &str) -> bool {
        let (body, prefix) = match w.strip_suffix('*') {
            Some(b) => (b, true),
            None => (w, false),
        };
        let phrase = self.n.normalize_phrase(body);
        let t = self.text;
        (0..t.len()).any(|i| {
            t[i..].starts_with(&phrase)
                && (i == 0 || t.as_bytes()[i - 1] == b' ')
                && (prefix || i + phrase.len() == t.len() || t.as_bytes()[i + phrase.len()] == b' ')
        })
    }

    fn cond(&self, c: &ConditionSpec) -> bool {
        let list = |l: &Option<Vec<String>>, f: &dyn Fn(&str) -> bool, how: u8| match l {
            None => true,
            Some(v) => match how {
                0 => v.iter().any(|p| f(p)),
                1 => v.iter().all(|p| f(p)),
                _ => !v.iter().any(|p| f(p)),
            },
        };
        list(&c.any_text, &|p| self.regex(p), 0)
            && list(&c.all_text, &|p| self.regex(p), 1)
            && list(&c.none_text, &|p| self.regex(p), 2)
            && list(&c.any_words, &|p| self.words(p), 0)
            && list(&c.all_words, &|p| self.words(p), 1)
            && list(&c.none_words, &|p| self.words(p), 2)
            && c.channel
                .as_ref()
                .is_none_or(|ch| ch.contains(&self.input.channel))
            && c.has_attachment
                .is_none_or(|b| b == self.input.has_attachment)
            && c.any
                .as_ref()
                .is_none_or(|v| v.iter().any(|c| self.cond(c)))
            && c.all
                .as_ref()
                .is_none_or(|v| v.iter().all(|c| self.cond(c)))
            && c.not.as_ref().is_none_or(|c| !self.cond(c))
    }

    fn run(&self, file: &RuleFile) -> Vec<String> {
        let mode = file.mode.unwrap_or_default();
        let mut order: Vec<(usize, &RuleSpec)> = file
            .rules
            .iter()
            .enumerate()
            .filter(|r| r.1.enabled)
            .collect();
        order.sort_by_key(|(i, r)| (std::cmp::Reverse(r.priority), *i));
        let mut fired = Vec::new();
        for (_, r) in order {
            let holds = self.cond(&r.when) && r.unless.as_ref().is_none_or(|u| !self.cond(u));
            if holds {
                fired.push(r.id.clone());
                if r.then.stop.unwrap_or(mode == MatchMode::FirstMatch) {
                    break;
                }
            }
        }
        fired
    }
}

/// Every pattern of a condition, as written.
fn written_patterns(c: &ConditionSpec, out: &mut BTreeSet<(bool, String)>) {
    for (l, regex) in [
        (&c.any_text, true),
        (&c.all_text, true),
        (&c.none_text, true),
        (&c.any_words, false),
        (&c.all_words, false),
        (&c.none_words, false),
    ] {
        for p in l.iter().flatten() {
            out.insert((regex, p.clone()));
        }
    }
    for c in c.any.iter().chain(c.all.iter()).flatten() {
        written_patterns(c, out);
    }
    if let Some(c) = &c.not {
        written_patterns(c, out);
    }
}

#[test]
fn prefilter_engine_fires_exactly_what_a_naive_evaluation_fires() {
    let n = Normalizer::spanish();
    let mut r = Rng(2026);
    let mut sets = 0;
    let mut refused = 0;
    let mut fired_total = 0;
    let mut hits_total = 0;
    while sets < 150 {
        let size = 2 + r.below(12);
        let file = random_file(&mut r, size);
        let rs = match RuleSet::from_files(&[("p.toml", file.clone())], &Vocabulary::permissive()) {
            Ok(rs) => rs,
            Err(_) => {
                // contradictions and empty-matching regexes are refused at load, by design
                refused += 1;
                assert!(
                    refused < 2000,
                    "the generator should mostly make valid sets"
                );
                continue;
            }
        };
        sets += 1;
        let cache = std::cell::RefCell::new(HashMap::new());
        let mut patterns = BTreeSet::new();
        for rule in &file.rules {
            written_patterns(&rule.when, &mut patterns);
            if let Some(u) = &rule.unless {
                written_patterns(u, &mut patterns);
            }
        }
        for _ in 0..40 {
            let raw: Vec<&str> = (0..r.below(12)).map(|_| r.pick(VOCAB)).collect();
            let t = n.normalize(&raw.join(" "));
            let mut input = RuleInput::new(&t, ChannelKind::ALL[r.below(7)]);
            input.has_attachment = r.below(2) == 0;
            let naive = Naive {
                text: t.as_str(),
                input: &input,
                n: &n,
                cache: &cache,
            };
            let expect = naive.run(&file);
            let got = rs.evaluate(&input);
            assert_eq!(
                ids(&got),
                expect,
                "text `{}`, rules:\n{}",
                t.as_str(),
                serde_json::to_string_pretty(&file).unwrap()
            );
            let mut fast = Vec::new();
            rs.fired_ids(&input, &mut fast);
            assert_eq!(fast, expect);
            fired_total += expect.len();
            // the patterns reported are exactly those that match
            let mut want: Vec<&str> = patterns
                .iter()
                .filter(|(regex, p)| {
                    if *regex {
                        naive.regex(p)
                    } else {
                        naive.words(p)
                    }
                })
                .map(|(_, p)| p.as_str())
                .collect();
            want.sort_unstable();
            want.dedup();
            let mut have = rs.matching_patterns(&t);
            have.sort_unstable();
            assert_eq!(have, want, "text `{}`", t.as_str());
            hits_total += want.len();
            for f in &got.fired {
                for p in &f.patterns {
                    assert!(
                        want.contains(&p.as_str()),
                        "{p} reported but does not match"
                    );
                }
            }
        }
    }
    // the workload exercised the engine
    assert!(fired_total > 1000, "{fired_total}");
    assert!(hits_total > 5000, "{hits_total}");
}
