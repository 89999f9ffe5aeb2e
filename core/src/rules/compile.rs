//! Parsing, validation and compilation of rule files.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::classify::Classification;
use crate::message::ChannelKind;
use crate::text::{fold_regex, Normalizer};

use super::matcher::{
    build_regex, parse_hir, Matcher, PatClass, PatId, PatternKind, MAX_PATTERN_LEN,
};
use super::{
    channel_bit, ActionSpec, CompiledRule, Cond, ConditionSpec, MatchMode, RuleFile, RuleIssue,
    RuleSet, RuleSetError, RuleSpec, Vocabulary,
};

/// Most rules one set may hold.
pub const MAX_RULES: usize = 20_000;
/// Deepest nesting of `any` / `all` / `not`.
const MAX_DEPTH: usize = 16;
/// Default confidence of a rule's labels.
const DEFAULT_CONFIDENCE: f32 = 0.9;

fn issue(
    file: &str,
    rule: Option<&str>,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> RuleIssue {
    RuleIssue {
        file: file.to_string(),
        rule: rule.map(str::to_string),
        field: field.into(),
        reason: reason.into(),
    }
}

fn err1(i: RuleIssue) -> RuleSetError {
    RuleSetError { issues: vec![i] }
}

/// Parses a TOML rule file, naming the rule and field of any schema error.
pub(crate) fn parse_toml(src: &str, origin: &str) -> Result<RuleFile, RuleSetError> {
    let value: toml::Value = toml::from_str(src)
        .map_err(|e| err1(issue(origin, None, "(syntax)", one_line(&e.to_string()))))?;
    let json = serde_json::to_value(&value)
        .map_err(|e| err1(issue(origin, None, "(syntax)", e.to_string())))?;
    from_value(json, origin)
}

/// Parses a JSON rule file, naming the rule and field of any schema error.
pub(crate) fn parse_json(src: &str, origin: &str) -> Result<RuleFile, RuleSetError> {
    let json: serde_json::Value = serde_json::from_str(src)
        .map_err(|e| err1(issue(origin, None, "(syntax)", e.to_string())))?;
    from_value(json, origin)
}

/// Reads a rule file from disk (TOML, or JSON for a `.json` extension).
pub(crate) fn read_path(path: &Path) -> Result<(String, RuleFile), RuleSetError> {
    let origin = path.display().to_string();
    let src = std::fs::read_to_string(path)
        .map_err(|e| err1(issue(&origin, None, "(file)", format!("cannot read: {e}"))))?;
    let file = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        parse_json(&src, &origin)?
    } else {
        parse_toml(&src, &origin)?
    };
    Ok((origin, file))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn from_value(json: serde_json::Value, origin: &str) -> Result<RuleFile, RuleSetError> {
    let serde_json::Value::Object(mut top) = json else {
        return Err(err1(issue(
            origin,
            None,
            "(top)",
            "a rule file is a table with `mode` and `rule` entries",
        )));
    };
    let mut issues = Vec::new();
    for k in top.keys() {
        if k != "mode" && k != "rule" {
            issues.push(issue(
                origin,
                None,
                k.clone(),
                "unknown field (expected `mode` or `rule`)",
            ));
        }
    }
    let mode = match top.remove("mode") {
        None => None,
        Some(v) => match serde_json::from_value::<MatchMode>(v) {
            Ok(m) => Some(m),
            Err(_) => {
                issues.push(issue(
                    origin,
                    None,
                    "mode",
                    "expected `first_match` or `all_match`",
                ));
                None
            }
        },
    };
    let mut rules = Vec::new();
    match top.remove("rule") {
        None => {}
        Some(serde_json::Value::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                let id = item.get("id").and_then(|v| v.as_str()).map(str::to_string);
                let label = id.clone().unwrap_or_else(|| format!("#{}", i + 1));
                match serde_path_to_error::deserialize::<_, RuleSpec>(item) {
                    Ok(r) => rules.push(r),
                    Err(e) => {
                        let path = e.path().to_string();
                        let field = if path == "." {
                            "(rule)".to_string()
                        } else {
                            path
                        };
                        issues.push(issue(
                            origin,
                            Some(&label),
                            field,
                            e.into_inner().to_string(),
                        ));
                    }
                }
            }
        }
        Some(_) => issues.push(issue(
            origin,
            None,
            "rule",
            "expected an array of rules (`[[rule]]`)",
        )),
    }
    if issues.is_empty() {
        Ok(RuleFile { mode, rules })
    } else {
        Err(RuleSetError { issues })
    }
}

struct Builder<'a> {
    vocab: &'a Vocabulary,
    normalizer: &'a Normalizer,
    patterns: Vec<PatternKind>,
    sources: Vec<String>,
    index: HashMap<PatternKind, PatId>,
    issues: Vec<RuleIssue>,
    senders: HashMap<Vec<String>, Arc<BTreeSet<String>>>,
}

impl Builder<'_> {
    fn pattern(&mut self, kind: PatternKind, written: &str) -> PatId {
        if let Some(&id) = self.index.get(&kind) {
            return id;
        }
        let id = self.patterns.len() as PatId;
        self.index.insert(kind.clone(), id);
        self.patterns.push(kind);
        self.sources.push(written.to_string());
        id
    }

    fn cond(
        &mut self,
        file: &str,
        rule: &str,
        path: &str,
        spec: &ConditionSpec,
        depth: usize,
    ) -> Cond {
        let mut parts = Vec::new();
        let bad = |b: &mut Self, field: &str, reason: String| {
            b.issues
                .push(issue(file, Some(rule), join(path, field), reason));
        };
        if depth > MAX_DEPTH {
            bad(
                self,
                "",
                format!("conditions nest deeper than {MAX_DEPTH} levels"),
            );
            return Cond::True;
        }
        let text_lists: [(&str, &Option<Vec<String>>, bool, u8); 6] = [
            ("any_text", &spec.any_text, true, 0),
            ("all_text", &spec.all_text, true, 1),
            ("none_text", &spec.none_text, true, 2),
            ("any_words", &spec.any_words, false, 0),
            ("all_words", &spec.all_words, false, 1),
            ("none_words", &spec.none_words, false, 2),
        ];
        for (field, list, is_regex, how) in text_lists {
            let Some(list) = list else { continue };
            if list.is_empty() {
                bad(
                    self,
                    field,
                    "empty list: the condition could never be met".into(),
                );
                continue;
            }
            let mut pats = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                let f = format!("{field}[{i}]");
                let kind = if is_regex {
                    match fold_regex(p) {
                        Err(e) => {
                            bad(self, &f, format!("invalid pattern `{p}`: {e}"));
                            continue;
                        }
                        Ok(folded) => match build_regex(&folded) {
                            Err(e) => {
                                bad(self, &f, format!("invalid pattern `{p}`: {e}"));
                                continue;
                            }
                            Ok(_) => {
                                if parse_hir(&folded)
                                    .is_none_or(|h| h.properties().minimum_len() == Some(0))
                                {
                                    bad(self, &f, format!("pattern `{p}` can match the empty string, so it holds on almost any message; every match must consume at least one character"));
                                    continue;
                                }
                                PatternKind::Regex(folded)
                            }
                        },
                    }
                } else {
                    let (body, prefix) = match p.strip_suffix('*') {
                        Some(b) => (b, true),
                        None => (p.as_str(), false),
                    };
                    if body.len() > MAX_PATTERN_LEN {
                        bad(
                            self,
                            &f,
                            format!(
                                "pattern is {} bytes long; the limit is {MAX_PATTERN_LEN}",
                                body.len()
                            ),
                        );
                        continue;
                    }
                    let phrase = self.normalizer.normalize_phrase(body);
                    if phrase.is_empty() {
                        bad(self, &f, format!("`{p}` has no letters or digits after normalisation, so it could never match"));
                        continue;
                    }
                    PatternKind::Words { phrase, prefix }
                };
                pats.push(Cond::Pattern(self.pattern(kind, p)));
            }
            if pats.is_empty() {
                continue;
            }
            parts.push(match how {
                0 => Cond::Any(pats),
                1 => Cond::All(pats),
                _ => Cond::Not(Box::new(Cond::Any(pats))),
            });
        }
        if let Some(ch) = &spec.channel {
            if ch.is_empty() {
                bad(
                    self,
                    "channel",
                    "empty list: the condition could never be met".into(),
                );
            } else {
                parts.push(Cond::Channels(
                    ch.iter().fold(0, |m, c| m | channel_bit(*c)),
                ));
            }
        }
        if let Some(b) = spec.has_attachment {
            parts.push(Cond::HasAttachment(b));
        }
        if let Some(b) = spec.has_location {
            parts.push(Cond::HasLocation(b));
        }
        if let Some(ds) = &spec.district {
            if ds.is_empty() {
                bad(
                    self,
                    "district",
                    "empty list: the condition could never be met".into(),
                );
            }
            for (i, d) in ds.iter().enumerate() {
                if let Some(known) = &self.vocab.districts {
                    if !known.contains(d) {
                        bad(
                            self,
                            &format!("district[{i}]"),
                            format!("unknown district `{d}` (known: {})", list(known)),
                        );
                    }
                }
            }
            if !ds.is_empty() {
                parts.push(Cond::Districts(
                    ds.iter().map(|d| Arc::from(d.as_str())).collect(),
                ));
            }
        }
        if let Some(t) = &spec.time {
            match (parse_hhmm(&t.from), parse_hhmm(&t.to)) {
                (Some(from), Some(to)) if from != to => parts.push(Cond::Time { from, to }),
                (Some(_), Some(_)) => bad(
                    self,
                    "time",
                    "`from` equals `to`: the window is empty, so the rule could never fire".into(),
                ),
                (None, _) => bad(
                    self,
                    "time.from",
                    format!("`{}` is not a time HH:MM", t.from),
                ),
                (_, None) => bad(self, "time.to", format!("`{}` is not a time HH:MM", t.to)),
            }
        }
        if let Some(days) = &spec.days {
            if days.is_empty() {
                bad(
                    self,
                    "days",
                    "empty list: the condition could never be met".into(),
                );
            }
            let mut mask = 0u8;
            for (i, d) in days.iter().enumerate() {
                match parse_day(d) {
                    Some(b) => mask |= 1 << b,
                    None => bad(
                        self,
                        &format!("days[{i}]"),
                        format!("`{d}` is not a day (mon, tue, wed, thu, fri, sat, sun)"),
                    ),
                }
            }
            if mask != 0 {
                parts.push(Cond::Days(mask));
            }
        }
        let mut senders: Vec<String> = Vec::new();
        if let Some(s) = &spec.sender {
            if s.is_empty() {
                bad(
                    self,
                    "sender",
                    "empty list: the condition could never be met".into(),
                );
            }
            senders.extend(s.iter().cloned());
        }
        if let Some(lists) = &spec.sender_list {
            if lists.is_empty() {
                bad(
                    self,
                    "sender_list",
                    "empty list: the condition could never be met".into(),
                );
            }
            for (i, l) in lists.iter().enumerate() {
                match self.vocab.sender_lists.get(l) {
                    Some(v) => senders.extend(v.iter().cloned()),
                    None => bad(
                        self,
                        &format!("sender_list[{i}]"),
                        format!("unknown sender list `{l}`"),
                    ),
                }
            }
        }
        if spec.sender.is_some() || spec.sender_list.is_some() {
            senders.sort();
            senders.dedup();
            let set = self
                .senders
                .entry(senders.clone())
                .or_insert_with(|| Arc::new(senders.into_iter().collect()))
                .clone();
            parts.push(Cond::Senders(set));
        }
        if let Some(any) = &spec.any {
            if any.is_empty() {
                bad(
                    self,
                    "any",
                    "empty list: the condition could never be met".into(),
                );
            } else {
                let cs = any
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        self.cond(file, rule, &join(path, &format!("any[{i}]")), c, depth + 1)
                    })
                    .collect();
                parts.push(Cond::Any(cs));
            }
        }
        if let Some(all) = &spec.all {
            if all.is_empty() {
                bad(
                    self,
                    "all",
                    "empty list: the condition could never be met".into(),
                );
            } else {
                let cs = all
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        self.cond(file, rule, &join(path, &format!("all[{i}]")), c, depth + 1)
                    })
                    .collect();
                parts.push(Cond::All(cs));
            }
        }
        if let Some(not) = &spec.not {
            let c = self.cond(file, rule, &join(path, "not"), not, depth + 1);
            if matches!(c, Cond::True) {
                bad(
                    self,
                    "not",
                    "negates a condition that always holds, so the rule could never fire".into(),
                );
            }
            parts.push(Cond::Not(Box::new(c)));
        }
        let c = match parts.len() {
            0 => Cond::True,
            1 => parts.pop().unwrap_or(Cond::True),
            _ => Cond::All(parts),
        };
        if let Some(reason) = contradiction(&c) {
            bad(
                self,
                "",
                format!(
                    "the conditions contradict each other ({reason}), so the rule could never fire"
                ),
            );
        }
        c
    }

    fn action(&mut self, file: &str, rule: &str, spec: &ActionSpec) -> Classification {
        if let (Some(c), Some(known)) = (&spec.category, &self.vocab.categories) {
            if !known.contains(c) {
                self.issues.push(issue(
                    file,
                    Some(rule),
                    "then.category",
                    format!("unknown category `{c}` (known: {})", list(known)),
                ));
            }
        }
        if let (Some(d), Some(known)) = (&spec.department, &self.vocab.departments) {
            if !known.contains(d) {
                self.issues.push(issue(
                    file,
                    Some(rule),
                    "then.department",
                    format!("unknown department `{d}` (known: {})", list(known)),
                ));
            }
        }
        if let Some(c) = spec.confidence {
            if !(0.0..=1.0).contains(&c) || c.is_nan() {
                self.issues.push(issue(
                    file,
                    Some(rule),
                    "then.confidence",
                    format!("{c} is not between 0 and 1"),
                ));
            }
        }
        if let Some(r) = &spec.reply {
            if let Err(e) = check_template(r, self.vocab.placeholders.as_ref()) {
                self.issues.push(issue(file, Some(rule), "then.reply", e));
            }
        }
        Classification {
            intent: spec.intent,
            category: spec.category.clone(),
            department: spec.department.clone(),
            priority: spec.priority,
            tags: spec.tags.clone(),
            reply: spec.reply.clone(),
            confidence: spec.confidence.unwrap_or(DEFAULT_CONFIDENCE),
            handoff: spec.handoff.unwrap_or(false),
            authoritative: false,
            evidence: Vec::new(),
        }
    }
}

/// Checks a reply template's `{placeholder}`s (`{{` and `}}` are literal braces).
pub(crate) fn check_template(t: &str, known: Option<&BTreeSet<String>>) -> Result<(), String> {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => i += 2,
            b'}' if b.get(i + 1) == Some(&b'}') => i += 2,
            b'{' => {
                let Some(end) = t[i + 1..].find('}') else {
                    return Err(format!(
                        "unclosed `{{` at byte {i} (write `{{{{` for a literal brace)"
                    ));
                };
                let name = &t[i + 1..i + 1 + end];
                if let Some(k) = known {
                    if !k.contains(name) {
                        return Err(format!(
                            "unknown placeholder `{{{name}}}` (known: {})",
                            list(k)
                        ));
                    }
                }
                i += end + 2;
            }
            b'}' => {
                return Err(format!(
                    "stray `}}` at byte {i} (write `}}}}` for a literal brace)"
                ))
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn list(s: &BTreeSet<String>) -> String {
    s.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

fn join(path: &str, field: &str) -> String {
    match (path.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (_, true) => path.to_string(),
        _ => format!("{path}.{field}"),
    }
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
}

fn parse_day(s: &str) -> Option<u8> {
    let d = s.to_ascii_lowercase();
    let days = [
        ["mon", "monday", "lun", "lunes"],
        ["tue", "tuesday", "mar", "martes"],
        ["wed", "wednesday", "mie", "miercoles"],
        ["thu", "thursday", "jue", "jueves"],
        ["fri", "friday", "vie", "viernes"],
        ["sat", "saturday", "sab", "sabado"],
        ["sun", "sunday", "dom", "domingo"],
    ];
    days.iter()
        .position(|names| names.contains(&d.as_str()))
        .map(|p| p as u8)
}

/// A statically visible contradiction among the direct parts of a conjunction.
fn contradiction(c: &Cond) -> Option<String> {
    let Cond::All(parts) = c else { return None };
    let mut channels: u8 = 0xff;
    let mut attach: HashSet<bool> = HashSet::new();
    let mut location: HashSet<bool> = HashSet::new();
    let mut required: HashSet<PatId> = HashSet::new();
    let mut excluded: HashSet<PatId> = HashSet::new();
    for p in parts {
        match p {
            Cond::Channels(m) => channels &= m,
            Cond::HasAttachment(b) => {
                attach.insert(*b);
            }
            Cond::HasLocation(b) => {
                location.insert(*b);
            }
            Cond::Pattern(id) => {
                required.insert(*id);
            }
            Cond::All(ps) => required.extend(ps.iter().filter_map(|p| match p {
                Cond::Pattern(id) => Some(*id),
                _ => None,
            })),
            Cond::Any(ps) if ps.len() == 1 => {
                if let Cond::Pattern(id) = ps[0] {
                    required.insert(id);
                }
            }
            Cond::Not(inner) => match &**inner {
                Cond::Pattern(id) => {
                    excluded.insert(*id);
                }
                Cond::Any(ps) => excluded.extend(ps.iter().filter_map(|p| match p {
                    Cond::Pattern(id) => Some(*id),
                    _ => None,
                })),
                Cond::Channels(m) => channels &= !m,
                _ => {}
            },
            _ => {}
        }
    }
    if channels & ((1u8 << ChannelKind::ALL.len()) - 1) == 0 {
        return Some("no channel satisfies them all".into());
    }
    if attach.len() > 1 {
        return Some("has_attachment both true and false".into());
    }
    if location.len() > 1 {
        return Some("has_location both true and false".into());
    }
    if required.iter().any(|p| excluded.contains(p)) {
        return Some("a pattern is both required and excluded".into());
    }
    None
}

/// Patterns at least one of which the scan must touch for `c` to hold, if there is such a
/// set: the rule's triggers. Fallback patterns are never touched by the scan, so they cannot
/// serve. Among the parts of a conjunction, the set with the fewest patterns that need a
/// regex run wins, then the smallest.
fn required_patterns(c: &Cond, m: &Matcher) -> Option<Vec<PatId>> {
    match c {
        Cond::Pattern(p) if m.class(*p) != PatClass::Fallback => Some(vec![*p]),
        Cond::Any(cs) => {
            let mut all = Vec::new();
            for c in cs {
                all.extend(required_patterns(c, m)?);
            }
            Some(all)
        }
        Cond::All(cs) => cs
            .iter()
            .filter_map(|c| required_patterns(c, m))
            .min_by_key(|v| {
                (
                    v.iter().filter(|p| m.class(**p) != PatClass::Exact).count(),
                    v.len(),
                )
            }),
        _ => None,
    }
}

/// What a condition costs to evaluate, roughly: conditions on the message's fields are free,
/// exact patterns were decided by the scan, a verified pattern may run its regex.
fn cost(c: &Cond, m: &Matcher) -> u32 {
    match c {
        Cond::True => 0,
        Cond::Pattern(p) => match m.class(*p) {
            PatClass::Exact => 1,
            PatClass::Verified => 20,
            PatClass::Fallback => 50,
        },
        Cond::All(cs) | Cond::Any(cs) => cs.iter().map(|c| cost(c, m)).fold(0, u32::saturating_add),
        Cond::Not(c) => cost(c, m),
        Cond::Districts(_) | Cond::Senders(_) => 1,
        _ => 0,
    }
}

/// The same condition with the children of every `all` and `any` sorted cheapest first: the
/// same truth value (conditions have no side effects), fewer regex runs.
fn cheapest_first(c: &Cond, m: &Matcher) -> Cond {
    match c {
        Cond::All(cs) | Cond::Any(cs) => {
            let mut v: Vec<Cond> = cs.iter().map(|c| cheapest_first(c, m)).collect();
            v.sort_by_key(|c| cost(c, m));
            if matches!(c, Cond::All(_)) {
                Cond::All(v)
            } else {
                Cond::Any(v)
            }
        }
        Cond::Not(inner) => Cond::Not(Box::new(cheapest_first(inner, m))),
        other => other.clone(),
    }
}

/// A conjunction with nested conjunctions merged into it, so that `contradiction` sees
/// every part.
fn flatten(c: &Cond) -> Cond {
    fn into(c: &Cond, out: &mut Vec<Cond>) {
        match c {
            Cond::All(cs) => cs.iter().for_each(|c| into(c, out)),
            other => out.push(other.clone()),
        }
    }
    let mut parts = Vec::new();
    into(c, &mut parts);
    Cond::All(parts)
}

fn collect_patterns(c: &Cond, out: &mut Vec<PatId>) {
    match c {
        Cond::Pattern(p) if !out.contains(p) => out.push(*p),
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| collect_patterns(c, out)),
        Cond::Not(c) => collect_patterns(c, out),
        _ => {}
    }
}

pub(crate) fn compile(
    files: &[(&str, RuleFile)],
    vocab: &Vocabulary,
    normalizer: Normalizer,
) -> Result<RuleSet, RuleSetError> {
    let mut b = Builder {
        vocab,
        normalizer: &normalizer,
        patterns: Vec::new(),
        sources: Vec::new(),
        index: HashMap::new(),
        issues: Vec::new(),
        senders: HashMap::new(),
    };
    let mut mode: Option<(MatchMode, &str)> = None;
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut compiled: Vec<(usize, CompiledRule, bool)> = Vec::new();
    let total: usize = files.iter().map(|(_, f)| f.rules.len()).sum();
    if total > MAX_RULES {
        return Err(err1(issue(
            files.first().map_or("", |f| f.0),
            None,
            "rule",
            format!("{total} rules; the limit is {MAX_RULES}"),
        )));
    }
    for (origin, file) in files {
        if let Some(m) = file.mode {
            match mode {
                None => mode = Some((m, origin)),
                Some((m0, o0)) if m0 != m => b.issues.push(issue(
                    origin,
                    None,
                    "mode",
                    format!("{m:?} differs from {m0:?} stated in {o0}: one rule set has one mode"),
                )),
                _ => {}
            }
        }
    }
    let mode = mode.map_or(MatchMode::FirstMatch, |m| m.0);
    for (origin, file) in files {
        for spec in &file.rules {
            let id = spec.id.as_str();
            if id.trim().is_empty() {
                b.issues
                    .push(issue(origin, None, "id", "a rule needs a non-empty id"));
                continue;
            }
            if let Some(prev) = seen.insert(id, origin) {
                b.issues.push(issue(
                    origin,
                    Some(id),
                    "id",
                    format!("duplicate rule id (also in {prev})"),
                ));
                continue;
            }
            let when = b.cond(origin, id, "when", &spec.when, 0);
            let cond = match &spec.unless {
                None => when,
                Some(u) => {
                    let u = b.cond(origin, id, "unless", u, 0);
                    if matches!(u, Cond::True) {
                        b.issues.push(issue(
                            origin,
                            Some(id),
                            "unless",
                            "an empty `unless` always holds, so the rule could never fire",
                        ));
                    }
                    let when_alone = contradiction(&flatten(&when));
                    let c = Cond::All(vec![when, Cond::Not(Box::new(u))]);
                    if let (None, Some(reason)) = (when_alone, contradiction(&flatten(&c))) {
                        b.issues.push(issue(
                            origin,
                            Some(id),
                            "unless",
                            format!("`unless` contradicts `when` ({reason}), so the rule could never fire"),
                        ));
                    }
                    c
                }
            };
            let action = b.action(origin, id, &spec.then);
            if action.is_empty() && spec.then.stop != Some(true) {
                b.issues.push(issue(origin, Some(id), "then", "the rule does nothing (no intent, category, department, priority, tags, reply, handoff or stop)"));
            }
            let stop = spec.then.stop.unwrap_or(mode == MatchMode::FirstMatch);
            let mut patterns = Vec::new();
            collect_patterns(&cond, &mut patterns);
            compiled.push((
                compiled.len(),
                CompiledRule {
                    id: id.to_string(),
                    priority: spec.priority,
                    fast: Cond::True,
                    cond,
                    action,
                    stop,
                    patterns,
                },
                spec.enabled,
            ));
        }
    }
    // order: priority descending, then file order
    compiled.sort_by_key(|(i, r, _)| (std::cmp::Reverse(r.priority), *i));
    // rules after a catch-all rule that stops can never fire
    let mut catch_all: Option<(String, i32)> = None;
    for (_, r, enabled) in &compiled {
        if !enabled {
            continue;
        }
        if let Some((cid, cp)) = &catch_all {
            let origin = files
                .iter()
                .find(|(_, f)| f.rules.iter().any(|s| s.id == r.id))
                .map_or("", |f| f.0);
            b.issues.push(issue(origin, Some(&r.id), "priority", format!("the rule could never fire: rule `{cid}` (priority {cp}) runs before it, matches every message and stops")));
        } else if matches!(r.cond, Cond::True) && r.stop {
            catch_all = Some((r.id.clone(), r.priority));
        }
    }
    if !b.issues.is_empty() {
        return Err(RuleSetError { issues: b.issues });
    }
    let rules: Vec<CompiledRule> = compiled
        .into_iter()
        .filter(|(_, _, e)| *e)
        .map(|(_, r, _)| r)
        .collect();
    let sources = b.sources;
    let matcher = Matcher::new(b.patterns).map_err(|e| {
        err1(issue(
            files.first().map_or("", |f| f.0),
            None,
            "(patterns)",
            e,
        ))
    })?;
    let mut rules = rules;
    let mut triggers = vec![Vec::new(); matcher.len()];
    let mut always = Vec::new();
    for (ri, r) in rules.iter_mut().enumerate() {
        r.fast = cheapest_first(&r.cond, &matcher);
        match required_patterns(&r.cond, &matcher) {
            Some(ps) => {
                for p in ps {
                    let t: &mut Vec<u32> = &mut triggers[p as usize];
                    if t.last() != Some(&(ri as u32)) {
                        t.push(ri as u32);
                    }
                }
            }
            None => always.push(ri as u32),
        }
    }
    Ok(RuleSet {
        mode,
        rules,
        matcher,
        triggers,
        always,
        sources,
        normalizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("07:30"), Some(450));
        assert_eq!(parse_hhmm("7:30"), Some(450));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("12:60"), None);
        assert_eq!(parse_hhmm("noon"), None);
    }

    #[test]
    fn templates() {
        let known: BTreeSet<String> = ["ticket".to_string()].into();
        assert!(check_template("Su aviso {ticket}", Some(&known)).is_ok());
        assert!(check_template("llaves {{ y }}", Some(&known)).is_ok());
        assert!(check_template("{nope}", Some(&known))
            .unwrap_err()
            .contains("nope"));
        assert!(check_template("abierto {ticket", None)
            .unwrap_err()
            .contains("unclosed"));
        assert!(check_template("x } y", None).unwrap_err().contains("stray"));
    }
}
