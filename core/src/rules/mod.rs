//! The rule engine: rules are data written by service staff, compiled once into one
//! multi-pattern matcher, evaluated over the patterns that hit.
//!
//! A rule file (TOML or JSON) is a list of rules; each has conditions (`when`, `unless`) and
//! actions (`then`). Loading validates everything at once and refuses a bad file with the file,
//! the rule id, the field and the reason. A compiled [`RuleSet`] is immutable, `Send + Sync`,
//! and scans a message's text once whatever the number of rules (see [`matcher`]).
//!
//! ```
//! use civic_router::rules::{RuleSet, RuleInput, Vocabulary};
//! use civic_router::message::ChannelKind;
//! use civic_router::text::Normalizer;
//!
//! let rules = RuleSet::from_toml(r#"
//!     [[rule]]
//!     id = "lighting-outage"
//!     priority = 50
//!     when.any_text = ['\bfarolas?\b', 'alumbrado']
//!     when.channel = ["whatsapp", "app", "sms"]
//!     unless.any_words = ["no es urgente"]
//!     then = { intent = "incident", category = "alumbrado" }
//! "#, "rules.toml", &Vocabulary::permissive()).unwrap();
//!
//! let text = Normalizer::spanish().normalize("La FAROLA de mi calle está apagada");
//! let out = rules.evaluate(&RuleInput::new(&text, ChannelKind::Whatsapp));
//! assert_eq!(out.classification.category.as_deref(), Some("alumbrado"));
//! assert_eq!(out.fired[0].id, "lighting-outage");
//! assert_eq!(out.fired[0].patterns, vec![r"\bfarolas?\b"]);
//! ```

mod compile;
pub(crate) mod matcher;
pub mod schema;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::classify::Classification;
use crate::message::ChannelKind;
use crate::text::{NormalizedText, Normalizer};

pub use schema::{ActionSpec, ConditionSpec, MatchMode, RuleFile, RuleSpec, TimeWindowSpec};

use matcher::{Hits, Matcher, PatId};

/// One problem found in a rule file: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleIssue {
    /// The file (or other origin) the rule came from.
    pub file: String,
    /// The rule id, when the problem is inside a rule.
    pub rule: Option<String>,
    /// The field, as a path (`when.any_text[2]`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for RuleIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) => write!(
                f,
                "{}: rule `{}`: {}: {}",
                self.file, r, self.field, self.reason
            ),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.reason),
        }
    }
}

/// A rule file refused at load: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleSetError {
    /// The problems, in file order.
    pub issues: Vec<RuleIssue>,
}

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid rules ({} problem", self.issues.len())?;
        if self.issues.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str(")")?;
        for i in &self.issues {
            write!(f, "\n  - {i}")?;
        }
        Ok(())
    }
}

/// The names a rule file may refer to. Rules naming anything else are refused.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Known department ids (`None`: any).
    pub departments: Option<BTreeSet<String>>,
    /// Known category ids (`None`: any).
    pub categories: Option<BTreeSet<String>>,
    /// Known district ids (`None`: any).
    pub districts: Option<BTreeSet<String>>,
    /// Named sender lists.
    pub sender_lists: HashMap<String, Vec<String>>,
    /// Placeholders a reply template may use (`None`: any).
    pub placeholders: Option<BTreeSet<String>>,
}

impl Vocabulary {
    /// A vocabulary that accepts any department, category and district name.
    pub fn permissive() -> Self {
        Vocabulary::default()
    }
}

/// The message as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct RuleInput<'a> {
    /// Normalised text.
    pub text: &'a NormalizedText,
    /// Channel.
    pub channel: ChannelKind,
    /// Whether an attachment came with it.
    pub has_attachment: bool,
    /// Whether a location came with it.
    pub has_location: bool,
    /// Resolved district.
    pub district: Option<&'a str>,
    /// Local time of reception.
    pub local_time: Option<NaiveDateTime>,
    /// Sender identifiers (contact id, phone, e-mail).
    pub senders: [Option<&'a str>; 3],
}

impl<'a> RuleInput<'a> {
    /// An input with just text and channel.
    pub fn new(text: &'a NormalizedText, channel: ChannelKind) -> Self {
        RuleInput {
            text,
            channel,
            has_attachment: false,
            has_location: false,
            district: None,
            local_time: None,
            senders: [None; 3],
        }
    }
}

/// A rule that fired, and the patterns that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule {
    /// The rule id.
    pub id: String,
    /// The patterns of its conditions that matched, as written.
    pub patterns: Vec<String>,
}

/// The result of running a rule set over one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleOutcome {
    /// The merged actions of the rules that fired.
    pub classification: Classification,
    /// The rules that fired, in the order they ran.
    pub fired: Vec<FiredRule>,
}

/// One rule's verdict in a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTrace {
    /// The rule id.
    pub id: String,
    /// Its priority.
    pub priority: i32,
    /// Whether its conditions hold for this message.
    pub matches: bool,
    /// Whether it would apply its actions (it matches and no earlier rule stopped the run).
    pub applies: bool,
    /// Patterns of its conditions that matched.
    pub patterns: Vec<String>,
    /// Why it does not match, when it does not.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    True,
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Pattern(PatId),
    Channels(u8),
    HasAttachment(bool),
    HasLocation(bool),
    Districts(Vec<Arc<str>>),
    Time { from: u32, to: u32 },
    Days(u8),
    Senders(Arc<BTreeSet<String>>),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) priority: i32,
    /// the conditions as written (explanations follow this order)
    pub(crate) cond: Cond,
    /// the same conditions, cheapest first, for evaluation
    pub(crate) fast: Cond,
    pub(crate) action: Classification,
    pub(crate) stop: bool,
    /// patterns referenced by the conditions, for explanations
    pub(crate) patterns: Vec<PatId>,
}

/// A compiled, immutable rule set. Cheap to share (`Arc`) across threads.
pub struct RuleSet {
    pub(crate) mode: MatchMode,
    /// Sorted by (priority desc, file order).
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) matcher: Matcher,
    /// pattern → indexes of rules for which that pattern is a trigger
    pub(crate) triggers: Vec<Vec<u32>>,
    /// rules with no required pattern: always evaluated
    pub(crate) always: Vec<u32>,
    /// the patterns as written, for explanations
    pub(crate) sources: Vec<String>,
    pub(crate) normalizer: Normalizer,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("mode", &self.mode)
            .field("rules", &self.rules.len())
            .field("patterns", &self.matcher.len())
            .finish()
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    hits: Hits,
    candidates: Vec<u32>,
}

/// A message under evaluation: its input, the matcher and the per-message hits.
struct Probe<'m, 'i, 'h> {
    matcher: &'m Matcher,
    input: &'m RuleInput<'i>,
    hits: &'h mut Hits,
}

impl Probe<'_, '_, '_> {
    #[inline]
    fn pattern(&mut self, p: PatId) -> bool {
        self.matcher
            .is_match(p, self.input.text.as_str(), self.hits)
    }

    fn eval(&mut self, c: &Cond) -> bool {
        match c {
            Cond::True => true,
            Cond::All(cs) => cs.iter().all(|c| self.eval(c)),
            Cond::Any(cs) => cs.iter().any(|c| self.eval(c)),
            Cond::Not(c) => !self.eval(c),
            Cond::Pattern(p) => self.pattern(*p),
            other => eval_plain(other, self.input),
        }
    }
}

impl RuleSet {
    /// Loads a rule file in TOML.
    pub fn from_toml(src: &str, origin: &str, vocab: &Vocabulary) -> Result<RuleSet, RuleSetError> {
        compile::parse_toml(src, origin).and_then(|f| RuleSet::from_files(&[(origin, f)], vocab))
    }

    /// Loads a rule file in JSON.
    ///
    /// ```
    /// use civic_router::rules::{RuleSet, Vocabulary};
    /// let rs = RuleSet::from_json(r#"{"rule": [{"id": "r", "when": {"any_words": ["bache"]},
    ///     "then": {"category": "via_publica"}}]}"#, "rules.json", &Vocabulary::permissive()).unwrap();
    /// assert_eq!(rs.len(), 1);
    /// ```
    pub fn from_json(src: &str, origin: &str, vocab: &Vocabulary) -> Result<RuleSet, RuleSetError> {
        compile::parse_json(src, origin).and_then(|f| RuleSet::from_files(&[(origin, f)], vocab))
    }

    /// Loads a rule file from disk, TOML or JSON by extension.
    pub fn from_path(
        path: impl AsRef<std::path::Path>,
        vocab: &Vocabulary,
    ) -> Result<RuleSet, RuleSetError> {
        let (origin, file) = compile::read_path(path.as_ref())?;
        RuleSet::from_files(&[(&origin, file)], vocab)
    }

    /// Compiles several parsed rule files into one set. The mode is that of the first file
    /// that states one; files that state a different one are refused.
    pub fn from_files(
        files: &[(&str, RuleFile)],
        vocab: &Vocabulary,
    ) -> Result<RuleSet, RuleSetError> {
        compile::compile(files, vocab, Normalizer::spanish())
    }

    /// Like [`from_files`](Self::from_files), with a given normaliser (it must be the one that
    /// normalises the messages).
    pub fn from_files_with(
        files: &[(&str, RuleFile)],
        vocab: &Vocabulary,
        normalizer: Normalizer,
    ) -> Result<RuleSet, RuleSetError> {
        compile::compile(files, vocab, normalizer)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Number of distinct patterns compiled.
    pub fn pattern_count(&self) -> usize {
        self.matcher.len()
    }

    /// The match mode.
    pub fn mode(&self) -> MatchMode {
        self.mode
    }

    /// Rule ids in evaluation order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.id.as_str())
    }

    /// The normaliser the patterns were folded with.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Every pattern of the set that matches the text, as first written in the rule files, in
    /// the order the patterns were compiled. One scan, whatever the number of rules; useful to
    /// see what a message hits, and to compare the engine with another matcher.
    ///
    /// ```
    /// use civic_router::rules::{RuleSet, Vocabulary};
    /// use civic_router::text::Normalizer;
    /// let rs = RuleSet::from_toml(r#"
    ///     [[rule]]
    ///     id = "a"
    ///     when.any_words = ["bache*", "socavón"]
    ///     when.none_text = ['\barreglad[oa]\b']
    ///     then.category = "via_publica"
    /// "#, "r.toml", &Vocabulary::permissive()).unwrap();
    /// let t = Normalizer::spanish().normalize("Dos BACHES y un socavón, ¡ya arreglado!");
    /// assert_eq!(rs.matching_patterns(&t), vec![r"\barreglad[oa]\b", "bache*", "socavón"]);
    /// ```
    pub fn matching_patterns(&self, text: &NormalizedText) -> Vec<&str> {
        let mut hits = Hits::default();
        self.matcher
            .all_matches(text.as_str(), &mut hits)
            .into_iter()
            .map(|p| self.sources[p as usize].as_str())
            .collect()
    }

    /// Runs the rules over a message: the merged actions and the rules that fired.
    pub fn evaluate(&self, input: &RuleInput<'_>) -> RuleOutcome {
        let mut out = RuleOutcome::default();
        let mut confidence_set = false;
        self.run(input, |rule, probe| {
            let patterns: Vec<String> = rule
                .patterns
                .iter()
                .filter(|p| probe.pattern(**p))
                .map(|p| self.sources[*p as usize].clone())
                .collect();
            merge(&mut out.classification, &rule.action, &mut confidence_set);
            out.fired.push(FiredRule {
                id: rule.id.clone(),
                patterns,
            });
            if rule.stop {
                out.classification.authoritative = true;
            }
        });
        out
    }

    /// The ids of the rules that fire on a message, in the order they run, appended to `out`:
    /// what [`evaluate`](Self::evaluate) decides, without building the outcome (no
    /// allocation once `out` has room). For callers that only need to know which rules fire.
    ///
    /// ```
    /// use civic_router::rules::{RuleSet, RuleInput, Vocabulary};
    /// use civic_router::message::ChannelKind;
    /// use civic_router::text::Normalizer;
    /// let rs = RuleSet::from_toml(r#"
    ///     mode = "all_match"
    ///     [[rule]]
    ///     id = "bache"
    ///     when.any_text = ['\bbaches?\b']
    ///     then.category = "via_publica"
    ///     [[rule]]
    ///     id = "urgente"
    ///     priority = 10
    ///     when.any_words = ["urgente", "peligro*"]
    ///     then.priority = "high"
    /// "#, "r.toml", &Vocabulary::permissive()).unwrap();
    /// let t = Normalizer::spanish().normalize("Un bache muy peligroso");
    /// let mut ids = Vec::new();
    /// rs.fired_ids(&RuleInput::new(&t, ChannelKind::Sms), &mut ids);
    /// assert_eq!(ids, ["urgente", "bache"]);
    /// ```
    pub fn fired_ids<'s>(&'s self, input: &RuleInput<'_>, out: &mut Vec<&'s str>) {
        self.run(input, |rule, _| out.push(&rule.id));
    }

    /// The engine: one scan, then the candidate rules in order; `fire` is called for each rule
    /// that fires, and the run ends after a rule that stops.
    fn run<'s>(
        &'s self,
        input: &RuleInput<'_>,
        mut fire: impl FnMut(&'s CompiledRule, &mut Probe<'_, '_, '_>),
    ) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let Scratch { hits, candidates } = &mut *s;
            self.matcher.scan(input.text.as_str(), hits);
            candidates.clear();
            candidates.extend_from_slice(&self.always);
            for &p in &hits.touched {
                candidates.extend_from_slice(&self.triggers[p as usize]);
            }
            candidates.sort_unstable();
            candidates.dedup();
            let mut probe = Probe {
                matcher: &self.matcher,
                input,
                hits,
            };
            for &ri in candidates.iter() {
                let rule = &self.rules[ri as usize];
                if !probe.eval(&rule.fast) {
                    continue;
                }
                fire(rule, &mut probe);
                if rule.stop {
                    break;
                }
            }
        })
    }

    /// A dry run: every rule's verdict on the message, in evaluation order, with the reason a
    /// rule does not match and whether an earlier rule's `stop` keeps it from applying.
    ///
    /// ```
    /// use civic_router::rules::{RuleSet, RuleInput, Vocabulary};
    /// use civic_router::message::ChannelKind;
    /// use civic_router::text::Normalizer;
    /// let rs = RuleSet::from_toml(r#"
    ///     [[rule]]
    ///     id = "a"
    ///     when.any_words = ["bache"]
    ///     then.category = "via_publica"
    ///     [[rule]]
    ///     id = "b"
    ///     when.channel = ["sms"]
    ///     then.category = "general"
    /// "#, "r.toml", &Vocabulary::permissive()).unwrap();
    /// let t = Normalizer::spanish().normalize("un bache enorme");
    /// let trace = rs.dry_run(&RuleInput::new(&t, ChannelKind::Whatsapp));
    /// assert!(trace[0].applies);
    /// assert!(!trace[1].matches);
    /// assert_eq!(trace[1].reason.as_deref(), Some("channel is not one of [sms]"));
    /// ```
    pub fn dry_run(&self, input: &RuleInput<'_>) -> Vec<RuleTrace> {
        let mut hits = Hits::default();
        let matched = self.matcher.all_matches(input.text.as_str(), &mut hits);
        let hits = Matched(&matched);
        let mut stopped = false;
        let mut out = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            let matches = eval(&rule.cond, input, &hits);
            let reason = if matches {
                None
            } else {
                Some(self.why_not(&rule.cond, input, &hits, false))
            };
            let applies = matches && !stopped;
            if applies && rule.stop {
                stopped = true;
            }
            out.push(RuleTrace {
                id: rule.id.clone(),
                priority: rule.priority,
                matches,
                applies,
                patterns: rule
                    .patterns
                    .iter()
                    .filter(|p| hits.contains(**p))
                    .map(|p| self.sources[*p as usize].clone())
                    .collect(),
                reason,
            });
        }
        out
    }

    /// A human description of why `c` is false (or, with `negated`, why it is true).
    fn why_not(
        &self,
        c: &Cond,
        input: &RuleInput<'_>,
        hits: &Matched<'_>,
        negated: bool,
    ) -> String {
        match c {
            Cond::True => "always".into(),
            Cond::All(cs) => {
                if negated {
                    "all of its conditions hold".into()
                } else {
                    cs.iter()
                        .find(|c| !eval(c, input, hits))
                        .map(|c| self.why_not(c, input, hits, false))
                        .unwrap_or_default()
                }
            }
            Cond::Any(cs) => {
                if negated {
                    cs.iter()
                        .find(|c| eval(c, input, hits))
                        .map(|c| self.why_not(c, input, hits, true))
                        .unwrap_or_default()
                } else {
                    let pats: Vec<&str> = cs
                        .iter()
                        .filter_map(|c| match c {
                            Cond::Pattern(p) => Some(self.sources[*p as usize].as_str()),
                            _ => None,
                        })
                        .collect();
                    if pats.len() == cs.len() {
                        format!("none of [{}] matches", pats.join(", "))
                    } else {
                        "none of its alternatives holds".into()
                    }
                }
            }
            Cond::Not(inner) => self.why_not(inner, input, hits, !negated),
            Cond::Pattern(p) => {
                let src = &self.sources[*p as usize];
                if negated {
                    format!("`{src}` matches (excluded)")
                } else {
                    format!("`{src}` does not match")
                }
            }
            Cond::Channels(mask) => {
                let names: Vec<&str> = ChannelKind::ALL
                    .iter()
                    .filter(|c| mask & channel_bit(**c) != 0)
                    .map(|c| c.as_str())
                    .collect();
                if negated {
                    format!("channel is one of [{}] (excluded)", names.join(", "))
                } else {
                    format!("channel is not one of [{}]", names.join(", "))
                }
            }
            Cond::HasAttachment(b) => format!("has_attachment is not {}", b ^ negated),
            Cond::HasLocation(b) => format!("has_location is not {}", b ^ negated),
            Cond::Districts(ds) => format!(
                "district {} one of [{}]",
                if negated { "is" } else { "is not" },
                ds.iter().map(|d| &**d).collect::<Vec<_>>().join(", ")
            ),
            Cond::Time { from, to } => format!(
                "local time {} the window {:02}:{:02}–{:02}:{:02}",
                if negated {
                    "is inside"
                } else {
                    "is outside (or unknown)"
                },
                from / 60,
                from % 60,
                to / 60,
                to % 60
            ),
            Cond::Days(_) => format!(
                "day of week {}",
                if negated {
                    "is excluded"
                } else {
                    "is not listed (or unknown)"
                }
            ),
            Cond::Senders(_) => format!("sender {} listed", if negated { "is" } else { "is not" }),
        }
    }
}

pub(crate) fn channel_bit(c: ChannelKind) -> u8 {
    1 << (c as u8)
}

fn merge(into: &mut Classification, action: &Classification, confidence_set: &mut bool) {
    if into.intent.is_none() && action.intent.is_some() {
        into.intent = action.intent;
        into.confidence = action.confidence;
        *confidence_set = true;
    }
    if into.category.is_none() && action.category.is_some() {
        into.category = action.category.clone();
        if !*confidence_set {
            into.confidence = action.confidence;
            *confidence_set = true;
        } else {
            into.confidence = into.confidence.min(action.confidence);
        }
    }
    if into.department.is_none() {
        into.department = action.department.clone();
    }
    if into.priority.is_none() {
        into.priority = action.priority;
    }
    if into.reply.is_none() {
        into.reply = action.reply.clone();
    }
    for t in &action.tags {
        if !into.tags.contains(t) {
            into.tags.push(t.clone());
        }
    }
    into.handoff |= action.handoff;
}

/// The patterns known to match a message (sorted), for dry runs and explanations.
struct Matched<'a>(&'a [PatId]);

impl Matched<'_> {
    fn contains(&self, p: PatId) -> bool {
        self.0.binary_search(&p).is_ok()
    }
}

fn eval(c: &Cond, input: &RuleInput<'_>, hits: &Matched<'_>) -> bool {
    match c {
        Cond::True => true,
        Cond::All(cs) => cs.iter().all(|c| eval(c, input, hits)),
        Cond::Any(cs) => cs.iter().any(|c| eval(c, input, hits)),
        Cond::Not(c) => !eval(c, input, hits),
        Cond::Pattern(p) => hits.contains(*p),
        other => eval_plain(other, input),
    }
}

/// A condition that does not look at the text.
fn eval_plain(c: &Cond, input: &RuleInput<'_>) -> bool {
    match c {
        Cond::Channels(mask) => mask & channel_bit(input.channel) != 0,
        Cond::HasAttachment(b) => input.has_attachment == *b,
        Cond::HasLocation(b) => input.has_location == *b,
        Cond::Districts(ds) => input.district.is_some_and(|d| ds.iter().any(|x| &**x == d)),
        Cond::Time { from, to } => input.local_time.is_some_and(|t| {
            let m = minutes(t.time());
            if from <= to {
                *from <= m && m < *to
            } else {
                m >= *from || m < *to
            }
        }),
        Cond::Days(mask) => input
            .local_time
            .is_some_and(|t| mask & (1 << t.weekday().num_days_from_monday()) != 0),
        Cond::Senders(set) => input.senders.iter().flatten().any(|s| set.contains(*s)),
        Cond::True | Cond::All(_) | Cond::Any(_) | Cond::Not(_) | Cond::Pattern(_) => {
            unreachable!("text and compound conditions are evaluated by the caller")
        }
    }
}

fn minutes(t: NaiveTime) -> u32 {
    t.hour() * 60 + t.minute()
}

/// Parses a TOML rule file without compiling it.
pub(crate) fn parse_rule_toml(src: &str, origin: &str) -> Result<RuleFile, RuleSetError> {
    compile::parse_toml(src, origin)
}

/// Parses a JSON rule file without compiling it.
pub(crate) fn parse_rule_json(src: &str, origin: &str) -> Result<RuleFile, RuleSetError> {
    compile::parse_json(src, origin)
}

/// Checks a reply template's placeholders.
pub(crate) fn check_template_pub(t: &str, known: Option<&BTreeSet<String>>) -> Result<(), String> {
    compile::check_template(t, known)
}

#[cfg(test)]
mod tests;
