//! A trainable statistical classifier: multinomial logistic regression over word and character
//! n-grams of the normalised text, one head for the intent and one for the category.
//!
//! Rules catch what staff can write down; citizens paraphrase ("está todo a oscuras", "el
//! agujero de la carretera"). The model learns from a labelled corpus, stays small (a
//! vocabulary of the features seen at least twice and one weight per feature and class), and
//! explains itself with the features that weighed most.
//!
//! Why this family: on short, noisy text a linear model over word and character n-grams is the
//! standard strong baseline (it is what a city's Python team builds with scikit-learn's
//! `TfidfVectorizer` + `LogisticRegression`); logistic regression gives probabilities that can
//! be used as confidence, which a linear SVM does not, and it beat complement naive Bayes in
//! cross-validation on the development corpus (see the issue note).
//!
//! ```
//! use civic_router::classify::model::{Model, TrainOptions, TrainingExample};
//! use civic_router::text::Normalizer;
//!
//! let n = Normalizer::spanish();
//! let data: Vec<TrainingExample> = [
//!     ("la farola está apagada", "incident", "alumbrado"),
//!     ("farolas sin luz en mi calle", "incident", "alumbrado"),
//!     ("hay un bache enorme", "incident", "via_publica"),
//!     ("socavón en la calzada", "incident", "via_publica"),
//!     ("¿a qué hora abre el registro?", "information", "tramites"),
//!     ("horario del registro", "information", "tramites"),
//! ]
//! .iter()
//! .map(|(t, i, c)| TrainingExample::new(&n.normalize(t), None, i, c))
//! .collect();
//! // a corpus this small keeps every feature (the default drops those seen in fewer than 3)
//! let model = Model::train(&data, &TrainOptions { min_count: 1, ..Default::default() }).unwrap();
//! let p = model.predict(&n.normalize("farola apagá"), None);
//! assert_eq!(p.category.label, "alumbrado");
//! assert!(p.category.probability > 0.5);
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Classification, Classifier, ClassifierError, Context, Evidence, Intent};
use crate::message::ChannelKind;
use crate::text::NormalizedText;

/// The model file's format name.
pub const FORMAT: &str = "civic-router-linear-model";
/// The model file's version; a file of another version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// A remembered prediction: (model address, channel, normalised text, prediction).
type Memo = (usize, Option<ChannelKind>, String, Arc<Prediction>);

/// Scratch space of one prediction, kept per thread so that predicting allocates nothing but
/// its answer.
#[derive(Default)]
struct Scratch {
    window: Vec<u8>,
    hashes: Vec<u64>,
    /// occurrences of each feature in the current text (all zero between predictions)
    counts: Vec<u16>,
    x: Vec<(u32, f32)>,
    acc: Vec<[f32; LANE]>,
    intent: Vec<f32>,
    category: Vec<f32>,
}

/// Width of the weight blocks scored at once (one AVX register of `f32`).
const LANE: usize = 8;

/// The weights of both heads laid out for prediction: one row per feature holding the intent
/// classes then the category classes, each padded with zeros to a multiple of [`LANE`], so
/// that scoring a feature is a few fixed-width multiply-adds the compiler vectorises.
#[derive(Debug, Clone, Default)]
struct Packed {
    /// lane blocks per feature row
    blocks: usize,
    /// lane blocks of the intent head (the category's start after them)
    intent_blocks: usize,
    rows: Vec<[f32; LANE]>,
    bias: Vec<[f32; LANE]>,
}

impl Packed {
    fn new(features: usize, intent: &Head, category: &Head) -> Packed {
        let ki = intent.classes.len();
        let kc = category.classes.len();
        let ib = ki.div_ceil(LANE);
        let blocks = ib + kc.div_ceil(LANE);
        let mut rows = vec![[0.0; LANE]; features * blocks];
        let mut bias = vec![[0.0; LANE]; blocks];
        let put = |row: &mut [[f32; LANE]], at: usize, w: f32| row[at / LANE][at % LANE] = w;
        for f in 0..features {
            let row = &mut rows[f * blocks..(f + 1) * blocks];
            for j in 0..ki {
                put(row, j, intent.weights[f * ki + j]);
            }
            for j in 0..kc {
                put(row, ib * LANE + j, category.weights[f * kc + j]);
            }
        }
        for j in 0..ki {
            put(&mut bias, j, intent.bias[j]);
        }
        for j in 0..kc {
            put(&mut bias, ib * LANE + j, category.bias[j]);
        }
        Packed {
            blocks,
            intent_blocks: ib,
            rows,
            bias,
        }
    }
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    /// The last prediction on this thread: the three stages of the chain (lead, emergency
    /// detector, fill) ask the same model about the same text.
    static LAST: std::cell::RefCell<Option<Memo>> = const { std::cell::RefCell::new(None) };
}

/// Feature keys are already FNV hashes: hashing them again (SipHash) would only cost time.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type FeatureIndex = HashMap<u64, u32, std::hash::BuildHasherDefault<IdentityHasher>>;

/// One labelled example, already normalised.
#[derive(Debug, Clone)]
pub struct TrainingExample {
    features: Vec<String>,
    intent: String,
    category: String,
}

impl TrainingExample {
    /// An example from normalised text, its channel and its labels.
    pub fn new(
        text: &NormalizedText,
        channel: Option<ChannelKind>,
        intent: &str,
        category: &str,
    ) -> Self {
        TrainingExample {
            features: features(text, channel),
            intent: intent.to_string(),
            category: category.to_string(),
        }
    }
}

/// Training settings. The defaults were chosen by cross-validation on the development corpus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Seed of the example order; the same seed and data give the same model.
    pub seed: u64,
    /// Passes over the data.
    pub epochs: usize,
    /// Initial learning rate (AdaGrad).
    pub learning_rate: f32,
    /// L2 regularisation strength.
    pub l2: f32,
    /// Features seen in fewer training messages are dropped.
    pub min_count: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 42,
            epochs: 30,
            learning_rate: 0.5,
            l2: 1e-4,
            min_count: 3,
        }
    }
}

/// One head: classes, one weight row per feature, biases.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    classes: Vec<String>,
    /// `features × classes`, row-major
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A label with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The label.
    pub label: String,
    /// Its probability, 0–1.
    pub probability: f32,
    /// The features that weighed most for it, strongest first.
    pub top_features: Vec<(String, f32)>,
}

/// What the model predicts for one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most likely intent.
    pub intent: Scored,
    /// The most likely category.
    pub category: Scored,
    /// Probability of the `emergency` intent (0 when the model has no such class).
    pub emergency_probability: f32,
}

/// A trained model (immutable; share it in an `Arc`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    format: String,
    version: u32,
    /// Training settings used.
    pub options: TrainOptions,
    /// Number of training messages.
    pub trained_on: usize,
    features: Vec<String>,
    intent: Head,
    category: Head,
    #[serde(skip)]
    index: FeatureIndex,
    #[serde(skip)]
    packed: Packed,
}

/// The error of loading or training a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model: {0}")]
pub struct ModelError(pub String);

/// The features of a normalised text: word unigrams and bigrams, character 3- to 5-grams of
/// each word (with boundary marks), the question token, and the channel.
pub fn features(text: &NormalizedText, channel: Option<ChannelKind>) -> Vec<String> {
    let toks: Vec<&str> = text.tokens().collect();
    let mut out = Vec::with_capacity(toks.len() * 12 + 2);
    for (i, t) in toks.iter().enumerate() {
        out.push(format!("w:{t}"));
        if let Some(n) = toks.get(i + 1) {
            out.push(format!("b:{t}_{n}"));
        }
        if t.len() >= 3 {
            let padded = format!("<{t}>");
            let b = padded.as_bytes();
            for n in 3..=5 {
                if b.len() < n {
                    break;
                }
                for w in b.windows(n) {
                    // the text is ASCII, so every window is a str
                    out.push(format!("c:{}", std::str::from_utf8(w).unwrap_or("")));
                }
            }
        }
    }
    if toks.is_empty() {
        out.push("empty".to_string());
    }
    if let Some(c) = channel {
        out.push(format!("ch:{c}"));
    }
    out
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a of `bytes`, continuing from the state `h`.
#[inline]
fn fnv_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a over the concatenation of `parts`: the hash of a feature's name, computed without
/// building the name.
pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    parts.iter().fold(FNV_OFFSET, |h, p| fnv_from(h, p))
}

/// The hashes of [`features`] (in another order), computed without allocating a string per
/// feature (the hot path of prediction). FNV reads bytes in order, so the state after a
/// prefix is shared: the `w:`, `b:`, `c:` marks are hashed once, and a position's 4- and
/// 5-gram continue its 3-gram. `buf` is scratch space.
fn feature_hashes(
    text: &NormalizedText,
    channel: Option<ChannelKind>,
    buf: &mut Vec<u8>,
    out: &mut Vec<u64>,
) {
    let (hw, hb, hc) = (
        fnv_from(FNV_OFFSET, b"w:"),
        fnv_from(FNV_OFFSET, b"b:"),
        fnv_from(FNV_OFFSET, b"c:"),
    );
    out.clear();
    let mut prev: Option<&str> = None;
    let mut any = false;
    for t in text.tokens() {
        any = true;
        let tb = t.as_bytes();
        out.push(fnv_from(hw, tb));
        if let Some(p) = prev {
            out.push(fnv_from(fnv_from(fnv_from(hb, p.as_bytes()), b"_"), tb));
        }
        prev = Some(t);
        if tb.len() >= 3 {
            buf.clear();
            buf.push(b'<');
            buf.extend_from_slice(tb);
            buf.push(b'>');
            for i in 0..=buf.len() - 3 {
                let mut h = fnv_from(hc, &buf[i..i + 3]);
                out.push(h);
                for &next in buf.iter().skip(i + 3).take(2) {
                    h = fnv_from(h, &[next]);
                    out.push(h);
                }
            }
        }
    }
    if !any {
        out.push(fnv(&[b"empty"]));
    }
    if let Some(c) = channel {
        out.push(fnv(&[b"ch:", c.as_str().as_bytes()]));
    }
}

/// Sparse, L2-normalised feature vector from feature hashes: (feature index, value), by
/// feature index.
fn vectorize(index: &FeatureIndex, hashes: &[u64]) -> Vec<(u32, f32)> {
    let (mut ids, mut v) = (Vec::new(), Vec::new());
    vectorize_into(index, hashes, &mut ids, &mut v);
    v
}

/// [`vectorize`] into caller-owned buffers (`ids` is scratch space).
fn vectorize_into(
    index: &FeatureIndex,
    hashes: &[u64],
    ids: &mut Vec<u32>,
    v: &mut Vec<(u32, f32)>,
) {
    ids.clear();
    ids.extend(hashes.iter().filter_map(|h| index.get(h).copied()));
    ids.sort_unstable();
    v.clear();
    for &id in ids.iter() {
        match v.last_mut() {
            Some(last) if last.0 == id => last.1 += 1.0,
            _ => v.push((id, 1.0)),
        }
    }
    let mut norm = 0.0f32;
    for e in v.iter_mut() {
        // ln(1) = 0: most features occur once, and need no logarithm
        if e.1 != 1.0 {
            e.1 = 1.0 + e.1.ln();
        }
        norm += e.1 * e.1;
    }
    let norm = norm.sqrt();
    if norm > 0.0 {
        for e in v.iter_mut() {
            e.1 /= norm;
        }
    }
}

/// The prediction-time [`vectorize`]: the same values, in the order the features first occur
/// instead of by index (no sort), counting repeats in `counts` (left all zero again).
fn vectorize_unsorted(
    index: &FeatureIndex,
    hashes: &[u64],
    counts: &mut Vec<u16>,
    v: &mut Vec<(u32, f32)>,
) {
    if counts.len() < index.len() {
        counts.resize(index.len(), 0);
    }
    v.clear();
    for h in hashes {
        if let Some(&id) = index.get(h) {
            let c = &mut counts[id as usize];
            if *c == 0 {
                v.push((id, 0.0));
            }
            *c = c.saturating_add(1);
        }
    }
    let mut norm = 0.0f32;
    for e in v.iter_mut() {
        let c = std::mem::take(&mut counts[e.0 as usize]);
        // ln(1) = 0: most features occur once, and need no logarithm
        e.1 = if c == 1 { 1.0 } else { 1.0 + f32::from(c).ln() };
        norm += e.1 * e.1;
    }
    let norm = norm.sqrt();
    if norm > 0.0 {
        for e in v.iter_mut() {
            e.1 /= norm;
        }
    }
}

fn softmax(scores: &mut [f32]) {
    let max = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

impl Head {
    fn scores(&self, x: &[(u32, f32)]) -> Vec<f32> {
        let mut s = Vec::new();
        self.scores_into(x, &mut s);
        s
    }

    /// The class probabilities of `x`, written into `s`.
    fn scores_into(&self, x: &[(u32, f32)], s: &mut Vec<f32>) {
        let k = self.classes.len();
        s.clear();
        s.extend_from_slice(&self.bias);
        for &(f, v) in x {
            let start = f as usize * k;
            if let Some(row) = self.weights.get(start..start + k) {
                for (sj, w) in s.iter_mut().zip(row) {
                    *sj += w * v;
                }
            }
        }
        softmax(s);
    }

    fn train(
        classes: Vec<String>,
        n_features: usize,
        data: &[(Vec<(u32, f32)>, usize)],
        o: &TrainOptions,
    ) -> Head {
        let k = classes.len();
        let mut h = Head {
            classes,
            weights: vec![0.0; n_features * k],
            bias: vec![0.0; k],
        };
        // AdaGrad accumulators
        let mut gw = vec![1e-6f32; n_features * k];
        let mut gb = vec![1e-6f32; k];
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = o
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for _ in 0..o.epochs {
            // Fisher–Yates with a 64-bit LCG: deterministic for a seed
            for i in (1..order.len()).rev() {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = ((rng >> 33) as usize) % (i + 1);
                order.swap(i, j);
            }
            for &i in &order {
                let (x, y) = &data[i];
                let p = h.scores(x);
                for j in 0..k {
                    let g = p[j] - if j == *y { 1.0 } else { 0.0 };
                    gb[j] += g * g;
                    h.bias[j] -= o.learning_rate * g / gb[j].sqrt();
                    for &(f, v) in x {
                        let idx = f as usize * k + j;
                        let grad = g * v + o.l2 * h.weights[idx];
                        gw[idx] += grad * grad;
                        h.weights[idx] -= o.learning_rate * grad / gw[idx].sqrt();
                    }
                }
            }
        }
        h
    }

    /// The most probable class given its probabilities `p` (from [`scores_into`]), with the
    /// `top` features of `x` that weighed most for it, strongest first (ties: lower feature
    /// index first). Only the kept features are named (allocated).
    fn best(&self, x: &[(u32, f32)], p: &[f32], names: &[String], top: usize) -> Scored {
        let (bi, bp) =
            p.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        let k = self.classes.len();
        // a small sorted buffer: strongest first, and among equal contributions the lower
        // feature index first
        let before = |a: (u32, f32), b: (u32, f32)| a.1 > b.1 || (a.1 == b.1 && a.0 < b.0);
        let mut kept: [(u32, f32); 8] = [(0, 0.0); 8];
        let top = top.min(kept.len());
        let mut n = 0;
        for &(f, v) in x {
            let c = self.weights.get(f as usize * k + bi).map_or(0.0, |w| w * v);
            if c <= 0.0 || top == 0 || (n == top && !before((f, c), kept[n - 1])) {
                continue;
            }
            let mut i = n.min(top - 1);
            if n < top {
                n += 1;
            }
            while i > 0 && before((f, c), kept[i - 1]) {
                kept[i] = kept[i - 1];
                i -= 1;
            }
            kept[i] = (f, c);
        }
        Scored {
            label: self.classes[bi].clone(),
            probability: bp,
            top_features: kept[..n]
                .iter()
                .map(|&(f, c)| (names[f as usize].clone(), c))
                .collect(),
        }
    }
}

impl Model {
    /// Trains a model. Deterministic for the same data and options.
    ///
    /// Refused: no examples, a single intent or category, a learning rate that is not a
    /// positive number, an L2 strength that is negative or not a number (they would train
    /// weights that are not numbers).
    ///
    /// ```
    /// use civic_router::classify::model::{Model, TrainOptions};
    /// let bad = TrainOptions { learning_rate: f32::NAN, ..Default::default() };
    /// assert!(Model::train(&[], &bad).unwrap_err().to_string().contains("learning_rate"));
    /// ```
    pub fn train(data: &[TrainingExample], o: &TrainOptions) -> Result<Model, ModelError> {
        if !(o.learning_rate.is_finite() && o.learning_rate > 0.0) {
            return Err(ModelError(format!(
                "learning_rate must be a positive number, not {}",
                o.learning_rate
            )));
        }
        if !(o.l2.is_finite() && o.l2 >= 0.0) {
            return Err(ModelError(format!(
                "l2 must be zero or a positive number, not {}",
                o.l2
            )));
        }
        if data.is_empty() {
            return Err(ModelError("no training examples".into()));
        }
        let mut doc_freq: HashMap<&str, usize> = HashMap::new();
        for ex in data {
            let mut seen: Vec<&str> = ex.features.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for f in seen {
                *doc_freq.entry(f).or_default() += 1;
            }
        }
        let mut names: Vec<String> = doc_freq
            .into_iter()
            .filter(|(f, c)| *c >= o.min_count || f.starts_with("ch:"))
            .map(|(f, _)| f.to_string())
            .collect();
        names.sort();
        let index: FeatureIndex = names
            .iter()
            .enumerate()
            .map(|(i, f)| (fnv(&[f.as_bytes()]), i as u32))
            .collect();
        let classes = |f: &dyn Fn(&TrainingExample) -> &str| {
            let mut c: Vec<String> = data.iter().map(|e| f(e).to_string()).collect();
            c.sort();
            c.dedup();
            c
        };
        let intents = classes(&|e| &e.intent);
        let categories = classes(&|e| &e.category);
        for (head, cs) in [("intent", &intents), ("category", &categories)] {
            if cs.len() < 2 {
                return Err(ModelError(format!(
                    "the corpus has a single {head} ({}): a classifier needs at least two",
                    cs.join(", ")
                )));
            }
        }
        let xs: Vec<Vec<(u32, f32)>> = data
            .iter()
            .map(|e| {
                let h: Vec<u64> = e.features.iter().map(|f| fnv(&[f.as_bytes()])).collect();
                vectorize(&index, &h)
            })
            .collect();
        let pos = |cs: &[String], l: &str| cs.iter().position(|c| c == l).unwrap_or(0);
        let di: Vec<(Vec<(u32, f32)>, usize)> = xs
            .iter()
            .zip(data)
            .map(|(x, e)| (x.clone(), pos(&intents, &e.intent)))
            .collect();
        let dc: Vec<(Vec<(u32, f32)>, usize)> = xs
            .into_iter()
            .zip(data)
            .map(|(x, e)| (x, pos(&categories, &e.category)))
            .collect();
        let intent = Head::train(intents, names.len(), &di, o);
        let category = Head::train(categories, names.len(), &dc, o);
        Ok(Model {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            options: o.clone(),
            trained_on: data.len(),
            features: names,
            intent,
            category,
            index,
            packed: Packed::default(),
        }
        .rounded()
        .packed())
    }

    /// The model with its weights laid out for prediction.
    fn packed(mut self) -> Model {
        self.packed = Packed::new(self.features.len(), &self.intent, &self.category);
        self
    }

    /// Weights rounded to 4 decimals: the file stays small and loading gives back exactly the
    /// model that was trained.
    fn rounded(mut self) -> Model {
        for w in self
            .intent
            .weights
            .iter_mut()
            .chain(self.category.weights.iter_mut())
            .chain(self.intent.bias.iter_mut())
            .chain(self.category.bias.iter_mut())
        {
            *w = (*w * 1e4).round() / 1e4;
        }
        self
    }

    /// Predicts intent and category for a normalised text.
    pub fn predict(&self, text: &NormalizedText, channel: Option<ChannelKind>) -> Prediction {
        BUFFERS.with(|b| {
            let sc = &mut *b.borrow_mut();
            feature_hashes(text, channel, &mut sc.window, &mut sc.hashes);
            vectorize_unsorted(&self.index, &sc.hashes, &mut sc.counts, &mut sc.x);
            self.packed_scores(&sc.x, &mut sc.acc, &mut sc.intent, &mut sc.category);
            let emergency_probability = self
                .intent
                .classes
                .iter()
                .position(|c| c == "emergency")
                .map_or(0.0, |i| sc.intent[i]);
            Prediction {
                intent: self.intent.best(&sc.x, &sc.intent, &self.features, 5),
                category: self.category.best(&sc.x, &sc.category, &self.features, 5),
                emergency_probability,
            }
        })
    }

    /// Both heads' class probabilities for `x`, through the packed weights.
    fn packed_scores(
        &self,
        x: &[(u32, f32)],
        acc: &mut Vec<[f32; LANE]>,
        intent: &mut Vec<f32>,
        category: &mut Vec<f32>,
    ) {
        let p = &self.packed;
        acc.clear();
        acc.extend_from_slice(&p.bias);
        for &(f, v) in x {
            let start = f as usize * p.blocks;
            let Some(row) = p.rows.get(start..start + p.blocks) else {
                continue;
            };
            for (a, r) in acc.iter_mut().zip(row) {
                // through a local copy: the compiler cannot prove `acc` and the rows apart,
                // and would otherwise store each lane before loading the next
                let mut sum = *a;
                for t in 0..LANE {
                    sum[t] += r[t] * v;
                }
                *a = sum;
            }
        }
        let flat = acc.as_flattened();
        intent.clear();
        intent.extend_from_slice(&flat[..self.intent.classes.len()]);
        softmax(intent);
        let c0 = p.intent_blocks * LANE;
        category.clear();
        category.extend_from_slice(&flat[c0..c0 + self.category.classes.len()]);
        softmax(category);
    }

    /// [`predict`](Self::predict), remembering the last answer on this thread: the chain's
    /// three model stages ask about the same text one after the other.
    fn predict_cached(
        &self,
        text: &NormalizedText,
        channel: Option<ChannelKind>,
    ) -> Arc<Prediction> {
        let me = self as *const Model as usize;
        let hit = LAST.with(|l| {
            l.borrow().as_ref().and_then(|(m, c, t, p)| {
                (*m == me && *c == channel && t == text.as_str()).then(|| Arc::clone(p))
            })
        });
        if let Some(p) = hit {
            return p;
        }
        let p = Arc::new(self.predict(text, channel));
        LAST.with(|l| {
            let mut l = l.borrow_mut();
            match l.as_mut() {
                // reuse the remembered text's buffer
                Some((m, c, t, old)) => {
                    *m = me;
                    *c = channel;
                    t.clear();
                    t.push_str(text.as_str());
                    *old = Arc::clone(&p);
                }
                None => *l = Some((me, channel, text.as_str().to_string(), Arc::clone(&p))),
            }
        });
        p
    }

    /// The intent classes.
    pub fn intents(&self) -> &[String] {
        &self.intent.classes
    }

    /// The category classes.
    pub fn categories(&self) -> &[String] {
        &self.category.classes
    }

    /// Number of features kept.
    pub fn feature_count(&self) -> usize {
        self.features.len()
    }

    /// The model as JSON (the model file).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Loads a model from JSON, refusing another format or version.
    ///
    /// ```
    /// use civic_router::classify::model::Model;
    /// let e = Model::from_json(r#"{"format": "civic-router-linear-model", "version": 99}"#).unwrap_err();
    /// assert!(e.to_string().contains("version 99"));
    /// assert!(Model::from_json("not json").is_err());
    /// ```
    pub fn from_json(src: &str) -> Result<Model, ModelError> {
        let v: serde_json::Value =
            serde_json::from_str(src).map_err(|e| ModelError(format!("not a model file: {e}")))?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != FORMAT {
            return Err(ModelError(format!(
                "not a model file (format `{format}`, expected `{FORMAT}`)"
            )));
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version != u64::from(FORMAT_VERSION) {
            return Err(ModelError(format!("model file version {version}; this build reads version {FORMAT_VERSION}: retrain it with `civic-router train`")));
        }
        let mut m: Model = serde_json::from_value(v)
            .map_err(|e| ModelError(format!("invalid model file: {e}")))?;
        for (name, h) in [("intent", &m.intent), ("category", &m.category)] {
            if h.classes.is_empty()
                || h.bias.len() != h.classes.len()
                || h.weights.len() != m.features.len() * h.classes.len()
            {
                return Err(ModelError(format!(
                    "invalid model file: the {name} head's sizes do not match"
                )));
            }
        }
        if let Some(bad) = m
            .intent
            .classes
            .iter()
            .find(|c| c.parse::<Intent>().is_err())
        {
            return Err(ModelError(format!(
                "invalid model file: unknown intent `{bad}`"
            )));
        }
        m.index = m
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (fnv(&[f.as_bytes()]), i as u32))
            .collect();
        Ok(m.packed())
    }

    /// Reads a model file.
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Model, ModelError> {
        let p = path.as_ref();
        let s = std::fs::read_to_string(p)
            .map_err(|e| ModelError(format!("cannot read {}: {e}", p.display())))?;
        Model::from_json(&s)
    }
}

/// The model as a classifier in the chain: it fills the intent and category the rules left
/// open, when its probability reaches `min_confidence`.
#[derive(Debug, Clone)]
pub struct ModelClassifier {
    model: Arc<Model>,
    min_confidence: f32,
    name: &'static str,
}

impl ModelClassifier {
    /// Wraps a model; labels below `min_confidence` are not given.
    pub fn new(model: Arc<Model>, min_confidence: f32) -> Self {
        ModelClassifier {
            model,
            min_confidence,
            name: "model",
        }
    }

    /// The same classifier under another name (for explanations: `model-lead` runs before the
    /// rules with a high threshold, `model` after them).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }
}

/// Appends `x` with two decimals, exactly as `format!("{x:.2}")` writes it (round half to
/// even on the binary value) but without the general float formatter, which dominated the
/// cost of an explanation.
fn push_2dp(out: &mut String, x: f32) {
    use std::fmt::Write as _;
    if !x.is_finite() || x.abs() >= 1e15 {
        let _ = write!(out, "{x:.2}");
        return;
    }
    // exact: a 24-bit mantissa times 100 fits in a double's 53 bits
    let hundredths = (f64::from(x) * 100.0).round_ties_even().abs() as u64;
    if x.is_sign_negative() {
        out.push('-');
    }
    let units = hundredths / 100;
    if units < 10 {
        out.push(char::from(b'0' + units as u8));
    } else {
        let _ = write!(out, "{units}");
    }
    let cents = (hundredths % 100) as u8;
    out.push('.');
    out.push(char::from(b'0' + cents / 10));
    out.push(char::from(b'0' + cents % 10));
}

/// `name (weight)` for each feature.
fn feature_details(features: &[(String, f32)]) -> Vec<String> {
    features
        .iter()
        .map(|(f, w)| {
            let mut d = String::with_capacity(f.len() + 8);
            d.push_str(f);
            d.push_str(" (");
            push_2dp(&mut d, *w);
            d.push(')');
            d
        })
        .collect()
}

fn evidence(s: &Scored, head: &str) -> Evidence {
    let mut source = String::with_capacity(24 + s.label.len());
    source.push_str("model:");
    source.push_str(head);
    source.push('=');
    source.push_str(&s.label);
    source.push_str(" p=");
    push_2dp(&mut source, s.probability);
    Evidence {
        source,
        detail: feature_details(&s.top_features),
    }
}

impl Classifier for ModelClassifier {
    fn name(&self) -> &str {
        self.name
    }

    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        let p = self.model.predict_cached(cx.text, Some(cx.message.channel));
        let mut c = Classification::default();
        if p.intent.probability >= self.min_confidence {
            c.intent = p.intent.label.parse().ok();
            c.confidence = p.intent.probability;
            c.evidence.push(evidence(&p.intent, "intent"));
        }
        if p.category.probability >= self.min_confidence {
            c.category = Some(p.category.label.clone());
            c.confidence = if c.intent.is_some() {
                c.confidence.min(p.category.probability)
            } else {
                p.category.probability
            };
            c.evidence.push(evidence(&p.category, "category"));
        }
        Ok((!c.is_empty()).then_some(c))
    }
}

/// The emergency detector: runs after the rules and declares an emergency, with authority
/// (overriding whatever intent came before), when the model's probability of `emergency`
/// reaches the threshold — so a paraphrased emergency the rules missed never waits in a queue.
#[derive(Debug, Clone)]
pub struct EmergencyDetector {
    model: Arc<Model>,
    threshold: f32,
}

impl EmergencyDetector {
    /// A detector with a threshold on P(emergency).
    pub fn new(model: Arc<Model>, threshold: f32) -> Self {
        EmergencyDetector { model, threshold }
    }
}

impl Classifier for EmergencyDetector {
    fn name(&self) -> &str {
        "emergency-detector"
    }

    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        let p = self.model.predict_cached(cx.text, Some(cx.message.channel));
        if p.emergency_probability < self.threshold {
            return Ok(None);
        }
        Ok(Some(Classification {
            intent: Some(Intent::Emergency),
            confidence: p.emergency_probability,
            authoritative: true,
            evidence: vec![Evidence {
                source: {
                    let mut s = String::from("model:emergency p=");
                    push_2dp(&mut s, p.emergency_probability);
                    s.push_str(" >= ");
                    push_2dp(&mut s, self.threshold);
                    s
                },
                detail: feature_details(&p.intent.top_features),
            }],
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Normalizer;

    /// The tiny test corpus keeps features seen once.
    fn small() -> TrainOptions {
        TrainOptions {
            min_count: 1,
            ..Default::default()
        }
    }

    fn data() -> Vec<TrainingExample> {
        let n = Normalizer::spanish();
        let rows = [
            ("la farola está apagada", "incident", "alumbrado"),
            ("farolas sin luz toda la calle", "incident", "alumbrado"),
            (
                "no hay luz en las farolas del parque",
                "incident",
                "alumbrado",
            ),
            ("bache enorme en la calzada", "incident", "via_publica"),
            ("socavón en la avenida", "incident", "via_publica"),
            ("acera rota con baches", "incident", "via_publica"),
            ("a qué hora abre el registro", "information", "tramites"),
            (
                "horario del registro del distrito",
                "information",
                "tramites",
            ),
            ("qué necesito para empadronarme", "information", "tramites"),
            ("huele a gas en el portal", "emergency", "emergencias"),
            (
                "olor a gas muy fuerte en la escalera",
                "emergency",
                "emergencias",
            ),
            ("fuego en la cocina del bar", "emergency", "emergencias"),
        ];
        rows.iter()
            .map(|(t, i, c)| TrainingExample::new(&n.normalize(t), None, i, c))
            .collect()
    }

    #[test]
    fn two_decimals_are_written_as_the_formatter_writes_them() {
        let mut bits: u32 = 0;
        loop {
            let x = f32::from_bits(bits);
            let mut s = String::new();
            push_2dp(&mut s, x);
            assert_eq!(s, format!("{x:.2}"), "bits {bits:#x}");
            match bits.checked_add(7_919_993) {
                Some(b) => bits = b,
                None => break,
            }
        }
        for x in [
            0.125f32,
            0.375,
            -0.125,
            -0.0,
            0.005,
            2.675,
            99.995,
            f32::NAN,
            f32::INFINITY,
        ] {
            let mut s = String::new();
            push_2dp(&mut s, x);
            assert_eq!(s, format!("{x:.2}"));
        }
    }

    /// The prediction path (packed weights, features in order of occurrence) gives what the
    /// plain definition gives: the training-time vector, each head scored alone, the top
    /// features chosen by a full sort.
    #[test]
    fn the_fast_path_predicts_what_the_definition_predicts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let m = Model::from_path(root.join("examples/sevilla/model.json")).unwrap();
        let corpus =
            std::fs::read_to_string(root.join("tests/data/routing/sevilla.jsonl")).unwrap();
        let n = Normalizer::spanish();
        let mut texts: Vec<String> = corpus
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| {
                v["message"]["text"]
                    .as_str()
                    .or(v["text"].as_str())
                    .map(String::from)
            })
            .collect();
        assert!(texts.len() > 20, "the golden corpus was not read");
        texts.extend(["", "a", "farola farola farola farola farola apagada"].map(String::from));
        for t in &texts {
            let text = n.normalize(t);
            let fast = m.predict(&text, Some(ChannelKind::Whatsapp));
            let (mut buf, mut hashes) = (Vec::new(), Vec::new());
            feature_hashes(&text, Some(ChannelKind::Whatsapp), &mut buf, &mut hashes);
            let x = vectorize(&m.index, &hashes);
            for (head, got) in [(&m.intent, &fast.intent), (&m.category, &fast.category)] {
                let p = head.scores(&x);
                let (bi, bp) =
                    p.iter()
                        .enumerate()
                        .fold((0, f32::MIN), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
                assert_eq!(got.label, head.classes[bi], "{t}");
                assert!(
                    (got.probability - bp).abs() < 1e-5,
                    "{t}: {} {bp}",
                    got.probability
                );
                let k = head.classes.len();
                let mut contrib: Vec<(u32, f32)> = x
                    .iter()
                    .map(|&(f, v)| (f, head.weights[f as usize * k + bi] * v))
                    .filter(|&(_, c)| c > 0.0)
                    .collect();
                contrib.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let want: Vec<&str> = contrib
                    .iter()
                    .take(5)
                    .map(|(f, _)| m.features[*f as usize].as_str())
                    .collect();
                let have: Vec<&str> = got.top_features.iter().map(|(f, _)| f.as_str()).collect();
                assert_eq!(have, want, "{t}");
            }
        }
    }

    #[test]
    fn training_is_deterministic_for_a_seed() {
        let a = Model::train(&data(), &small()).unwrap();
        let b = Model::train(&data(), &small()).unwrap();
        assert_eq!(a.to_json(), b.to_json());
        let c = Model::train(
            &data(),
            &TrainOptions {
                seed: 7,
                ..Default::default()
            },
        )
        .unwrap();
        assert_ne!(a.to_json(), c.to_json());
    }

    #[test]
    fn round_trip_gives_the_same_predictions() {
        let n = Normalizer::spanish();
        let m = Model::train(&data(), &small()).unwrap();
        let back = Model::from_json(&m.to_json()).unwrap();
        for t in ["farola rota", "olor a gas", "horario registro", "bache"] {
            assert_eq!(
                m.predict(&n.normalize(t), None),
                back.predict(&n.normalize(t), None),
                "{t}"
            );
        }
    }

    #[test]
    fn learns_and_explains() {
        let n = Normalizer::spanish();
        let m = Model::train(&data(), &small()).unwrap();
        let p = m.predict(&n.normalize("huele muchísimo a gas"), None);
        assert_eq!(p.intent.label, "emergency");
        assert!(p.emergency_probability > 0.5);
        assert!(
            p.intent.top_features.iter().any(|(f, _)| f.contains("gas")),
            "{:?}",
            p.intent.top_features
        );
        let p = m.predict(&n.normalize("las farolas no dan luz"), None);
        assert_eq!(p.category.label, "alumbrado");
    }

    #[test]
    fn hashed_features_are_the_hashes_of_the_named_features() {
        let n = Normalizer::spanish();
        for t in ["la farola está apagá ?", "", "a b", "xq no pasa el bus"] {
            let text = n.normalize(t);
            let named: Vec<u64> = features(&text, Some(ChannelKind::Sms))
                .iter()
                .map(|f| fnv(&[f.as_bytes()]))
                .collect();
            let (mut buf, mut hashes) = (Vec::new(), Vec::new());
            feature_hashes(&text, Some(ChannelKind::Sms), &mut buf, &mut hashes);
            let (mut a, mut b) = (named, hashes);
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{t}");
        }
    }

    #[test]
    fn refuses_bad_files() {
        let m = Model::train(&data(), &small()).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["intent"]["bias"] = serde_json::json!([0.0]);
        assert!(Model::from_json(&v.to_string())
            .unwrap_err()
            .0
            .contains("sizes"));
        let mut v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        v["intent"]["classes"][0] = "chat".into();
        v["format"] = "other".into();
        assert!(Model::from_json(&v.to_string())
            .unwrap_err()
            .0
            .contains("format"));
        assert!(Model::train(&[], &small()).is_err());
        let n = Normalizer::spanish();
        let one_class: Vec<TrainingExample> = ["farola rota", "farola apagada"]
            .iter()
            .map(|t| TrainingExample::new(&n.normalize(t), None, "incident", "alumbrado"))
            .collect();
        let e = Model::train(&one_class, &small()).unwrap_err();
        assert!(e.0.contains("single intent"), "{e}");
    }
}
