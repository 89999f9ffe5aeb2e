//! The case commands: `ingest`, `ticket`, `remind`, `relay`, `report`, `retention`, and the
//! hidden `crash-child` the crash test kills.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};

use civic_router::appointment::{open_appointment_store, Appointments, Offices};
use civic_router::ticket::report::Report;
use civic_router::ticket::route::{HttpRoute, MailRoute, Relay, RetryPolicy, Route};
use civic_router::ticket::{
    block_on, conformance, Desk, SqliteStore, Status, StatusRequest, StoreUrl, TicketStore,
};
use civic_router::{Message, Router};

/// Output formats of `report`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// JSON.
    Json,
    /// A self-contained HTML page with charts.
    Html,
}

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Ingest messages (JSON Lines) into a store: route, open tickets, queue deliveries and
    /// notifications. One line out per message: its ticket reference, or the reply.
    Ingest {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The store: `sqlite://PATH` (or a path), `postgres://…`, `memory://` (default:
        /// `[store] url` or `path` of the configuration).
        #[arg(long)]
        store: Option<String>,
        /// Messages, one JSON object a line (default: stdin).
        input: Option<PathBuf>,
    },
    /// Show a ticket (JSON), or change its status with --set.
    Ticket {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The store: `sqlite://PATH` (or a path), `postgres://…`, `memory://` (default:
        /// `[store] url` or `path` of the configuration).
        #[arg(long)]
        store: Option<String>,
        /// The reference (`SEV-2026-000123`).
        reference: String,
        /// The new status (accepted, in_progress, resolved, rejected, duplicate, closed, routed).
        #[arg(long)]
        set: Option<String>,
        /// Who makes the change.
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
        /// Move it to another category (and its department).
        #[arg(long)]
        category: Option<String>,
    },
    /// Queue the reminders of the appointments starting within --hours in the outbox, once
    /// each (run it as often as you like); `relay` delivers them like the citizens'
    /// notifications. Prints what it did (JSON).
    Remind {
        /// Configuration file (TOML), with an `[appointments]` offices file.
        #[arg(long)]
        config: PathBuf,
        /// The case store, whose outbox takes the reminders: `sqlite://PATH` (or a path),
        /// `postgres://…`, `memory://` (default: `[store] url` or `path` of the configuration).
        #[arg(long)]
        store: Option<String>,
        /// The appointment store: `sqlite://PATH` (or a path) or `postgres://…` (default: the
        /// case store when it is PostgreSQL, which keeps the appointments too).
        #[arg(long)]
        appointments: Option<String>,
        /// Remind of appointments starting within this many hours.
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// The time to schedule at (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Deliver the outbox once: departments with a `[tickets.webhooks]` URL by HTTP, the
    /// others (and the citizens' notifications and reminders) as e-mail files in --mail-dir.
    Relay {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The store: `sqlite://PATH` (or a path), `postgres://…`, `memory://` (default:
        /// `[store] url` or `path` of the configuration).
        #[arg(long)]
        store: Option<String>,
        /// Where e-mail files go (default: `[store] outbox_mail_dir`, else `./outbox-mail`).
        #[arg(long)]
        mail_dir: Option<PathBuf>,
        /// How long a claimed row stays this relay's before another relay may take it (a
        /// relay that dies mid-delivery hands its rows on after this).
        #[arg(long, default_value_t = 300)]
        lease_seconds: u64,
    },
    /// Statistics of a store: conversations and tickets per month, channel, department and
    /// district; share answered automatically; time to first reply and to resolution.
    Report {
        /// The store: `sqlite://PATH` (or a path) or `postgres://…`.
        #[arg(long)]
        store: String,
        /// Configuration: department and district names, and the time zone months are counted
        /// in (without it: UTC).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Only this month (`YYYY-MM`).
        #[arg(long)]
        month: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Pseudonymise the personal data of tickets closed more than `tickets.retention_days`
    /// ago, keeping the statistics.
    Retention {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The store: `sqlite://PATH` (or a path), `postgres://…`, `memory://` (default:
        /// `[store] url` or `path` of the configuration).
        #[arg(long)]
        store: Option<String>,
        /// A file holding the secret pseudonymisation key (keep it apart from the store).
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Create or update a store's schema (SQLite file or PostgreSQL database) and print its
    /// version; instances starting together wait for each other.
    Migrate {
        /// The store: `sqlite://PATH` (or a path) or `postgres://…`.
        #[arg(long)]
        store: String,
    },
    /// (test) Ingest and update tickets forever, printing `ACK <id>` after each commit.
    #[command(hide = true)]
    CrashChild {
        /// The SQLite store.
        #[arg(long)]
        store: PathBuf,
        /// First message number.
        #[arg(long)]
        start: u64,
    },
}

/// The store a command uses: `--store`, else the configuration's `[store] url`, else its
/// `[store] path` (relative to the configuration file).
fn store_url(config: &Path, store: Option<String>) -> Result<StoreUrl> {
    if let Some(s) = store {
        return s.parse().map_err(|e| anyhow::anyhow!("{e}"));
    }
    let cfg = civic_router::Config::from_path(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(u) = cfg.store.url {
        return u.parse().map_err(|e| anyhow::anyhow!("{e}"));
    }
    match cfg.store.path {
        Some(p) => Ok(StoreUrl::Sqlite(
            config.parent().unwrap_or(Path::new(".")).join(p),
        )),
        None => bail!("no --store, and the configuration has no [store] url or path"),
    }
}

fn open(url: &StoreUrl) -> Result<Arc<dyn TicketStore>> {
    url.open().map_err(|e| anyhow::anyhow!("{e}"))
}

fn open_sqlite(path: &Path) -> Result<Arc<SqliteStore>> {
    Ok(Arc::new(
        SqliteStore::open(path).map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

fn desk(config: &Path, store: Option<String>) -> Result<(Desk, Arc<dyn TicketStore>)> {
    let router = Router::from_path(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = open(&store_url(config, store)?)?;
    let d = Desk::with_store(Arc::new(router), s.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((d, s))
}

fn migrate(store: &str) -> Result<ExitCode> {
    let url: StoreUrl = store.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = match &url {
        StoreUrl::Sqlite(p) => open_sqlite(p)?
            .schema_version()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        StoreUrl::Postgres(u) => i64::from(
            civic_router::ticket::PgStore::connect(u)
                .and_then(|s| s.migrate())
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        StoreUrl::Memory => bail!("memory:// has no schema to migrate"),
    };
    println!("{}: schema version {version}", url.kind());
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: CaseCommand) -> Result<ExitCode> {
    match cmd {
        CaseCommand::Ingest {
            config,
            store,
            input,
        } => ingest(&config, store, input.as_deref()),
        CaseCommand::Ticket {
            config,
            store,
            reference,
            set,
            actor,
            note,
            category,
        } => ticket(&config, store, &reference, set, &actor, &note, category),
        CaseCommand::Remind {
            config,
            store,
            appointments,
            hours,
            at,
        } => remind(&config, store, appointments, hours, at.as_deref()),
        CaseCommand::Relay {
            config,
            store,
            mail_dir,
            lease_seconds,
        } => relay(&config, store, mail_dir, lease_seconds),
        CaseCommand::Report {
            store,
            config,
            format,
            month,
            out,
        } => report(
            &store,
            config.as_deref(),
            format,
            month.as_deref(),
            out.as_deref(),
        ),
        CaseCommand::Retention {
            config,
            store,
            key_file,
        } => retention(&config, store, &key_file),
        CaseCommand::Migrate { store } => migrate(&store),
        CaseCommand::CrashChild { store, start } => crash_child(&store, start),
    }
}

fn ingest(config: &Path, store: Option<String>, input: Option<&Path>) -> Result<ExitCode> {
    let (desk, _) = desk(config, store)?;
    let reader: Box<dyn BufRead> = match input {
        Some(p) => Box::new(io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
        None => Box::new(io::stdin().lock()),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut failed = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let msg: Message = match serde_json::from_str(&line) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("line {}: not a message: {e}", i + 1);
                failed += 1;
                continue;
            }
        };
        match block_on(desk.ingest(&msg)) {
            Ok(r) => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "id": msg.id,
                    "duplicate_delivery": r.duplicate_delivery,
                    "ticket": r.ticket.as_ref().map(|t| t.reference.to_string()),
                    "status": r.ticket.as_ref().map(|t| t.status),
                    "department": r.decision.department,
                    "reply": r.reply,
                })
            )?,
            Err(e) => {
                eprintln!("line {}: {e}", i + 1);
                failed += 1;
            }
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn ticket(
    config: &Path,
    store: Option<String>,
    reference: &str,
    set: Option<String>,
    actor: &str,
    note: &str,
    category: Option<String>,
) -> Result<ExitCode> {
    let (desk, _) = desk(config, store)?;
    let t = if let Some(cat) = category {
        block_on(desk.recategorise(reference, &cat, None, actor, note, Utc::now()))
    } else if let Some(s) = set {
        let to: Status = s.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        block_on(desk.change_status(reference, StatusRequest::new(to, actor).with_note(note)))
    } else {
        block_on(desk.ticket(reference))
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&t)?);
    Ok(ExitCode::SUCCESS)
}

fn remind(
    config: &Path,
    store: Option<String>,
    appointments: Option<String>,
    hours: u32,
    at: Option<&str>,
) -> Result<ExitCode> {
    let (desk, _) = desk(config, store.clone())?;
    let offices = Offices::from_config(&desk.router().config())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| {
            format!(
                "{}: no [appointments] section naming the offices file",
                config.display()
            )
        })?;
    let url = match appointments {
        Some(u) => u,
        None => match store_url(config, store)? {
            StoreUrl::Postgres(u) => u,
            _ => bail!(
                "give the appointment store with --appointments (sqlite://PATH or a path); \
                 only a PostgreSQL case store keeps the appointments too"
            ),
        },
    };
    let book = Appointments::new(
        Arc::new(offices),
        open_appointment_store(&url).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let now = match at {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .with_context(|| format!("--at `{s}`: not an RFC 3339 time"))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let r =
        block_on(desk.schedule_reminders(&book, now, chrono::Duration::hours(i64::from(hours))))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&r)?);
    Ok(ExitCode::SUCCESS)
}

fn relay(
    config: &Path,
    store: Option<String>,
    mail_dir: Option<PathBuf>,
    lease_seconds: u64,
) -> Result<ExitCode> {
    let (desk, s) = desk(config, store)?;
    let cfg = desk.router().config();
    let mail_dir = mail_dir
        .or_else(|| {
            cfg.store
                .outbox_mail_dir
                .as_ref()
                .map(|d| config.parent().unwrap_or(Path::new(".")).join(d))
        })
        .unwrap_or_else(|| PathBuf::from("outbox-mail"));
    let mut mail = MailRoute::new(&mail_dir, "010@civic-router.invalid");
    for d in &cfg.departments {
        if let Some(e) = &d.email {
            mail = mail.with_recipient(d.id.clone(), e.clone());
        }
    }
    let mail: Arc<dyn Route> = Arc::new(mail);
    let store: Arc<dyn TicketStore> = s;
    let mut relay = Relay::new(store)
        .lease(std::time::Duration::from_secs(lease_seconds.max(1)))
        .default_department(mail.clone())
        .default_channel(mail)
        .retry(RetryPolicy {
            max_attempts: desk.max_attempts(),
            ..RetryPolicy::default()
        });
    for (dep, url) in &cfg.tickets.webhooks {
        let route = HttpRoute::new(url).map_err(|e| anyhow::anyhow!("{e}"))?;
        relay = relay.department(dep.clone(), Arc::new(route));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let r = rt
        .block_on(relay.run_once())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&r)?);
    Ok(ExitCode::SUCCESS)
}

fn report(
    store: &str,
    config: Option<&Path>,
    format: Format,
    month: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode> {
    if let Some(m) = month {
        if chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_err() {
            bail!("--month `{m}`: expected YYYY-MM");
        }
    }
    let url: StoreUrl = store.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    if let StoreUrl::Sqlite(p) = &url {
        if !p.exists() {
            bail!("no store at {}", p.display());
        }
    }
    let s = open(&url)?;
    let cfg = match config {
        Some(c) => Some(civic_router::Config::from_path(c).map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    let r = block_on(Report::from_store(&*s, month, cfg.as_ref()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = match format {
        Format::Table => r.to_table(),
        Format::Json => serde_json::to_string_pretty(&r)? + "\n",
        Format::Html => r.to_html(),
    };
    match out {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn retention(config: &Path, store: Option<String>, key_file: &Path) -> Result<ExitCode> {
    let (desk, _) = desk(config, store)?;
    let key = std::fs::read(key_file)
        .with_context(|| format!("cannot read the key file {}", key_file.display()))?;
    if key.len() < 16 {
        bail!(
            "the key file holds {} bytes; use at least 16 random bytes",
            key.len()
        );
    }
    let n = block_on(desk.apply_retention(Utc::now(), &key)).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{n} tickets pseudonymised");
    Ok(ExitCode::SUCCESS)
}

/// Ingests `m-<start>`, `m-<start+1>`, … for ever: incidents and greetings, and every third
/// ticket accepted; prints `ACK m-<n> <reference or ->` after each ingestion's commit and
/// `UPD <reference>` after each status change's. Killed by the crash test.
fn crash_child(store: &Path, start: u64) -> Result<ExitCode> {
    let s: Arc<dyn TicketStore> = open_sqlite(store)?;
    let desk = conformance::desk(s).map_err(|e| anyhow::anyhow!("{e}"))?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for n in start.. {
        let text = match n % 4 {
            3 => "hola",
            1 => "contenedor lleno",
            _ => "farola apagada",
        };
        let id = format!("m-{n}");
        let msg = conformance::message(&id, &format!("+34600{:06}", n % 1000), text, None);
        let r = block_on(desk.ingest(&msg)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let reference = r.ticket.as_ref().map(|t| t.reference.to_string());
        writeln!(out, "ACK {id} {}", reference.as_deref().unwrap_or("-"))?;
        out.flush()?;
        if let (Some(t), 0) = (&r.ticket, n % 3) {
            if t.status == Status::Routed {
                let req = StatusRequest::new(Status::Accepted, "crash-child");
                block_on(desk.change_status(&t.reference.to_string(), req))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                writeln!(out, "UPD {}", t.reference)?;
                out.flush()?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
