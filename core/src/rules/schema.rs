//! The rule file as written by service staff (serde), before validation and compilation.

use serde::{Deserialize, Serialize};

use crate::classify::{Intent, Priority};
use crate::message::ChannelKind;

/// How a rule set applies the rules that match a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Rules run in priority order and the first one that matches ends the run (unless it says
    /// `stop = false`).
    #[default]
    FirstMatch,
    /// Every matching rule runs, in priority order; a field is set by the first (highest
    /// priority) rule that sets it, tags accumulate, and a rule with `stop = true` ends the run.
    AllMatch,
}

/// A whole rule file.
///
/// ```toml
/// mode = "all_match"
///
/// [[rule]]
/// id = "lighting-outage"
/// priority = 50
/// when.any_text = ['\bfarolas?\b', 'alumbrado']
/// then = { intent = "incident", category = "alumbrado" }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// First-match (default) or all-match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MatchMode>,
    /// The rules.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// One rule: when its conditions hold (and its `unless` conditions do not), its actions apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, quoted in explanations.
    pub id: String,
    /// Higher runs first; rules of equal priority run in file order. Default 0.
    #[serde(default)]
    pub priority: i32,
    /// What the rule is for, for the people who maintain it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A disabled rule is validated but never runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Conditions that must all hold. An empty `when` matches every message.
    #[serde(default)]
    pub when: ConditionSpec,
    /// Conditions that, if they all hold, stop the rule from firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<ConditionSpec>,
    /// What the rule does.
    pub then: ActionSpec,
}

fn yes() -> bool {
    true
}

/// A condition: every key present must hold (a conjunction). Lists match any of their values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// At least one of these regular expressions matches the normalised text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_text: Option<Vec<String>>,
    /// Every one of these regular expressions matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_text: Option<Vec<String>>,
    /// None of these regular expressions matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none_text: Option<Vec<String>>,
    /// At least one of these words or phrases occurs as whole tokens (a trailing `*` matches
    /// any ending: `farol*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_words: Option<Vec<String>>,
    /// Every one of these words or phrases occurs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_words: Option<Vec<String>>,
    /// None of these words or phrases occurs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none_words: Option<Vec<String>>,
    /// The message came on one of these channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Vec<ChannelKind>>,
    /// The message has (true) or has not (false) an attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_attachment: Option<bool>,
    /// The message has (true) or has not (false) a location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_location: Option<bool>,
    /// The message was placed in one of these districts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<Vec<String>>,
    /// Local time of day window `{ from = "22:00", to = "07:00" }` (may wrap midnight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeWindowSpec>,
    /// Days of the week: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<String>>,
    /// The sender is one of these identifiers (contact id, phone or e-mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Vec<String>>,
    /// The sender is in one of these named lists of the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_list: Option<Vec<String>>,
    /// At least one of these nested conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<ConditionSpec>>,
    /// Every one of these nested conditions holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<ConditionSpec>>,
    /// This nested condition does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<ConditionSpec>>,
}

/// A local time-of-day window, `HH:MM` to `HH:MM`, start included, end excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindowSpec {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM`; before `from` means the window wraps midnight.
    pub to: String,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Set the intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// Set the category (one of the configuration's categories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Send to this department, whatever the routing table says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Set the case priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Add tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Reply template sent at once (placeholders: see [`crate::pipeline`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Confidence of this rule's labels, 0–1 (default 0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Hand the message to a human agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<bool>,
    /// End the run after this rule (default: true in first-match sets, false in all-match sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<bool>,
}
