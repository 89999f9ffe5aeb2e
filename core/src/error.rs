//! The crate's errors: one type per concern, and [`Error`] that wraps them with a stable
//! [`ErrorKind`] the bindings map to exception classes (Python) and error codes (Node).

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::classify::ClassifierError;
pub use crate::rules::{RuleIssue, RuleSetError};

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigIssue {
    /// The file.
    pub file: String,
    /// The field, as a path (`department[3].hours[0]`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.field, self.reason)
    }
}

/// A configuration refused at load, with every problem found (rule files included).
///
/// ```
/// use civic_router::Router;
/// let err = Router::from_toml("[router]\nname = 3\n").unwrap_err();
/// assert_eq!(err.kind(), civic_router::ErrorKind::Config);
/// assert!(err.to_string().contains("router.name"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems.
    pub issues: Vec<ConfigIssue>,
}

impl ConfigError {
    /// A configuration error with one issue.
    pub fn one(
        file: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError {
            issues: vec![ConfigIssue {
                file: file.into(),
                field: field.into(),
                reason: reason.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.issues.len())?;
        if self.issues.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str(")")?;
        for i in &self.issues {
            write!(f, "\n  - {i}")?;
        }
        Ok(())
    }
}

impl From<RuleSetError> for ConfigError {
    fn from(e: RuleSetError) -> Self {
        ConfigError {
            issues: e
                .issues
                .into_iter()
                .map(|i| ConfigIssue {
                    file: i.file,
                    field: match i.rule {
                        Some(r) => format!("rule `{r}`: {}", i.field),
                        None => i.field,
                    },
                    reason: i.reason,
                })
                .collect(),
        }
    }
}

/// A message that cannot be routed as given.
///
/// ```
/// use civic_router::InputError;
/// let from_file = InputError::Malformed { line: 3, reason: "missing field `id`".into() };
/// assert_eq!(from_file.to_string(), "line 3: not a message: missing field `id`");
/// // line 0: not from a file (a binding's dict, a web request): no line is quoted
/// let given = InputError::Malformed { line: 0, reason: "missing field `id`".into() };
/// assert_eq!(given.to_string(), "not a message: missing field `id`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The input is not valid JSON, or not a message.
    #[error("{}not a message: {reason}", line_prefix(*.line))]
    Malformed {
        /// 1-based line number (0 when not from a file).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The text is larger than the router accepts.
    #[error("message `{id}`: text is {len} bytes; the limit is {limit}")]
    TooLarge {
        /// Message id.
        id: String,
        /// Its size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The message has no id.
    #[error("a message needs a non-empty id")]
    MissingId,
}

fn line_prefix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!("line {line}: ")
    }
}

/// What went wrong with a provider request or a reply (see [`ChannelError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelErrorKind {
    /// The request is not what the provider sends: bad JSON, a missing or ill-typed field,
    /// invalid UTF-8.
    Malformed,
    /// The body (or a field) is larger than accepted; refused before parsing.
    TooLarge,
    /// A signature, verify token or API key is missing or wrong.
    Unauthorized,
    /// A well-formed request this channel does not handle (unknown path or method).
    Unsupported,
    /// An unknown resource (an Open311 service code or request id).
    NotFound,
    /// A reply cannot be rendered within the channel's rules (no template outside the
    /// WhatsApp 24-hour window, no recipient).
    Reply,
}

impl ChannelErrorKind {
    /// The kind's stable name, as serde writes it (`malformed`, `too_large`, `unauthorized`,
    /// `unsupported`, `not_found`, `reply`).
    ///
    /// ```
    /// use civic_router::error::ChannelErrorKind;
    /// assert_eq!(ChannelErrorKind::TooLarge.as_str(), "too_large");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelErrorKind::Malformed => "malformed",
            ChannelErrorKind::TooLarge => "too_large",
            ChannelErrorKind::Unauthorized => "unauthorized",
            ChannelErrorKind::Unsupported => "unsupported",
            ChannelErrorKind::NotFound => "not_found",
            ChannelErrorKind::Reply => "reply",
        }
    }

    /// The HTTP status a webhook endpoint should answer with.
    ///
    /// ```
    /// use civic_router::error::ChannelErrorKind;
    /// assert_eq!(ChannelErrorKind::TooLarge.http_status(), 413);
    /// assert_eq!(ChannelErrorKind::Unauthorized.http_status(), 403);
    /// ```
    pub fn http_status(self) -> u16 {
        match self {
            ChannelErrorKind::Malformed | ChannelErrorKind::Reply => 400,
            ChannelErrorKind::TooLarge => 413,
            ChannelErrorKind::Unauthorized => 403,
            ChannelErrorKind::Unsupported => 405,
            ChannelErrorKind::NotFound => 404,
        }
    }
}

/// A provider request refused, or a reply that cannot be rendered, naming the channel and the
/// field. Channel parsers never panic: every malformed input ends here.
///
/// ```
/// use civic_router::error::{ChannelError, ChannelErrorKind};
/// use civic_router::ChannelKind;
/// let e = ChannelError::new(ChannelKind::Sms, "From", ChannelErrorKind::Malformed, "missing");
/// assert_eq!(e.to_string(), "sms: From: missing");
/// let any: civic_router::Error = e.into();
/// assert_eq!(any.kind(), civic_router::ErrorKind::Channel);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{channel}: {field}: {reason}")]
pub struct ChannelError {
    /// The channel (Open311 requests are `app`, web forms `web`).
    pub channel: crate::message::ChannelKind,
    /// The field, as a path (`entry[0].changes[0].value.messages[1].from`, `Body`, `body`).
    pub field: String,
    /// What kind of problem.
    pub kind: ChannelErrorKind,
    /// What is wrong, in words.
    pub reason: String,
}

impl ChannelError {
    /// A channel error.
    pub fn new(
        channel: crate::message::ChannelKind,
        field: impl Into<String>,
        kind: ChannelErrorKind,
        reason: impl Into<String>,
    ) -> Self {
        ChannelError {
            channel,
            field: field.into(),
            kind,
            reason: reason.into(),
        }
    }
}

/// What went wrong with a ticket store (see [`StoreError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// No ticket has that reference (or the text is not a reference).
    UnknownTicket,
    /// The lifecycle does not allow that status change.
    RefusedTransition,
    /// The department is not in the configuration.
    UnknownDepartment,
    /// The file is not a civic-router store, is damaged, or is from a newer version.
    Corrupt,
    /// The database failed (disk full, locked for too long, I/O error).
    Backend,
    /// The request itself is invalid (an empty actor, a message without id).
    Invalid,
}

impl StoreErrorKind {
    /// A stable snake-case name (`unknown_ticket`, `refused_transition`, …).
    ///
    /// ```
    /// use civic_router::error::StoreErrorKind;
    /// assert_eq!(StoreErrorKind::RefusedTransition.as_str(), "refused_transition");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StoreErrorKind::UnknownTicket => "unknown_ticket",
            StoreErrorKind::RefusedTransition => "refused_transition",
            StoreErrorKind::UnknownDepartment => "unknown_department",
            StoreErrorKind::Corrupt => "corrupt",
            StoreErrorKind::Backend => "backend",
            StoreErrorKind::Invalid => "invalid",
        }
    }
}

/// A ticket store refused a request or failed, saying why.
///
/// ```
/// use civic_router::error::{StoreError, StoreErrorKind};
/// let e = StoreError::refused("SEV-2026-000001", "received", "resolved");
/// assert_eq!(e.kind, StoreErrorKind::RefusedTransition);
/// assert_eq!(
///     e.to_string(),
///     "ticket SEV-2026-000001: cannot go from `received` to `resolved`",
/// );
/// let any: civic_router::Error = e.into();
/// assert_eq!(any.kind(), civic_router::ErrorKind::Store);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    /// What kind of problem.
    pub kind: StoreErrorKind,
    /// What is wrong, in words.
    pub message: String,
}

impl StoreError {
    /// An error of a kind.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
        }
    }

    /// No ticket has this reference.
    pub fn unknown_ticket(reference: impl std::fmt::Display) -> Self {
        StoreError::new(
            StoreErrorKind::UnknownTicket,
            format!("unknown ticket `{reference}`"),
        )
    }

    /// The lifecycle refuses `from → to`.
    pub fn refused(reference: impl std::fmt::Display, from: &str, to: &str) -> Self {
        StoreError::new(
            StoreErrorKind::RefusedTransition,
            format!("ticket {reference}: cannot go from `{from}` to `{to}`"),
        )
    }

    /// A database failure.
    pub fn backend(message: impl std::fmt::Display) -> Self {
        StoreError::new(StoreErrorKind::Backend, message.to_string())
    }

    /// An invalid request.
    pub fn invalid(message: impl Into<String>) -> Self {
        StoreError::new(StoreErrorKind::Invalid, message)
    }
}

/// A case or a notification could not be delivered (see the ticket module's routes).
///
/// `retryable` tells the outbox relay whether another attempt may succeed (a timeout, a
/// `503`) or not (a `400`, an unknown recipient): the latter go to the dead-letter table at
/// once.
///
/// ```
/// use civic_router::error::DeliveryError;
/// let e = DeliveryError::retryable("lipasam", "HTTP 503");
/// assert_eq!(e.to_string(), "delivery to `lipasam` failed: HTTP 503");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery to `{target}` failed: {reason}")]
pub struct DeliveryError {
    /// The department id or the citizen's channel.
    pub target: String,
    /// What went wrong.
    pub reason: String,
    /// Whether a later attempt may succeed.
    pub retryable: bool,
}

impl DeliveryError {
    /// A failure worth retrying (timeouts, connection errors, 5xx, 429).
    pub fn retryable(target: impl Into<String>, reason: impl Into<String>) -> Self {
        DeliveryError {
            target: target.into(),
            reason: reason.into(),
            retryable: true,
        }
    }

    /// A failure no retry will fix (4xx, a route that refuses the case).
    pub fn permanent(target: impl Into<String>, reason: impl Into<String>) -> Self {
        DeliveryError {
            target: target.into(),
            reason: reason.into(),
            retryable: false,
        }
    }
}

/// The kind of an [`Error`], stable across versions: bindings map it to an exception class
/// (`ConfigError`, `ClassifierError`, …) or an error `code` (`CONFIG`, `CLASSIFIER`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration or rule file was refused.
    Config,
    /// A message was refused.
    Input,
    /// A classifier (maybe a plug-in) failed.
    Classifier,
    /// An I/O error reading a file.
    Io,
    /// A provider request was refused or a reply could not be rendered.
    Channel,
    /// A ticket store refused a request or failed.
    Store,
    /// A delivery to a department or a citizen failed.
    Delivery,
    /// An appointment request was refused: unknown office or service, no free slot, the
    /// slot just taken, an unknown reference, an expired conversation.
    Appointment,
    /// A model could not be trained (an empty or one-class corpus) or read (another format
    /// version, a corrupt file).
    Model,
}

impl ErrorKind {
    /// A stable upper-case code (`CONFIG`, `INPUT`, `CLASSIFIER`, `IO`, `CHANNEL`, `STORE`,
    /// `DELIVERY`).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Config => "CONFIG",
            ErrorKind::Input => "INPUT",
            ErrorKind::Classifier => "CLASSIFIER",
            ErrorKind::Io => "IO",
            ErrorKind::Channel => "CHANNEL",
            ErrorKind::Store => "STORE",
            ErrorKind::Delivery => "DELIVERY",
            ErrorKind::Appointment => "APPOINTMENT",
            ErrorKind::Model => "MODEL",
        }
    }
}

/// Why an appointment request was refused. Every variant names what was asked for; none is a
/// panic.
///
/// ```
/// use civic_router::error::AppointmentError;
/// let e = AppointmentError::SlotTaken { office: "distrito_triana".into(), start: "2026-12-01 09:00".into() };
/// assert_eq!(e.to_string(), "the slot distrito_triana 2026-12-01 09:00 was just taken");
/// let any: civic_router::Error = e.into();
/// assert_eq!(any.kind().code(), "APPOINTMENT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppointmentError {
    /// No office has this id.
    #[error("unknown office `{0}`")]
    UnknownOffice(String),
    /// No service has this id.
    #[error("unknown service `{0}`")]
    UnknownService(String),
    /// No district has this id (or no office serves it).
    #[error("unknown district `{0}`")]
    UnknownDistrict(String),
    /// The office does not offer the service.
    #[error("office `{office}` does not offer `{service}`")]
    NotOffered {
        /// The office.
        office: String,
        /// The service.
        service: String,
    },
    /// No free slot within the booking horizon.
    #[error("no free slot for `{service}` in the next {days} days")]
    NoSlot {
        /// The service.
        service: String,
        /// The horizon searched.
        days: u32,
    },
    /// The slot is full (another request took the last place first), closed or past.
    #[error("the slot {office} {start} was just taken")]
    SlotTaken {
        /// The office.
        office: String,
        /// The slot's start, local time.
        start: String,
    },
    /// The slot is not one the office offers (closed, a holiday, not on the grid, past).
    #[error("{office} {start} is not a bookable slot: {reason}")]
    NotASlot {
        /// The office.
        office: String,
        /// The requested start.
        start: String,
        /// Why.
        reason: String,
    },
    /// No appointment has this reference.
    #[error("no appointment with reference `{0}`")]
    NotFound(String),
    /// The appointment cannot change that way (a cancelled one cannot be confirmed).
    #[error("appointment `{reference}` is {status}: cannot {action}")]
    InvalidState {
        /// The reference.
        reference: String,
        /// Its status.
        status: String,
        /// What was asked.
        action: String,
    },
    /// The conversation waited too long for the citizen's answer.
    #[error("the conversation with this contact expired; start again")]
    ConversationExpired,
    /// The offices file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store failed.
    #[error("appointment store: {0}")]
    Store(String),
}

/// Any error of the crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration or rule file was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A message was refused.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A classifier failed.
    #[error(transparent)]
    Classifier(#[from] ClassifierError),
    /// A provider request was refused or a reply could not be rendered.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// A ticket store refused a request or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A delivery failed.
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    /// An appointment request was refused.
    #[error(transparent)]
    Appointment(#[from] AppointmentError),
    /// A model could not be trained or read.
    #[error(transparent)]
    Model(#[from] crate::classify::model::ModelError),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl From<RuleSetError> for Error {
    fn from(e: RuleSetError) -> Self {
        Error::Config(e.into())
    }
}

impl Error {
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Input(_) => ErrorKind::Input,
            Error::Classifier(_) => ErrorKind::Classifier,
            Error::Io { .. } => ErrorKind::Io,
            Error::Channel(_) => ErrorKind::Channel,
            Error::Store(_) => ErrorKind::Store,
            Error::Delivery(_) => ErrorKind::Delivery,
            Error::Appointment(_) => ErrorKind::Appointment,
            Error::Model(_) => ErrorKind::Model,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
