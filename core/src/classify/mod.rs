//! Classification: what the person wants (intent) and which area it concerns (category).
//!
//! A [`Classifier`] looks at a message in [`Context`] and may return a [`Classification`].
//! Classifiers run in a [`ClassifierChain`]: each fills in what the earlier ones left open; a
//! classification marked `authoritative` (a rule with `stop`) ends the chain. The rule engine is
//! the first implementation ([`RuleClassifier`]); a Python callable or a JavaScript function can
//! be another one through the bindings.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::text::NormalizedText;

pub mod model;
mod rule;
pub use rule::RuleClassifier;

/// What the person wants done.
///
/// ```
/// use civic_router::classify::Intent;
/// assert_eq!("incident".parse::<Intent>().unwrap(), Intent::Incident);
/// assert_eq!(Intent::Emergency.as_str(), "emergency");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Asks for information the city can answer at once.
    Information,
    /// Reports a problem a municipal service must act on.
    Incident,
    /// Wants to book, move, confirm or cancel an appointment.
    Appointment,
    /// Immediate risk to people: call 112, never queued.
    Emergency,
    /// Greetings, thanks, spam, off-topic.
    Other,
}

impl Intent {
    /// Every intent.
    pub const ALL: [Intent; 5] = [
        Intent::Information,
        Intent::Incident,
        Intent::Appointment,
        Intent::Emergency,
        Intent::Other,
    ];

    /// The identifier used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Information => "information",
            Intent::Incident => "incident",
            Intent::Appointment => "appointment",
            Intent::Emergency => "emergency",
            Intent::Other => "other",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Intent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Intent::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| {
                format!("unknown intent `{s}` (expected information, incident, appointment, emergency or other)")
            })
    }
}

/// How soon a case must be attended.
///
/// ```
/// use civic_router::classify::Priority;
/// assert!(Priority::Urgent > Priority::Normal);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Can wait.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Sooner than usual (a risk to people that is not an emergency).
    High,
    /// Now: emergencies and hazards.
    Urgent,
}

impl Priority {
    /// The identifier used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a classifier sees: the message, its normalised text (computed once), and what earlier
/// stages found.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The message.
    pub message: &'a Message,
    /// Its normalised text (text and captions).
    pub text: &'a NormalizedText,
    /// The district resolved from the text or location, if any.
    pub district: Option<&'a str>,
    /// Local time of reception in the deployment's time zone, if the message has one.
    pub local_time: Option<chrono::NaiveDateTime>,
}

/// One piece of evidence behind a classification, for the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What produced it: a rule id, a feature name.
    pub source: String,
    /// What matched (patterns, words) or the weight given.
    pub detail: Vec<String>,
}

/// A classifier's answer. Every field is optional: a classifier may only know the category.
///
/// Unknown fields are refused when it is read (a plug-in that misspells `intent` gets an error,
/// not a silently ignored label):
///
/// ```
/// use civic_router::classify::{Classification, Intent};
/// let c: Classification = serde_json::from_str(r#"{"intent": "incident", "confidence": 0.7}"#).unwrap();
/// assert_eq!(c.intent, Some(Intent::Incident));
/// assert!(serde_json::from_str::<Classification>(r#"{"intnet": "incident"}"#).is_err());
/// assert!(serde_json::from_str::<Classification>(r#"{"intent": "complaint"}"#).is_err());
/// // the confidence is written with 4 decimals, the same whatever reads it (JSON or a binding
/// // that widens f32 to f64)
/// let v = serde_json::to_value(Classification { confidence: 0.9, ..Default::default() }).unwrap();
/// assert_eq!(v["confidence"], serde_json::json!(0.9));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    /// The intent, if decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// The category, if decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A department chosen directly (bypasses the routing table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The priority, if decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Tags to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A reply template to send at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Confidence in the labels, 0–1 (serialised with 4 decimals, as in a decision).
    #[serde(default, serialize_with = "round4")]
    pub confidence: f32,
    /// Ask for a human agent.
    #[serde(default)]
    pub handoff: bool,
    /// No later classifier may change what this one decided.
    #[serde(default)]
    pub authoritative: bool,
    /// Why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl Classification {
    /// Checks what no type can: the confidence is a number between 0 and 1. The chain refuses
    /// a classification that fails this check with a [`ClassifierError`].
    ///
    /// ```
    /// use civic_router::classify::Classification;
    /// assert!(Classification { confidence: 0.8, ..Default::default() }.check().is_ok());
    /// assert!(Classification { confidence: 1.5, ..Default::default() }.check().is_err());
    /// assert!(Classification { confidence: f32::NAN, ..Default::default() }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<(), String> {
        if (0.0..=1.0).contains(&self.confidence) {
            Ok(())
        } else {
            Err(format!(
                "confidence {} is not between 0 and 1",
                self.confidence
            ))
        }
    }

    /// Whether it decides nothing.
    pub fn is_empty(&self) -> bool {
        self.intent.is_none()
            && self.category.is_none()
            && self.department.is_none()
            && self.priority.is_none()
            && self.tags.is_empty()
            && self.reply.is_none()
            && !self.handoff
    }
}

/// Serialises a confidence (an `f32`) as an `f64` rounded to 4 decimals, so `0.9` reads `0.9`
/// everywhere, not `0.8999999761581421`.
pub(crate) fn round4<S: serde::Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*v) * 10_000.0).round() / 10_000.0)
}

/// The error a classifier (often a plug-in from Python or JavaScript) may return.
///
/// The `source` keeps the original error (a `PyErr`, a JS error) so a binding can re-raise it.
#[derive(Debug, thiserror::Error)]
#[error("classifier `{name}` failed: {message}")]
pub struct ClassifierError {
    /// The classifier's name.
    pub name: String,
    /// What went wrong.
    pub message: String,
    /// The original error, when there is one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ClassifierError {
    /// A classifier error with a message.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        ClassifierError {
            name: name.into(),
            message: message.into(),
            source: None,
        }
    }
}

/// A stage that labels messages. Synchronous, pure and thread-safe: it runs inside the pure
/// decision path.
///
/// Any `Fn(&Context) -> Result<Option<Classification>, ClassifierError>` is a classifier:
///
/// ```
/// use civic_router::classify::{Classification, Classifier, Context, Intent};
///
/// let greeting = |cx: &Context<'_>| {
///     Ok(cx.text.tokens().any(|t| t == "hola").then(|| Classification {
///         intent: Some(Intent::Other),
///         category: Some("general".into()),
///         confidence: 0.6,
///         ..Default::default()
///     }))
/// };
/// assert_eq!(Classifier::name(&greeting), "closure");
/// ```
pub trait Classifier: Send + Sync {
    /// A short name for explanations and errors.
    fn name(&self) -> &str;
    /// Labels a message, or returns `None` when it has nothing to say.
    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError>;
}

impl<F> Classifier for F
where
    F: Fn(&Context<'_>) -> Result<Option<Classification>, ClassifierError> + Send + Sync,
{
    fn name(&self) -> &str {
        "closure"
    }
    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        self(cx)
    }
}

/// A trace of one classifier's run, for the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierTrace {
    /// The classifier.
    pub classifier: String,
    /// What it returned (None: nothing to say).
    pub output: Option<Classification>,
    /// Which of its fields were kept (the rest were already decided).
    pub applied: Vec<String>,
}

/// Classifiers run in order, each filling what is still open.
#[derive(Clone, Default)]
pub struct ClassifierChain {
    stages: Vec<Arc<dyn Classifier>>,
}

impl fmt::Debug for ClassifierChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.stages.iter().map(|s| s.name()))
            .finish()
    }
}

impl ClassifierChain {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a classifier.
    pub fn push(&mut self, c: Arc<dyn Classifier>) -> &mut Self {
        self.stages.push(c);
        self
    }

    /// Inserts a classifier at a position (clamped to the chain's length).
    pub fn insert(&mut self, index: usize, c: Arc<dyn Classifier>) -> &mut Self {
        let i = index.min(self.stages.len());
        self.stages.insert(i, c);
        self
    }

    /// The names of the classifiers, in order.
    pub fn names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name()).collect()
    }

    /// Number of classifiers.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the chain: the merged classification and one trace per classifier that ran.
    /// A classification that fails [`Classification::check`] is refused with a
    /// [`ClassifierError`] naming the classifier.
    ///
    /// Merging: a field is taken from the first classifier that sets it; tags accumulate;
    /// evidence stays in each classifier's trace;
    /// `handoff` is sticky; the confidence is that of the classifier that set the intent (or the
    /// category, when no intent was set). An authoritative classification overrides the fields
    /// it sets and ends the chain.
    pub fn run(
        &self,
        cx: &Context<'_>,
    ) -> Result<(Classification, Vec<ClassifierTrace>), ClassifierError> {
        Self::run_stages(self.stages.iter().map(|s| &**s), cx)
    }

    /// Runs classifiers given in order, with the merging of [`run`](Self::run), without
    /// building a chain (the router calls this on its hot path).
    ///
    /// The evidence of each classifier stays in its trace; the merged classification carries
    /// none.
    pub fn run_stages<'s>(
        stages: impl IntoIterator<Item = &'s dyn Classifier>,
        cx: &Context<'_>,
    ) -> Result<(Classification, Vec<ClassifierTrace>), ClassifierError> {
        let mut merged = Classification::default();
        let mut confidence_set = false;
        let mut traces = Vec::with_capacity(4);
        for stage in stages {
            let out = stage.classify(cx)?;
            if let Some(Err(reason)) = out.as_ref().map(Classification::check) {
                return Err(ClassifierError::new(stage.name(), reason));
            }
            let mut applied = Vec::new();
            if let Some(c) = out.as_ref().filter(|c| c.authoritative) {
                // an authoritative classification decides what it sets, whatever came before
                if c.intent.is_some() {
                    merged.intent = None;
                    confidence_set = false;
                }
                if c.category.is_some() {
                    merged.category = None;
                }
                if c.department.is_some() {
                    merged.department = None;
                }
                if c.priority.is_some() {
                    merged.priority = None;
                }
                if c.reply.is_some() {
                    merged.reply = None;
                }
            }
            if let Some(c) = &out {
                if merged.intent.is_none() && c.intent.is_some() {
                    merged.intent = c.intent;
                    applied.push("intent".to_string());
                    merged.confidence = c.confidence;
                    confidence_set = true;
                }
                if merged.category.is_none() && c.category.is_some() {
                    merged.category = c.category.clone();
                    applied.push("category".to_string());
                    if !confidence_set {
                        merged.confidence = c.confidence;
                        confidence_set = true;
                    } else {
                        merged.confidence = merged.confidence.min(c.confidence);
                    }
                }
                if merged.department.is_none() && c.department.is_some() {
                    merged.department = c.department.clone();
                    applied.push("department".to_string());
                }
                if merged.priority.is_none() && c.priority.is_some() {
                    merged.priority = c.priority;
                    applied.push("priority".to_string());
                }
                if merged.reply.is_none() && c.reply.is_some() {
                    merged.reply = c.reply.clone();
                    applied.push("reply".to_string());
                }
                for t in &c.tags {
                    if !merged.tags.contains(t) {
                        merged.tags.push(t.clone());
                    }
                }
                if c.handoff && !merged.handoff {
                    merged.handoff = true;
                    applied.push("handoff".to_string());
                }
            }
            let stop = out.as_ref().is_some_and(|c| c.authoritative);
            traces.push(ClassifierTrace {
                classifier: stage.name().to_string(),
                output: out,
                applied,
            });
            if stop {
                merged.authoritative = true;
                break;
            }
        }
        Ok((merged, traces))
    }
}
