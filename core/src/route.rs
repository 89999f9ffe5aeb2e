//! Departments, the routing table, districts and geography, opening hours and the urgent
//! fallback.
//!
//! The routing table is layered, most specific first:
//!
//! 1. **urgent**: an emergency never reaches a queue; it goes to the emergency department and
//!    its reply (call 112) is sent at once;
//! 2. **classifier**: a rule (or plug-in) that names a department directly;
//! 3. **override**: conditions in the rule language that beat the category (a regional road,
//!    the port: assets another body owns);
//! 4. **district**: a district-specific entry for the category (district offices, workshops);
//! 5. **category**: the category's department;
//! 6. **default**.
//!
//! After that, a high or urgent case whose department is closed goes to that department's
//! `after_hours` replacement.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::classify::model::{fnv, IdentityHasher};
use crate::classify::{Intent, Priority};
use crate::config::{Config, DepartmentKind, DepartmentSpec};
use crate::error::{ConfigError, ConfigIssue};
use crate::rules::{RuleFile, RuleInput, RuleSet, RuleSpec, Vocabulary};
use crate::text::{NormalizedText, Normalizer};

/// A department or body that receives cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    /// Identifier.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Kind of body.
    pub kind: DepartmentKind,
    /// Public phone.
    pub phone: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Web page or API endpoint.
    pub url: Option<String>,
    /// Opening hours (`None`: always open).
    pub hours: Option<WeeklyHours>,
    /// Replacement while closed, for high and urgent cases.
    pub after_hours: Option<String>,
}

impl Department {
    /// Whether the department is open at a local time (always, without hours).
    pub fn is_open(&self, at: NaiveDateTime) -> bool {
        self.hours.as_ref().is_none_or(|h| h.is_open(at))
    }
}

/// Weekly opening hours: intervals of minutes per weekday (Monday first).
///
/// ```
/// use civic_router::route::WeeklyHours;
/// use chrono::NaiveDate;
/// let h = WeeklyHours::parse(&["mon-fri 08:00-15:00", "sat 09:00-13:00"]).unwrap();
/// let monday_9 = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap().and_hms_opt(9, 0, 0).unwrap();
/// let sunday_9 = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap().and_hms_opt(9, 0, 0).unwrap();
/// assert!(h.is_open(monday_9));
/// assert!(!h.is_open(sunday_9));
/// assert!(WeeklyHours::parse(&["mon 25:00-26:00"]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WeeklyHours {
    days: [Vec<(u32, u32)>; 7],
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeeklyHours {
    /// Parses lines such as `mon-fri 08:00-15:00`, `sat,sun 10:00-14:00`, `daily 00:00-24:00`.
    pub fn parse<S: AsRef<str>>(lines: &[S]) -> Result<WeeklyHours, String> {
        let mut h = WeeklyHours::default();
        for line in lines {
            let line = line.as_ref().trim();
            let (days, times) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("`{line}`: expected `DAYS HH:MM-HH:MM`"))?;
            let mut mask = [false; 7];
            for part in days.split(',') {
                let part = part.trim().to_ascii_lowercase();
                if part == "daily" {
                    mask = [true; 7];
                    continue;
                }
                let day = |d: &str| {
                    DAY_NAMES
                        .iter()
                        .position(|n| *n == d)
                        .ok_or_else(|| format!("`{d}` is not a day (mon … sun, daily)"))
                };
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day(a)?, day(b)?);
                        let mut i = a;
                        loop {
                            mask[i] = true;
                            if i == b {
                                break;
                            }
                            i = (i + 1) % 7;
                        }
                    }
                    None => mask[day(&part)?] = true,
                }
            }
            for span in times.split(',') {
                let (a, b) = span
                    .trim()
                    .split_once('-')
                    .ok_or_else(|| format!("`{span}`: expected HH:MM-HH:MM"))?;
                let (a, b) = (hhmm(a)?, hhmm(b)?);
                if a >= b {
                    return Err(format!("`{span}`: the end must come after the start"));
                }
                for (d, on) in mask.iter().enumerate() {
                    if *on {
                        h.days[d].push((a, b));
                    }
                }
            }
        }
        Ok(h)
    }

    /// The opening spans of a weekday (0 = Monday), in minutes after midnight.
    ///
    /// ```
    /// use civic_router::route::WeeklyHours;
    /// let h = WeeklyHours::parse(&["mon-fri 09:00-14:00"]).unwrap();
    /// assert_eq!(h.spans(0), &[(540, 840)]);
    /// assert!(h.spans(6).is_empty());
    /// ```
    pub fn spans(&self, weekday: usize) -> &[(u32, u32)] {
        self.days.get(weekday).map_or(&[], |d| d.as_slice())
    }

    /// Whether a local time falls inside the hours.
    pub fn is_open(&self, at: NaiveDateTime) -> bool {
        let d = at.weekday().num_days_from_monday() as usize;
        let m = at.hour() * 60 + at.minute();
        self.days[d].iter().any(|&(a, b)| a <= m && m < b)
    }
}

fn hhmm(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a time HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Where a district was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistrictMatch {
    /// District id.
    pub id: String,
    /// What placed it there (the normalised place name matched).
    pub matched: String,
    /// `place` (a neighbourhood or landmark) or `street`, prefixed by `address ` when found in
    /// the location's address rather than the text.
    pub source: String,
}

/// Names of places → district, matched as whole words over normalised text in one pass.
///
/// Neighbourhood and landmark names outweigh street names; among equals, the longest name wins,
/// then the first in the text.
///
/// ```
/// use civic_router::route::Gazetteer;
/// use civic_router::text::Normalizer;
/// let n = Normalizer::spanish();
/// let g = Gazetteer::new(&n, [
///     ("triana", vec!["Triana", "El Tardón"], vec!["calle Betis"]),
///     ("macarena", vec!["La Macarena"], vec!["calle Feria"]),
/// ]);
/// let m = g.locate(&n.normalize("farola rota en el tardon")).unwrap();
/// assert_eq!(m.id, "triana");
/// assert!(g.locate(&n.normalize("farola rota")).is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Gazetteer {
    ac: Option<AhoCorasick>,
    /// per automaton pattern: (district index, is street, phrase)
    entries: Vec<(usize, bool, String)>,
    districts: Vec<String>,
    /// typo tolerance: the hash of a word of an entry or of a one-deletion variant of it →
    /// (entry, word position); candidates are verified, so a hash collision costs nothing
    fuzzy: HashMap<u64, Vec<(usize, usize)>, std::hash::BuildHasherDefault<IdentityHasher>>,
    /// approximate centre of each district (lat, lon), when configured
    centres: Vec<Option<(f64, f64)>>,
    /// farthest a point may lie from the nearest centre to be placed there, in metres
    max_distance_m: f64,
}

/// Shortest token that tolerates a typo (shorter names must be written exactly).
const FUZZY_MIN_LEN: usize = 6;

/// Calls `f` with the hash of the token and of every variant of it with one byte deleted,
/// without building the variants.
pub(crate) fn deletion_hashes(t: &str, mut f: impl FnMut(u64)) {
    let b = t.as_bytes();
    f(fnv(&[b]));
    for i in 0..b.len() {
        f(fnv(&[&b[..i], &b[i + 1..]]));
    }
}

/// Whether two ASCII tokens are at most one edit apart (insertion, deletion, substitution
/// or a swap of neighbours).
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if la == lb {
        // substitution, or transposition of p and p+1
        a[p + 1..] == b[p + 1..]
            || (p + 1 < la && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..])
    } else if la > lb {
        a[p + 1..] == b[p..]
    } else {
        a[p..] == b[p + 1..]
    }
}

/// Great-circle distance in metres.
pub(crate) fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_000.0;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dl = (b.0 - a.0).to_radians();
    let dn = (b.1 - a.1).to_radians();
    let h = (dl / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dn / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

impl Gazetteer {
    /// Builds a gazetteer from `(district id, places, streets)`.
    pub fn new<I, P, S>(normalizer: &Normalizer, districts: I) -> Gazetteer
    where
        I: IntoIterator<Item = (P, Vec<S>, Vec<S>)>,
        P: Into<String>,
        S: AsRef<str>,
    {
        let mut ids = Vec::new();
        let mut entries = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (di, (id, places, streets)) in districts.into_iter().enumerate() {
            ids.push(id.into());
            for (is_street, list) in [(false, places), (true, streets)] {
                for p in list {
                    let phrase = normalizer.normalize_phrase(p.as_ref());
                    if phrase.is_empty() || seen.contains_key(&phrase) {
                        continue;
                    }
                    seen.insert(phrase.clone(), di);
                    entries.push((di, is_street, phrase));
                }
            }
        }
        let ac = if entries.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(entries.iter().map(|e| e.2.as_bytes()))
                .ok()
        };
        let mut fuzzy: HashMap<u64, Vec<(usize, usize)>, _> = HashMap::default();
        for (i, e) in entries.iter().enumerate() {
            for (k, word) in e.2.split(' ').enumerate() {
                if word.len() >= FUZZY_MIN_LEN {
                    deletion_hashes(word, |d| {
                        let v: &mut Vec<(usize, usize)> = fuzzy.entry(d).or_default();
                        if !v.contains(&(i, k)) {
                            v.push((i, k));
                        }
                    });
                }
            }
        }
        let centres = vec![None; ids.len()];
        Gazetteer {
            ac,
            entries,
            districts: ids,
            fuzzy,
            centres,
            max_distance_m: 2_500.0,
        }
    }

    /// Gives districts an approximate centre, so a message with a location point and no place
    /// name is placed in the district whose centre is nearest, if within `max_distance_m`.
    ///
    /// ```
    /// use civic_router::route::Gazetteer;
    /// use civic_router::text::Normalizer;
    /// let g = Gazetteer::new(&Normalizer::spanish(), [
    ///     ("triana", vec!["Triana"], vec![]),
    ///     ("nervion", vec!["Nervion"], vec![]),
    /// ]).with_centres(&[("triana", (37.384, -6.005)), ("nervion", (37.382, -5.973))], 2_500.0);
    /// assert_eq!(g.locate_point(37.385, -6.001).unwrap().id, "triana");
    /// assert!(g.locate_point(40.4, -3.7).is_none(), "Madrid is too far");
    /// ```
    pub fn with_centres(
        mut self,
        centres: &[(&str, (f64, f64))],
        max_distance_m: f64,
    ) -> Gazetteer {
        for (id, c) in centres {
            if let Some(i) = self.districts.iter().position(|d| d == id) {
                self.centres[i] = Some(*c);
            }
        }
        self.max_distance_m = max_distance_m;
        self
    }

    /// The district whose centre is nearest to a point, within the configured distance.
    pub fn locate_point(&self, lat: f64, lon: f64) -> Option<DistrictMatch> {
        let (i, d) = self
            .centres
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|c| (i, haversine_m((lat, lon), c))))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        (d <= self.max_distance_m).then(|| DistrictMatch {
            id: self.districts[i].clone(),
            matched: format!("{lat:.5},{lon:.5} ({:.0} m from its centre)", d),
            source: "point".to_string(),
        })
    }

    /// A place name written with one typo ("Macarrena", "Barrio Leoon", "Torreblnca"): one
    /// word of six letters or more may be one edit away; the other words of the name must be
    /// exact.
    fn locate_fuzzy(&self, text: &NormalizedText) -> Option<DistrictMatch> {
        let toks: Vec<&str> = text.tokens().collect();
        let mut best: Option<(bool, usize, usize)> = None; // (place, length, entry)
        for (ti, t) in toks.iter().enumerate() {
            if t.len() + 1 < FUZZY_MIN_LEN {
                continue;
            }
            let mut cands: Vec<(usize, usize)> = Vec::new();
            deletion_hashes(t, |d| {
                if let Some(v) = self.fuzzy.get(&d) {
                    cands.extend(v);
                }
            });
            if cands.is_empty() {
                continue;
            }
            cands.sort_unstable();
            cands.dedup();
            for (e, k) in cands {
                let (_, street, phrase) = &self.entries[e];
                let words: Vec<&str> = phrase.split(' ').collect();
                if k > ti || ti - k + words.len() > toks.len() {
                    continue;
                }
                let start = ti - k;
                let aligned = words.iter().enumerate().all(|(j, w)| {
                    if j == k {
                        within_one_edit(w, t)
                    } else {
                        toks[start + j] == *w
                    }
                });
                if !aligned {
                    continue;
                }
                let key = (!street, phrase.len(), e);
                if best.is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                    best = Some(key);
                }
            }
        }
        best.map(|(_, _, e)| {
            let (di, street, phrase) = &self.entries[e];
            DistrictMatch {
                id: self.districts[*di].clone(),
                matched: phrase.clone(),
                source: format!("{} (with a typo)", if *street { "street" } else { "place" }),
            }
        })
    }

    /// The district a text places the message in, if any: an exact place name first, else
    /// one written with a typo.
    pub fn locate(&self, text: &NormalizedText) -> Option<DistrictMatch> {
        self.locate_exact(text).or_else(|| self.locate_fuzzy(text))
    }

    fn locate_exact(&self, text: &NormalizedText) -> Option<DistrictMatch> {
        let ac = self.ac.as_ref()?;
        let b = text.as_str().as_bytes();
        // rank: (a place rather than a street, length, earliest)
        type Rank = (bool, usize, std::cmp::Reverse<usize>);
        let mut best: Option<(Rank, usize)> = None;
        for m in ac.find_overlapping_iter(b) {
            let left = m.start() == 0 || b[m.start() - 1] == b' ';
            let right = m.end() == b.len() || b[m.end()] == b' ';
            if !(left && right) {
                continue;
            }
            let e = &self.entries[m.pattern().as_usize()];
            let key = (!e.1, m.end() - m.start(), std::cmp::Reverse(m.start()));
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, m.pattern().as_usize()));
            }
        }
        best.map(|(_, i)| {
            let (di, street, phrase) = &self.entries[i];
            DistrictMatch {
                id: self.districts[*di].clone(),
                matched: phrase.clone(),
                source: if *street { "street" } else { "place" }.to_string(),
            }
        })
    }

    /// Number of place names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no place name.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Which entry of the routing table chose the department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTrace {
    /// `urgent`, `classifier`, `override:<id>`, `district:<district>`, `category:<category>`,
    /// `agents` or `default`.
    pub entry: String,
    /// The department chosen.
    pub department: String,
    /// The department that was closed, when the case went to its after-hours replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours_from: Option<String>,
}

/// What the routing table needs to know about a classified message.
#[derive(Debug, Clone, Copy)]
pub struct RouteQuery<'a> {
    /// Intent.
    pub intent: Intent,
    /// Category.
    pub category: &'a str,
    /// Priority.
    pub priority: Priority,
    /// District, if known.
    pub district: Option<&'a str>,
    /// A department a classifier chose directly.
    pub department: Option<&'a str>,
    /// Whether the message goes to a human agent.
    pub handoff: bool,
    /// The message as the override conditions see it.
    pub input: &'a RuleInput<'a>,
}

#[derive(Debug, Clone)]
struct DistrictEntry {
    district: String,
    categories: Vec<String>,
    intents: Vec<Intent>,
    department: String,
}

/// Override conditions compiled as a rule set, and per override id its categories and
/// department.
type Overrides = (RuleSet, HashMap<String, (Vec<String>, String)>);

/// The compiled routing table.
#[derive(Clone)]
pub struct RoutingTable {
    departments: BTreeMap<String, Arc<Department>>,
    default: String,
    emergency: Option<String>,
    agents: Option<String>,
    by_category: HashMap<String, String>,
    by_district: Vec<DistrictEntry>,
    overrides: Option<Arc<Overrides>>,
}

impl fmt::Debug for RoutingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingTable")
            .field("departments", &self.departments.len())
            .field("default", &self.default)
            .finish()
    }
}

impl RoutingTable {
    /// Builds the table from a configuration, checking every department it names.
    pub fn from_config(cfg: &Config, normalizer: &Normalizer) -> Result<RoutingTable, ConfigError> {
        let file = cfg.origin.as_str();
        let mut issues = Vec::new();
        let mut bad = |field: String, reason: String| {
            issues.push(ConfigIssue {
                file: file.to_string(),
                field,
                reason,
            })
        };
        let mut departments = BTreeMap::new();
        for (i, d) in cfg.departments.iter().enumerate() {
            if departments.contains_key(&d.id) {
                bad(
                    format!("department[{i}].id"),
                    format!("duplicate department `{}`", d.id),
                );
                continue;
            }
            let hours = if d.hours.is_empty() {
                None
            } else {
                match WeeklyHours::parse(&d.hours) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        bad(format!("department[{i}].hours"), e);
                        None
                    }
                }
            };
            departments.insert(d.id.clone(), Arc::new(department(d, hours)));
        }
        let known = |id: &str| departments.contains_key(id);
        let dep_list = || departments.keys().cloned().collect::<Vec<_>>().join(", ");
        let r = &cfg.routing;
        if r.default.is_empty() {
            bad(
                "routing.default".into(),
                "a default department is required".into(),
            );
        } else if !known(&r.default) {
            bad(
                "routing.default".into(),
                format!("unknown department `{}` (known: {})", r.default, dep_list()),
            );
        }
        for (field, v) in [
            ("routing.emergency", &r.emergency),
            ("routing.agents", &r.agents),
        ] {
            if let Some(d) = v {
                if !known(d) {
                    bad(
                        field.into(),
                        format!("unknown department `{d}` (known: {})", dep_list()),
                    );
                }
            }
        }
        for (i, d) in cfg.departments.iter().enumerate() {
            if let Some(a) = &d.after_hours {
                if !known(a) {
                    bad(
                        format!("department[{i}].after_hours"),
                        format!("unknown department `{a}`"),
                    );
                }
            }
        }
        let cat_ok = |c: &str| cfg.categories.is_empty() || cfg.categories.contains_key(c);
        for (c, d) in &r.category {
            if !cat_ok(c) {
                bad(
                    format!("routing.category.{c}"),
                    format!("unknown category `{c}`"),
                );
            }
            if !known(d) {
                bad(
                    format!("routing.category.{c}"),
                    format!("unknown department `{d}` (known: {})", dep_list()),
                );
            }
        }
        let district_ids: Vec<&str> = cfg.districts.iter().map(|d| d.id.as_str()).collect();
        for (i, e) in r.districts.iter().enumerate() {
            if !district_ids.contains(&e.district.as_str()) {
                bad(
                    format!("routing.district[{i}].district"),
                    format!("unknown district `{}`", e.district),
                );
            }
            for c in &e.categories {
                if !cat_ok(c) {
                    bad(
                        format!("routing.district[{i}].categories"),
                        format!("unknown category `{c}`"),
                    );
                }
            }
            if !known(&e.department) {
                bad(
                    format!("routing.district[{i}].department"),
                    format!("unknown department `{}`", e.department),
                );
            }
        }
        let mut override_meta = HashMap::new();
        let mut specs = Vec::new();
        for (i, o) in r.overrides.iter().enumerate() {
            if !known(&o.department) {
                bad(
                    format!("routing.override[{i}].department"),
                    format!("unknown department `{}`", o.department),
                );
            }
            for c in &o.categories {
                if !cat_ok(c) {
                    bad(
                        format!("routing.override[{i}].categories"),
                        format!("unknown category `{c}`"),
                    );
                }
            }
            override_meta.insert(o.id.clone(), (o.categories.clone(), o.department.clone()));
            specs.push(RuleSpec {
                id: o.id.clone(),
                priority: -(i as i32),
                description: None,
                enabled: true,
                when: o.when.clone(),
                unless: None,
                then: crate::rules::ActionSpec {
                    department: Some(o.department.clone()),
                    stop: Some(false),
                    ..Default::default()
                },
            });
        }
        let overrides = if specs.is_empty() {
            None
        } else {
            let vocab = Vocabulary {
                districts: Some(district_ids.iter().map(|s| s.to_string()).collect()),
                sender_lists: cfg.sender_lists.clone().into_iter().collect(),
                ..Vocabulary::default()
            };
            let file = RuleFile {
                mode: Some(crate::rules::MatchMode::AllMatch),
                rules: specs,
            };
            match RuleSet::from_files_with(
                &[(&format!("{}#routing.override", cfg.origin), file)],
                &vocab,
                normalizer.clone(),
            ) {
                Ok(rs) => Some(Arc::new((rs, override_meta))),
                Err(e) => {
                    issues.extend(ConfigError::from(e).issues);
                    None
                }
            }
        };
        if !issues.is_empty() {
            return Err(ConfigError { issues });
        }
        Ok(RoutingTable {
            departments,
            default: r.default.clone(),
            emergency: r.emergency.clone(),
            agents: r.agents.clone(),
            by_category: r.category.clone().into_iter().collect(),
            by_district: r
                .districts
                .iter()
                .map(|e| DistrictEntry {
                    district: e.district.clone(),
                    categories: e.categories.clone(),
                    intents: e.intents.clone(),
                    department: e.department.clone(),
                })
                .collect(),
            overrides,
        })
    }

    /// A department by id.
    pub fn department(&self, id: &str) -> Option<&Arc<Department>> {
        self.departments.get(id)
    }

    /// Every department, by id.
    pub fn departments(&self) -> impl Iterator<Item = &Arc<Department>> {
        self.departments.values()
    }

    /// Chooses the department for a classified message.
    pub fn route(&self, q: &RouteQuery<'_>) -> RouteTrace {
        let (entry, department) = self.choose(q);
        let mut trace = RouteTrace {
            entry,
            department,
            after_hours_from: None,
        };
        if q.priority >= Priority::High {
            if let (Some(t), Some(d)) =
                (q.input.local_time, self.departments.get(&trace.department))
            {
                if let Some(alt) = d.after_hours.as_ref().filter(|_| !d.is_open(t)) {
                    trace.after_hours_from =
                        Some(std::mem::replace(&mut trace.department, alt.clone()));
                }
            }
        }
        trace
    }

    fn choose(&self, q: &RouteQuery<'_>) -> (String, String) {
        if q.intent == Intent::Emergency {
            if let Some(e) = &self.emergency {
                return ("urgent".into(), e.clone());
            }
        }
        if let Some(d) = q.department.filter(|d| self.departments.contains_key(*d)) {
            return ("classifier".into(), d.to_string());
        }
        if let Some((rules, meta)) = self.overrides.as_deref() {
            let out = rules.evaluate(q.input);
            for f in &out.fired {
                if let Some((cats, dep)) = meta.get(&f.id) {
                    if cats.is_empty() || cats.iter().any(|c| c == q.category) {
                        return (format!("override:{}", f.id), dep.clone());
                    }
                }
            }
        }
        if q.handoff {
            if let Some(a) = &self.agents {
                return ("agents".into(), a.clone());
            }
        }
        if let Some(d) = q.district {
            for e in &self.by_district {
                if e.district == d
                    && (e.categories.is_empty() || e.categories.iter().any(|c| c == q.category))
                    && (if e.intents.is_empty() {
                        q.intent != Intent::Emergency
                    } else {
                        e.intents.contains(&q.intent)
                    })
                {
                    return (format!("district:{d}"), e.department.clone());
                }
            }
        }
        if let Some(dep) = self.by_category.get(q.category) {
            return (format!("category:{}", q.category), dep.clone());
        }
        ("default".into(), self.default.clone())
    }
}

fn department(d: &DepartmentSpec, hours: Option<WeeklyHours>) -> Department {
    Department {
        id: d.id.clone(),
        name: d.name.clone(),
        kind: d.kind,
        phone: d.phone.clone(),
        email: d.email.clone(),
        url: d.url.clone(),
        hours,
        after_hours: d.after_hours.clone(),
    }
}
