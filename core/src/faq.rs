//! The knowledge base that answers information requests on its own.
//!
//! Staff write entries — question variants, the answer, self-service links and the category
//! they belong to — in a TOML or JSON file. [`KnowledgeBase`] indexes them for retrieval over
//! the normalised Spanish text the router already computes ([`crate::text`]):
//!
//! * **BM25** (Okapi, `k1 = 1.2`, `b = 0.75`) over one document per entry (its questions and
//!   keywords), with an inverted index: a query touches only the postings of its own terms;
//! * **Spanish stemming** with the Snowball stemmer (`rust-stemmers`), after a Spanish stop-word
//!   list and the chat fillers of real messages ("hola buenas quería saber…") are dropped;
//! * **misspelling tolerance**: a query term unknown to the index is matched to an indexed term
//!   one edit away (insertion, deletion, substitution or swap; a deletion-neighbourhood index
//!   finds it in constant time), at a reduced weight.
//!
//! Every search returns the best entry with its BM25 `score` and a `confidence` in 0–1: the
//! share of the query's information (its terms' IDF) that the entry matched. Below the
//! threshold there is no answer, and the question belongs in the gap log ([`GapLog`]) so staff
//! can write the next entry. [`Faq`] bundles a knowledge base that can be reloaded or extended
//! at run time (an atomic swap: a search in flight finishes on the old one) with its gap log.
//!
//! ```
//! use civic_router::faq::KnowledgeBase;
//!
//! let kb = KnowledgeBase::from_toml_str(r#"
//!     [[entry]]
//!     id = "padron-alta"
//!     category = "tramites"
//!     questions = ["¿Cómo me empadrono?", "alta en el padrón municipal", "empadronarme en Sevilla"]
//!     answer = "Para empadronarse pida cita previa en su distrito con DNI y contrato de alquiler."
//!     links = [{ title = "Cita previa", url = "https://example.invalid/cita" }]
//!
//!     [[entry]]
//!     id = "ibi-pago"
//!     category = "tramites"
//!     questions = ["¿Cómo pago el IBI?", "pagar el impuesto de bienes inmuebles"]
//!     answer = "El IBI se paga en la sede electrónica de la agencia tributaria."
//! "#, "faq.toml").unwrap();
//!
//! // a misspelling and a different inflection still find the entry
//! let hit = kb.search("hola, kiero enpadronarme y no se como").unwrap();
//! assert_eq!(hit.entry.id, "padron-alta");
//! assert!(hit.confidence > 0.5);
//! assert!(kb.search("¿a qué hora pasa el autobús 27?").is_none_or(|h| h.confidence < 0.3));
//! ```

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, ConfigIssue, Error};
use crate::text::{NormalizedText, Normalizer};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.75;
/// Weight of a query term matched through a misspelling (one edit away).
const FUZZY_WEIGHT: f32 = 0.8;
/// Shortest term matched through a misspelling.
const FUZZY_MIN_LEN: usize = 4;
/// The default confidence below which no answer is given.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// A self-service link of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqLink {
    /// What the link is (`Cita previa`).
    pub title: String,
    /// The URL (`https://…`).
    pub url: String,
}

/// One entry of the knowledge base.
///
/// ```
/// let e: civic_router::faq::FaqEntry = serde_json::from_str(r#"{
///     "id": "x", "category": "general", "questions": ["¿horario del 010?"],
///     "answer": "El 010 atiende de 8 a 20 h."
/// }"#).unwrap();
/// assert!(e.links.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    /// Identifier, quoted in explanations and gap reports.
    pub id: String,
    /// The category the entry belongs to (an id of the router's `[categories]`).
    pub category: String,
    /// Ways citizens ask it (at least one).
    pub questions: Vec<String>,
    /// More words that point to this entry (indexed like the questions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The answer, as written for WhatsApp, the app and the web.
    pub answer: String,
    /// A shorter answer for SMS (default: the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
    /// The answer as the phone bot says it, without URLs (default: the answer, links removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoken: Option<String>,
    /// Self-service links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<FaqLink>,
    /// Illustrative content, not an official answer (the Seville example marks every entry).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub example: bool,
}

/// The file format: `[[entry]]` tables in TOML, `{"entry": [...]}` or a bare array in JSON.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqFile {
    /// Every entry in the file is example content.
    #[serde(default)]
    example: bool,
    #[serde(default, rename = "entry")]
    entries: Vec<FaqEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonFaqFile {
    List(Vec<FaqEntry>),
    File(FaqFile),
}

/// The answer found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqHit {
    /// The entry.
    pub entry: Arc<FaqEntry>,
    /// Its BM25 score (unbounded; for ranking).
    pub score: f32,
    /// Share of the question's information the entry matched, 0–1 (compared with the
    /// threshold).
    pub confidence: f32,
    /// The question's terms (stems) that matched, misspellings shown as `typed→indexed`.
    pub matched: Vec<String>,
}

/// Where a knowledge-base search left a decision, for its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqTrace {
    /// The best entry, if any matched at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Its category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Its BM25 score.
    pub score: f32,
    /// Its confidence.
    pub confidence: f32,
    /// The threshold in force.
    pub threshold: f32,
    /// Whether the answer was given.
    pub answered: bool,
    /// Why it was or was not.
    pub reason: String,
}

/// One term of the index.
#[derive(Debug, Clone)]
struct Term {
    /// (document, term frequency)
    postings: Vec<(u32, f32)>,
    idf: f32,
}

/// The compiled, immutable knowledge base: entries plus their inverted index.
///
/// Build it from a file or from entries, share it (`Send + Sync`); [`Faq`] swaps a new one in
/// to reload.
pub struct KnowledgeBase {
    entries: Vec<Arc<FaqEntry>>,
    normalizer: Normalizer,
    terms: rustc_hash::FxHashMap<String, u32>,
    index: Vec<Term>,
    /// term text per id (for explanations and fuzzy checks)
    names: Vec<String>,
    /// deletion-neighbourhood hash → term ids (terms of at least FUZZY_MIN_LEN bytes)
    fuzzy: rustc_hash::FxHashMap<u64, Vec<u32>>,
    doc_len: Vec<f32>,
    avg_len: f32,
    /// IDF of a term seen in one document: what an unknown query term weighs
    unknown_idf: f32,
    origin: String,
}

impl fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("origin", &self.origin)
            .field("entries", &self.entries.len())
            .field("terms", &self.index.len())
            .finish()
    }
}

thread_local! {
    /// Per-thread score accumulators: (bm25, matched idf, touched documents).
    static ACC: RefCell<(Vec<f32>, Vec<f32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Spanish stop words and chat fillers, in normalised (folded ASCII) form: they carry no
/// information about which answer is wanted.
const STOP_WORDS: &[&str] = &[
    "a",
    "ah",
    "al",
    "algo",
    "alguien",
    "algun",
    "alguna",
    "algunas",
    "alguno",
    "algunos",
    "ante",
    "antes",
    "aqui",
    "asi",
    "aun",
    "bien",
    "buen",
    "buena",
    "buenas",
    "bueno",
    "buenos",
    "cada",
    "como",
    "con",
    "consulta",
    "contra",
    "cual",
    "cuales",
    "cuando",
    "cuanta",
    "cuantas",
    "cuanto",
    "cuantos",
    "de",
    "decir",
    "del",
    "desde",
    "dia",
    "dias",
    "digan",
    "diganme",
    "dime",
    "donde",
    "dos",
    "duda",
    "dudas",
    "e",
    "eh",
    "el",
    "ella",
    "ellas",
    "ellos",
    "en",
    "entre",
    "era",
    "es",
    "esa",
    "esas",
    "ese",
    "eso",
    "esos",
    "esta",
    "estan",
    "estar",
    "estas",
    "este",
    "esto",
    "estos",
    "estoy",
    "favor",
    "fue",
    "gracias",
    "ha",
    "haber",
    "habia",
    "hace",
    "hacer",
    "hago",
    "han",
    "hasta",
    "hay",
    "hola",
    "informacion",
    "informar",
    "informen",
    "la",
    "las",
    "le",
    "les",
    "lo",
    "los",
    "manyanas",
    "mas",
    "me",
    "mi",
    "mia",
    "mio",
    "mire",
    "mis",
    "muchas",
    "mucho",
    "muy",
    "nada",
    "necesitaria",
    "necesito",
    "ni",
    "no",
    "noches",
    "nos",
    "nosotros",
    "o",
    "oiga",
    "ok",
    "os",
    "otra",
    "otro",
    "para",
    "pero",
    "poco",
    "podeis",
    "podria",
    "podrian",
    "por",
    "porque",
    "pregunta",
    "preguntar",
    "puede",
    "pueden",
    "puedo",
    "pues",
    "que",
    "queria",
    "quien",
    "quiero",
    "quisiera",
    "sabe",
    "sabeis",
    "saben",
    "saber",
    "se",
    "sea",
    "senyor",
    "senyora",
    "ser",
    "si",
    "sin",
    "sobre",
    "son",
    "su",
    "sus",
    "tambien",
    "tardes",
    "te",
    "tener",
    "tengo",
    "ti",
    "tiene",
    "tienen",
    "toda",
    "todas",
    "todo",
    "todos",
    "tu",
    "tus",
    "u",
    "un",
    "una",
    "unas",
    "uno",
    "unos",
    "usted",
    "ustedes",
    "vale",
    "vamos",
    "ver",
    "vosotros",
    "y",
    "ya",
    "yo",
];

fn is_stop(t: &str) -> bool {
    STOP_WORDS.binary_search(&t).is_ok()
}

/// The Spanish Snowball stemmer, shared.
fn stemmer() -> &'static rust_stemmers::Stemmer {
    static S: std::sync::OnceLock<rust_stemmers::Stemmer> = std::sync::OnceLock::new();
    S.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::Spanish))
}

/// The index terms of a normalised text: stop words and punctuation dropped, the rest stemmed
/// (numbers kept as they are).
fn terms_of(text: &NormalizedText, mut f: impl FnMut(&str)) {
    let st = stemmer();
    for tok in text.tokens() {
        if tok.len() < 2 || !tok.as_bytes()[0].is_ascii_alphanumeric() || is_stop(tok) {
            continue;
        }
        if tok.bytes().all(|b| b.is_ascii_alphabetic()) {
            f(&st.stem(tok));
        } else {
            f(tok);
        }
    }
}

impl KnowledgeBase {
    /// Builds a knowledge base from entries, checking them (ids unique, at least one question,
    /// an answer, `http(s)` links).
    ///
    /// ```
    /// use civic_router::faq::{FaqEntry, KnowledgeBase};
    /// let entry = FaqEntry {
    ///     id: "010-horario".into(), category: "general".into(),
    ///     questions: vec!["¿Cuál es el horario del 010?".into()], keywords: vec![],
    ///     answer: "El 010 atiende todos los días.".into(), short: None, spoken: None,
    ///     links: vec![], example: true,
    /// };
    /// let kb = KnowledgeBase::new(vec![entry], "inline").unwrap();
    /// assert_eq!(kb.len(), 1);
    /// assert_eq!(kb.search("horario 010").unwrap().entry.id, "010-horario");
    /// ```
    pub fn new(entries: Vec<FaqEntry>, origin: &str) -> Result<KnowledgeBase, ConfigError> {
        Self::with_normalizer(entries, origin, Normalizer::spanish())
    }

    /// Like [`new`](Self::new), normalising with the router's normaliser (its rewrites).
    pub fn with_normalizer(
        entries: Vec<FaqEntry>,
        origin: &str,
        normalizer: Normalizer,
    ) -> Result<KnowledgeBase, ConfigError> {
        check_entries(&entries, origin)?;
        let mut terms: rustc_hash::FxHashMap<String, u32> = Default::default();
        let mut names: Vec<String> = Vec::new();
        let mut postings: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut doc_len = Vec::with_capacity(entries.len());
        for (d, e) in entries.iter().enumerate() {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            let mut len = 0usize;
            for q in e.questions.iter().chain(&e.keywords) {
                let n = normalizer.normalize(q);
                terms_of(&n, |t| {
                    let id = match terms.get(t) {
                        Some(&id) => id,
                        None => {
                            let id = names.len() as u32;
                            terms.insert(t.to_string(), id);
                            names.push(t.to_string());
                            postings.push(Vec::new());
                            id
                        }
                    };
                    *tf.entry(id).or_default() += 1.0;
                    len += 1;
                });
            }
            let mut tf: Vec<(u32, f32)> = tf.into_iter().collect();
            tf.sort_unstable_by_key(|p| p.0);
            for (t, f) in tf {
                postings[t as usize].push((d as u32, f));
            }
            doc_len.push(len as f32);
        }
        let n = entries.len() as f32;
        let idf = |df: f32| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let index: Vec<Term> = postings
            .into_iter()
            .map(|p| Term {
                idf: idf(p.len() as f32),
                postings: p,
            })
            .collect();
        let mut fuzzy: rustc_hash::FxHashMap<u64, Vec<u32>> = Default::default();
        for (id, name) in names.iter().enumerate() {
            if name.len() >= FUZZY_MIN_LEN {
                crate::route::deletion_hashes(name, |h| {
                    fuzzy.entry(h).or_default().push(id as u32)
                });
            }
        }
        let avg_len = if doc_len.is_empty() {
            1.0
        } else {
            (doc_len.iter().sum::<f32>() / n).max(1.0)
        };
        Ok(KnowledgeBase {
            entries: entries.into_iter().map(Arc::new).collect(),
            normalizer,
            terms,
            index,
            names,
            fuzzy,
            doc_len,
            avg_len,
            unknown_idf: idf(1.0),
            origin: origin.to_string(),
        })
    }

    /// Parses a TOML knowledge base (`[[entry]]` tables; a top-level `example = true` marks
    /// every entry as example content).
    pub fn from_toml_str(src: &str, origin: &str) -> Result<KnowledgeBase, ConfigError> {
        let de = toml::Deserializer::new(src);
        let file: FaqFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = inner
                .span()
                .map(|s| {
                    let line = src[..s.start.min(src.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            let reason = inner.message().lines().next().unwrap_or("invalid");
            ConfigError::one(
                origin,
                if path == "." { "(syntax)".into() } else { path },
                format!("{reason}{at}"),
            )
        })?;
        Self::new(file.into_entries(), origin)
    }

    /// Parses a JSON knowledge base: `{"entry": [...]}` or a bare array of entries.
    ///
    /// ```
    /// let kb = civic_router::faq::KnowledgeBase::from_json_str(
    ///     r#"[{"id": "a", "category": "agua", "questions": ["¿cómo pago el agua?"], "answer": "En la web."}]"#,
    ///     "faq.json",
    /// ).unwrap();
    /// assert_eq!(kb.len(), 1);
    /// let broken = civic_router::faq::KnowledgeBase::from_json_str(r#"[{"id": "a"}]"#, "faq.json");
    /// assert!(broken.unwrap_err().to_string().contains("faq.json"));
    /// ```
    pub fn from_json_str(src: &str, origin: &str) -> Result<KnowledgeBase, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(src);
        let file: JsonFaqFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::one(
                origin,
                if path == "." { "(syntax)".into() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        let entries = match file {
            JsonFaqFile::List(l) => l,
            JsonFaqFile::File(f) => f.into_entries(),
        };
        Self::new(entries, origin)
    }

    /// Parses a knowledge base by its name: `.json` is JSON, anything else TOML.
    pub fn from_str_named(src: &str, origin: &str) -> Result<KnowledgeBase, ConfigError> {
        let lower = origin.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Self::from_json_str(src, origin)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Err(ConfigError::one(
                origin,
                "(file)",
                "YAML knowledge bases are not supported; write TOML or JSON",
            ))
        } else {
            Self::from_toml_str(src, origin)
        }
    }

    /// Reads a knowledge-base file (TOML, or JSON by its `.json` extension).
    pub fn from_path(path: impl AsRef<Path>) -> Result<KnowledgeBase, Error> {
        let path = path.as_ref();
        let src = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self::from_str_named(&src, &path.display().to_string())?)
    }

    /// The same entries re-indexed with another normaliser (the router's, with its rewrites).
    pub fn renormalized(&self, normalizer: Normalizer) -> KnowledgeBase {
        let entries = self.entries.iter().map(|e| (**e).clone()).collect();
        Self::with_normalizer(entries, &self.origin, normalizer)
            .expect("entries were already checked")
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[Arc<FaqEntry>] {
        &self.entries
    }

    /// An entry by id.
    pub fn entry(&self, id: &str) -> Option<&Arc<FaqEntry>> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where it was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The categories its entries use.
    pub fn categories(&self) -> Vec<&str> {
        let mut c: Vec<&str> = self.entries.iter().map(|e| e.category.as_str()).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// Checks that every entry's category is one of `known` (the router does this at load).
    pub fn check_categories(&self, known: &HashSet<&str>) -> Result<(), ConfigError> {
        let issues: Vec<ConfigIssue> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !known.contains(e.category.as_str()))
            .map(|(i, e)| ConfigIssue {
                file: self.origin.clone(),
                field: format!("entry[{i}].category"),
                reason: format!("entry `{}`: unknown category `{}`", e.id, e.category),
            })
            .collect();
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { issues })
        }
    }

    /// The best entry for a question, or `None` when no term of it is in the index.
    pub fn search(&self, question: &str) -> Option<FaqHit> {
        self.search_normalized(&self.normalizer.normalize(question))
    }

    /// The `k` best entries for a question, best first.
    ///
    /// ```
    /// let kb = civic_router::faq::KnowledgeBase::from_toml_str(r#"
    ///     [[entry]]
    ///     id = "a"
    ///     category = "agua"
    ///     questions = ["pagar la factura del agua"]
    ///     answer = "En la oficina virtual."
    ///     [[entry]]
    ///     id = "b"
    ///     category = "tramites"
    ///     questions = ["pagar el IBI"]
    ///     answer = "En la sede electrónica."
    /// "#, "t.toml").unwrap();
    /// let hits = kb.search_top("¿dónde pago la factura del agua?", 2);
    /// assert_eq!(hits[0].entry.id, "a");
    /// assert_eq!(hits.len(), 2);
    /// ```
    pub fn search_top(&self, question: &str, k: usize) -> Vec<FaqHit> {
        self.rank(&self.normalizer.normalize(question), k)
    }

    /// The best entry for an already normalised text (the router's, so the text is normalised
    /// once per message).
    pub fn search_normalized(&self, text: &NormalizedText) -> Option<FaqHit> {
        self.rank(text, 1).into_iter().next()
    }

    /// The question's terms as the index sees them (stems, stop words dropped): the key under
    /// which an unanswered question is counted in the gap log.
    ///
    /// ```
    /// let kb = civic_router::faq::KnowledgeBase::new(vec![], "empty").unwrap();
    /// assert_eq!(kb.gap_key("¿Hola, dónde se recogen los MUEBLES viejos?"), "muebl recog viej");
    /// ```
    pub fn gap_key(&self, question: &str) -> String {
        let mut t: Vec<String> = Vec::new();
        terms_of(&self.normalizer.normalize(question), |s| {
            t.push(s.to_string())
        });
        t.sort_unstable();
        t.dedup();
        t.join(" ")
    }

    /// The query terms: (term id or unknown, weight, shown text).
    fn query_terms(&self, text: &NormalizedText) -> Vec<(Option<u32>, f32, String)> {
        let mut out: Vec<(Option<u32>, f32, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        terms_of(text, |t| {
            if !seen.insert(t.to_string()) {
                return;
            }
            if let Some(&id) = self.terms.get(t) {
                out.push((Some(id), 1.0, t.to_string()));
                return;
            }
            if t.len() >= FUZZY_MIN_LEN {
                let mut best: Option<u32> = None;
                crate::route::deletion_hashes(t, |h| {
                    if let Some(ids) = self.fuzzy.get(&h) {
                        for &id in ids {
                            let name = &self.names[id as usize];
                            if crate::route::within_one_edit(t, name)
                                && best.is_none_or(|b| {
                                    self.index[id as usize].postings.len()
                                        > self.index[b as usize].postings.len()
                                })
                            {
                                best = Some(id);
                            }
                        }
                    }
                });
                if let Some(id) = best {
                    out.push((
                        Some(id),
                        FUZZY_WEIGHT,
                        format!("{t}\u{2192}{}", self.names[id as usize]),
                    ));
                    return;
                }
            }
            out.push((None, 1.0, t.to_string()));
        });
        out
    }

    fn rank(&self, text: &NormalizedText, k: usize) -> Vec<FaqHit> {
        let q = self.query_terms(text);
        let total: f32 = q
            .iter()
            .map(|(id, _, _)| id.map_or(self.unknown_idf, |i| self.index[i as usize].idf))
            .sum();
        if total <= 0.0 || k == 0 || q.iter().all(|t| t.0.is_none()) {
            return Vec::new();
        }
        ACC.with(|acc| {
            let mut acc = acc.borrow_mut();
            let (score, mass, touched) = &mut *acc;
            if score.len() < self.entries.len() {
                score.resize(self.entries.len(), 0.0);
                mass.resize(self.entries.len(), 0.0);
            }
            touched.clear();
            for (id, w, _) in &q {
                let Some(id) = id else { continue };
                let term = &self.index[*id as usize];
                let wi = term.idf * w;
                for &(d, tf) in &term.postings {
                    let du = d as usize;
                    if score[du] == 0.0 && mass[du] == 0.0 {
                        touched.push(d);
                    }
                    let norm = K1 * (1.0 - B + B * self.doc_len[du] / self.avg_len);
                    score[du] += wi * tf * (K1 + 1.0) / (tf + norm);
                    mass[du] += wi;
                }
            }
            let mut best: Vec<(f32, f32, u32)> = Vec::with_capacity(k + 1);
            for &d in touched.iter() {
                let du = d as usize;
                let s = score[du];
                if best.len() < k || s > best[best.len() - 1].0 {
                    let pos = best.partition_point(|b| b.0 >= s);
                    best.insert(pos, (s, mass[du], d));
                    best.truncate(k);
                }
                score[du] = 0.0;
                mass[du] = 0.0;
            }
            best.into_iter()
                .map(|(s, m, d)| {
                    let matched = q
                        .iter()
                        .filter(|(id, _, _)| {
                            id.is_some_and(|i| {
                                self.index[i as usize]
                                    .postings
                                    .binary_search_by_key(&d, |p| p.0)
                                    .is_ok()
                            })
                        })
                        .map(|t| t.2.clone())
                        .collect();
                    FaqHit {
                        entry: self.entries[d as usize].clone(),
                        score: s,
                        confidence: (m / total).clamp(0.0, 1.0),
                        matched,
                    }
                })
                .collect()
        })
    }
}

impl FaqFile {
    fn into_entries(self) -> Vec<FaqEntry> {
        let example = self.example;
        self.entries
            .into_iter()
            .map(|mut e| {
                e.example |= example;
                e
            })
            .collect()
    }
}

fn check_entries(entries: &[FaqEntry], origin: &str) -> Result<(), ConfigError> {
    let mut issues = Vec::new();
    let mut ids = HashSet::new();
    let mut issue = |i: usize, field: &str, reason: String| {
        issues.push(ConfigIssue {
            file: origin.to_string(),
            field: format!("entry[{i}].{field}"),
            reason,
        })
    };
    for (i, e) in entries.iter().enumerate() {
        if e.id.trim().is_empty() {
            issue(i, "id", "an entry needs a non-empty id".into());
        } else if !ids.insert(e.id.as_str()) {
            issue(i, "id", format!("duplicate entry id `{}`", e.id));
        }
        if e.category.trim().is_empty() {
            issue(i, "category", "an entry needs a category".into());
        }
        if e.questions.iter().all(|q| q.trim().is_empty()) {
            issue(
                i,
                "questions",
                "an entry needs at least one question".into(),
            );
        }
        if e.answer.trim().is_empty() {
            issue(i, "answer", "an entry needs an answer".into());
        }
        for (j, l) in e.links.iter().enumerate() {
            if !(l.url.starts_with("https://") || l.url.starts_with("http://")) {
                issue(
                    i,
                    &format!("links[{j}].url"),
                    format!("`{}` is not an http(s) URL", l.url),
                );
            }
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { issues })
    }
}

impl FaqHit {
    /// Whether the hit is confident enough to answer: its confidence reaches the threshold,
    /// and a hit on one single term must cover at least half the question (one shared word
    /// such as "sacar" or "pagar" is not an answer).
    ///
    /// ```
    /// let kb = civic_router::faq::KnowledgeBase::from_toml_str(r#"
    ///     [[entry]]
    ///     id = "volante"
    ///     category = "tramites"
    ///     questions = ["¿cómo saco el volante de empadronamiento?"]
    ///     answer = "En la sede electrónica."
    /// "#, "t.toml").unwrap();
    /// assert!(kb.search("volante empadronamiento").unwrap().answers(0.3));
    /// assert!(!kb.search("¿dónde se saca el pasaporte para el viaje?").unwrap().answers(0.3));
    /// ```
    pub fn answers(&self, threshold: f32) -> bool {
        self.confidence >= threshold && (self.matched.len() >= 2 || self.confidence >= 0.5)
    }

    /// The answer for a channel: the short form by SMS, the spoken form by voice (no URLs),
    /// the full answer elsewhere.
    ///
    /// ```
    /// use civic_router::{ChannelKind, faq::KnowledgeBase};
    /// let kb = KnowledgeBase::from_toml_str(r#"
    ///     [[entry]]
    ///     id = "a"
    ///     category = "general"
    ///     questions = ["horario del 010"]
    ///     answer = "Todos los días de 8 a 20 h. Más en https://example.invalid/010"
    ///     short = "010: de 8 a 20 h."
    /// "#, "t.toml").unwrap();
    /// let hit = kb.search("horario del 010").unwrap();
    /// assert_eq!(hit.text_for(ChannelKind::Sms), "010: de 8 a 20 h.");
    /// assert_eq!(hit.text_for(ChannelKind::Voice), "Todos los días de 8 a 20 h. Más en");
    /// ```
    pub fn text_for(&self, channel: crate::message::ChannelKind) -> String {
        answer_text(&self.entry, channel)
    }
}

/// The text of an entry's answer for a channel (see [`FaqHit::text_for`]).
pub fn answer_text(e: &FaqEntry, channel: crate::message::ChannelKind) -> String {
    use crate::message::ChannelKind as C;
    match channel {
        C::Sms => e.short.clone().unwrap_or_else(|| e.answer.clone()),
        C::Voice => e.spoken.clone().unwrap_or_else(|| {
            e.answer
                .split_whitespace()
                .filter(|w| !w.starts_with("http://") && !w.starts_with("https://"))
                .collect::<Vec<_>>()
                .join(" ")
        }),
        _ => e.answer.clone(),
    }
}

/// An answer given at once by the pipeline (see [`crate::Decision::answer`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqAnswer {
    /// The entry id.
    pub entry: String,
    /// The entry's category.
    pub category: String,
    /// The text for the message's channel.
    pub text: String,
    /// Self-service links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<FaqLink>,
    /// BM25 score.
    pub score: f32,
    /// Confidence, 0–1.
    pub confidence: f32,
    /// Example content, not official.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub example: bool,
}

#[cfg(feature = "channels")]
impl FaqAnswer {
    /// The reply on the channel's terms: on WhatsApp the text with the first link as a
    /// call-to-action button (an interactive `cta_url` message: the button shows the link's
    /// title, at most 20 characters); by SMS the short text and the first link; by voice the
    /// spoken text, without links; elsewhere the text and every link, the first being the
    /// call to action ([`Reply::link_button`](crate::channel::Reply::link_button)).
    ///
    /// ```
    /// use civic_router::{ChannelKind, faq::{FaqAnswer, FaqLink}};
    /// let a = FaqAnswer {
    ///     entry: "a".into(), category: "tramites".into(), text: "Pida cita.".into(),
    ///     links: vec![FaqLink { title: "Cita previa".into(), url: "https://example.invalid/c".into() }],
    ///     score: 3.2, confidence: 0.9, example: true,
    /// };
    /// let wa = a.reply(ChannelKind::Whatsapp);
    /// assert!(wa.link_button);
    /// assert_eq!(wa.links[0].title, "Cita previa");
    /// assert_eq!(a.reply(ChannelKind::Sms).links.len(), 1);
    /// assert!(a.reply(ChannelKind::Voice).links.is_empty());
    /// ```
    pub fn reply(&self, channel: crate::message::ChannelKind) -> crate::channel::Reply {
        use crate::message::ChannelKind as C;
        let mut r = crate::channel::Reply::text(self.text.clone());
        let take = match channel {
            C::Voice => 0,
            C::Sms | C::Whatsapp => 1,
            _ => usize::MAX,
        };
        for l in self.links.iter().take(take) {
            r = r.with_link(l.title.clone(), l.url.clone());
        }
        r.link_button = !r.links.is_empty();
        r
    }
}

/// A question the knowledge base could not answer, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The question's terms (see [`KnowledgeBase::gap_key`]): variants of one question share it.
    pub key: String,
    /// The first wording seen.
    pub example: String,
    /// Times asked.
    pub count: u64,
    /// The category the router gave it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// First asked.
    pub first_seen: DateTime<Utc>,
    /// Last asked.
    pub last_seen: DateTime<Utc>,
}

/// Where unanswered questions are counted, so staff see what to write next.
pub trait GapLog: Send + Sync {
    /// Counts one more unanswered question under `key`; returns the new count.
    fn record(
        &self,
        key: &str,
        question: &str,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64, Error>;

    /// The most asked, most first (ties: the most recent first), at most `limit`.
    fn top(&self, limit: usize) -> Result<Vec<Gap>, Error>;

    /// Forgets a key (an entry now answers it).
    fn resolve(&self, key: &str) -> Result<bool, Error>;
}

/// A gap log in memory.
///
/// ```
/// use civic_router::faq::{GapLog, MemoryGapLog};
/// let log = MemoryGapLog::default();
/// let now = chrono::Utc::now();
/// log.record("mueble recog", "¿recogen muebles?", None, now).unwrap();
/// assert_eq!(log.record("mueble recog", "recogida de muebles", None, now).unwrap(), 2);
/// assert_eq!(log.top(10).unwrap()[0].example, "¿recogen muebles?");
/// ```
#[derive(Debug, Default)]
pub struct MemoryGapLog {
    gaps: Mutex<HashMap<String, Gap>>,
}

impl GapLog for MemoryGapLog {
    fn record(
        &self,
        key: &str,
        question: &str,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let mut g = self.gaps.lock().unwrap_or_else(|p| p.into_inner());
        let gap = g.entry(key.to_string()).or_insert_with(|| Gap {
            key: key.to_string(),
            example: question.to_string(),
            count: 0,
            category: category.map(str::to_string),
            first_seen: at,
            last_seen: at,
        });
        gap.count += 1;
        gap.last_seen = gap.last_seen.max(at);
        Ok(gap.count)
    }

    fn top(&self, limit: usize) -> Result<Vec<Gap>, Error> {
        let g = self.gaps.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<Gap> = g.values().cloned().collect();
        v.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.key.cmp(&b.key))
        });
        v.truncate(limit);
        Ok(v)
    }

    fn resolve(&self, key: &str) -> Result<bool, Error> {
        let mut g = self.gaps.lock().unwrap_or_else(|p| p.into_inner());
        Ok(g.remove(key).is_some())
    }
}

pub mod conformance;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use postgres::PgGapLog;
#[cfg(feature = "sqlite")]
pub use sqlite_gaps::SqliteGapLog;

/// Opens a gap log by URL, as the case and appointment stores open: `memory://`,
/// `sqlite://PATH` (or a bare path), `postgres://…[?schema=NAME]` (table `faq_gaps` in the
/// cases' database; needs the `postgres` feature). A kind of store this build lacks is an
/// `Invalid` [`StoreError`](crate::error::StoreError).
///
/// ```
/// use civic_router::faq::open_gap_log;
/// let log = open_gap_log("memory://").unwrap();
/// let now = chrono::Utc::now();
/// log.record("ibi pag", "¿cómo pago el IBI?", None, now).unwrap();
/// assert_eq!(log.top(1).unwrap()[0].count, 1);
/// assert!(open_gap_log("ftp://x").is_err());
/// ```
///
/// Every instance of the service opening the same PostgreSQL URL counts into one log:
///
/// ```no_run
/// let log = civic_router::faq::open_gap_log("postgres://postgres@127.0.0.1:5432/test?schema=civic").unwrap();
/// for gap in log.top(10).unwrap() {
///     println!("{:>5}  {}", gap.count, gap.example);
/// }
/// ```
pub fn open_gap_log(url: &str) -> Result<Arc<dyn GapLog>, Error> {
    #[cfg(feature = "tickets")]
    {
        use crate::ticket::StoreUrl;
        match url.parse::<StoreUrl>()? {
            StoreUrl::Memory => Ok(Arc::new(MemoryGapLog::default())),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(p) => Ok(Arc::new(SqliteGapLog::open(p)?)),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => Ok(Arc::new(crate::ticket::PgStore::connect(&u)?.gap_log())),
            #[allow(unreachable_patterns)]
            other => Err(Error::Store(crate::error::StoreError::new(
                crate::error::StoreErrorKind::Invalid,
                format!("this build of civic-router has no {} gap log", other.kind()),
            ))),
        }
    }
    #[cfg(not(feature = "tickets"))]
    {
        match url {
            "memory://" | "memory:" => Ok(Arc::new(MemoryGapLog::default())),
            other => Err(Error::Store(crate::error::StoreError::new(
                crate::error::StoreErrorKind::Invalid,
                format!("gap log `{other}`: this build opens only memory:// gap logs"),
            ))),
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite_gaps {
    use super::*;
    use rusqlite::{params, Connection};

    /// A gap log in SQLite (table `faq_gaps`), shared by every process on the host.
    ///
    /// ```
    /// use civic_router::faq::{GapLog, SqliteGapLog};
    /// let log = SqliteGapLog::open_in_memory().unwrap();
    /// let now = chrono::Utc::now();
    /// log.record("ibi pag", "¿cómo pago el IBI?", Some("tramites"), now).unwrap();
    /// assert_eq!(log.record("ibi pag", "pagar ibi", None, now).unwrap(), 2);
    /// assert_eq!(log.top(5).unwrap()[0].count, 2);
    /// ```
    pub struct SqliteGapLog {
        conn: Mutex<Connection>,
    }

    impl fmt::Debug for SqliteGapLog {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("SqliteGapLog")
        }
    }

    fn db_err(path: &str, e: rusqlite::Error) -> Error {
        Error::Io {
            path: path.to_string(),
            source: std::io::Error::other(e),
        }
    }

    impl SqliteGapLog {
        /// Opens (creating if needed) the gap log in a SQLite file.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
            let p = path.as_ref().display().to_string();
            let conn = Connection::open(path.as_ref()).map_err(|e| db_err(&p, e))?;
            Self::init(conn, &p)
        }

        /// A gap log in a private in-memory database (tests).
        pub fn open_in_memory() -> Result<Self, Error> {
            let conn = Connection::open_in_memory().map_err(|e| db_err(":memory:", e))?;
            Self::init(conn, ":memory:")
        }

        fn init(conn: Connection, p: &str) -> Result<Self, Error> {
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(|e| db_err(p, e))?;
            conn.execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE IF NOT EXISTS faq_gaps (
                    key TEXT PRIMARY KEY,
                    example TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    category TEXT,
                    first_seen TEXT NOT NULL,
                    last_seen TEXT NOT NULL
                 );",
            )
            .map_err(|e| db_err(p, e))?;
            Ok(SqliteGapLog {
                conn: Mutex::new(conn),
            })
        }
    }

    impl GapLog for SqliteGapLog {
        fn record(
            &self,
            key: &str,
            question: &str,
            category: Option<&str>,
            at: DateTime<Utc>,
        ) -> Result<u64, Error> {
            let c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let at = at.to_rfc3339();
            c.query_row(
                "INSERT INTO faq_gaps (key, example, count, category, first_seen, last_seen)
                 VALUES (?1, ?2, 1, ?3, ?4, ?4)
                 ON CONFLICT(key) DO UPDATE SET count = count + 1,
                    last_seen = max(last_seen, excluded.last_seen)
                 RETURNING count",
                params![key, question, category, at],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| db_err("faq_gaps", e))
        }

        fn top(&self, limit: usize) -> Result<Vec<Gap>, Error> {
            let c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let mut st = c
                .prepare(
                    "SELECT key, example, count, category, first_seen, last_seen FROM faq_gaps
                     ORDER BY count DESC, last_seen DESC, key LIMIT ?1",
                )
                .map_err(|e| db_err("faq_gaps", e))?;
            let rows = st
                .query_map(params![limit as i64], |r| {
                    let t = |s: String| {
                        DateTime::parse_from_rfc3339(&s)
                            .map(|d| d.with_timezone(&Utc))
                            .unwrap_or_default()
                    };
                    Ok(Gap {
                        key: r.get(0)?,
                        example: r.get(1)?,
                        count: r.get::<_, i64>(2)? as u64,
                        category: r.get(3)?,
                        first_seen: t(r.get(4)?),
                        last_seen: t(r.get(5)?),
                    })
                })
                .map_err(|e| db_err("faq_gaps", e))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(|e| db_err("faq_gaps", e))
        }

        fn resolve(&self, key: &str) -> Result<bool, Error> {
            let c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let n = c
                .execute("DELETE FROM faq_gaps WHERE key = ?1", params![key])
                .map_err(|e| db_err("faq_gaps", e))?;
            Ok(n > 0)
        }
    }
}

/// A knowledge base that can be reloaded or extended while it serves, with its gap log and
/// threshold: what an edge service holds.
///
/// ```
/// use std::sync::Arc;
/// use civic_router::faq::{Faq, FaqEntry, KnowledgeBase, MemoryGapLog};
///
/// let kb = KnowledgeBase::from_toml_str(r#"
///     [[entry]]
///     id = "ibi"
///     category = "tramites"
///     questions = ["¿cómo pago el IBI?"]
///     answer = "En la sede electrónica."
/// "#, "faq.toml").unwrap();
/// let faq = Faq::new(kb, 0.5, Arc::new(MemoryGapLog::default()));
/// assert!(faq.ask("¿recogen los muebles viejos?").unwrap().is_none());
/// assert_eq!(faq.gaps(10).unwrap()[0].count, 1);
///
/// // staff add an entry: it answers at once, no restart
/// faq.add_entry(FaqEntry {
///     id: "muebles".into(), category: "limpieza".into(),
///     questions: vec!["recogida de muebles viejos".into()], keywords: vec![],
///     answer: "Llame al 010 y pida la recogida gratuita.".into(),
///     short: None, spoken: None, links: vec![], example: true,
/// }).unwrap();
/// assert_eq!(faq.ask("¿recogen los muebles viejos?").unwrap().unwrap().entry.id, "muebles");
/// ```
pub struct Faq {
    kb: ArcSwap<KnowledgeBase>,
    threshold: f32,
    gaps: Arc<dyn GapLog>,
    source: Option<PathBuf>,
    writer: Mutex<()>,
}

impl fmt::Debug for Faq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faq")
            .field("kb", &*self.kb.load())
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl Faq {
    /// A knowledge base, its threshold and where gaps are counted.
    pub fn new(kb: KnowledgeBase, threshold: f32, gaps: Arc<dyn GapLog>) -> Faq {
        Faq {
            kb: ArcSwap::from_pointee(kb),
            threshold,
            gaps,
            source: None,
            writer: Mutex::new(()),
        }
    }

    /// Reads the knowledge base from a file; [`reload`](Self::reload) reads it again.
    pub fn open(
        path: impl AsRef<Path>,
        threshold: f32,
        gaps: Arc<dyn GapLog>,
    ) -> Result<Faq, Error> {
        let kb = KnowledgeBase::from_path(path.as_ref())?;
        let mut f = Faq::new(kb, threshold, gaps);
        f.source = Some(path.as_ref().to_path_buf());
        Ok(f)
    }

    /// The knowledge base in force.
    pub fn knowledge_base(&self) -> Arc<KnowledgeBase> {
        self.kb.load_full()
    }

    /// The threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Re-reads the file given to [`open`](Self::open); on error the old base stays.
    pub fn reload(&self) -> Result<usize, Error> {
        let Some(p) = &self.source else {
            return Ok(self.kb.load().len());
        };
        let kb = KnowledgeBase::from_path(p)?;
        let n = kb.len();
        self.kb.store(Arc::new(kb));
        Ok(n)
    }

    /// Replaces the knowledge base.
    pub fn replace(&self, kb: KnowledgeBase) {
        self.kb.store(Arc::new(kb));
    }

    /// Adds (or replaces, by id) an entry and re-indexes; the gaps it now answers are
    /// resolved. Returns how many gaps were resolved.
    pub fn add_entry(&self, entry: FaqEntry) -> Result<usize, Error> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.kb.load_full();
        let mut entries: Vec<FaqEntry> = old
            .entries()
            .iter()
            .filter(|e| e.id != entry.id)
            .map(|e| (**e).clone())
            .collect();
        entries.push(entry);
        let kb = KnowledgeBase::with_normalizer(entries, old.origin(), old.normalizer.clone())?;
        let mut resolved = 0;
        for g in self.gaps.top(usize::MAX >> 1)? {
            if kb
                .search(&g.example)
                .is_some_and(|h| h.answers(self.threshold))
                && self.gaps.resolve(&g.key)?
            {
                resolved += 1;
            }
        }
        self.kb.store(Arc::new(kb));
        Ok(resolved)
    }

    /// Answers a question when the best entry reaches the threshold; otherwise counts it in
    /// the gap log and returns `None`.
    pub fn ask(&self, question: &str) -> Result<Option<FaqHit>, Error> {
        self.ask_at(question, None, Utc::now())
    }

    /// Like [`ask`](Self::ask), with the category the router gave and the time.
    pub fn ask_at(
        &self,
        question: &str,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<FaqHit>, Error> {
        let kb = self.kb.load();
        match kb.search(question) {
            Some(h) if h.answers(self.threshold) => Ok(Some(h)),
            _ => {
                self.record_gap(question, category, at)?;
                Ok(None)
            }
        }
    }

    /// Counts an unanswered question (what an edge does with a decision that was not
    /// auto-answered: the router itself does no I/O).
    pub fn record_gap(
        &self,
        question: &str,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let key = self.kb.load().gap_key(question);
        let key = if key.is_empty() {
            question.trim().to_lowercase()
        } else {
            key
        };
        self.gaps.record(&key, question, category, at)
    }

    /// The most asked unanswered questions.
    pub fn gaps(&self, limit: usize) -> Result<Vec<Gap>, Error> {
        self.gaps.top(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted() {
        let mut s = STOP_WORDS.to_vec();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s, STOP_WORDS, "STOP_WORDS must be sorted and unique");
    }

    fn kb() -> KnowledgeBase {
        KnowledgeBase::from_toml_str(
            r#"
            example = true
            [[entry]]
            id = "padron"
            category = "tramites"
            questions = ["¿Cómo me empadrono?", "alta en el padrón", "empadronamiento"]
            answer = "Pida cita previa."
            [[entry]]
            id = "muebles"
            category = "limpieza"
            questions = ["recogida de muebles y enseres", "¿dónde tiro un colchón viejo?"]
            answer = "Llame al 010."
            [[entry]]
            id = "agua-factura"
            category = "agua"
            questions = ["pagar la factura del agua", "recibo del agua"]
            answer = "Oficina virtual."
            "#,
            "t.toml",
        )
        .unwrap()
    }

    #[test]
    fn finds_inflections_and_typos() {
        let kb = kb();
        assert!(kb.entries().iter().all(|e| e.example));
        assert_eq!(kb.search("quiero empadronarme").unwrap().entry.id, "padron");
        assert_eq!(kb.search("colchon biejo").unwrap().entry.id, "muebles");
        assert_eq!(
            kb.search("el resibo del agua").unwrap().entry.id,
            "agua-factura"
        );
        assert!(kb.search("hola buenas").is_none());
    }

    #[test]
    fn refuses_broken_files() {
        let e = KnowledgeBase::from_toml_str("[[entry]]\nid = 'a'\n", "b.toml").unwrap_err();
        assert!(e.to_string().contains("b.toml"), "{e}");
        let e = KnowledgeBase::from_toml_str(
            "[[entry]]\nid='a'\ncategory='x'\nquestions=['q']\nanswer='r'\nlinks=[{title='t',url='ftp://x'}]\n[[entry]]\nid='a'\ncategory='x'\nquestions=[]\nanswer=''\n",
            "c.toml",
        )
        .unwrap_err();
        assert_eq!(e.issues.len(), 4, "{e}");
        assert!(KnowledgeBase::from_str_named("{", "x.json").is_err());
        assert!(KnowledgeBase::from_str_named("a: 1", "x.yaml").is_err());
        assert!(KnowledgeBase::from_toml_str("[[entry]\n", "d.toml").is_err());
    }

    #[test]
    fn gap_log_counts_and_resolves() {
        let faq = Faq::new(kb(), 0.5, Arc::new(MemoryGapLog::default()));
        for q in [
            "¿Dónde renuevo el DNI?",
            "donde renuevo el dni",
            "DNI renuevo?",
        ] {
            assert!(faq.ask(q).unwrap().is_none());
        }
        assert!(faq.ask("¿cuándo abre la piscina?").unwrap().is_none());
        let g = faq.gaps(10).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].count, 3);
        assert_eq!(g[0].example, "¿Dónde renuevo el DNI?");
    }

    #[test]
    fn memory_gap_log_keeps_the_contract() {
        let log: Arc<dyn GapLog> = Arc::new(MemoryGapLog::default());
        conformance::check_gap_log(&|| log.clone()).unwrap();
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_gap_log_keeps_the_contract_across_connections() {
        let dir = std::env::temp_dir().join(format!("civic-gaps-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("gaps.db");
        let _ = std::fs::remove_file(&p);
        // every handle its own connection to the file, as separate processes would have
        conformance::check_gap_log(&|| Arc::new(SqliteGapLog::open(&p).unwrap())).unwrap();
        // and by URL
        let by_url = open_gap_log(&format!("sqlite://{}", p.display())).unwrap();
        assert!(by_url.top(1).unwrap()[0].count > 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn gap_logs_open_by_url() {
        let log = open_gap_log("memory://").unwrap();
        assert_eq!(log.record("k", "q", None, Utc::now()).unwrap(), 1);
        let Err(e) = open_gap_log("oracle://x") else {
            panic!("oracle is not a gap log")
        };
        assert_eq!(e.kind().code(), "STORE");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_gap_log_persists() {
        let dir = std::env::temp_dir().join(format!("civic-gaps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("gaps.db");
        let _ = std::fs::remove_file(&p);
        {
            let log = SqliteGapLog::open(&p).unwrap();
            let t = Utc::now();
            log.record("k", "q1", Some("tramites"), t).unwrap();
            log.record("k", "q2", None, t).unwrap();
            log.record("j", "q3", None, t).unwrap();
        }
        let log = SqliteGapLog::open(&p).unwrap();
        let top = log.top(10).unwrap();
        assert_eq!((top[0].key.as_str(), top[0].count), ("k", 2));
        assert_eq!(top[0].category.as_deref(), Some("tramites"));
        assert!(log.resolve("k").unwrap());
        assert_eq!(log.top(10).unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
