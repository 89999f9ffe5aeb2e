//! Choosing a store by URL, as deployment files, the CLI and the bindings give it.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use super::{MemoryStore, TicketStore};
use crate::error::{StoreError, StoreErrorKind};

/// Where cases are kept: `memory://`, `sqlite://PATH` (or a bare path), `postgres://…`.
///
/// ```
/// use civic_router::ticket::StoreUrl;
/// assert_eq!("memory://".parse::<StoreUrl>().unwrap(), StoreUrl::Memory);
/// assert_eq!("sqlite://cases.db".parse::<StoreUrl>().unwrap(), StoreUrl::Sqlite("cases.db".into()));
/// assert_eq!("cases.db".parse::<StoreUrl>().unwrap(), StoreUrl::Sqlite("cases.db".into()));
/// assert!(matches!("postgresql://u@db/x".parse::<StoreUrl>().unwrap(), StoreUrl::Postgres(_)));
/// assert!("mysql://db/x".parse::<StoreUrl>().is_err());
/// assert!("sqlite://".parse::<StoreUrl>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// In memory: gone when the process ends (tests, trials).
    Memory,
    /// An SQLite file, the embedded default.
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by several instances (the URL as given).
    Postgres(String),
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<StoreUrl, StoreError> {
        let invalid = |why: &str| {
            StoreError::new(
                StoreErrorKind::Invalid,
                format!(
                    "store `{}`: {why} (expected memory://, sqlite://PATH or postgres://…)",
                    redact_url(s)
                ),
            )
        };
        if s == "memory://" || s == "memory:" {
            return Ok(StoreUrl::Memory);
        }
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(invalid("no file"));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(s.to_string()));
        }
        match s.split_once("://") {
            Some((scheme, _)) => Err(invalid(&format!("unknown scheme `{scheme}`"))),
            None if s.trim().is_empty() => Err(invalid("empty")),
            None => Ok(StoreUrl::Sqlite(PathBuf::from(s))),
        }
    }
}

impl StoreUrl {
    /// Opens the store: creates what is missing and applies migrations. A kind of store this
    /// build was compiled without (cargo features `sqlite`, `postgres`) is an `Invalid` error.
    pub fn open(&self) -> Result<Arc<dyn TicketStore>, StoreError> {
        match self {
            StoreUrl::Memory => Ok(Arc::new(MemoryStore::new())),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => Ok(Arc::new(super::SqliteStore::open(path)?)),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(url) => Ok(Arc::new(super::PgStore::connect(url)?)),
            #[allow(unreachable_patterns)]
            other => Err(StoreError::new(
                StoreErrorKind::Invalid,
                format!("this build of civic-router has no {} store", other.kind()),
            )),
        }
    }

    /// `memory`, `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Memory => "memory",
            StoreUrl::Sqlite(_) => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
        }
    }
}

/// Opens a store by URL (see [`StoreUrl`]).
///
/// ```
/// use civic_router::ticket::{open_store, block_on};
/// let store = open_store("memory://").unwrap();
/// assert!(block_on(store.tickets()).unwrap().is_empty());
/// let err = open_store("ftp://x").unwrap_err();
/// assert_eq!(err.kind, civic_router::error::StoreErrorKind::Invalid);
/// ```
pub fn open_store(url: &str) -> Result<Arc<dyn TicketStore>, StoreError> {
    url.parse::<StoreUrl>()?.open()
}

/// A URL with its password replaced by `***`, for messages.
///
/// ```
/// use civic_router::ticket::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
/// assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
