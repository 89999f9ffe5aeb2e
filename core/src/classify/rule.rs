//! The rule engine as a classifier.

use std::sync::Arc;

use super::{Classification, Classifier, ClassifierError, Context, Evidence};
use crate::rules::{RuleInput, RuleSet};

/// A [`Classifier`] backed by a compiled [`RuleSet`].
///
/// ```
/// use std::sync::Arc;
/// use civic_router::classify::{Classifier, Context, RuleClassifier};
/// use civic_router::message::{ChannelKind, Message};
/// use civic_router::rules::{RuleSet, Vocabulary};
/// use civic_router::text::Normalizer;
///
/// let rules = RuleSet::from_toml(r#"
///     [[rule]]
///     id = "bache"
///     when.any_words = ["bache*", "socavon"]
///     then = { intent = "incident", category = "via_publica" }
/// "#, "r.toml", &Vocabulary::permissive()).unwrap();
/// let c = RuleClassifier::new(Arc::new(rules));
/// let msg = Message::new("1", ChannelKind::App, "Menudo socavón en la avenida");
/// let text = Normalizer::spanish().normalize(&msg.text);
/// let cx = Context { message: &msg, text: &text, district: None, local_time: None };
/// let out = c.classify(&cx).unwrap().unwrap();
/// assert_eq!(out.category.as_deref(), Some("via_publica"));
/// ```
#[derive(Debug, Clone)]
pub struct RuleClassifier {
    rules: Arc<RuleSet>,
}

impl RuleClassifier {
    /// Wraps a rule set.
    pub fn new(rules: Arc<RuleSet>) -> Self {
        RuleClassifier { rules }
    }

    /// The rule set.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Builds the rule engine's input from a classifier context.
    pub fn input<'a>(cx: &Context<'a>) -> RuleInput<'a> {
        let c = &cx.message.contact;
        RuleInput {
            text: cx.text,
            channel: cx.message.channel,
            has_attachment: !cx.message.attachments.is_empty(),
            has_location: cx.message.has_location(),
            district: cx.district,
            local_time: cx.local_time,
            senders: [c.id.as_deref(), c.phone.as_deref(), c.email.as_deref()],
        }
    }
}

impl Classifier for RuleClassifier {
    fn name(&self) -> &str {
        "rules"
    }

    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        let out = self.rules.evaluate(&Self::input(cx));
        if out.fired.is_empty() {
            return Ok(None);
        }
        let mut c = out.classification;
        c.evidence = out
            .fired
            .into_iter()
            .map(|f| Evidence {
                source: format!("rule:{}", f.id),
                detail: f.patterns,
            })
            .collect();
        Ok(Some(c))
    }
}
