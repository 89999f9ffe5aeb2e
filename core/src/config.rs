//! The deployment's configuration file (TOML) and how it loads.
//!
//! One file describes a city's service line: its categories, departments, districts and their
//! places, the routing table, the reply texts, and the rule files to load (paths relative to the
//! configuration file). Unknown fields are refused, so a typo never silently disables a setting.
//!
//! ```
//! use civic_router::config::Config;
//!
//! let cfg = Config::from_toml_str(r#"
//!     [router]
//!     name = "Demo"
//!
//!     [categories]
//!     alumbrado = "Alumbrado público"
//!
//!     [[department]]
//!     id = "alumbrado"
//!     name = "Servicio de Alumbrado"
//!
//!     [routing]
//!     default = "alumbrado"
//! "#, "demo.toml").unwrap();
//! assert_eq!(cfg.departments[0].id, "alumbrado");
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, ConfigIssue};
use crate::rules::{ConditionSpec, RuleFile};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// General settings.
    #[serde(default)]
    pub router: RouterSection,
    /// Text normalisation additions.
    #[serde(default)]
    pub text: TextSection,
    /// Category id → human name. Rules and routing may only use these ids.
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    /// The departments and bodies that receive cases.
    #[serde(default, rename = "department")]
    pub departments: Vec<DepartmentSpec>,
    /// The city's districts and the places inside each.
    #[serde(default, rename = "district")]
    pub districts: Vec<DistrictSpec>,
    /// The routing table.
    #[serde(default)]
    pub routing: RoutingSpec,
    /// Reply templates per situation.
    #[serde(default)]
    pub replies: RepliesSpec,
    /// Named lists of senders for `sender_list` conditions.
    #[serde(default)]
    pub sender_lists: BTreeMap<String, Vec<String>>,
    /// Rules written inline in the configuration (besides `router.rules` files).
    #[serde(default, rename = "rule")]
    pub rules: Vec<crate::rules::RuleSpec>,
    /// The statistical classifier chained after the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSection>,
    /// The knowledge base that answers information requests at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq: Option<FaqSection>,
    /// The knowledge-base file's (name, contents), read from `faq.path` (not part of the file).
    #[serde(skip)]
    pub faq_source: Option<(String, String)>,
    /// The appointment offices (cita previa).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointments: Option<AppointmentsSection>,
    /// The offices file's (name, contents), read from `appointments.offices` (not part of
    /// the file).
    #[serde(skip)]
    pub offices_source: Option<(String, String)>,
    /// Cases: references, duplicates, follow-up templates, retention, delivery retries.
    #[serde(default)]
    pub tickets: TicketsSection,
    /// Where cases are kept.
    #[serde(default)]
    pub store: StoreSection,
    /// The model file's contents, read from `model.path` (not part of the file).
    #[serde(skip)]
    pub model_source: Option<(String, String)>,
    /// Where the file was read from (not part of the file).
    #[serde(skip)]
    pub origin: String,
    /// Rule files loaded from `router.rules`, with their origin (not part of the file).
    #[serde(skip)]
    pub rule_files: Vec<(String, RuleFile)>,
}

/// `[router]`: general settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSection {
    /// Name of the service line.
    #[serde(default)]
    pub name: String,
    /// IANA time zone for time-of-day rules and opening hours (default `Europe/Madrid`).
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// Below this confidence a decision is marked for a human agent (default 0.5).
    #[serde(default = "default_handoff")]
    pub handoff_below: f32,
    /// Rule files, relative to the configuration file.
    #[serde(default)]
    pub rules: Vec<String>,
    /// First-match or all-match for inline rules (rule files state their own).
    #[serde(default)]
    pub mode: Option<crate::rules::MatchMode>,
    /// Largest text accepted, in bytes (default 64 KiB).
    #[serde(default = "default_max_text")]
    pub max_text_bytes: usize,
    /// Category for messages no classifier labels (default `general`).
    #[serde(default = "default_category")]
    pub fallback_category: String,
    /// Farthest a location point may lie from the nearest district centre, in metres
    /// (default 2,500).
    #[serde(default = "default_radius")]
    pub district_radius_m: f64,
    /// Intent for messages whose category was decided but whose intent was not (e.g.
    /// `incident`: "farola en la calle Feria" names a problem without a verb). Unset: such
    /// messages get intent `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_intent: Option<crate::classify::Intent>,
    /// Confidence given to a decision whose intent came from `default_intent` (default 0.6).
    #[serde(default = "default_intent_confidence")]
    pub default_intent_confidence: f32,
}

fn default_radius() -> f64 {
    2_500.0
}

fn default_intent_confidence() -> f32 {
    0.6
}

fn default_tz() -> String {
    "Europe/Madrid".into()
}
fn default_handoff() -> f32 {
    0.5
}
fn default_max_text() -> usize {
    64 * 1024
}
fn default_category() -> String {
    "general".into()
}

impl Default for RouterSection {
    fn default() -> Self {
        RouterSection {
            name: String::new(),
            timezone: default_tz(),
            handoff_below: default_handoff(),
            rules: Vec::new(),
            mode: None,
            max_text_bytes: default_max_text(),
            fallback_category: default_category(),
            default_intent: None,
            district_radius_m: default_radius(),
            default_intent_confidence: default_intent_confidence(),
        }
    }
}

/// `[model]`: the trained classifier (`civic-router train`) and how it joins the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// The model file, relative to the configuration file.
    pub path: String,
    /// The model fills what the rules left open when its probability reaches this (default 0.4).
    #[serde(default = "default_model_min")]
    pub min_confidence: f32,
    /// At or above this probability of `emergency`, the message is an emergency whatever the
    /// rules say (default 0.5). Set above 1 to disable the detector.
    #[serde(default = "default_emergency_threshold")]
    pub emergency_threshold: f32,
    /// At or above this probability the model's label is taken before the rules' (only rules
    /// that stop — emergencies — still override it). Default 0.85; above 1 disables it.
    #[serde(default = "default_lead")]
    pub lead_above: f32,
}

fn default_lead() -> f32 {
    0.85
}

fn default_model_min() -> f32 {
    0.4
}
fn default_emergency_threshold() -> f32 {
    0.5
}

/// `[faq]`: the knowledge base ([`crate::faq`]) and when its answer is given at once.
///
/// ```
/// use civic_router::config::Config;
/// let files = [("faq.toml", "[[entry]]\nid = 'a'\ncategory = 'general'\nquestions = ['horario 010']\nanswer = 'De 8 a 20 h.'\n")];
/// let cfg = Config::from_toml_with_loader(
///     "[faq]\npath = 'faq.toml'\nthreshold = 0.6\n[[department]]\nid = 'd'\nname = 'D'\n[routing]\ndefault = 'd'\n",
///     "router.toml",
///     &|p| files.iter().find(|f| f.0 == p).map(|f| f.1.to_string()).ok_or_else(|| "missing".to_string()),
/// ).unwrap();
/// assert_eq!(cfg.faq.unwrap().threshold, 0.6);
/// assert!(cfg.faq_source.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqSection {
    /// The knowledge-base file (TOML, or JSON by its `.json` extension), relative to the
    /// configuration file.
    pub path: String,
    /// An `information` decision is answered at once when the best entry's confidence
    /// reaches this (default 0.5).
    #[serde(default = "default_faq_threshold")]
    pub threshold: f32,
    /// Answer only with an entry of the decision's own category (or when no classifier set
    /// the category). Default true: a second opinion that keeps answers on topic.
    #[serde(default = "default_true")]
    pub match_category: bool,
}

/// `[appointments]`: the offices file ([`crate::appointment::Offices`]) and how long a booking
/// conversation waits for an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentsSection {
    /// The offices file (TOML, or JSON by its extension), relative to the configuration file.
    pub offices: String,
    /// Minutes a booking conversation waits for the citizen's answer (default 15).
    #[serde(default = "default_conversation_minutes")]
    pub conversation_minutes: u32,
}

fn default_conversation_minutes() -> u32 {
    15
}

fn default_faq_threshold() -> f32 {
    crate::faq::DEFAULT_THRESHOLD
}

fn default_true() -> bool {
    true
}

/// `[tickets]`: how cases are opened, followed up and kept.
///
/// ```
/// use civic_router::config::Config;
/// let cfg = Config::from_toml_str(r#"
///     [tickets]
///     reference_prefix = "SEV"
///     duplicate_radius_m = 30
///     [tickets.templates]
///     resolved = "Su aviso {reference} está resuelto."
/// "#, "t.toml").unwrap();
/// assert_eq!(cfg.tickets.duplicate_radius_m, 30.0);
/// assert_eq!(cfg.tickets.duplicate_window_hours, 72);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsSection {
    /// The letters before the year in a reference (`SEV` → `SEV-2026-004213`); 2–6 letters.
    #[serde(default = "default_prefix")]
    pub reference_prefix: String,
    /// Intents that open a ticket (default `["incident"]`).
    #[serde(default = "default_open_for")]
    pub open_for: Vec<crate::classify::Intent>,
    /// A report of the same category within this distance of an open ticket's point is its
    /// duplicate (metres, default 50).
    #[serde(default = "default_dup_radius")]
    pub duplicate_radius_m: f64,
    /// … if the open ticket was reported at most this long before (hours, default 72).
    #[serde(default = "default_dup_window")]
    pub duplicate_window_hours: u32,
    /// Closed tickets' personal data is pseudonymised this many days after closing
    /// (default 365).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// Delivery attempts before an outbox row goes to the dead-letter table (default 8).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Follow-up texts per status (`routed`, `accepted`, …, `duplicate`, `reopened`,
    /// `status_reply`, `unknown_reference`); unset statuses use the built-in Spanish texts, an
    /// empty text sends nothing for that status. Placeholders: `{reference}`, `{status}`,
    /// `{status_name}`, `{department_name}`, `{category_name}`, `{note}`, `{duplicate_of}`.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
    /// Department id → the HTTPS webhook its cases are posted to (JSON, `Idempotency-Key`);
    /// departments without one get their cases by e-mail (`department.email`).
    #[serde(default)]
    pub webhooks: BTreeMap<String, String>,
}

fn default_prefix() -> String {
    "CAS".into()
}
fn default_open_for() -> Vec<crate::classify::Intent> {
    vec![crate::classify::Intent::Incident]
}
fn default_dup_radius() -> f64 {
    50.0
}
fn default_dup_window() -> u32 {
    72
}
fn default_retention() -> u32 {
    365
}
fn default_attempts() -> u32 {
    8
}

impl Default for TicketsSection {
    fn default() -> Self {
        TicketsSection {
            reference_prefix: default_prefix(),
            open_for: default_open_for(),
            duplicate_radius_m: default_dup_radius(),
            duplicate_window_hours: default_dup_window(),
            retention_days: default_retention(),
            max_attempts: default_attempts(),
            templates: BTreeMap::new(),
            webhooks: BTreeMap::new(),
        }
    }
}

/// `[store]`: where cases are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// The store by URL: `sqlite://PATH`, `postgres://user@host/db`, `memory://`; it wins over
    /// `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The SQLite file, relative to the configuration file; unset: the CLI's `--store`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Directory the e-mail route writes its `.eml` files to, for departments without an
    /// `url` (relative to the configuration file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_mail_dir: Option<String>,
}

/// `[text]`: additions to the Spanish normaliser.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSection {
    /// Token rewrites (`"lipa" = "lipasam"`), applied to messages and word patterns alike.
    #[serde(default)]
    pub rewrites: BTreeMap<String, String>,
}

/// What kind of body a department is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentKind {
    /// A city area (lighting, roads, parks…).
    #[default]
    Area,
    /// A municipal company (street cleaning, water, housing, buses).
    Company,
    /// A district office.
    District,
    /// A body outside the city (regional government, port authority).
    External,
    /// Emergency services.
    Emergency,
    /// The service line's own agents.
    Agents,
}

/// `[[department]]`: a body that receives cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSpec {
    /// Identifier used by rules and routing.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Kind of body.
    #[serde(default)]
    pub kind: DepartmentKind,
    /// Public phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Contact e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Web page or API endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Opening hours, e.g. `["mon-fri 08:00-15:00", "sat 09:00-13:00"]`; empty: always open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    /// Department that takes its high and urgent cases while it is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours: Option<String>,
}

/// `[[district]]`: a district and the places (neighbourhoods, streets, landmarks) inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSpec {
    /// Identifier.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Names that place a message in this district (matched as whole words on normalised text).
    #[serde(default)]
    pub places: Vec<String>,
    /// Streets (matched like places, with lower weight than neighbourhood names).
    #[serde(default)]
    pub streets: Vec<String>,
    /// Approximate centre `[lat, lon]`: a message with a location point and no place name is
    /// placed in the district whose centre is nearest (within `router.district_radius_m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<[f64; 2]>,
}

/// `[routing]`: the routing table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// Department when nothing else applies.
    #[serde(default)]
    pub default: String,
    /// Department for emergencies (they also get the emergency reply at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// Department for messages handed to a human agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<String>,
    /// Category → department.
    #[serde(default)]
    pub category: BTreeMap<String, String>,
    /// District-specific entries, checked before `category`.
    #[serde(default, rename = "district")]
    pub districts: Vec<DistrictRouteSpec>,
    /// Overrides checked first of all (assets owned by another body, …).
    #[serde(default, rename = "override")]
    pub overrides: Vec<OverrideSpec>,
}

/// `[[routing.district]]`: in this district, (this category) goes to this department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictRouteSpec {
    /// District id.
    pub district: String,
    /// Categories it applies to; empty: every category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Intents it applies to; empty: every intent except emergency.
    #[serde(default)]
    pub intents: Vec<crate::classify::Intent>,
    /// The department.
    pub department: String,
}

/// `[[routing.override]]`: whatever the category, a message meeting these conditions goes to
/// this department (a regional road, the port, a private estate…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    /// Identifier, quoted in explanations.
    pub id: String,
    /// Conditions, in the rule language.
    pub when: ConditionSpec,
    /// Only for these categories (empty: any).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The department.
    pub department: String,
}

/// `[replies]`: what is answered at once, per situation. Placeholders: `{category}`,
/// `{category_name}`, `{department}`, `{department_name}`, `{department_phone}`, `{district}`,
/// `{district_name}`, `{intent}`, `{channel}`, `{message_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesSpec {
    /// Emergencies: call 112.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// Incidents received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// Information requests (when no knowledge-base answer applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub information: Option<String>,
    /// Appointment requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<String>,
    /// Greetings and the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// Handed to a human agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<String>,
}

/// Placeholders a reply template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "category",
    "category_name",
    "department",
    "department_name",
    "department_phone",
    "district",
    "district_name",
    "intent",
    "channel",
    "message_id",
];

impl Config {
    /// Parses a configuration from TOML text. Rule files named in `router.rules` are resolved
    /// against the current directory; prefer [`Config::from_path`] for files.
    pub fn from_toml_str(src: &str, origin: &str) -> Result<Config, ConfigError> {
        Config::parse(src, origin, &|rel| {
            std::fs::read_to_string(rel).map_err(|e| e.to_string())
        })
    }

    /// Parses a configuration from TOML text, reading the rule files it names through
    /// `loader` (given the path as written in `router.rules`). This is how a program embeds a
    /// configuration and its rule files in its binary.
    ///
    /// ```
    /// use civic_router::config::Config;
    /// let files = [("rules.toml", "[[rule]]\nid = 'r'\nwhen.any_words = ['bache']\nthen.category = 'via_publica'\n")];
    /// let cfg = Config::from_toml_with_loader(
    ///     "[router]\nrules = ['rules.toml']\n[[department]]\nid = 'd'\nname = 'D'\n[routing]\ndefault = 'd'\n",
    ///     "embedded.toml",
    ///     &|p| files.iter().find(|f| f.0 == p).map(|f| f.1.to_string()).ok_or_else(|| "not embedded".to_string()),
    /// ).unwrap();
    /// assert_eq!(cfg.rule_files.len(), 1);
    /// ```
    pub fn from_toml_with_loader(
        src: &str,
        origin: &str,
        loader: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Config, ConfigError> {
        Config::parse(src, origin, loader)
    }

    /// Reads a configuration file and the rule files it names (relative to it).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let src = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::one(&origin, "(file)", format!("cannot read: {e}")))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&src, &origin, &|rel| {
            std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string())
        })
    }

    fn parse(
        src: &str,
        origin: &str,
        loader: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::new(src);
        let mut cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let reason = inner
                .message()
                .lines()
                .next()
                .unwrap_or("invalid")
                .to_string();
            let at = inner
                .span()
                .map(|s| {
                    let line = src[..s.start.min(src.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            ConfigError::one(
                origin,
                if path == "." { "(syntax)".into() } else { path },
                format!("{reason}{at}"),
            )
        })?;
        cfg.origin = origin.to_string();
        let mut issues = Vec::new();
        for (i, rel) in cfg.router.rules.clone().iter().enumerate() {
            match loader(rel) {
                Err(e) => issues.push(ConfigIssue {
                    file: origin.to_string(),
                    field: format!("router.rules[{i}]"),
                    reason: format!("cannot read rule file `{rel}`: {e}"),
                }),
                Ok(text) => {
                    let parsed = if rel.to_ascii_lowercase().ends_with(".json") {
                        crate::rules::parse_rule_json(&text, rel)
                    } else {
                        crate::rules::parse_rule_toml(&text, rel)
                    };
                    match parsed {
                        Ok(f) => cfg.rule_files.push((rel.clone(), f)),
                        Err(e) => issues.extend(ConfigError::from(e).issues),
                    }
                }
            }
        }
        if let Some(m) = cfg.model.clone() {
            match loader(&m.path) {
                Ok(text) => cfg.model_source = Some((m.path.clone(), text)),
                Err(e) => issues.push(ConfigIssue {
                    file: origin.to_string(),
                    field: "model.path".into(),
                    reason: format!("cannot read model file `{}`: {e}", m.path),
                }),
            }
        }
        if let Some(a) = cfg.appointments.clone() {
            match loader(&a.offices) {
                Ok(text) => cfg.offices_source = Some((a.offices.clone(), text)),
                Err(e) => issues.push(ConfigIssue {
                    file: origin.to_string(),
                    field: "appointments.offices".into(),
                    reason: format!("cannot read offices file `{}`: {e}", a.offices),
                }),
            }
        }
        if let Some(f) = cfg.faq.clone() {
            match loader(&f.path) {
                Ok(text) => cfg.faq_source = Some((f.path.clone(), text)),
                Err(e) => issues.push(ConfigIssue {
                    file: origin.to_string(),
                    field: "faq.path".into(),
                    reason: format!("cannot read knowledge base `{}`: {e}", f.path),
                }),
            }
        }
        if issues.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError { issues })
        }
    }
}
