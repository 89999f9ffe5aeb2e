//! The [`Router`]: built from one configuration, it turns a [`Message`] into a [`Decision`].
//!
//! The decision is a pure, synchronous function of (message, configuration): normalise the text
//! once, place it in a district, run the classifier chain (rules first, then any plug-ins), fill
//! the defaults, pick the department from the routing table, render the reply. No I/O happens
//! here; sending the reply and keeping the case happen at the edges.
//!
//! ```
//! use civic_router::{Router, message::{ChannelKind, Message}};
//!
//! let router = Router::from_toml(r#"
//!     [router]
//!     name = "Demo"
//!     [categories]
//!     alumbrado = "Alumbrado"
//!     emergencias = "Emergencias"
//!     general = "General"
//!     [[department]]
//!     id = "alumbrado"
//!     name = "Servicio de Alumbrado Público"
//!     [[department]]
//!     id = "emergencias"
//!     name = "Emergencias 112"
//!     kind = "emergency"
//!     [[department]]
//!     id = "010"
//!     name = "Atención ciudadana"
//!     [routing]
//!     default = "010"
//!     emergency = "emergencias"
//!     category.alumbrado = "alumbrado"
//!     [replies]
//!     emergency = "Llame al 112 ahora."
//!     [[rule]]
//!     id = "farola"
//!     when.any_words = ["farola*"]
//!     then = { intent = "incident", category = "alumbrado" }
//!     [[rule]]
//!     id = "gas"
//!     priority = 100
//!     when.any_text = ['huele (mucho )?a gas']
//!     then = { intent = "emergency" }
//! "#).unwrap();
//!
//! let d = router.route(&Message::new("m1", ChannelKind::Whatsapp, "Farola apagada")).unwrap();
//! assert_eq!(d.department, "alumbrado");
//! assert_eq!(d.explanation.route.entry, "category:alumbrado");
//!
//! let d = router.route(&Message::new("m2", ChannelKind::Sms, "HUELE A GAS en el portal")).unwrap();
//! assert_eq!((d.department.as_str(), d.category.as_str()), ("emergencias", "emergencias"));
//! assert_eq!(d.reply.as_deref(), Some("Llame al 112 ahora."));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::classify::model::{EmergencyDetector, Model, ModelClassifier};
use crate::classify::{
    Classifier, ClassifierChain, ClassifierTrace, Context, Intent, Priority, RuleClassifier,
};
use crate::config::{Config, PLACEHOLDERS};
use crate::error::{ConfigError, ConfigIssue, Error, InputError};
use crate::faq::{answer_text, FaqAnswer, FaqTrace, KnowledgeBase};
use crate::message::{ChannelKind, Message};
use crate::route::{DistrictMatch, Gazetteer, RouteQuery, RouteTrace, RoutingTable};
use crate::rules::{FiredRule, RuleFile, RuleSet, RuleTrace, Vocabulary};
use crate::text::{NormalizedText, Normalizer};

/// Why a decision is what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The text as the rules saw it.
    pub normalized_text: String,
    /// The rules that fired, with the patterns that hit.
    pub rules: Vec<FiredRule>,
    /// What each classifier said and which of its fields were kept.
    pub classifiers: Vec<ClassifierTrace>,
    /// Where the district came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<DistrictMatch>,
    /// Which routing entry chose the department.
    pub route: RouteTrace,
    /// Defaults applied and other remarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The knowledge-base search of an `information` message: which entry, its score, and
    /// whether it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq: Option<FaqTrace>,
}

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The message id.
    pub id: String,
    /// The channel the message came on (and the reply goes back on).
    pub channel: ChannelKind,
    /// What the person wants.
    pub intent: Intent,
    /// The area concerned.
    pub category: String,
    /// The department that must act.
    pub department: String,
    /// Its human name.
    pub department_name: String,
    /// The district, when known.
    pub district: Option<String>,
    /// How soon.
    pub priority: Priority,
    /// Confidence in intent and category, 0–1 (serialised with 4 decimals).
    #[serde(serialize_with = "crate::classify::round4")]
    pub confidence: f32,
    /// Whether a human agent must take it.
    pub handoff: bool,
    /// Tags set by rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What to answer at once, on the same channel.
    pub reply: Option<String>,
    /// The knowledge-base answer given at once, when the decision was answered automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<FaqAnswer>,
    /// Whether the message was answered automatically from the knowledge base (no agent).
    #[serde(default)]
    pub auto_answered: bool,
    /// Ids of the rules that fired, in order.
    pub rules: Vec<String>,
    /// Why.
    pub explanation: Explanation,
}

/// Everything compiled from one configuration; swapped whole on reload.
struct Compiled {
    config: Config,
    normalizer: Normalizer,
    /// the rule set as the chain's classifier
    rule_classifier: RuleClassifier,
    /// the statistical model: its confident labels (before the rules), its emergency detector
    /// (after them: it overrides any intent but an emergency rule's) and its classifier (last,
    /// filling what is still open)
    model: Option<(EmergencyDetector, ModelClassifier, ModelClassifier)>,
    rules: Arc<RuleSet>,
    routing: RoutingTable,
    gazetteer: Gazetteer,
    district_names: BTreeMap<String, String>,
    tz: chrono_tz::Tz,
    /// the knowledge base from `[faq]`, with its settings
    faq: Option<(Arc<KnowledgeBase>, crate::config::FaqSection)>,
}

/// A plug-in classifier and where it sits in the chain.
#[derive(Clone)]
struct Plugin {
    before_rules: bool,
    classifier: Arc<dyn Classifier>,
}

/// The router: immutable once built, `Send + Sync`, cheap to share in an `Arc`.
///
/// [`reload`](Router::reload) swaps the compiled configuration atomically; a routing call in
/// flight finishes on the configuration it started with.
pub struct Router {
    compiled: ArcSwap<Compiled>,
    plugins: Vec<Plugin>,
    /// a knowledge base swapped in at run time (staff added an entry), until the next reload
    faq_override: arc_swap::ArcSwapOption<KnowledgeBase>,
}

/// How the pipeline answers from the knowledge base: the decision so far, the text.
fn faq_answer(
    faq: &(Arc<KnowledgeBase>, crate::config::FaqSection),
    text: &NormalizedText,
    category: &str,
    fallback_category: &str,
    channel: ChannelKind,
) -> (Option<FaqAnswer>, FaqTrace) {
    let (kb, cfg) = faq;
    let hit = kb.search_normalized(text);
    let mut trace = FaqTrace {
        entry: hit.as_ref().map(|h| h.entry.id.clone()),
        category: hit.as_ref().map(|h| h.entry.category.clone()),
        score: hit.as_ref().map_or(0.0, |h| h.score),
        confidence: hit.as_ref().map_or(0.0, |h| h.confidence),
        threshold: cfg.threshold,
        answered: false,
        reason: String::new(),
    };
    let Some(h) = hit else {
        trace.reason = "no entry shares a term with the message".into();
        return (None, trace);
    };
    if !h.answers(cfg.threshold) {
        trace.reason = format!(
            "best entry `{}` matched {:.2} of the question: below the threshold {:.2}, or one term under half [{}]",
            h.entry.id,
            h.confidence,
            cfg.threshold,
            h.matched.join(", ")
        );
        return (None, trace);
    }
    if cfg.match_category && h.entry.category != category && category != fallback_category {
        trace.reason = format!(
            "best entry `{}` is about `{}`, the message about `{category}`",
            h.entry.id, h.entry.category
        );
        return (None, trace);
    }
    trace.answered = true;
    trace.reason = format!(
        "entry `{}` answered: score {:.2}, confidence {:.2} >= {:.2} [{}]",
        h.entry.id,
        h.score,
        h.confidence,
        cfg.threshold,
        h.matched.join(", ")
    );
    let answer = FaqAnswer {
        entry: h.entry.id.clone(),
        category: h.entry.category.clone(),
        text: answer_text(&h.entry, channel),
        links: h.entry.links.clone(),
        score: h.score,
        confidence: h.confidence,
        example: h.entry.example,
    };
    (Some(answer), trace)
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.compiled.load();
        f.debug_struct("Router")
            .field("name", &c.config.router.name)
            .field("rules", &c.rules.len())
            .field("departments", &c.config.departments.len())
            .field("plugins", &self.plugins.len())
            .finish()
    }
}

impl Router {
    /// Builds a router from a parsed configuration, validating everything it refers to.
    pub fn from_config(config: Config) -> Result<Router, Error> {
        Ok(Router {
            compiled: ArcSwap::from_pointee(compile(config)?),
            plugins: Vec::new(),
            faq_override: arc_swap::ArcSwapOption::empty(),
        })
    }

    /// Builds a router from configuration text (TOML). Rule files it names are read relative
    /// to the current directory.
    pub fn from_toml(src: &str) -> Result<Router, Error> {
        Router::from_config(Config::from_toml_str(src, "<string>")?)
    }

    /// Builds a router from a configuration file and the rule files it names.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Router, Error> {
        Router::from_config(Config::from_path(path)?)
    }

    /// Replaces the configuration atomically. On error the router keeps the old one.
    pub fn reload(&self, config: Config) -> Result<(), Error> {
        let c = compile(config)?;
        self.compiled.store(Arc::new(c));
        self.faq_override.store(None);
        Ok(())
    }

    /// The knowledge base in force (from `[faq]`, or the one set with
    /// [`set_knowledge_base`](Router::set_knowledge_base)).
    pub fn knowledge_base(&self) -> Option<Arc<KnowledgeBase>> {
        self.faq_override
            .load_full()
            .or_else(|| self.compiled.load().faq.as_ref().map(|f| f.0.clone()))
    }

    /// Swaps in a knowledge base (an entry was added or the file edited) without touching the
    /// rest of the configuration: the next message is answered from it. Its categories are
    /// checked against the configuration's; it is re-indexed with the router's normaliser.
    ///
    /// ```
    /// use civic_router::{Router, faq::KnowledgeBase, message::{ChannelKind, Message}};
    /// let router = Router::from_toml(r#"
    ///     [[department]]
    ///     id = "010"
    ///     name = "010"
    ///     [routing]
    ///     default = "010"
    ///     [[rule]]
    ///     id = "pregunta"
    ///     when.any_text = ['\?']
    ///     then = { intent = "information", category = "general" }
    /// "#).unwrap();
    /// let msg = Message::new("m1", ChannelKind::Whatsapp, "¿cuál es el horario del 010?");
    /// assert!(!router.route(&msg).unwrap().auto_answered);
    /// router.set_knowledge_base(KnowledgeBase::from_toml_str(r#"
    ///     [[entry]]
    ///     id = "010-horario"
    ///     category = "general"
    ///     questions = ["¿Cuál es el horario del 010?"]
    ///     answer = "De 8 a 20 h."
    /// "#, "faq.toml").unwrap()).unwrap();
    /// let d = router.route(&msg).unwrap();
    /// assert!(d.auto_answered);
    /// assert_eq!(d.reply.as_deref(), Some("De 8 a 20 h."));
    /// assert_eq!(d.explanation.faq.unwrap().entry.as_deref(), Some("010-horario"));
    /// ```
    pub fn set_knowledge_base(&self, kb: KnowledgeBase) -> Result<(), Error> {
        let c = self.compiled.load();
        if !c.config.categories.is_empty() {
            let known = c.config.categories.keys().map(String::as_str).collect();
            kb.check_categories(&known)?;
        }
        let kb = kb.renormalized(c.normalizer.clone());
        self.faq_override.store(Some(Arc::new(kb)));
        Ok(())
    }

    /// Adds a classifier after the rules (a statistical model, a Python or JS plug-in).
    pub fn with_classifier(mut self, classifier: Arc<dyn Classifier>) -> Router {
        self.plugins.push(Plugin {
            before_rules: false,
            classifier,
        });
        self
    }

    /// Adds a classifier that runs before the rules.
    pub fn with_classifier_first(mut self, classifier: Arc<dyn Classifier>) -> Router {
        self.plugins.push(Plugin {
            before_rules: true,
            classifier,
        });
        self
    }

    /// Names of the classifiers, in the order they run.
    pub fn classifier_names(&self) -> Vec<String> {
        let c = self.compiled.load();
        self.chain(&c)
            .names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.compiled.load().config.clone()
    }

    /// The city's time zone (`[router] timezone`): office hours and appointments are local
    /// times in it.
    ///
    /// ```
    /// let r = civic_router::Router::from_toml(r#"
    ///     [router]
    ///     timezone = "Atlantic/Canary"
    ///     [[department]]
    ///     id = "010"
    ///     name = "010"
    ///     [routing]
    ///     default = "010"
    /// "#).unwrap();
    /// assert_eq!(r.time_zone(), chrono_tz::Atlantic::Canary);
    /// ```
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.compiled.load().tz
    }

    /// The compiled rule set in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.compiled.load().rules.clone()
    }

    /// Normalises a text the way the router does.
    pub fn normalize(&self, text: &str) -> NormalizedText {
        self.compiled.load().normalizer.normalize(text)
    }

    /// A department's human name, if the department exists.
    pub fn department_name(&self, id: &str) -> Option<String> {
        self.compiled
            .load()
            .routing
            .department(id)
            .map(|d| d.name.clone())
    }

    /// The classifiers in the order they run: plug-ins placed first, the rules, the rest.
    fn stages<'a>(&'a self, c: &'a Compiled) -> impl Iterator<Item = &'a dyn Classifier> {
        let before = self.plugins.iter().filter(|p| p.before_rules);
        let after = self.plugins.iter().filter(|p| !p.before_rules);
        let detector = c.model.as_ref().map(|m| &m.0 as &dyn Classifier);
        let lead = c.model.as_ref().map(|m| &m.1 as &dyn Classifier);
        let model = c.model.as_ref().map(|m| &m.2 as &dyn Classifier);
        before
            .map(|p| &*p.classifier)
            .chain(lead)
            .chain(std::iter::once(&c.rule_classifier as &dyn Classifier))
            .chain(detector)
            .chain(model)
            .chain(after.map(|p| &*p.classifier))
    }

    fn chain(&self, c: &Compiled) -> ClassifierChain {
        let mut chain = ClassifierChain::new();
        for p in self.plugins.iter().filter(|p| p.before_rules) {
            chain.push(p.classifier.clone());
        }
        chain.push(Arc::new(RuleClassifier::new(c.rules.clone())));
        for p in self.plugins.iter().filter(|p| !p.before_rules) {
            chain.push(p.classifier.clone());
        }
        chain
    }

    /// Checks a message and computes what every stage reads: the normalised text, the
    /// district match and the local time of reception.
    fn prepare(
        c: &Compiled,
        msg: &Message,
    ) -> Result<(NormalizedText, Option<DistrictMatch>, Option<NaiveDateTime>), Error> {
        if msg.id.trim().is_empty() {
            return Err(InputError::MissingId.into());
        }
        let raw = msg.routable_text();
        if raw.len() > c.config.router.max_text_bytes {
            return Err(InputError::TooLarge {
                id: msg.id.clone(),
                len: raw.len(),
                limit: c.config.router.max_text_bytes,
            }
            .into());
        }
        let text = c.normalizer.normalize(&raw);
        // the text names the place first; else the address the channel gave
        let district_match = c.gazetteer.locate(&text).or_else(|| {
            let address = msg.location.as_ref()?.address.as_deref()?;
            let mut m = c.gazetteer.locate(&c.normalizer.normalize(address))?;
            m.source = format!("address {}", m.source);
            Some(m)
        });
        // last, the point the channel gave
        let district_match = district_match.or_else(|| {
            let (lat, lon) = msg.location.as_ref()?.point()?;
            c.gazetteer.locate_point(lat, lon)
        });
        let local_time = msg
            .received_at
            .map(|t| t.with_timezone(&c.tz).naive_local());
        Ok((text, district_match, local_time))
    }

    /// Shows what every rule would do with a message, and why: the rule engine sees exactly
    /// what [`route`](Router::route) gives it (normalised text and captions, channel,
    /// attachments, location, district, local time, sender). Plug-in classifiers do not run.
    /// The message is checked as `route` checks it.
    ///
    /// ```
    /// use civic_router::{Router, message::{ChannelKind, Message}};
    ///
    /// let router = Router::from_toml(r#"
    ///     [[department]]
    ///     id = "010"
    ///     name = "010"
    ///     [routing]
    ///     default = "010"
    ///     [[rule]]
    ///     id = "bache"
    ///     when.any_words = ["bache*"]
    ///     then = { intent = "incident", category = "via_publica" }
    ///     [[rule]]
    ///     id = "sms-only"
    ///     when.channel = ["sms"]
    ///     then.tags = ["sms"]
    /// "#).unwrap();
    /// let trace = router
    ///     .dry_run(&Message::new("m1", ChannelKind::Whatsapp, "Un BACHE enorme"))
    ///     .unwrap();
    /// assert_eq!(trace.len(), 2);
    /// assert!(trace[0].applies);
    /// assert_eq!(trace[0].patterns, vec!["bache*"]);
    /// assert!(!trace[1].matches);
    /// assert!(router.dry_run(&Message::new(" ", ChannelKind::Sms, "x")).is_err());
    /// ```
    pub fn dry_run(&self, msg: &Message) -> Result<Vec<RuleTrace>, Error> {
        let c = self.compiled.load();
        let (text, district_match, local_time) = Self::prepare(&c, msg)?;
        let cx = Context {
            message: msg,
            text: &text,
            district: district_match.as_ref().map(|m| m.id.as_str()),
            local_time,
        };
        Ok(c.rules.dry_run(&RuleClassifier::input(&cx)))
    }

    /// Decides what to do with one message.
    pub fn route(&self, msg: &Message) -> Result<Decision, Error> {
        let c = self.compiled.load();
        let c: &Compiled = &c;
        let (text, district_match, local_time) = Self::prepare(c, msg)?;
        let district = district_match.as_ref().map(|m| m.id.as_str());
        let cx = Context {
            message: msg,
            text: &text,
            district,
            local_time,
        };
        let (class, traces) = ClassifierChain::run_stages(self.stages(c), &cx)?;
        let mut notes = Vec::new();
        let mut confidence = class.confidence;
        let cfg = &c.config;
        let intent = match (class.intent, &class.category, cfg.router.default_intent) {
            (Some(i), _, _) => i,
            (None, Some(_), Some(d)) => {
                notes.push(format!(
                    "no classifier set the intent: default `{d}` for a categorised message"
                ));
                confidence = confidence.min(cfg.router.default_intent_confidence);
                d
            }
            (None, _, _) => {
                notes.push("no classifier set the intent: `other`".to_string());
                confidence = 0.0;
                Intent::Other
            }
        };
        let category = match intent {
            Intent::Emergency if cfg.categories.contains_key("emergencias") => {
                "emergencias".to_string()
            }
            Intent::Other => cfg.router.fallback_category.clone(),
            _ => match class.category.clone() {
                Some(cat) => cat,
                None => {
                    notes.push(format!(
                        "no classifier set the category: `{}`",
                        cfg.router.fallback_category
                    ));
                    confidence = confidence.min(0.3);
                    cfg.router.fallback_category.clone()
                }
            },
        };
        let priority = class.priority.unwrap_or(if intent == Intent::Emergency {
            Priority::Urgent
        } else {
            Priority::Normal
        });
        let mut handoff =
            intent != Intent::Emergency && (class.handoff || confidence < cfg.router.handoff_below);
        let faq = self.faq_override.load_full().map(|kb| {
            let section = c.faq.as_ref().map_or_else(
                || crate::config::FaqSection {
                    path: kb.origin().to_string(),
                    threshold: crate::faq::DEFAULT_THRESHOLD,
                    match_category: true,
                },
                |f| f.1.clone(),
            );
            (kb, section)
        });
        let (answer, faq_trace) = match (faq.as_ref().or(c.faq.as_ref()), intent) {
            (Some(faq), Intent::Information) if !class.handoff => {
                let (a, t) = faq_answer(
                    faq,
                    &text,
                    &category,
                    &cfg.router.fallback_category,
                    msg.channel,
                );
                (a, Some(t))
            }
            _ => (None, None),
        };
        let mut category = category;
        if let Some(a) = &answer {
            // the knowledge base answered: no agent needed; an uncategorised question takes
            // the answer's category
            handoff = false;
            if category == cfg.router.fallback_category {
                category = a.category.clone();
            }
        }
        let input = RuleClassifier::input(&cx);
        let route = c.routing.route(&RouteQuery {
            intent,
            category: &category,
            priority,
            district,
            department: class.department.as_deref(),
            handoff,
            input: &input,
        });
        let dep = c.routing.department(&route.department);
        let department_name = dep.map(|d| d.name.clone()).unwrap_or_default();
        let r = &cfg.replies;
        let template: Option<&str> = class.reply.as_deref().or(match intent {
            Intent::Emergency => r.emergency.as_deref(),
            _ if handoff => r.handoff.as_deref(),
            Intent::Incident => r.incident.as_deref(),
            Intent::Information => r.information.as_deref(),
            Intent::Appointment => r.appointment.as_deref(),
            Intent::Other => r.other.as_deref(),
        });
        let reply = match &answer {
            Some(a) => Some(a.text.clone()),
            None => template.map(|t| {
                render(t, |name| match name {
                    "category" => Some(category.as_str()),
                    "category_name" => cfg.categories.get(&category).map(String::as_str),
                    "department" => Some(route.department.as_str()),
                    "department_name" => Some(department_name.as_str()),
                    "department_phone" => dep.and_then(|d| d.phone.as_deref()),
                    "district" => district,
                    "district_name" => {
                        district.and_then(|d| c.district_names.get(d).map(String::as_str))
                    }
                    "intent" => Some(intent.as_str()),
                    "channel" => Some(msg.channel.as_str()),
                    "message_id" => Some(msg.id.as_str()),
                    _ => None,
                })
            }),
        };
        let fired: Vec<FiredRule> = traces
            .iter()
            .filter(|t| t.classifier == "rules")
            .flat_map(|t| t.output.iter())
            .flat_map(|o| o.evidence.iter())
            .filter_map(|e| {
                e.source.strip_prefix("rule:").map(|id| FiredRule {
                    id: id.to_string(),
                    patterns: e.detail.clone(),
                })
            })
            .collect();
        Ok(Decision {
            id: msg.id.clone(),
            channel: msg.channel,
            intent,
            category,
            department: route.department.clone(),
            department_name,
            district: district.map(str::to_string),
            priority,
            confidence,
            handoff,
            tags: class.tags,
            reply,
            auto_answered: answer.is_some(),
            answer,
            rules: fired.iter().map(|f| f.id.clone()).collect(),
            explanation: Explanation {
                normalized_text: text.into_string(),
                rules: fired,
                classifiers: traces,
                district: district_match,
                route,
                notes,
                faq: faq_trace,
            },
        })
    }

    /// Decides for many messages, spread over every core (with the default `parallel`
    /// feature). Results come back in input order, one per message.
    pub fn route_batch(&self, msgs: &[Message]) -> Vec<Result<Decision, Error>> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            msgs.par_iter().map(|m| self.route(m)).collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            msgs.iter().map(|m| self.route(m)).collect()
        }
    }
}

/// Fills `{name}` placeholders; `{{` and `}}` are literal braces. Unknown or empty values
/// render as nothing.
pub(crate) fn render<'v>(t: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(t.len() + 32);
    let mut rest = t;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('{') {
            match tail.find('}') {
                Some(end) => {
                    if let Some(v) = value(&tail[1..end]) {
                        out.push_str(v);
                    }
                    rest = &tail[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn compile(config: Config) -> Result<Compiled, Error> {
    let origin = config.origin.clone();
    let mut issues: Vec<ConfigIssue> = Vec::new();
    let tz: chrono_tz::Tz = match config.router.timezone.parse() {
        Ok(tz) => tz,
        Err(_) => {
            issues.push(ConfigIssue {
                file: origin.clone(),
                field: "router.timezone".into(),
                reason: format!("unknown time zone `{}`", config.router.timezone),
            });
            chrono_tz::Europe::Madrid
        }
    };
    for (field, v) in [
        ("router.handoff_below", config.router.handoff_below),
        (
            "router.default_intent_confidence",
            config.router.default_intent_confidence,
        ),
    ] {
        if !(0.0..=1.0).contains(&v) {
            issues.push(ConfigIssue {
                file: origin.clone(),
                field: field.into(),
                reason: format!("{v} is not between 0 and 1"),
            });
        }
    }
    let mut normalizer = Normalizer::spanish();
    for (from, to) in &config.text.rewrites {
        normalizer = normalizer.with_rewrite(from, to);
    }
    let known = |s: &str| config.categories.is_empty() || config.categories.contains_key(s);
    if !known(&config.router.fallback_category) {
        issues.push(ConfigIssue {
            file: origin.clone(),
            field: "router.fallback_category".into(),
            reason: format!("unknown category `{}`", config.router.fallback_category),
        });
    }
    for (field, t) in [
        ("replies.emergency", &config.replies.emergency),
        ("replies.incident", &config.replies.incident),
        ("replies.information", &config.replies.information),
        ("replies.appointment", &config.replies.appointment),
        ("replies.other", &config.replies.other),
        ("replies.handoff", &config.replies.handoff),
    ] {
        if let Some(t) = t {
            let known = PLACEHOLDERS.iter().map(|s| s.to_string()).collect();
            if let Err(e) = crate::rules::check_template_pub(t, Some(&known)) {
                issues.push(ConfigIssue {
                    file: origin.clone(),
                    field: field.into(),
                    reason: e,
                });
            }
        }
    }
    let mut seen_d = std::collections::BTreeSet::new();
    for (i, d) in config.districts.iter().enumerate() {
        if let Some([lat, lon]) = d.centre {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                issues.push(ConfigIssue {
                    file: origin.clone(),
                    field: format!("district[{i}].centre"),
                    reason: format!("[{lat}, {lon}] is not a latitude and longitude"),
                });
            }
        }
        if !seen_d.insert(d.id.clone()) {
            issues.push(ConfigIssue {
                file: origin.clone(),
                field: format!("district[{i}].id"),
                reason: format!("duplicate district `{}`", d.id),
            });
        }
    }
    let vocab = Vocabulary {
        departments: Some(config.departments.iter().map(|d| d.id.clone()).collect()),
        categories: (!config.categories.is_empty())
            .then(|| config.categories.keys().cloned().collect()),
        districts: Some(config.districts.iter().map(|d| d.id.clone()).collect()),
        sender_lists: config.sender_lists.clone().into_iter().collect(),
        placeholders: Some(PLACEHOLDERS.iter().map(|s| s.to_string()).collect()),
    };
    let mut files: Vec<(&str, RuleFile)> = config
        .rule_files
        .iter()
        .map(|(o, f)| (o.as_str(), f.clone()))
        .collect();
    if !config.rules.is_empty() {
        files.push((
            origin.as_str(),
            RuleFile {
                mode: config.router.mode,
                rules: config.rules.clone(),
            },
        ));
    }
    let rules = match RuleSet::from_files_with(&files, &vocab, normalizer.clone()) {
        Ok(r) => Some(Arc::new(r)),
        Err(e) => {
            issues.extend(ConfigError::from(e).issues);
            None
        }
    };
    let routing = match RoutingTable::from_config(&config, &normalizer) {
        Ok(r) => Some(r),
        Err(e) => {
            issues.extend(e.issues);
            None
        }
    };
    let model = match (&config.model, &config.model_source) {
        (Some(m), Some((path, src))) => {
            for (field, v) in [("model.min_confidence", m.min_confidence)] {
                if !(0.0..=1.0).contains(&v) {
                    issues.push(ConfigIssue {
                        file: origin.clone(),
                        field: field.into(),
                        reason: format!("{v} is not between 0 and 1"),
                    });
                }
            }
            match Model::from_json(src) {
                Ok(model) => {
                    if let Some(bad) = model.categories().iter().find(|c| {
                        !config.categories.is_empty() && !config.categories.contains_key(*c)
                    }) {
                        issues.push(ConfigIssue {
                            file: origin.clone(),
                            field: "model.path".into(),
                            reason: format!("the model at `{path}` predicts category `{bad}`, which the configuration does not define"),
                        });
                    }
                    let model = Arc::new(model);
                    Some((
                        EmergencyDetector::new(model.clone(), m.emergency_threshold),
                        ModelClassifier::new(model.clone(), m.lead_above).named("model-lead"),
                        ModelClassifier::new(model, m.min_confidence),
                    ))
                }
                Err(e) => {
                    issues.push(ConfigIssue {
                        file: origin.clone(),
                        field: "model.path".into(),
                        reason: format!("`{path}`: {}", e.0),
                    });
                    None
                }
            }
        }
        _ => None,
    };
    let faq = match (&config.faq, &config.faq_source) {
        (Some(f), Some((path, src))) => {
            if !(0.0..=1.0).contains(&f.threshold) {
                issues.push(ConfigIssue {
                    file: origin.clone(),
                    field: "faq.threshold".into(),
                    reason: format!("{} is not between 0 and 1", f.threshold),
                });
            }
            match KnowledgeBase::from_str_named(src, path) {
                Ok(kb) => {
                    let kb = kb.renormalized(normalizer.clone());
                    if !config.categories.is_empty() {
                        let known = config.categories.keys().map(String::as_str).collect();
                        if let Err(e) = kb.check_categories(&known) {
                            issues.extend(e.issues);
                        }
                    }
                    Some((Arc::new(kb), f.clone()))
                }
                Err(e) => {
                    issues.extend(e.issues);
                    None
                }
            }
        }
        _ => None,
    };
    let (Some(rules), Some(routing), true) = (rules, routing, issues.is_empty()) else {
        return Err(ConfigError { issues }.into());
    };
    let centres: Vec<(&str, (f64, f64))> = config
        .districts
        .iter()
        .filter_map(|d| d.centre.map(|c| (d.id.as_str(), (c[0], c[1]))))
        .collect();
    let gazetteer = Gazetteer::new(
        &normalizer,
        config
            .districts
            .iter()
            .map(|d| (d.id.clone(), d.places.clone(), d.streets.clone())),
    )
    .with_centres(&centres, config.router.district_radius_m);
    let district_names = config
        .districts
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect();
    Ok(Compiled {
        config,
        normalizer,
        rule_classifier: RuleClassifier::new(rules.clone()),
        model,
        rules,
        routing,
        gazetteer,
        district_names,
        tz,
        faq,
    })
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn render_placeholders() {
        let v = |n: &str| (n == "a").then_some("X");
        assert_eq!(render("<{a}> {{b}} {c}", v), "<X> {b} ");
        assert_eq!(render("no close {a", v), "no close {a");
        assert_eq!(render("stray } ok", v), "stray } ok");
    }
}
