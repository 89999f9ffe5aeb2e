//! One pass over the normalised text finds every pattern of every rule.
//!
//! * Plain words and phrases go into one Aho–Corasick automaton; a hit counts when it sits on
//!   token boundaries (the normalised text separates tokens by single spaces).
//! * Each regular expression contributes the literals any of its matches must start (or end)
//!   with, extracted from its syntax tree, to the same automaton; a hit on such a literal makes
//!   the regex a *candidate*, and only candidates are verified with the regex itself (the "fast
//!   pattern" prefilter of Snort and Suricata).
//! * Regexes without usable literals go into one `RegexSet`, run once per message.
//!
//! The text is scanned once by the automaton whatever the number of rules.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Index of a distinct pattern in a compiled rule set.
pub(crate) type PatId = u32;

/// Limits applied to every regex, so no rule file can exhaust memory.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;
pub(crate) const REGEX_DFA_SIZE_LIMIT: usize = 2 << 20;
pub(crate) const REGEX_NEST_LIMIT: u32 = 50;
/// Longest pattern source accepted.
pub(crate) const MAX_PATTERN_LEN: usize = 1024;
/// Literals shorter than this make a poor prefilter; such regexes go to the `RegexSet`.
const MIN_PREFILTER_LITERAL: usize = 2;

/// A distinct pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PatternKind {
    /// A normalised word or phrase; `prefix` when written with a trailing `*`.
    Words { phrase: String, prefix: bool },
    /// A regular expression over the normalised text (already folded).
    Regex(String),
}

/// What an automaton hit means.
#[derive(Debug, Clone, Copy)]
enum AcEntry {
    Words { pat: PatId, prefix: bool },
    RegexLiteral { regex: u32 },
}

/// The compiled matcher.
#[derive(Debug)]
pub(crate) struct Matcher {
    ac: Option<AhoCorasick>,
    /// per automaton pattern: the entries it serves (one literal can serve several patterns)
    ac_entries: Vec<Vec<AcEntry>>,
    /// verified regexes: (pattern id, regex)
    regexes: Vec<(PatId, Regex)>,
    /// regexes with no usable literal
    fallback: Option<(RegexSet, Vec<PatId>)>,
    /// every pattern ever given, for explanations
    pub(crate) patterns: Vec<PatternKind>,
}

/// Scratch space reused across calls.
#[derive(Debug, Default)]
pub(crate) struct Hits {
    /// pattern ids that matched, sorted and unique after `finish`
    pub(crate) pats: Vec<PatId>,
    candidates: Vec<u32>,
}

impl Hits {
    pub(crate) fn clear(&mut self) {
        self.pats.clear();
        self.candidates.clear();
    }

    #[inline]
    pub(crate) fn contains(&self, p: PatId) -> bool {
        self.pats.binary_search(&p).is_ok()
    }
}

/// Builds a regex with the crate's limits, ASCII semantics (the text is ASCII).
pub(crate) fn build_regex(src: &str) -> Result<Regex, String> {
    if src.len() > MAX_PATTERN_LEN {
        return Err(format!(
            "pattern is {} bytes long; the limit is {MAX_PATTERN_LEN}",
            src.len()
        ));
    }
    if !src.is_ascii() {
        return Err(
            "pattern keeps non-ASCII characters after folding, but normalised text is ASCII: it could never match"
                .to_string(),
        );
    }
    RegexBuilder::new(src)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Literals every match of `src` must start with (or end with), if there is a small finite set
/// of reasonably long ones.
fn required_literals(src: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(src)
        .ok()?;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind).limit_total(64);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() {
            continue;
        }
        if lits
            .iter()
            .all(|l| l.as_bytes().len() >= MIN_PREFILTER_LITERAL)
        {
            return Some(lits.iter().map(|l| l.as_bytes().to_vec()).collect());
        }
    }
    None
}

impl Matcher {
    /// Compiles the given patterns (already validated one by one).
    pub(crate) fn new(patterns: Vec<PatternKind>) -> Result<Matcher, String> {
        let mut lits = LiteralTable::default();
        let mut regexes = Vec::new();
        let mut fallback_src = Vec::new();
        let mut fallback_ids = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            let id = id as PatId;
            match p {
                PatternKind::Words { phrase, prefix } => lits.add(
                    phrase.as_bytes().to_vec(),
                    AcEntry::Words {
                        pat: id,
                        prefix: *prefix,
                    },
                ),
                PatternKind::Regex(src) => {
                    let re = build_regex(src)?;
                    match required_literals(src) {
                        Some(required) => {
                            let ri = regexes.len() as u32;
                            regexes.push((id, re));
                            for l in required {
                                lits.add(l, AcEntry::RegexLiteral { regex: ri });
                            }
                        }
                        None => {
                            fallback_src.push(src.clone());
                            fallback_ids.push(id);
                        }
                    }
                }
            }
        }
        let ac = if lits.literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&lits.literals)
                    .map_err(|e| e.to_string())?,
            )
        };
        let fallback = if fallback_src.is_empty() {
            None
        } else {
            let set = RegexSetBuilder::new(&fallback_src)
                .unicode(false)
                .size_limit(REGEX_SIZE_LIMIT * 8)
                .dfa_size_limit(REGEX_DFA_SIZE_LIMIT * 4)
                .nest_limit(REGEX_NEST_LIMIT)
                .build()
                .map_err(|e| one_line(&e.to_string()))?;
            Some((set, fallback_ids))
        };
        Ok(Matcher {
            ac,
            ac_entries: lits.entries,
            regexes,
            fallback,
            patterns,
        })
    }

    /// Number of distinct patterns.
    pub(crate) fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Scans `text` once and records every pattern that matches.
    pub(crate) fn scan(&self, text: &str, hits: &mut Hits) {
        hits.clear();
        let bytes = text.as_bytes();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(bytes) {
                for entry in &self.ac_entries[m.pattern().as_usize()] {
                    match *entry {
                        AcEntry::Words { pat, prefix } => {
                            let left = m.start() == 0 || bytes[m.start() - 1] == b' ';
                            let right = prefix || m.end() == bytes.len() || bytes[m.end()] == b' ';
                            if left && right {
                                hits.pats.push(pat);
                            }
                        }
                        AcEntry::RegexLiteral { regex } => hits.candidates.push(regex),
                    }
                }
            }
        }
        if !hits.candidates.is_empty() {
            hits.candidates.sort_unstable();
            hits.candidates.dedup();
            for &ri in &hits.candidates {
                let (pat, re) = &self.regexes[ri as usize];
                if re.is_match(bytes) {
                    hits.pats.push(*pat);
                }
            }
        }
        if let Some((set, ids)) = &self.fallback {
            for i in set.matches(bytes).iter() {
                hits.pats.push(ids[i]);
            }
        }
        hits.pats.sort_unstable();
        hits.pats.dedup();
    }
}

/// The automaton's literals, each with the entries it serves.
#[derive(Default)]
struct LiteralTable {
    literals: Vec<Vec<u8>>,
    entries: Vec<Vec<AcEntry>>,
    index: std::collections::HashMap<Vec<u8>, usize>,
}

impl LiteralTable {
    fn add(&mut self, lit: Vec<u8>, entry: AcEntry) {
        let i = match self.index.get(&lit) {
            Some(&i) => i,
            None => {
                self.literals.push(lit.clone());
                self.entries.push(Vec::new());
                self.index.insert(lit, self.literals.len() - 1);
                self.literals.len() - 1
            }
        };
        self.entries[i].push(entry);
    }
}
