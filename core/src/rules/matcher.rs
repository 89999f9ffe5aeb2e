//! One pass over the normalised text finds every pattern of every rule.
//!
//! Every pattern is compiled into one of three classes:
//!
//! * **exact**: plain words and phrases, and regular expressions whose language is a small
//!   finite set of strings (`\b(farolas?|alumbrado)\b`, `\bapagad[ao]s?\b`). Their strings go
//!   into one Aho–Corasick automaton; a hit is a match once its edges pass a constant-time check
//!   (token boundaries for words, the regex's own `\b`, `\B`, `^`, `$` for regexes). No regex
//!   runs for them at all.
//! * **verified**: other regular expressions with a usable set of required literals (a prefix,
//!   a suffix, or an inner piece of the regex that every match must contain, whichever is the
//!   most selective), extracted from the syntax tree. A hit on such a literal makes the regex a
//!   *candidate*; the regex itself runs only when a rule under evaluation asks for it (the "fast
//!   pattern" prefilter of Snort and Suricata, made lazy).
//! * **fallback**: regular expressions without usable literals, in one `RegexSet` run at most
//!   once per message, and only when a rule asks for one of them.
//!
//! The text is scanned once by the automaton whatever the number of rules. Per-message state
//! lives in [`Hits`], reset in constant time with an epoch counter.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

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
/// Most strings a regex may expand to and still be matched exactly by the automaton.
const MAX_EXACT_STRINGS: usize = 256;
/// Longest string of such an expansion.
const MAX_EXACT_LEN: usize = 256;
/// Up to this many automaton literals, the automaton is a full DFA (fastest; a few MB at most).
const MAX_DFA_LITERALS: usize = 20_000;

/// A distinct pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PatternKind {
    /// A normalised word or phrase; `prefix` when written with a trailing `*`.
    Words { phrase: String, prefix: bool },
    /// A regular expression over the normalised text (already folded).
    Regex(String),
}

/// How a pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatClass {
    /// Decided by the automaton alone.
    Exact,
    /// The automaton finds candidates, the regex decides.
    Verified,
    /// Decided by the fallback `RegexSet`.
    Fallback,
}

/// A zero-width assertion at one edge of an exact regex's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Free,
    /// `\b`
    Boundary,
    /// `\B`
    NotBoundary,
    /// `^` at the start, `$` at the end: the end of the text.
    TextEnd,
}

/// What an automaton hit means.
#[derive(Debug, Clone, Copy)]
enum AcEntry {
    /// A word or phrase: needs token boundaries (the right one unless `prefix`).
    Words { pat: PatId, prefix: bool },
    /// A string of an exact regex, with the regex's edge assertions.
    Exact { pat: PatId, left: Edge, right: Edge },
    /// A required literal of a verified regex.
    Candidate { pat: PatId },
    /// A string of a piece of one or more chain patterns.
    Piece { piece: u32 },
}

/// A piece shared by chain patterns: its edges, and the patterns it triggers (those for which
/// it is the more selective piece).
#[derive(Debug)]
struct PieceInfo {
    left: Edge,
    right: Edge,
    triggers: Vec<PatId>,
}

/// The compiled matcher.
#[derive(Debug)]
pub(crate) struct Matcher {
    ac: Option<AhoCorasick>,
    /// per automaton literal: its entries are `entries[starts[i]..starts[i + 1]]`
    starts: Vec<u32>,
    entries: Vec<AcEntry>,
    /// per pattern: how it is matched
    class: Vec<PatClass>,
    /// per pattern: the regex that verifies it (verified patterns only)
    verify: Vec<Option<Regex>>,
    /// per pattern: its chain form, when it has one (verified patterns only)
    chains: Vec<Option<Chain>>,
    pieces: Vec<PieceInfo>,
    /// regexes with no usable literal, and their pattern ids
    fallback: Option<(RegexSet, Vec<PatId>)>,
    /// every pattern ever given, for explanations
    pub(crate) patterns: Vec<PatternKind>,
}

const MATCH: u8 = 1;
const CANDIDATE: u8 = 2;
const MISS: u8 = 3;

/// Per-message scan state, reused across calls (a thread-local scratch in evaluation).
#[derive(Debug, Default)]
pub(crate) struct Hits {
    epoch: u32,
    /// per pattern: the epoch at which `state` was last written
    stamp: Vec<u32>,
    /// per pattern: MATCH, CANDIDATE or MISS (valid when stamped with the current epoch)
    state: Vec<u8>,
    /// patterns stamped by the automaton during this message's scan, in hit order
    pub(crate) touched: Vec<PatId>,
    /// occurrences of chain pieces: (piece, start, end)
    pieces: Vec<(u32, u32, u32)>,
    fallback_done: bool,
}

impl Hits {
    /// Starts a new message over a matcher of `n` patterns: constant time.
    fn begin(&mut self, n: usize) {
        if self.stamp.len() < n {
            self.stamp.resize(n, 0);
            self.state.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.touched.clear();
        self.pieces.clear();
        self.fallback_done = false;
    }

    #[inline]
    fn get(&self, p: PatId) -> u8 {
        let i = p as usize;
        if self.stamp[i] == self.epoch {
            self.state[i]
        } else {
            0
        }
    }

    #[inline]
    fn set(&mut self, p: PatId, s: u8) {
        let i = p as usize;
        self.stamp[i] = self.epoch;
        self.state[i] = s;
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

/// The syntax tree of a (valid, ASCII) pattern, parsed as [`build_regex`] compiles it.
pub(crate) fn parse_hir(src: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(src)
        .ok()
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn edge(look: Look, start: bool) -> Option<Edge> {
    match look {
        Look::WordAscii => Some(Edge::Boundary),
        Look::WordAsciiNegate => Some(Edge::NotBoundary),
        Look::Start if start => Some(Edge::TextEnd),
        Look::End if !start => Some(Edge::TextEnd),
        _ => None,
    }
}

/// The exact form of a regex: its edge assertions and the finite set of strings its core
/// matches, when the core has no assertions and at most [`MAX_EXACT_STRINGS`] strings.
fn exact_form(hir: &Hir) -> Option<(Edge, Vec<Vec<u8>>, Edge)> {
    let parts: &[Hir] = match hir.kind() {
        HirKind::Concat(parts) => parts,
        _ => std::slice::from_ref(hir),
    };
    exact_parts(parts)
}

/// [`exact_form`] of a sequence of concatenated pieces.
fn exact_parts(mut parts: &[Hir]) -> Option<(Edge, Vec<Vec<u8>>, Edge)> {
    let mut left = Edge::Free;
    let mut right = Edge::Free;
    if let Some(HirKind::Look(l)) = parts.first().map(Hir::kind) {
        left = edge(*l, true)?;
        parts = &parts[1..];
    }
    if let Some(HirKind::Look(l)) = parts.last().map(Hir::kind) {
        right = edge(*l, false)?;
        parts = &parts[..parts.len() - 1];
    }
    let mut strings = vec![Vec::new()];
    for p in parts {
        strings = cross(&strings, &expand(p)?)?;
    }
    if strings.iter().any(Vec::is_empty) {
        return None;
    }
    strings.sort();
    strings.dedup();
    Some((left, strings, right))
}

/// A proximity pattern `A.{min,max}B` whose pieces `A` and `B` have exact forms: decided from
/// where the automaton finds the pieces, without running the regex.
#[derive(Debug, Clone)]
struct Chain {
    a: u32,
    b: u32,
    min: u32,
    max: Option<u32>,
    /// whether the gap may span a line feed (the normaliser never emits one; a text that has
    /// one is verified with the regex)
    newline: bool,
}

type Piece = (Edge, Vec<Vec<u8>>, Edge);

/// The chain form of a regex, if it is one: the two pieces and the gap between them.
fn chain_form(hir: &Hir) -> Option<(Piece, Chain, Piece)> {
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let gap_at = parts.iter().position(|p| gap(p).is_some())?;
    let chain = gap(&parts[gap_at])?;
    let a = exact_parts(&parts[..gap_at])?;
    let b = exact_parts(&parts[gap_at + 1..])?;
    Some((a, chain, b))
}

/// A repetition of any byte (but perhaps the line feed): the gap of a proximity pattern.
fn gap(hir: &Hir) -> Option<Chain> {
    let HirKind::Repetition(r) = hir.kind() else {
        return None;
    };
    let HirKind::Class(Class::Bytes(c)) = r.sub.kind() else {
        return None;
    };
    let count: usize = c
        .iter()
        .map(|r| r.end() as usize - r.start() as usize + 1)
        .sum();
    let has_nl = c.iter().any(|r| r.start() <= b'\n' && b'\n' <= r.end());
    if count < 255 || (count == 255 && has_nl) {
        return None;
    }
    Some(Chain {
        a: 0,
        b: 0,
        min: r.min,
        max: r.max,
        newline: has_nl,
    })
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_EXACT_STRINGS {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_EXACT_LEN {
                return None;
            }
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    Some(out)
}

/// Every string `hir` matches, if it has no assertion and few enough strings.
fn expand(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
        HirKind::Class(Class::Bytes(c)) => {
            let mut out = Vec::new();
            for r in c.iter() {
                for b in r.start()..=r.end() {
                    if out.len() == MAX_EXACT_STRINGS {
                        return None;
                    }
                    out.push(vec![b]);
                }
            }
            Some(out)
        }
        HirKind::Class(Class::Unicode(c)) => {
            let mut out = Vec::new();
            for r in c.iter() {
                for ch in r.start()..=r.end() {
                    if out.len() == MAX_EXACT_STRINGS {
                        return None;
                    }
                    let mut buf = [0u8; 4];
                    out.push(ch.encode_utf8(&mut buf).as_bytes().to_vec());
                }
            }
            Some(out)
        }
        HirKind::Look(_) => None,
        HirKind::Capture(c) => expand(&c.sub),
        HirKind::Concat(parts) => {
            let mut acc = vec![Vec::new()];
            for p in parts {
                acc = cross(&acc, &expand(p)?)?;
            }
            Some(acc)
        }
        HirKind::Alternation(alts) => {
            let mut out = Vec::new();
            for a in alts {
                out.extend(expand(a)?);
                if out.len() > MAX_EXACT_STRINGS {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Repetition(r) => {
            let max = r.max?;
            if max > 16 {
                return None;
            }
            let sub = expand(&r.sub)?;
            let mut out = Vec::new();
            let mut power = vec![Vec::new()];
            for k in 0..=max {
                if k >= r.min {
                    out.extend(power.iter().cloned());
                    if out.len() > MAX_EXACT_STRINGS {
                        return None;
                    }
                }
                if k < max {
                    power = cross(&power, &sub)?;
                }
            }
            Some(out)
        }
    }
}

/// How good a set of required literals is as a prefilter: longer shortest literal first,
/// then fewer literals.
fn literal_score(lits: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = lits.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(lits.len()))
}

/// A set of literals one of which every match of `hir` must contain, as selective as can be
/// found among its prefixes, its suffixes and the finite pieces of its top-level
/// concatenation.
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut options: Vec<Vec<Vec<u8>>> = Vec::new();
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind).limit_total(64);
        if let Some(lits) = ex.extract(hir).literals() {
            if !lits.is_empty() {
                options.push(lits.iter().map(|l| l.as_bytes().to_vec()).collect());
            }
        }
    }
    if let HirKind::Concat(parts) = hir.kind() {
        for p in parts {
            if let Some(mut lits) = expand(p) {
                if lits.len() <= 64 && !lits.iter().any(Vec::is_empty) {
                    lits.sort();
                    lits.dedup();
                    options.push(lits);
                }
            }
        }
    }
    options
        .into_iter()
        .filter(|l| l.iter().all(|l| l.len() >= MIN_PREFILTER_LITERAL))
        .max_by_key(|l| literal_score(l))
}

#[inline]
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[inline]
fn edge_holds(e: Edge, text: &[u8], at: usize, start: bool) -> bool {
    match e {
        Edge::Free => true,
        Edge::TextEnd => {
            if start {
                at == 0
            } else {
                at == text.len()
            }
        }
        Edge::Boundary | Edge::NotBoundary => {
            let before = at > 0 && is_word(text[at - 1]);
            let after = at < text.len() && is_word(text[at]);
            (before != after) == (e == Edge::Boundary)
        }
    }
}

impl Matcher {
    /// Compiles the given patterns (already validated one by one).
    pub(crate) fn new(patterns: Vec<PatternKind>) -> Result<Matcher, String> {
        let mut lits = LiteralTable::default();
        let mut class = Vec::with_capacity(patterns.len());
        let mut verify = Vec::with_capacity(patterns.len());
        let mut chains = Vec::with_capacity(patterns.len());
        let mut pieces: Vec<PieceInfo> = Vec::new();
        let mut piece_index: std::collections::HashMap<(Edge, Vec<Vec<u8>>, Edge), u32> =
            std::collections::HashMap::new();
        let mut fallback_src = Vec::new();
        let mut fallback_ids = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            let pat = id as PatId;
            match p {
                PatternKind::Words { phrase, prefix } => {
                    lits.add(
                        phrase.as_bytes().to_vec(),
                        AcEntry::Words {
                            pat,
                            prefix: *prefix,
                        },
                    );
                    class.push(PatClass::Exact);
                    verify.push(None);
                    chains.push(None);
                }
                PatternKind::Regex(src) => {
                    let re = build_regex(src)?;
                    let hir = parse_hir(src).ok_or_else(|| format!("cannot parse `{src}`"))?;
                    if let Some((left, strings, right)) = exact_form(&hir) {
                        for s in strings {
                            lits.add(s, AcEntry::Exact { pat, left, right });
                        }
                        class.push(PatClass::Exact);
                        verify.push(None);
                        chains.push(None);
                    } else if let Some((a, mut chain, b)) = chain_form(&hir) {
                        let trigger_b = literal_score(&b.1) >= literal_score(&a.1);
                        let mut ids = [0u32; 2];
                        for (k, (left, strings, right)) in [a, b].into_iter().enumerate() {
                            let key = (left, strings.clone(), right);
                            let piece = match piece_index.get(&key) {
                                Some(&i) => i,
                                None => {
                                    let i = pieces.len() as u32;
                                    pieces.push(PieceInfo {
                                        left,
                                        right,
                                        triggers: Vec::new(),
                                    });
                                    piece_index.insert(key, i);
                                    for s in strings {
                                        lits.add(s, AcEntry::Piece { piece: i });
                                    }
                                    i
                                }
                            };
                            ids[k] = piece;
                        }
                        let trigger = ids[usize::from(trigger_b)];
                        pieces[trigger as usize].triggers.push(pat);
                        chain.a = ids[0];
                        chain.b = ids[1];
                        class.push(PatClass::Verified);
                        verify.push(Some(re));
                        chains.push(Some(chain));
                    } else if let Some(required) = required_literals(&hir) {
                        for l in required {
                            lits.add(l, AcEntry::Candidate { pat });
                        }
                        class.push(PatClass::Verified);
                        verify.push(Some(re));
                        chains.push(None);
                    } else {
                        fallback_src.push(src.clone());
                        fallback_ids.push(pat);
                        class.push(PatClass::Fallback);
                        verify.push(None);
                        chains.push(None);
                    }
                }
            }
        }
        let ac = if lits.literals.is_empty() {
            None
        } else {
            let kind = (lits.literals.len() <= MAX_DFA_LITERALS).then_some(AhoCorasickKind::DFA);
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
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
        let mut starts = Vec::with_capacity(lits.entries.len() + 1);
        let mut entries = Vec::new();
        for e in lits.entries {
            starts.push(entries.len() as u32);
            entries.extend(e);
        }
        starts.push(entries.len() as u32);
        Ok(Matcher {
            ac,
            starts,
            entries,
            class,
            verify,
            chains,
            pieces,
            fallback,
            patterns,
        })
    }

    /// Number of distinct patterns.
    pub(crate) fn len(&self) -> usize {
        self.patterns.len()
    }

    /// How pattern `p` is matched.
    pub(crate) fn class(&self, p: PatId) -> PatClass {
        self.class[p as usize]
    }

    /// Scans `text` once with the automaton: exact patterns are decided, verified patterns
    /// become candidates. Every pattern the scan touches is listed in `hits.touched`.
    pub(crate) fn scan(&self, text: &str, hits: &mut Hits) {
        hits.begin(self.patterns.len());
        let Some(ac) = &self.ac else { return };
        let bytes = text.as_bytes();
        for m in ac.find_overlapping_iter(bytes) {
            let i = m.pattern().as_usize();
            for entry in &self.entries[self.starts[i] as usize..self.starts[i + 1] as usize] {
                let (pat, matched) = match *entry {
                    AcEntry::Words { pat, prefix } => {
                        if hits.get(pat) == MATCH {
                            continue;
                        }
                        let left = m.start() == 0 || bytes[m.start() - 1] == b' ';
                        let right = prefix || m.end() == bytes.len() || bytes[m.end()] == b' ';
                        (pat, left && right)
                    }
                    AcEntry::Exact { pat, left, right } => {
                        if hits.get(pat) == MATCH {
                            continue;
                        }
                        (
                            pat,
                            edge_holds(left, bytes, m.start(), true)
                                && edge_holds(right, bytes, m.end(), false),
                        )
                    }
                    AcEntry::Candidate { pat } => {
                        if hits.get(pat) == 0 {
                            hits.set(pat, CANDIDATE);
                            hits.touched.push(pat);
                        }
                        continue;
                    }
                    AcEntry::Piece { piece } => {
                        let info = &self.pieces[piece as usize];
                        if edge_holds(info.left, bytes, m.start(), true)
                            && edge_holds(info.right, bytes, m.end(), false)
                        {
                            hits.pieces.push((piece, m.start() as u32, m.end() as u32));
                            for &pat in &info.triggers {
                                if hits.get(pat) == 0 {
                                    hits.set(pat, CANDIDATE);
                                    hits.touched.push(pat);
                                }
                            }
                        }
                        continue;
                    }
                };
                if matched {
                    hits.set(pat, MATCH);
                    hits.touched.push(pat);
                }
            }
        }
    }

    /// Whether pattern `p` matches `text` (the text given to the last [`scan`](Self::scan)
    /// of `hits`), running its regex at most once per message.
    #[inline]
    pub(crate) fn is_match(&self, p: PatId, text: &str, hits: &mut Hits) -> bool {
        match hits.get(p) {
            MATCH => true,
            CANDIDATE => self.verify_candidate(p, text, hits),
            MISS => false,
            _ => {
                if self.class[p as usize] == PatClass::Fallback && !hits.fallback_done {
                    self.run_fallback(text, hits);
                    hits.get(p) == MATCH
                } else {
                    false
                }
            }
        }
    }

    fn verify_candidate(&self, p: PatId, text: &str, hits: &mut Hits) -> bool {
        let ok = match &self.chains[p as usize] {
            Some(c) if c.newline || !text.as_bytes().contains(&b'\n') => {
                // some end of `A` and some start of `B` at a distance the gap allows
                hits.pieces.iter().any(|&(pa, _, a)| {
                    pa == c.a
                        && hits.pieces.iter().any(|&(pb, b, _)| {
                            pb == c.b
                                && b >= a
                                && b - a >= c.min
                                && c.max.is_none_or(|max| b - a <= max)
                        })
                })
            }
            _ => self.verify[p as usize]
                .as_ref()
                .is_some_and(|re| re.is_match(text.as_bytes())),
        };
        hits.set(p, if ok { MATCH } else { MISS });
        ok
    }

    fn run_fallback(&self, text: &str, hits: &mut Hits) {
        hits.fallback_done = true;
        if let Some((set, ids)) = &self.fallback {
            for i in set.matches(text.as_bytes()).iter() {
                hits.set(ids[i], MATCH);
            }
        }
    }

    /// Every pattern that matches `text`, sorted: scans, then verifies every candidate and
    /// runs the fallback set.
    pub(crate) fn all_matches(&self, text: &str, hits: &mut Hits) -> Vec<PatId> {
        self.scan(text, hits);
        if self.fallback.is_some() {
            self.run_fallback(text, hits);
        }
        let mut out: Vec<PatId> = (0..self.patterns.len() as PatId)
            .filter(|&p| self.is_match(p, text, hits))
            .collect();
        out.sort_unstable();
        out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(src: &str) -> Option<(Edge, Vec<String>, Edge)> {
        exact_form(&parse_hir(src).unwrap()).map(|(l, s, r)| {
            (
                l,
                s.into_iter()
                    .map(|s| String::from_utf8(s).unwrap())
                    .collect(),
                r,
            )
        })
    }

    #[test]
    fn finite_regexes_become_exact_strings() {
        let (l, s, r) = exact(r"\b(farolas?|alumbrado)\b").unwrap();
        assert_eq!((l, r), (Edge::Boundary, Edge::Boundary));
        assert_eq!(s, vec!["alumbrado", "farola", "farolas"]);
        let (l, s, r) = exact(r"^apagad[ao]s?\B").unwrap();
        assert_eq!((l, r), (Edge::TextEnd, Edge::NotBoundary));
        assert_eq!(s.len(), 4);
        assert_eq!(exact("ab{2,3}").unwrap().1, vec!["abb", "abbb"]);
        assert_eq!(exact("a(?i)b").unwrap().1, vec!["aB", "ab"]);
    }

    #[test]
    fn other_regexes_are_not_exact() {
        for src in [
            r"\bfarol\w*",
            r"a.{0,3}b",
            r"\bno\b.{0,20}\bluz\b",
            r"a\bb",
            r"x+",
            r"[a-z]{5}",
            r"(a|b|c|d){1,6}\b.{0,2}",
            r"\bhola$x",
        ] {
            assert!(exact(src).is_none(), "{src} should not be exact");
        }
    }

    #[test]
    fn the_most_selective_required_literals_are_chosen() {
        let req = |s: &str| {
            required_literals(&parse_hir(s).unwrap()).map(|v| {
                v.into_iter()
                    .map(|s| String::from_utf8(s).unwrap())
                    .collect::<Vec<_>>()
            })
        };
        // an inner piece is better than the short prefixes
        assert_eq!(
            req(r"\b(no|ya)\b.{0,20}\b(apagad[ao])\b").unwrap(),
            vec!["apagada", "apagado"]
        );
        assert_eq!(req(r"\bfarol\w*").unwrap(), vec!["farol"]);
        // nothing required: no prefilter
        assert_eq!(req(r"\w+@\w+"), None);
        assert_eq!(req(r"[a-z]x"), None);
    }

    #[test]
    fn edges() {
        let t = b"la farola, ya";
        assert!(edge_holds(Edge::Boundary, t, 3, true));
        assert!(!edge_holds(Edge::Boundary, t, 4, true));
        assert!(edge_holds(Edge::NotBoundary, t, 4, true));
        assert!(edge_holds(Edge::TextEnd, t, 0, true));
        assert!(!edge_holds(Edge::TextEnd, t, 3, true));
        assert!(edge_holds(Edge::TextEnd, t, t.len(), false));
        assert!(edge_holds(Edge::Boundary, t, t.len(), false));
    }
}
