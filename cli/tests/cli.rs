//! The command line, run as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_civic-router");

fn config_dir() -> tempdir::Dir {
    tempdir::Dir::new()
}

/// A throwaway directory removed on drop (no extra dependency needed).
mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static N: AtomicUsize = AtomicUsize::new(0);

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "civic-router-cli-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn write_config(dir: &std::path::Path, rules: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("router.toml"),
        r#"
[router]
name = "cli test"
rules = ["rules.toml"]
[categories]
alumbrado = "Alumbrado"
emergencias = "Emergencias"
general = "General"
[[department]]
id = "alumbrado"
name = "Alumbrado"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
category.alumbrado = "alumbrado"
"#,
    )
    .unwrap();
    std::fs::write(dir.join("rules.toml"), rules).unwrap();
    dir.join("router.toml")
}

const RULES: &str = r#"
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = { intent = "incident", category = "alumbrado" }
"#;

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn route_reads_jsonl_and_names_bad_lines() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let input = b"{\"id\":\"a\",\"channel\":\"sms\",\"text\":\"farola rota\"}\n\n{oops\n\xff\xfe\n{\"id\":\"b\",\"channel\":\"web\",\"text\":\"hola\"}\n";
    let (code, out, err) = run(&["route", "--config", cfg.to_str().unwrap()], input);
    assert_eq!(code, 1, "some lines failed: {err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0]["department"], "alumbrado");
    assert_eq!(lines[0]["rules"][0], "farola");
    assert_eq!(lines[0]["district"], serde_json::Value::Null);
    assert!(lines[0]["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(lines[1]["line"], 3);
    assert_eq!(lines[2]["line"], 4);
    assert!(lines[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("UTF-8"));
    assert_eq!(lines[3]["id"], "b");
    assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
}

#[test]
fn route_explain_includes_the_explanation() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let (code, out, _) = run(
        &["route", "--explain", "--config", cfg.to_str().unwrap()],
        b"{\"id\":\"a\",\"channel\":\"sms\",\"text\":\"Farolas apagadas\"}\n",
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["explanation"]["rules"][0]["patterns"][0], "farola*");
    assert_eq!(v["explanation"]["normalized_text"], "farolas apagadas");
}

#[test]
fn check_accepts_a_good_config_and_refuses_a_bad_rule_file() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let (code, out, _) = run(&["check", "--config", cfg.to_str().unwrap()], b"");
    assert_eq!(code, 0);
    assert!(out.contains("1 rules"), "{out}");
    write_config(
        d.path(),
        "[[rule]]\nid = \"x\"\nwhen.any_text = ['(unclosed']\nthen.category = \"alumbrado\"\n",
    );
    let (code, _, err) = run(&["check", "--config", cfg.to_str().unwrap()], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("rules.toml") && err.contains("rule `x`") && err.contains("when.any_text[0]"),
        "{err}"
    );
    write_config(
        d.path(),
        "[[rule]]\nid = \"x\"\nwhen.any_words = ['a']\nthen.category = \"nope\"\n",
    );
    let (code, _, err) = run(&["check", "--config", cfg.to_str().unwrap()], b"");
    assert_eq!(code, 2);
    assert!(err.contains("unknown category `nope`"), "{err}");
}

#[test]
fn eval_scores_a_labelled_corpus() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let corpus = d.path().join("corpus.jsonl");
    std::fs::write(
        &corpus,
        concat!(
            r#"{"id": "1", "channel": "sms", "text": "farola apagada", "intent": "incident", "category": "alumbrado"}"#, "\n",
            r#"{"id": "2", "channel": "sms", "text": "hola", "intent": "other", "category": "general"}"#, "\n",
            r#"{"id": "3", "channel": "sms", "text": "huele a gas", "intent": "emergency", "category": "emergencias"}"#, "\n",
        ),
    )
    .unwrap();
    let (code, out, err) = run(
        &[
            "eval",
            "--json",
            "--config",
            cfg.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["messages"], 3);
    assert!((v["intent_accuracy"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(v["emergency_recall"], 0.0);
    std::fs::write(
        &corpus,
        "{\"id\": \"1\", \"channel\": \"sms\", \"text\": \"x\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(
        &[
            "eval",
            "--config",
            cfg.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("line 1") && err.contains("intent"), "{err}");
}

#[test]
fn dry_run_shows_rules_and_reasons() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let (code, out, _) = run(
        &[
            "dry-run",
            "--all",
            "--config",
            cfg.to_str().unwrap(),
            "hola buenas",
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("no") && out.contains("farola") && out.contains("none of [farola*] matches"),
        "{out}"
    );
}

#[test]
fn demo_runs_on_embedded_defaults() {
    let (code, out, err) = run(&["demo"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("summary: 40 messages routed"), "{out}");
    assert!(
        out.contains("emergencias_112") && out.contains("why: rules"),
        "{out}"
    );
    // run from another directory: the example is embedded, no checkout needed
    let elsewhere = std::env::temp_dir();
    let out = Command::new(BIN)
        .arg("demo")
        .current_dir(elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn train_writes_a_model_and_eval_cross_validates() {
    let d = config_dir();
    let cfg = write_config(d.path(), RULES);
    let corpus = d.path().join("corpus.jsonl");
    let mut lines = String::new();
    for i in 0..12 {
        lines.push_str(&format!("{{\"id\": \"a{i}\", \"channel\": \"sms\", \"text\": \"farola apagada numero {i}\", \"intent\": \"incident\", \"category\": \"alumbrado\"}}\n"));
        lines.push_str(&format!("{{\"id\": \"b{i}\", \"channel\": \"sms\", \"text\": \"muchas gracias por todo {i}\", \"intent\": \"other\", \"category\": \"general\"}}\n"));
    }
    std::fs::write(&corpus, lines).unwrap();
    let model = d.path().join("model.json");
    let (code, _, err) = run(
        &[
            "train",
            corpus.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("trained on 24 messages"), "{err}");
    let first = std::fs::read_to_string(&model).unwrap();
    run(
        &[
            "train",
            corpus.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(
        first,
        std::fs::read_to_string(&model).unwrap(),
        "training is deterministic"
    );
    let (code, out, err) = run(
        &[
            "eval",
            "--json",
            "--cv",
            "3",
            "--config",
            cfg.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["messages"], 24);
    assert!(v["intent_accuracy"].as_f64().unwrap() > 0.9, "{out}");
    let (code, _, err) = run(
        &[
            "eval",
            "--cv",
            "1",
            "--config",
            cfg.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("at least 2"), "{err}");
}

/// `faq ask` answers or counts the gap, `faq gaps` lists the most asked, `faq eval` scores a
/// corpus; an entry added to the file answers at the next run.
#[test]
fn faq_ask_gaps_and_eval() {
    let dir = config_dir();
    let d = dir.path();
    std::fs::write(
        d.join("router.toml"),
        r#"
[faq]
path = "faq.toml"
threshold = 0.4
[categories]
tramites = "Trámites"
limpieza = "Limpieza"
general = "General"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
[[rule]]
id = "pregunta"
when.any_text = ['\?']
then = { intent = "information" }
"#,
    )
    .unwrap();
    let entry = |id: &str, cat: &str, q: &str| {
        format!("[[entry]]\nid = \"{id}\"\ncategory = \"{cat}\"\nquestions = [\"{q}\"]\nanswer = \"Respuesta {id}.\"\n")
    };
    std::fs::write(
        d.join("faq.toml"),
        entry("ibi", "tramites", "¿cómo pago el IBI?"),
    )
    .unwrap();
    let gaps = d.join("gaps.db");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let cfg = d.join("router.toml");
    let cfg = cfg.to_str().unwrap();
    let g = gaps.to_str().unwrap();
    let out = run(&[
        "faq",
        "ask",
        "--config",
        cfg,
        "--gaps",
        g,
        "¿dónde pago el IBI?",
    ]);
    assert!(out.contains("ANSWERED AUTOMATICALLY"), "{out}");
    for _ in 0..2 {
        let out = run(&[
            "faq",
            "ask",
            "--config",
            cfg,
            "--gaps",
            g,
            "¿recogen muebles viejos?",
        ]);
        assert!(out.contains("unanswered"), "{out}");
    }
    let out = run(&["faq", "gaps", "--gaps", g]);
    assert!(out.contains("¿recogen muebles viejos?"), "{out}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with('2')),
        "{out}"
    );
    // staff add the entry: the next run answers it
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(d.join("faq.toml"))
        .unwrap();
    writeln!(
        f,
        "{}",
        entry("muebles", "limpieza", "recogida de muebles viejos")
    )
    .unwrap();
    let out = run(&["faq", "ask", "--config", cfg, "¿recogen muebles viejos?"]);
    assert!(out.contains("ANSWERED AUTOMATICALLY"), "{out}");
    std::fs::write(
        d.join("corpus.jsonl"),
        "{\"id\": \"a\", \"channel\": \"sms\", \"text\": \"¿cómo se paga el IBI?\", \"intent\": \"information\", \"category\": \"tramites\"}\n{\"id\": \"b\", \"channel\": \"sms\", \"text\": \"¿hay piscina?\", \"intent\": \"information\", \"category\": \"actividades\"}\n",
    )
    .unwrap();
    let out = run(&[
        "faq",
        "eval",
        "--config",
        cfg,
        d.join("corpus.jsonl").to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["information_messages"], 2);
    assert_eq!(v["answered_automatically"], 1);
    assert_eq!(v["category_precision"], 1.0);
}
