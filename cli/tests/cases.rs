//! The case commands, run as a user runs them: ingest, ticket, relay, report, retention,
//! remind.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_civic-router");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONFIG: &str = r#"
[tickets]
reference_prefix = "SEV"
retention_days = 30
[categories]
alumbrado = "Alumbrado público"
general = "General"
[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
email = "averias@alumbrado.example"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
category.alumbrado = "alumbrado"
[replies]
other = "Hola, ¿en qué podemos ayudarle?"
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = { intent = "incident", category = "alumbrado" }
[[rule]]
id = "saludo"
when.any_words = ["hola"]
then = { intent = "other" }
"#;

const MESSAGES: &str = r#"{"id": "m1", "channel": "whatsapp", "text": "farola apagada", "contact": {"phone": "+34600000001"}, "received_at": "2026-01-10T10:00:00+01:00"}
{"id": "m2", "channel": "sms", "text": "hola", "contact": {"phone": "+34600000002"}, "received_at": "2026-01-11T10:00:00+01:00"}
{"id": "m3", "channel": "app", "text": "otra farola rota", "received_at": "2026-02-01T10:00:00+01:00"}
{"id": "m1", "channel": "whatsapp", "text": "farola apagada", "contact": {"phone": "+34600000001"}, "received_at": "2026-01-10T10:00:00+01:00"}
"#;

#[test]
fn ingest_change_relay_report_retention() {
    let dir = std::env::temp_dir().join(format!("civic-cli-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("router.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let msgs = dir.join("m.jsonl");
    std::fs::write(&msgs, MESSAGES).unwrap();
    let db = dir.join("c.db");
    let (cfg_s, db_s, msgs_s) = (
        cfg.to_str().unwrap(),
        db.to_str().unwrap(),
        msgs.to_str().unwrap(),
    );

    let (code, out, err) = run(&["ingest", "--config", cfg_s, "--store", db_s, msgs_s]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["ticket"], "SEV-2026-000001");
    assert_eq!(lines[1]["reply"], "Hola, ¿en qué podemos ayudarle?");
    assert_eq!(lines[2]["ticket"], "SEV-2026-000002");
    assert_eq!(lines[3]["duplicate_delivery"], true, "the repeated m1");
    assert_eq!(lines[3]["ticket"], "SEV-2026-000001");

    // a refused transition and an unknown reference are typed errors, exit 2
    let (code, _, err) = run(&[
        "ticket",
        "--config",
        cfg_s,
        "--store",
        db_s,
        "SEV-2026-000001",
        "--set",
        "resolved",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot go from `routed` to `resolved`"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "ticket",
        "--config",
        cfg_s,
        "--store",
        db_s,
        "SEV-2026-000099",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown ticket `SEV-2026-000099`"), "{err}");
    for to in ["accepted", "resolved", "closed"] {
        let (code, out, err) = run(&[
            "ticket",
            "--config",
            cfg_s,
            "--store",
            db_s,
            "SEV-2026-000001",
            "--set",
            to,
            "--actor",
            "alumbrado",
        ]);
        assert_eq!(code, 0, "{err}");
        let t: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(t["status"], to);
    }

    // deliver: the department by e-mail file, citizens' notifications too (no sender here)
    let mail = dir.join("mail");
    let (code, out, err) = run(&[
        "relay",
        "--config",
        cfg_s,
        "--store",
        db_s,
        "--mail-dir",
        mail.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(r["dead"], 0);
    assert!(r["sent"].as_u64().unwrap() >= 4, "{r}");
    let emls: Vec<String> = std::fs::read_dir(&mail)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(emls
        .iter()
        .any(|e| e.contains("To: averias@alumbrado.example")));

    let (code, out, err) = run(&["report", "--store", db_s, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rep: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rep["conversations"]["total"], 3);
    assert_eq!(rep["tickets"]["total"], 2);
    assert_eq!(rep["tickets"]["by_month"]["2026-01"], 1);
    assert_eq!(rep["resolution"]["count"], 1);
    let (code, out, _) = run(&["report", "--store", db_s, "--month", "2026-02"]);
    assert_eq!(code, 0);
    assert!(out.contains("conversations: 1"), "{out}");
    let html = dir.join("r.html");
    let (code, _, _) = run(&[
        "report",
        "--store",
        db_s,
        "--config",
        cfg_s,
        "--format",
        "html",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Servicio de Alumbrado"));
    let (code, _, err) = run(&["report", "--store", db_s, "--month", "enero"]);
    assert_eq!(code, 2);
    assert!(err.contains("YYYY-MM"), "{err}");

    // retention: the closed ticket (closed now) is not old enough; the figures stay anyway
    let key = dir.join("key");
    std::fs::write(&key, b"0123456789abcdef0123456789abcdef").unwrap();
    let (code, out, err) = run(&[
        "retention",
        "--config",
        cfg_s,
        "--store",
        db_s,
        "--key-file",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0 tickets pseudonymised");

    // a file that is not a store
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database, just some text that is long enough").unwrap();
    let (code, _, err) = run(&["report", "--store", junk.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is not a civic-router store or is damaged"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn migrate_creates_a_store_and_refuses_unknown_urls() {
    let dir = std::env::temp_dir().join(format!("civic-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("m.db");
    let url = format!("sqlite://{}", db.display());
    let (code, out, err) = run(&["migrate", "--store", &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "sqlite: schema version 2");
    // again: nothing to do, same version
    let (code, out, _) = run(&["migrate", "--store", &url]);
    assert_eq!((code, out.trim()), (0, "sqlite: schema version 2"));
    let (code, _, err) = run(&["migrate", "--store", "mysql://db/x"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown scheme `mysql`"), "{err}");
    // an unreachable server: an error naming it, the password hidden
    let (code, _, err) = run(&["migrate", "--store", "postgres://app:s3cret@127.0.0.1:1/x"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("app:***@127.0.0.1:1") && !err.contains("s3cret"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn remind_queues_each_reminder_once_and_relay_delivers_it() {
    use civic_router::appointment::{Appointments, Offices, SqliteAppointmentStore};
    use civic_router::message::Contact;
    use civic_router::ChannelKind;
    use std::sync::Arc;

    let dir = std::env::temp_dir().join(format!("civic-cli-remind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("router.toml");
    // local time = UTC here, so the test can book relative to the clock the relay reads
    std::fs::write(
        &cfg,
        format!(
            "[router]\ntimezone = \"UTC\"\n[appointments]\noffices = \"offices.toml\"\n{CONFIG}"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("offices.toml"),
        r#"
        [[service]]
        id = "padron"
        name = "Padrón"
        [[office]]
        id = "triana"
        name = "Distrito Triana"
        address = "C/ San Jacinto 33"
        hours = ["daily 00:00-24:00"]
        services = ["padron"]
        "#,
    )
    .unwrap();
    let appts = dir.join("appointments.db");
    let book = Appointments::new(
        Arc::new(Offices::from_path(dir.join("offices.toml")).unwrap()),
        Arc::new(SqliteAppointmentStore::open(&appts).unwrap()),
    );
    let now = chrono::Utc::now().naive_utc();
    let slot = book
        .offer("padron", None, now + chrono::Duration::hours(2), 1)
        .unwrap();
    let who = Contact {
        phone: Some("+34600123123".into()),
        ..Contact::default()
    };
    let a = book
        .book(
            "padron",
            "triana",
            slot[0].start,
            &who,
            ChannelKind::Sms,
            now,
        )
        .unwrap();
    let db = dir.join("c.db");
    let (cfg_s, db_s, appts_s) = (
        cfg.to_str().unwrap(),
        db.to_str().unwrap(),
        appts.to_str().unwrap(),
    );
    let remind = || {
        let (code, out, err) = run(&[
            "remind",
            "--config",
            cfg_s,
            "--store",
            db_s,
            "--appointments",
            appts_s,
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()
    };
    let r = remind();
    assert_eq!(
        (
            r["due"].as_u64(),
            r["enqueued"].as_u64(),
            r["marked"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{r}"
    );
    let r = remind();
    assert_eq!(
        (r["due"].as_u64(), r["enqueued"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );

    let mail = dir.join("mail");
    let relay = || {
        let (code, out, err) = run(&[
            "relay",
            "--config",
            cfg_s,
            "--store",
            db_s,
            "--mail-dir",
            mail.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()
    };
    assert_eq!(relay()["sent"], 1);
    assert_eq!(relay()["claimed"], 0, "delivered once");
    let emls: Vec<String> = std::fs::read_dir(&mail)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(emls.len(), 1);
    assert!(
        emls[0].contains(&format!("Subject: [{}] Recordatorio de cita", a.reference))
            && emls[0].contains("Distrito Triana (C/ San Jacinto 33)"),
        "{}",
        emls[0]
    );

    // without --appointments, a SQLite case store cannot guess where the appointments are
    let (code, _, err) = run(&["remind", "--config", cfg_s, "--store", db_s]);
    assert_eq!(code, 2);
    assert!(err.contains("--appointments"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
