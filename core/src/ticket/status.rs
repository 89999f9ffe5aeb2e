//! The ticket lifecycle: statuses and the transitions allowed between them.
//!
//! ```text
//! received ─► routed ─► accepted ─► in_progress ─► resolved ─┐
//!    │           │ ▲        │            │                   ├─► closed
//!    │           │ │        ├──────────► resolved            │     │
//!    ├─► rejected ◄┴────────┴────────────┘ (rejected) ───────┤     │
//!    └─► duplicate ◄── routed, accepted ─────────────────────┘     │
//! resolved, rejected, duplicate, closed ─► routed  (reopen) ◄──────┘
//! ```
//!
//! ```
//! use civic_router::ticket::Status;
//! assert!(Status::Routed.can_go_to(Status::Accepted));
//! assert!(!Status::Received.can_go_to(Status::Resolved));
//! assert!(Status::Closed.can_go_to(Status::Routed)); // reopen
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Written down; not yet given to a department.
    Received,
    /// Given to a department (or given again after a reopen or a recategorisation).
    Routed,
    /// The department took it.
    Accepted,
    /// Work has started.
    InProgress,
    /// The department says the problem is solved.
    Resolved,
    /// The department will not act (not its responsibility, not a problem).
    Rejected,
    /// The same problem as an earlier ticket, which it follows.
    Duplicate,
    /// Finished; nothing more will happen unless it is reopened.
    Closed,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 8] = [
        Status::Received,
        Status::Routed,
        Status::Accepted,
        Status::InProgress,
        Status::Resolved,
        Status::Rejected,
        Status::Duplicate,
        Status::Closed,
    ];

    /// The identifier used in files and on the wire (`in_progress`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Routed => "routed",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::Closed => "closed",
        }
    }

    /// The statuses this one may go to.
    ///
    /// ```
    /// use civic_router::ticket::Status;
    /// assert_eq!(Status::InProgress.next(), &[Status::Resolved, Status::Rejected]);
    /// ```
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Received => &[Routed, Rejected, Duplicate],
            Routed => &[Accepted, Rejected, Duplicate],
            Accepted => &[InProgress, Resolved, Rejected, Duplicate],
            InProgress => &[Resolved, Rejected],
            Resolved => &[Closed, Routed],
            Rejected => &[Closed, Routed],
            Duplicate => &[Closed, Routed],
            Closed => &[Routed],
        }
    }

    /// Whether the transition `self → to` is allowed.
    pub fn can_go_to(self, to: Status) -> bool {
        self.next().contains(&to)
    }

    /// Whether going to `to` from here is a reopen (a finished ticket back to a department).
    ///
    /// ```
    /// use civic_router::ticket::Status;
    /// assert!(Status::Resolved.is_reopen(Status::Routed));
    /// assert!(!Status::Received.is_reopen(Status::Routed));
    /// ```
    pub fn is_reopen(self, to: Status) -> bool {
        to == Status::Routed && self.is_finished()
    }

    /// Resolved, rejected, duplicate or closed: no department is working on it.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Status::Resolved | Status::Rejected | Status::Duplicate | Status::Closed
        )
    }

    /// A department has it and may still act on it: routed, accepted, in progress. Only open
    /// tickets may be recategorised, and only open tickets absorb duplicates.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Routed | Status::Accepted | Status::InProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown status name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}` (expected one of received, routed, accepted, in_progress, resolved, rejected, duplicate, closed)")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    /// ```
    /// use civic_router::ticket::Status;
    /// assert_eq!("in_progress".parse::<Status>().unwrap(), Status::InProgress);
    /// assert!("open".parse::<Status>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}
