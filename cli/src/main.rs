//! `civic-router`: route messages, check a configuration, score it on a labelled corpus, show
//! why a message goes where it goes, and run the Seville demo.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};

use civic_router::classify::model::TrainOptions;
use civic_router::config::Config;
use civic_router::eval::LabelledMessage;
use civic_router::rules::RuleInput;
use civic_router::{ChannelKind, Decision, Message, Router};

mod cases;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

#[derive(Parser)]
#[command(
    name = "civic-router",
    version,
    about = "Route citizen messages to a city's departments, with an explanation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Route messages (JSON Lines, stdin by default): one decision per line out.
    Route {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Input file of messages, one JSON object a line (default: stdin).
        input: Option<PathBuf>,
        /// Include the full explanation in each decision.
        #[arg(long)]
        explain: bool,
    },
    /// Validate a configuration and its rule files.
    Check {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
    },
    /// Score a configuration on a labelled corpus (JSON Lines with intent/category/district).
    Eval {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The labelled corpus.
        corpus: PathBuf,
        /// Print the figures as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Print every misrouted message (id, gold, predicted, text).
        #[arg(long)]
        errors: bool,
        /// Stratified K-fold cross-validation: train the model on K-1 folds, route the
        /// held-out fold with the rules and that model, and report over all folds.
        #[arg(long, value_name = "K")]
        cv: Option<usize>,
        /// Seed of the fold assignment and of training.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// With --cv: write the fold of every message (`{"id": …, "fold": …}` per line), so
        /// peer baselines can be scored on the same folds.
        #[arg(long, value_name = "FILE")]
        folds_out: Option<PathBuf>,
    },
    /// Train the statistical classifier on a labelled corpus and write the model file.
    Train {
        /// The labelled corpus (JSON Lines with intent and category).
        corpus: PathBuf,
        /// Where to write the model (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Configuration whose text rewrites the model must share (default: none).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seed: the same seed and corpus give the same model.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Passes over the data.
        #[arg(long, default_value_t = 30)]
        epochs: usize,
    },
    /// Show which rules would fire on a text, and why the others do not.
    DryRun {
        /// Configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Channel of the message.
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        /// Show every rule, not only those that match.
        #[arg(long)]
        all: bool,
        /// The message text.
        text: String,
    },
    /// The knowledge base: ask it, list the unanswered questions, score it on a corpus.
    Faq {
        #[command(subcommand)]
        command: FaqCommand,
    },
    /// Route the Seville sample messages (embedded) and show each decision with its
    /// explanation, then a summary per channel, intent and department.
    Demo {
        /// Use this configuration instead of the embedded Seville one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Use these messages instead of the embedded sample.
        #[arg(long)]
        messages: Option<PathBuf>,
    },
    #[command(flatten)]
    Cases(cases::CaseCommand),
}

#[derive(Subcommand)]
enum FaqCommand {
    /// Ask a question: the best entries with their scores, and what the router does with it.
    /// An unanswered question is counted in the gap log (`--gaps`).
    Ask {
        /// Configuration file (TOML) with a `[faq]` section.
        #[arg(long)]
        config: PathBuf,
        /// Channel of the message (the answer is rendered for it).
        #[arg(long, default_value = "whatsapp")]
        channel: String,
        /// Gap log where unanswered questions are counted: an SQLite file or a store URL
        /// (`postgres://…[?schema=NAME]`).
        #[arg(long)]
        gaps: Option<PathBuf>,
        /// How many entries to show.
        #[arg(long, default_value_t = 3)]
        top: usize,
        /// The question.
        text: String,
    },
    /// The most asked questions the knowledge base could not answer.
    Gaps {
        /// Gap log: an SQLite file or a store URL (`postgres://…[?schema=NAME]`).
        #[arg(long)]
        gaps: PathBuf,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Route the `information` messages of a labelled corpus: how many are answered
    /// automatically, and how many answers are in the message's gold category.
    Eval {
        /// Configuration file (TOML) with a `[faq]` section.
        #[arg(long)]
        config: PathBuf,
        /// The labelled corpus (JSON Lines).
        corpus: PathBuf,
        /// Print every answered message (id, gold category, entry, confidence, text) for a
        /// hand check, and every unanswered one with `--unanswered`.
        #[arg(long)]
        show: bool,
        /// With --show: the unanswered ones too.
        #[arg(long)]
        unanswered: bool,
        /// Count the unanswered questions in this gap log (an SQLite file or a store URL).
        #[arg(long)]
        gaps: Option<PathBuf>,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Route {
            config,
            input,
            explain,
        } => route(&config, input.as_deref(), explain),
        Command::Check { config } => check(&config),
        Command::Eval {
            config,
            corpus,
            json,
            errors,
            cv: Some(k),
            seed,
            folds_out,
        } => cross_validate(
            &config,
            &corpus,
            k,
            seed,
            json,
            errors,
            folds_out.as_deref(),
        ),
        Command::Eval {
            config,
            corpus,
            json,
            errors,
            cv: None,
            ..
        } => eval(&config, &corpus, json, errors),
        Command::Train {
            corpus,
            out,
            config,
            seed,
            epochs,
        } => train(&corpus, &out, config.as_deref(), seed, epochs),
        Command::DryRun {
            config,
            channel,
            all,
            text,
        } => dry_run(&config, &channel, all, &text),
        Command::Demo { config, messages } => demo(config.as_deref(), messages.as_deref()),
        Command::Faq { command } => match command {
            FaqCommand::Ask {
                config,
                channel,
                gaps,
                top,
                text,
            } => faq_ask(&config, &channel, gaps.as_deref(), top, &text),
            FaqCommand::Gaps { gaps, limit, json } => faq_gaps(&gaps, limit, json),
            FaqCommand::Eval {
                config,
                corpus,
                show,
                unanswered,
                gaps,
                json,
            } => faq_eval(&config, &corpus, show, unanswered, gaps.as_deref(), json),
        },
        Command::Cases(c) => cases::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load(config: &Path) -> Result<Router> {
    Router::from_path(config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Progress on a terminal only; quiet in pipes.
struct Progress {
    on: bool,
    label: &'static str,
}

impl Progress {
    fn new(label: &'static str) -> Self {
        Progress {
            on: io::stderr().is_terminal(),
            label,
        }
    }
    fn tick(&self, n: usize) {
        if self.on && n % 1000 == 0 {
            eprint!("\r{}: {n}", self.label);
        }
    }
    fn done(&self, n: usize) {
        if self.on {
            eprintln!("\r{}: {n} done", self.label);
        }
    }
}

fn open_input(input: Option<&Path>) -> Result<Box<dyn BufRead>> {
    Ok(match input {
        Some(p) => Box::new(io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
        None => Box::new(io::BufReader::new(io::stdin())),
    })
}

fn decision_json(d: &Decision, explain: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(d).unwrap_or_default();
    if !explain {
        if let Some(o) = v.as_object_mut() {
            let route = d.explanation.route.entry.clone();
            o.remove("explanation");
            o.insert("route".into(), route.into());
        }
    }
    v
}

fn route(config: &Path, input: Option<&Path>, explain: bool) -> Result<ExitCode> {
    let router = load(config)?;
    let reader = open_input(input)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let progress = Progress::new("routed");
    let mut failures = 0usize;
    let mut batch: Vec<(usize, Message)> = Vec::with_capacity(4096);
    let mut n = 0usize;
    let flush = |batch: &mut Vec<(usize, Message)>,
                 out: &mut BufWriter<io::StdoutLock<'_>>,
                 failures: &mut usize|
     -> Result<()> {
        let msgs: Vec<Message> = batch.iter().map(|(_, m)| m.clone()).collect();
        for ((line, _), r) in batch.iter().zip(router.route_batch(&msgs)) {
            match r {
                Ok(d) => writeln!(out, "{}", decision_json(&d, explain))?,
                Err(e) => {
                    *failures += 1;
                    eprintln!("line {line}: {e}");
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"line": line, "error": {"kind": e.kind().code(), "message": e.to_string()}})
                    )?;
                }
            }
        }
        batch.clear();
        Ok(())
    };
    for (i, line) in reader.split(b'\n').enumerate() {
        let lineno = i + 1;
        let bytes = line.context("reading input")?;
        n += 1;
        progress.tick(n);
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|e| format!("invalid UTF-8: {e}"))
            .and_then(|s| {
                if s.trim().is_empty() {
                    Err(String::new())
                } else {
                    serde_json::from_str::<Message>(s).map_err(|e| e.to_string())
                }
            });
        match parsed {
            Ok(m) => {
                batch.push((lineno, m));
                if batch.len() == 4096 {
                    flush(&mut batch, &mut out, &mut failures)?;
                }
            }
            Err(e) if e.is_empty() => n -= 1,
            Err(e) => {
                flush(&mut batch, &mut out, &mut failures)?;
                failures += 1;
                eprintln!("line {lineno}: not a message: {e}");
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"line": lineno, "error": {"kind": "INPUT", "message": format!("not a message: {e}")}})
                )?;
            }
        }
    }
    flush(&mut batch, &mut out, &mut failures)?;
    out.flush()?;
    progress.done(n);
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} of {n} lines could not be routed");
        ExitCode::from(1)
    })
}

fn check(config: &Path) -> Result<ExitCode> {
    let router = load(config)?;
    let cfg = router.config();
    println!(
        "{}: ok — {} rules ({} patterns), {} departments, {} districts, {} categories",
        config.display(),
        router.rules().len(),
        router.rules().pattern_count(),
        cfg.departments.len(),
        cfg.districts.len(),
        cfg.categories.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_corpus(corpus: &Path) -> Result<Vec<LabelledMessage>> {
    let mut src = String::new();
    open_input(Some(corpus))?
        .read_to_string(&mut src)
        .with_context(|| format!("cannot read {}", corpus.display()))?;
    civic_router::eval::parse_corpus(&src).map_err(|e| anyhow::anyhow!("{}: {e}", corpus.display()))
}

fn train(
    corpus: &Path,
    out: &Path,
    config: Option<&Path>,
    seed: u64,
    epochs: usize,
) -> Result<ExitCode> {
    let router = config.map(load).transpose()?;
    let gold = read_corpus(corpus)?;
    let opts = TrainOptions {
        seed,
        epochs,
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let model = civic_router::eval::train(router.as_ref(), &gold, &opts)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let json = model.to_json();
    std::fs::write(out, &json).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "trained on {} messages in {:.2?}: {} features, {} intents, {} categories; {} ({} KiB)",
        gold.len(),
        start.elapsed(),
        model.feature_count(),
        model.intents().len(),
        model.categories().len(),
        out.display(),
        json.len() / 1024
    );
    Ok(ExitCode::SUCCESS)
}

fn cross_validate(
    config: &Path,
    corpus: &Path,
    k: usize,
    seed: u64,
    json: bool,
    errors: bool,
    folds_out: Option<&Path>,
) -> Result<ExitCode> {
    let base = Config::from_path(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let gold = read_corpus(corpus)?;
    let cv = civic_router::eval::cross_validate(&base, &gold, k, seed, |g, d| {
        if errors {
            print_error(g, d);
        }
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(p) = folds_out {
        let lines: String = gold
            .iter()
            .zip(&cv.folds)
            .map(|(g, f)| format!("{}\n", serde_json::json!({"id": g.message.id, "fold": f})))
            .collect();
        std::fs::write(p, lines).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if json {
        let mut v = cv.evaluation.to_json();
        v["messages_per_second"] = cv.messages_per_second.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{k}-fold stratified cross-validation (seed {seed}): rules + model trained on the other folds");
        print!("{}", cv.evaluation.report());
        println!(
            "\nrouting one message at a time (steady state, after a warm-up pass): {:.0} messages/second",
            cv.messages_per_second
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One misrouted message, tab-separated: id, gold -> predicted, text (`eval --errors`).
fn print_error(g: &civic_router::eval::LabelledMessage, d: &civic_router::Decision) {
    if g.intent != d.intent.as_str() || g.category != d.category {
        println!(
            "{}\t{}/{} -> {}/{}\t{}",
            g.message.id, g.intent, g.category, d.intent, d.category, g.message.text
        );
    }
}

fn eval(config: &Path, corpus: &Path, json: bool, errors: bool) -> Result<ExitCode> {
    let router = load(config)?;
    let gold = read_corpus(corpus)?;
    let ev = civic_router::eval::evaluate(&router, &gold, |g, d| {
        if errors {
            print_error(g, d);
        }
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&ev.to_json())?);
    } else {
        print!("{}", ev.report());
    }
    Ok(ExitCode::SUCCESS)
}

fn dry_run(config: &Path, channel: &str, all: bool, text: &str) -> Result<ExitCode> {
    let router = load(config)?;
    let channel: ChannelKind = channel.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let rules = router.rules();
    let normalized = router.normalize(text);
    let mut msg = Message::new("dry-run", channel, text);
    msg.id = "dry-run".into();
    let d = router.route(&msg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut input = RuleInput::new(&normalized, channel);
    input.district = d.district.as_deref();
    println!("normalised: {normalized}");
    for t in rules.dry_run(&input) {
        if !all && !t.matches {
            continue;
        }
        let state = match (t.matches, t.applies) {
            (true, true) => "FIRES  ",
            (true, false) => "blocked",
            _ => "no     ",
        };
        print!("{state} {:<32} prio {:>4}", t.id, t.priority);
        if !t.patterns.is_empty() {
            print!("  hits {:?}", t.patterns);
        }
        if let Some(r) = &t.reason {
            print!("  ({r})");
        }
        println!();
    }
    println!(
        "decision: {} / {} -> {} (route {}, confidence {:.2}{})",
        d.intent,
        d.category,
        d.department,
        d.explanation.route.entry,
        d.confidence,
        if d.handoff { ", handoff" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The gap log named by `--gaps`: an SQLite file, or a store URL (`postgres://…`,
/// `sqlite://…`, `memory://`).
fn gap_log(path: &Path) -> Result<std::sync::Arc<dyn civic_router::faq::GapLog>> {
    civic_router::faq::open_gap_log(&path.to_string_lossy()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn faq_ask(
    config: &Path,
    channel: &str,
    gaps: Option<&Path>,
    top: usize,
    text: &str,
) -> Result<ExitCode> {
    let router = load(config)?;
    let Some(kb) = router.knowledge_base() else {
        bail!("{}: no [faq] section", config.display());
    };
    let channel: ChannelKind = channel.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("normalised: {}", router.normalize(text));
    for (i, h) in kb.search_top(text, top).iter().enumerate() {
        println!(
            "{}. {} ({}) score {:.2} confidence {:.2} [{}]",
            i + 1,
            h.entry.id,
            h.entry.category,
            h.score,
            h.confidence,
            h.matched.join(", ")
        );
    }
    let d = router
        .route(&Message::new("faq-ask", channel, text))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "decision: {} / {}{}",
        d.intent,
        d.category,
        if d.auto_answered {
            " — ANSWERED AUTOMATICALLY"
        } else {
            ""
        }
    );
    if let Some(t) = &d.explanation.faq {
        println!("faq: {}", t.reason);
    }
    if let Some(a) = &d.answer {
        println!("answer ({channel}): {}", a.text);
        for l in &a.links {
            println!("  link: {} {}", l.title, l.url);
        }
    } else if d.intent == civic_router::Intent::Information {
        if let Some(p) = gaps {
            let log = gap_log(p)?;
            let key = kb.gap_key(text);
            let n = log
                .record(&key, text, Some(&d.category), chrono::Utc::now())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "unanswered: counted in {} ({n} times so far)",
                civic_router::ticket::redact_url(&p.to_string_lossy())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn faq_gaps(gaps: &Path, limit: usize, json: bool) -> Result<ExitCode> {
    let log = gap_log(gaps)?;
    let top = log.top(limit).map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        for g in &top {
            println!("{}", serde_json::to_string(g)?);
        }
    } else {
        println!(
            "{:>6}  {:<20}  question (first wording)   [terms]",
            "asked", "category"
        );
        for g in &top {
            println!(
                "{:>6}  {:<20}  {}   [{}]",
                g.count,
                g.category.as_deref().unwrap_or("-"),
                one_line(&g.example, 90),
                g.key
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn faq_eval(
    config: &Path,
    corpus: &Path,
    show: bool,
    unanswered: bool,
    gaps: Option<&Path>,
    json: bool,
) -> Result<ExitCode> {
    let router = load(config)?;
    let Some(kb) = router.knowledge_base() else {
        bail!("{}: no [faq] section", config.display());
    };
    let log = gaps.map(gap_log).transpose()?;
    let gold: Vec<LabelledMessage> = read_corpus(corpus)?
        .into_iter()
        .filter(|g| g.intent == "information")
        .collect();
    let (mut answered, mut on_category) = (0usize, 0usize);
    let mut routed_information = 0usize;
    let mut per_cat: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut search_time = std::time::Duration::ZERO;
    for g in &gold {
        let d = router
            .route(&g.message)
            .map_err(|e| anyhow::anyhow!("message `{}`: {e}", g.message.id))?;
        let t = std::time::Instant::now();
        let _ = kb.search(&g.message.text);
        search_time += t.elapsed();
        routed_information += (d.intent == civic_router::Intent::Information) as usize;
        let e = per_cat.entry(g.category.clone()).or_default();
        e.0 += 1;
        match &d.answer {
            Some(a) => {
                answered += 1;
                e.1 += 1;
                let ok = a.category == g.category;
                on_category += ok as usize;
                e.2 += ok as usize;
                if show {
                    println!(
                        "ANSWERED\t{}\t{}\t{}\t{}\t{:.2}\t{}",
                        g.message.id,
                        g.category,
                        if ok { "same" } else { "OTHER" },
                        a.entry,
                        a.confidence,
                        one_line(&g.message.text, 120)
                    );
                }
            }
            None => {
                if show && unanswered {
                    println!(
                        "no\t{}\t{}\t{}\t{}",
                        g.message.id,
                        g.category,
                        d.explanation
                            .faq
                            .as_ref()
                            .map_or("not routed as information".to_string(), |t| t
                                .reason
                                .clone()),
                        one_line(&g.message.text, 120)
                    );
                }
                if let Some(log) = &log {
                    log.record(
                        &kb.gap_key(&g.message.text),
                        &g.message.text,
                        Some(&d.category),
                        chrono::Utc::now(),
                    )
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
        }
    }
    let n = gold.len().max(1) as f64;
    let share = answered as f64 / n;
    let precision = on_category as f64 / answered.max(1) as f64;
    let per_search_us = search_time.as_secs_f64() * 1e6 / n;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "information_messages": gold.len(),
                "routed_as_information": routed_information,
                "answered_automatically": answered,
                "answered_share": share,
                "answers_in_gold_category": on_category,
                "category_precision": precision,
                "entries": kb.len(),
                "search_microseconds": per_search_us,
                "per_category": per_cat.iter().map(|(k, v)| (k.clone(), serde_json::json!({"messages": v.0, "answered": v.1, "in_category": v.2}))).collect::<serde_json::Map<_, _>>(),
            }))?
        );
    } else {
        println!(
            "{} information messages ({} routed as information), knowledge base of {} entries",
            gold.len(),
            routed_information,
            kb.len()
        );
        println!(
            "answered automatically: {answered} ({:.1}%); in the message's category: {on_category} ({:.1}% of the answers)",
            share * 100.0,
            precision * 100.0
        );
        println!("search: {per_search_us:.1} µs a question\n");
        println!(
            "  {:<20} {:>8} {:>9} {:>12}",
            "category", "messages", "answered", "in category"
        );
        for (k, v) in &per_cat {
            println!("  {k:<20} {:>8} {:>9} {:>12}", v.0, v.1, v.2);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn embedded_file(rel: &str) -> Option<&'static str> {
    embedded::SEVILLA
        .iter()
        .find(|(p, _)| *p == rel)
        .map(|(_, c)| *c)
}

fn demo(config: Option<&Path>, messages: Option<&Path>) -> Result<ExitCode> {
    let router = match config {
        Some(p) => load(p)?,
        None => {
            let Some(src) = embedded_file("router.toml") else {
                bail!("this binary was built without the Seville example (examples/sevilla/router.toml)");
            };
            let cfg = Config::from_toml_with_loader(src, "examples/sevilla/router.toml", &|rel| {
                embedded_file(rel.trim_start_matches("./"))
                    .map(str::to_string)
                    .ok_or_else(|| "not embedded in this binary".to_string())
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            Router::from_config(cfg).map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    let text = match messages {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => embedded_file("messages.jsonl")
            .ok_or_else(|| {
                anyhow::anyhow!("no embedded sample messages (examples/sevilla/messages.jsonl)")
            })?
            .to_string(),
    };
    let mut msgs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        msgs.push(
            serde_json::from_str::<Message>(line)
                .with_context(|| format!("sample line {}", i + 1))?,
        );
    }
    let cfg = router.config();
    println!(
        "{} — {} rules, {} departments, {} districts\n",
        if cfg.router.name.is_empty() {
            "civic-router"
        } else {
            &cfg.router.name
        },
        router.rules().len(),
        cfg.departments.len(),
        cfg.districts.len()
    );
    let mut by: [BTreeMap<String, usize>; 3] = Default::default();
    let mut handoffs = 0;
    let mut auto_answered = 0usize;
    let start = std::time::Instant::now();
    let decisions = router.route_batch(&msgs);
    let elapsed = start.elapsed();
    for (m, d) in msgs.iter().zip(decisions) {
        let d = match d {
            Ok(d) => d,
            Err(e) => {
                println!("[{}] error: {e}\n", m.id);
                continue;
            }
        };
        println!("[{}] {} · {}", d.id, d.channel, one_line(&m.text, 100));
        println!(
            "   → {} / {} → {} ({}){}{}",
            d.intent,
            d.category,
            d.department_name,
            d.department,
            d.district
                .as_deref()
                .map(|x| format!(" · district {x}"))
                .unwrap_or_default(),
            if d.handoff { " · HUMAN AGENT" } else { "" }
        );
        let why: Vec<String> = d
            .explanation
            .rules
            .iter()
            .map(|r| {
                if r.patterns.is_empty() {
                    r.id.clone()
                } else {
                    format!("{} [{}]", r.id, r.patterns.join(", "))
                }
            })
            .collect();
        println!(
            "   why: {}; route {}; confidence {:.2}, priority {}",
            if why.is_empty() {
                "no rule fired".to_string()
            } else {
                format!("rules {}", why.join("; "))
            },
            d.explanation.route.entry,
            d.confidence,
            d.priority
        );
        if let Some(dm) = &d.explanation.district {
            println!("   district from {} \"{}\"", dm.source, dm.matched);
        }
        if let Some(a) = &d.answer {
            println!(
                "   ANSWERED AUTOMATICALLY from `{}` (score {:.2}, confidence {:.2})",
                a.entry, a.score, a.confidence
            );
        }
        if let Some(r) = &d.reply {
            println!("   reply: {}", one_line(r, 140));
        }
        println!();
        auto_answered += d.auto_answered as usize;
        *by[0].entry(d.channel.to_string()).or_default() += 1;
        *by[1].entry(d.intent.to_string()).or_default() += 1;
        *by[2].entry(d.department.clone()).or_default() += 1;
        handoffs += d.handoff as usize;
    }
    println!(
        "summary: {} messages routed in {:.2?} ({} to a human agent, {} answered automatically)",
        msgs.len(),
        elapsed,
        handoffs,
        auto_answered
    );
    for (title, m) in ["channel", "intent", "department"].iter().zip(by.iter()) {
        println!("\n  {title:<28} messages");
        for (k, v) in m {
            println!("  {k:<28} {v:>8}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    } else {
        s
    }
}
