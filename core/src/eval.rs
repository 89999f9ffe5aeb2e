//! Scoring a router against a labelled corpus (the format of the project's
//! `corpus/TAXONOMY.md`: a message per JSON line with `intent`, `category` and optionally
//! `district` labels).
//!
//! ```
//! use civic_router::eval::{Evaluation, LabelledMessage};
//!
//! let gold = LabelledMessage::from_json_line(
//!     r#"{"id": "d1", "channel": "sms", "text": "farola apagada", "intent": "incident", "category": "alumbrado"}"#,
//! ).unwrap();
//! let mut ev = Evaluation::default();
//! ev.add(&gold, "incident", "alumbrado", None);
//! assert_eq!(ev.intent_accuracy(), 1.0);
//! assert_eq!(ev.total, 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::message::Message;

/// A message with its gold labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMessage {
    /// The message (labels removed).
    pub message: Message,
    /// Gold intent.
    pub intent: String,
    /// Gold category.
    pub category: String,
    /// Gold district, when the text names one.
    pub district: Option<String>,
}

impl LabelledMessage {
    /// Parses one corpus line.
    pub fn from_json_line(line: &str) -> Result<LabelledMessage, String> {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
        LabelledMessage::from_value(v)
    }

    /// Reads one corpus record already parsed as JSON data (a binding's dict or JS object).
    pub fn from_value(mut v: serde_json::Value) -> Result<LabelledMessage, String> {
        let obj = v
            .as_object_mut()
            .ok_or_else(|| "expected a JSON object".to_string())?;
        let mut take = |k: &str| -> Result<Option<String>, String> {
            match obj.remove(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(format!("`{k}` must be a string")),
            }
        };
        let intent = take("intent")?.ok_or("missing label `intent`")?;
        let category = take("category")?.ok_or("missing label `category`")?;
        let district = take("district")?;
        let message: Message =
            serde_json::from_value(v).map_err(|e| format!("not a message: {e}"))?;
        Ok(LabelledMessage {
            message,
            intent,
            category,
            district,
        })
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// Gold examples of the class.
    pub support: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Counts of predictions against gold labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Messages scored.
    pub total: usize,
    /// Intent correct.
    pub intent_correct: usize,
    /// Category correct.
    pub category_correct: usize,
    /// Both correct.
    pub both_correct: usize,
    /// Messages with a gold district.
    pub district_total: usize,
    /// Of those, district correct.
    pub district_correct: usize,
    /// Messages without a gold district for which a district was predicted anyway.
    pub district_spurious: usize,
    /// (gold, predicted) intent counts.
    pub intent_pairs: BTreeMap<(String, String), usize>,
    /// (gold, predicted) category counts.
    pub category_pairs: BTreeMap<(String, String), usize>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Evaluation {
    /// Adds one prediction.
    pub fn add(
        &mut self,
        gold: &LabelledMessage,
        intent: &str,
        category: &str,
        district: Option<&str>,
    ) {
        self.total += 1;
        let ic = gold.intent == intent;
        let cc = gold.category == category;
        self.intent_correct += ic as usize;
        self.category_correct += cc as usize;
        self.both_correct += (ic && cc) as usize;
        match &gold.district {
            Some(d) => {
                self.district_total += 1;
                self.district_correct += (Some(d.as_str()) == district) as usize;
            }
            None => self.district_spurious += district.is_some() as usize,
        }
        *self
            .intent_pairs
            .entry((gold.intent.clone(), intent.to_string()))
            .or_default() += 1;
        *self
            .category_pairs
            .entry((gold.category.clone(), category.to_string()))
            .or_default() += 1;
    }

    /// Share of intents right.
    pub fn intent_accuracy(&self) -> f64 {
        ratio(self.intent_correct, self.total)
    }

    /// Share of categories right.
    pub fn category_accuracy(&self) -> f64 {
        ratio(self.category_correct, self.total)
    }

    /// Share with both right.
    pub fn joint_accuracy(&self) -> f64 {
        ratio(self.both_correct, self.total)
    }

    /// Share of gold districts found.
    pub fn district_accuracy(&self) -> f64 {
        ratio(self.district_correct, self.district_total)
    }

    /// Recall of the `emergency` intent: the figure that matters most.
    pub fn emergency_recall(&self) -> f64 {
        self.intent_scores()
            .get("emergency")
            .map_or(0.0, |s| s.recall)
    }

    /// Per-class scores of the intent.
    pub fn intent_scores(&self) -> BTreeMap<String, ClassScore> {
        scores(&self.intent_pairs)
    }

    /// Per-class scores of the category.
    pub fn category_scores(&self) -> BTreeMap<String, ClassScore> {
        scores(&self.category_pairs)
    }

    /// Macro-averaged F1 over the category classes present in the gold labels.
    pub fn category_macro_f1(&self) -> f64 {
        let s = self.category_scores();
        let with_support: Vec<f64> = s.values().filter(|c| c.support > 0).map(|c| c.f1).collect();
        with_support.iter().sum::<f64>() / with_support.len().max(1) as f64
    }

    /// The most frequent confusions `(field, gold, predicted, count)`, largest first.
    pub fn confusions(&self, n: usize) -> Vec<(String, String, String, usize)> {
        let mut v: Vec<(String, String, String, usize)> = self
            .intent_pairs
            .iter()
            .filter(|((g, p), _)| g != p)
            .map(|((g, p), c)| ("intent".to_string(), g.clone(), p.clone(), *c))
            .chain(
                self.category_pairs
                    .iter()
                    .filter(|((g, p), _)| g != p)
                    .map(|((g, p), c)| ("category".to_string(), g.clone(), p.clone(), *c)),
            )
            .collect();
        v.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.cmp(b)));
        v.truncate(n);
        v
    }

    /// A plain-text report.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "messages            {}", self.total);
        let _ = writeln!(s, "intent accuracy     {:.3}", self.intent_accuracy());
        let _ = writeln!(s, "category accuracy   {:.3}", self.category_accuracy());
        let _ = writeln!(s, "both right          {:.3}", self.joint_accuracy());
        let _ = writeln!(s, "category macro-F1   {:.3}", self.category_macro_f1());
        let _ = writeln!(s, "emergency recall    {:.3}", self.emergency_recall());
        let _ = writeln!(
            s,
            "district accuracy   {:.3} ({} of {} labelled; {} predicted where none labelled)",
            self.district_accuracy(),
            self.district_correct,
            self.district_total,
            self.district_spurious
        );
        for (title, table) in [
            ("intent", self.intent_scores()),
            ("category", self.category_scores()),
        ] {
            let _ = writeln!(
                s,
                "\n{title:<20} {:>9} {:>9} {:>9} {:>8}",
                "precision", "recall", "f1", "support"
            );
            for (k, c) in &table {
                let _ = writeln!(
                    s,
                    "{k:<20} {:>9.3} {:>9.3} {:>9.3} {:>8}",
                    c.precision, c.recall, c.f1, c.support
                );
            }
        }
        let conf = self.confusions(15);
        if !conf.is_empty() {
            let _ = writeln!(s, "\nmost frequent confusions (gold -> predicted)");
            for (f, g, p, c) in conf {
                let _ = writeln!(s, "  {c:>4}  {f:<8} {g} -> {p}");
            }
        }
        s
    }
}

fn scores(pairs: &BTreeMap<(String, String), usize>) -> BTreeMap<String, ClassScore> {
    let classes: BTreeSet<&String> = pairs.keys().flat_map(|(g, p)| [g, p]).collect();
    classes
        .into_iter()
        .map(|c| {
            let tp = pairs.get(&(c.clone(), c.clone())).copied().unwrap_or(0);
            let gold: usize = pairs
                .iter()
                .filter(|((g, _), _)| g == c)
                .map(|(_, n)| n)
                .sum();
            let pred: usize = pairs
                .iter()
                .filter(|((_, p), _)| p == c)
                .map(|(_, n)| n)
                .sum();
            let precision = ratio(tp, pred);
            let recall = ratio(tp, gold);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            (
                c.clone(),
                ClassScore {
                    support: gold,
                    precision,
                    recall,
                    f1,
                },
            )
        })
        .collect()
}

/// Assigns each message a fold in `0..k`, stratified by intent and category: every label pair
/// is spread over the folds as evenly as it can be. Deterministic for a seed.
///
/// ```
/// use civic_router::eval::{stratified_folds, LabelledMessage};
/// let lines: Vec<LabelledMessage> = (0..10).map(|i| LabelledMessage::from_json_line(&format!(
///     r#"{{"id": "{i}", "channel": "sms", "text": "t", "intent": "incident", "category": "{}"}}"#,
///     if i % 2 == 0 { "agua" } else { "alumbrado" })).unwrap()).collect();
/// let folds = stratified_folds(&lines, 5, 1);
/// for f in 0..5 {
///     assert_eq!(folds.iter().filter(|x| **x == f).count(), 2);
/// }
/// ```
pub fn stratified_folds(gold: &[LabelledMessage], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, g) in gold.iter().enumerate() {
        groups.entry((&g.intent, &g.category)).or_default().push(i);
    }
    let mut folds = vec![0; gold.len()];
    let mut rng = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = 0usize;
    for (_, mut idx) in groups {
        for i in (1..idx.len()).rev() {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            idx.swap(i, ((rng >> 33) as usize) % (i + 1));
        }
        for i in idx {
            folds[i] = next % k;
            next += 1;
        }
    }
    folds
}

/// Reads a labelled corpus from JSON Lines text: one labelled message per line, blank lines
/// skipped. A bad line is refused with its number.
///
/// ```
/// use civic_router::eval::parse_corpus;
/// let gold = parse_corpus("{\"id\": \"1\", \"channel\": \"sms\", \"text\": \"farola apagada\", \"intent\": \"incident\", \"category\": \"alumbrado\"}\n\n").unwrap();
/// assert_eq!(gold.len(), 1);
/// let e = parse_corpus("{\"id\": \"1\", \"channel\": \"sms\", \"text\": \"t\"}").unwrap_err();
/// assert_eq!(e.to_string(), "line 1: not a message: missing label `intent`");
/// ```
pub fn parse_corpus(src: &str) -> Result<Vec<LabelledMessage>, crate::error::InputError> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| LabelledMessage::from_json_line(l).map_err(|reason| malformed(i + 1, reason)))
        .collect()
}

/// Reads a labelled corpus given as JSON data, one record per item (the bindings' lists of
/// dicts or objects): a bad item is refused with its 1-based position as its line.
///
/// ```
/// use civic_router::eval::corpus_from_values;
/// let ok = serde_json::json!({"id": "1", "channel": "sms", "text": "t", "intent": "other", "category": "general"});
/// assert_eq!(corpus_from_values(vec![ok.clone()]).unwrap().len(), 1);
/// let e = corpus_from_values(vec![ok, serde_json::json!({"id": "2"})]).unwrap_err();
/// assert_eq!(e.to_string(), "line 2: not a message: missing label `intent`");
/// ```
pub fn corpus_from_values(
    values: impl IntoIterator<Item = serde_json::Value>,
) -> Result<Vec<LabelledMessage>, crate::error::InputError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| LabelledMessage::from_value(v).map_err(|reason| malformed(i + 1, reason)))
        .collect()
}

fn malformed(line: usize, reason: String) -> crate::error::InputError {
    crate::error::InputError::Malformed {
        line,
        reason: reason
            .strip_prefix("not a message: ")
            .unwrap_or(&reason)
            .to_string(),
    }
}

/// Reads a labelled corpus file (see [`parse_corpus`]).
pub fn read_corpus(path: impl AsRef<std::path::Path>) -> crate::Result<Vec<LabelledMessage>> {
    let p = path.as_ref();
    let src = std::fs::read_to_string(p).map_err(|source| crate::Error::Io {
        path: p.display().to_string(),
        source,
    })?;
    Ok(parse_corpus(&src)?)
}

/// The training examples of a corpus, normalised as `router` normalises (its lexicon), or
/// with the default Spanish normaliser when there is no router.
pub fn training_examples(
    router: Option<&crate::Router>,
    gold: &[LabelledMessage],
) -> Vec<crate::classify::model::TrainingExample> {
    let plain = crate::text::Normalizer::spanish();
    gold.iter()
        .map(|g| {
            let text = g.message.routable_text();
            let n = match router {
                Some(r) => r.normalize(&text),
                None => plain.normalize(&text),
            };
            crate::classify::model::TrainingExample::new(
                &n,
                Some(g.message.channel),
                &g.intent,
                &g.category,
            )
        })
        .collect()
}

/// Trains a model on a labelled corpus (normalised as `router` normalises, if given).
/// Deterministic for the same corpus and options.
///
/// ```
/// use civic_router::classify::model::TrainOptions;
/// use civic_router::eval::{parse_corpus, train};
/// let gold = parse_corpus(r#"
/// {"id": "1", "channel": "sms", "text": "farola apagada", "intent": "incident", "category": "alumbrado"}
/// {"id": "2", "channel": "sms", "text": "la farola no luce", "intent": "incident", "category": "alumbrado"}
/// {"id": "3", "channel": "sms", "text": "horario del registro", "intent": "information", "category": "tramites"}
/// {"id": "4", "channel": "sms", "text": "cuando abre el registro", "intent": "information", "category": "tramites"}
/// "#).unwrap();
/// let model = train(None, &gold, &TrainOptions { min_count: 1, ..Default::default() }).unwrap();
/// assert_eq!(model.categories(), ["alumbrado", "tramites"]);
/// // an empty corpus is refused
/// assert!(train(None, &[], &TrainOptions::default()).is_err());
/// ```
pub fn train(
    router: Option<&crate::Router>,
    gold: &[LabelledMessage],
    options: &crate::classify::model::TrainOptions,
) -> Result<crate::classify::model::Model, crate::classify::model::ModelError> {
    crate::classify::model::Model::train(&training_examples(router, gold), options)
}

/// Scores a router on a labelled corpus (every message routed; `each` sees every decision,
/// to list the errors, say).
pub fn evaluate(
    router: &crate::Router,
    gold: &[LabelledMessage],
    mut each: impl FnMut(&LabelledMessage, &crate::Decision),
) -> crate::Result<Evaluation> {
    let msgs: Vec<Message> = gold.iter().map(|g| g.message.clone()).collect();
    let mut ev = Evaluation::default();
    for (g, r) in gold.iter().zip(router.route_batch(&msgs)) {
        let d = r?;
        ev.add(g, d.intent.as_str(), &d.category, d.district.as_deref());
        each(g, &d);
    }
    Ok(ev)
}

/// What [`cross_validate`] found.
#[derive(Debug, Clone)]
pub struct CrossValidation {
    /// Folds.
    pub k: usize,
    /// Seed of the folds and of training.
    pub seed: u64,
    /// Every message scored once, by the router whose model did not see it.
    pub evaluation: Evaluation,
    /// The fold of each corpus message, in corpus order.
    pub folds: Vec<usize>,
    /// Routing speed, one message at a time on one thread, in steady state (after a
    /// warm-up pass over each fold).
    pub messages_per_second: f64,
}

/// Passes over each held-out fold timed by [`cross_validate`] (after the scored pass).
pub const TIMED_PASSES: usize = 5;

/// Stratified K-fold cross-validation of a configuration on one corpus: for each fold, a
/// model is trained on the other folds (normalised as the configuration normalises) and the
/// configuration — its rules with that model — routes the held-out messages. Without a
/// `[model]` section in `base`, the model alone decides every label. `each` sees every
/// scored decision.
///
/// ```
/// use civic_router::config::Config;
/// use civic_router::eval::{cross_validate, parse_corpus};
/// let cfg = Config::from_toml_str(r#"
/// [categories]
/// alumbrado = "street lighting"
/// tramites = "paperwork"
/// general = "anything else"
/// [[department]]
/// id = "d"
/// name = "d"
/// [routing]
/// default = "d"
/// "#, "cv.toml").unwrap();
/// let lines: String = (0..12).map(|i| {
///     let (t, intent, c) = if i % 2 == 0 { ("farola apagada sin luz", "incident", "alumbrado") }
///                          else { ("horario del registro civil", "information", "tramites") };
///     format!("{{\"id\": \"{i}\", \"channel\": \"sms\", \"text\": \"{t} {i}\", \"intent\": \"{intent}\", \"category\": \"{c}\"}}\n")
/// }).collect();
/// let cv = cross_validate(&cfg, &parse_corpus(&lines).unwrap(), 3, 42, |_, _| {}).unwrap();
/// assert_eq!(cv.evaluation.total, 12);
/// assert_eq!(cv.evaluation.category_accuracy(), 1.0);
/// assert!(cross_validate(&cfg, &parse_corpus(&lines).unwrap(), 1, 42, |_, _| {}).is_err());
/// ```
pub fn cross_validate(
    base: &crate::config::Config,
    gold: &[LabelledMessage],
    k: usize,
    seed: u64,
    mut each: impl FnMut(&LabelledMessage, &crate::Decision),
) -> crate::Result<CrossValidation> {
    use crate::classify::model::TrainOptions;
    use crate::config::{Config, ModelSection};
    if k < 2 {
        return Err(crate::classify::model::ModelError(format!(
            "cross-validation needs at least 2 folds, not {k}"
        ))
        .into());
    }
    if gold.len() < k {
        return Err(crate::classify::model::ModelError(format!(
            "{} messages cannot make {k} folds",
            gold.len()
        ))
        .into());
    }
    let plain = crate::Router::from_config(Config {
        model: None,
        model_source: None,
        ..base.clone()
    })?;
    let folds = stratified_folds(gold, k, seed);
    let examples = training_examples(Some(&plain), gold);
    // without a [model] section the model alone decides (every label, whatever its probability)
    let section = base.model.clone().unwrap_or(ModelSection {
        path: "<cv>".into(),
        min_confidence: 0.0,
        emergency_threshold: 0.5,
        lead_above: 1.1,
    });
    let options = TrainOptions {
        seed,
        ..Default::default()
    };
    let mut ev = Evaluation::default();
    let (mut routed, mut time) = (0usize, std::time::Duration::ZERO);
    for fold in 0..k {
        let train: Vec<_> = examples
            .iter()
            .zip(&folds)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let model = crate::classify::model::Model::train(&train, &options)?;
        let router = crate::Router::from_config(Config {
            model: Some(section.clone()),
            model_source: Some((format!("<cv fold {fold}>"), model.to_json())),
            ..base.clone()
        })?;
        let held_out: Vec<&LabelledMessage> = gold
            .iter()
            .zip(&folds)
            .filter(|(_, f)| **f == fold)
            .map(|(g, _)| g)
            .collect();
        for g in &held_out {
            let d = router.route(&g.message)?;
            ev.add(g, d.intent.as_str(), &d.category, d.district.as_deref());
            each(g, &d);
        }
        // speed in steady state, as a running service sees it: the pass above warmed the
        // router (its regexes' lazy DFAs fill on first use)
        for _ in 0..TIMED_PASSES {
            let t = std::time::Instant::now();
            for g in &held_out {
                let _ = std::hint::black_box(router.route(std::hint::black_box(&g.message)));
            }
            time += t.elapsed();
            routed += held_out.len();
        }
    }
    Ok(CrossValidation {
        k,
        seed,
        evaluation: ev,
        folds,
        messages_per_second: routed as f64 / time.as_secs_f64().max(1e-9),
    })
}

impl Evaluation {
    /// The scores as JSON: accuracies, macro-F1, emergency recall, district accuracy,
    /// per-class scores and the 20 most frequent confusions (what `civic-router eval --json`
    /// prints and the bindings return).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "messages": self.total,
            "intent_accuracy": self.intent_accuracy(),
            "category_accuracy": self.category_accuracy(),
            "joint_accuracy": self.joint_accuracy(),
            "category_macro_f1": self.category_macro_f1(),
            "emergency_recall": self.emergency_recall(),
            "district_accuracy": self.district_accuracy(),
            "intent": self.intent_scores(),
            "category": self.category_scores(),
            "confusions": self.confusions(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lm(intent: &str, category: &str, district: Option<&str>) -> LabelledMessage {
        LabelledMessage {
            message: Message::new("x", crate::ChannelKind::Sms, "t"),
            intent: intent.into(),
            category: category.into(),
            district: district.map(Into::into),
        }
    }

    #[test]
    fn known_scores() {
        let mut ev = Evaluation::default();
        ev.add(
            &lm("emergency", "emergencias", None),
            "emergency",
            "emergencias",
            None,
        );
        ev.add(
            &lm("emergency", "emergencias", None),
            "incident",
            "agua",
            Some("triana"),
        );
        ev.add(
            &lm("incident", "agua", Some("triana")),
            "incident",
            "agua",
            Some("triana"),
        );
        ev.add(
            &lm("incident", "agua", Some("sur")),
            "incident",
            "limpieza",
            None,
        );
        assert_eq!(ev.total, 4);
        assert_eq!(ev.intent_accuracy(), 0.75);
        assert_eq!(ev.category_accuracy(), 0.5);
        assert_eq!(ev.emergency_recall(), 0.5);
        assert_eq!(ev.district_accuracy(), 0.5);
        assert_eq!(ev.district_spurious, 1);
        let inc = ev.intent_scores()["incident"];
        // 2 of 3 incident predictions right; both gold incidents found
        assert!((inc.precision - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(inc.recall, 1.0);
        assert_eq!(ev.confusions(1)[0].3, 1);
        assert!(ev.report().contains("emergency recall    0.500"));
    }

    #[test]
    fn parses_corpus_lines() {
        let l = LabelledMessage::from_json_line(
            r#"{"id": "d2", "channel": "app", "text": "x", "intent": "incident", "category": "alumbrado", "district": "triana"}"#,
        )
        .unwrap();
        assert_eq!(l.district.as_deref(), Some("triana"));
        assert!(LabelledMessage::from_json_line("{")
            .unwrap_err()
            .contains("invalid JSON"));
        assert!(
            LabelledMessage::from_json_line(r#"{"id": "a", "channel": "sms", "text": "x"}"#)
                .unwrap_err()
                .contains("intent")
        );
        assert!(LabelledMessage::from_json_line(
            r#"{"id": "a", "channel": "fax", "text": "x", "intent": "other", "category": "general"}"#
        )
        .unwrap_err()
        .contains("not a message"));
    }
}
