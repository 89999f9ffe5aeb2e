//! Where booking conversations keep their state between a citizen's messages.
//!
//! A booking conversation spans several messages ("quiero cita para el padrón" → three slots
//! offered → "la segunda"); behind a load balancer each may reach another instance of the
//! service. [`Conversations`](super::conversation::Conversations) therefore keeps what it asked
//! in a [`ConversationStateStore`] that every instance shares: in memory for one process, in
//! an SQLite file for the processes of one host, in the cases' PostgreSQL database for
//! several hosts. The state is the conversation's pending question as JSON text, with the
//! local time it expires at.
//!
//! ```
//! use chrono::NaiveDate;
//! use civic_router::appointment::state::{ConversationStateStore, MemoryConversationStateStore};
//!
//! let store = MemoryConversationStateStore::default();
//! let at = |h| NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(h, 0, 0).unwrap();
//! store.put("+34600000000", r#"{"step":"service","district":null}"#, at(10)).unwrap();
//! assert_eq!(store.get("+34600000000").unwrap().unwrap().expires, at(10));
//! assert_eq!(store.expire(at(11)).unwrap(), 1);
//! assert!(store.get("+34600000000").unwrap().is_none());
//! ```

use super::*;

/// A conversation's state as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredState {
    /// The pending question, as JSON text (opaque to the store).
    pub data: String,
    /// When it expires, local time: at or after this instant the question is no longer open.
    pub expires: NaiveDateTime,
}

impl StoredState {
    /// Whether the state is still open at `now` (it expires at `expires`, inclusive).
    ///
    /// ```
    /// use civic_router::appointment::state::StoredState;
    /// let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
    /// let s = StoredState { data: "{}".into(), expires: t };
    /// assert!(s.is_live(t - chrono::Duration::seconds(1)));
    /// assert!(!s.is_live(t));
    /// ```
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.expires > now
    }
}

/// Durable state of booking conversations, one per key (the contact's key, see
/// [`contact_key`](super::contact_key)), shared by every instance that opens the same store.
///
/// Writes are last-writer-wins per key: a citizen's messages arrive one after another, and a
/// later message's state replaces the earlier one's. A store keeps expired states until
/// [`remove`](Self::remove) or [`expire`](Self::expire), so the caller can tell an answer to a
/// question that expired from a message with no question pending.
pub trait ConversationStateStore: Send + Sync {
    /// The state kept under `key`, expired or not; `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<StoredState>, AppointmentError>;
    /// Keeps `data` under `key` until `expires`, replacing what was there.
    fn put(&self, key: &str, data: &str, expires: NaiveDateTime) -> Result<(), AppointmentError>;
    /// Forgets the state under `key`; whether there was one.
    fn remove(&self, key: &str) -> Result<bool, AppointmentError>;
    /// Forgets every state expired at `now` (`expires <= now`); how many.
    fn expire(&self, now: NaiveDateTime) -> Result<usize, AppointmentError>;
}

/// Conversation states in memory, under one lock: one process only.
#[derive(Debug, Default)]
pub struct MemoryConversationStateStore {
    states: Mutex<HashMap<String, StoredState>>,
}

impl MemoryConversationStateStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConversationStateStore for MemoryConversationStateStore {
    fn get(&self, key: &str) -> Result<Option<StoredState>, AppointmentError> {
        Ok(self.lock().get(key).cloned())
    }

    fn put(&self, key: &str, data: &str, expires: NaiveDateTime) -> Result<(), AppointmentError> {
        self.lock().insert(
            key.to_string(),
            StoredState {
                data: data.to_string(),
                expires,
            },
        );
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<bool, AppointmentError> {
        Ok(self.lock().remove(key).is_some())
    }

    fn expire(&self, now: NaiveDateTime) -> Result<usize, AppointmentError> {
        let mut s = self.lock();
        let before = s.len();
        s.retain(|_, st| st.is_live(now));
        Ok(before - s.len())
    }
}

/// How the SQL stores write an expiry: fixed width (nanoseconds), so text order is time order
/// and the instant reads back exactly.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) const EXPIRES: &str = "%Y-%m-%dT%H:%M:%S%.9f";

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn parse_expires(s: &str) -> Result<NaiveDateTime, AppointmentError> {
    NaiveDateTime::parse_from_str(s, EXPIRES)
        .map_err(|e| AppointmentError::Store(format!("conversation state: expiry `{s}`: {e}")))
}

#[cfg(feature = "sqlite")]
pub use sqlite_states::SqliteConversationStateStore;

#[cfg(feature = "sqlite")]
mod sqlite_states {
    use std::path::{Path, PathBuf};

    use rusqlite::{params, Connection, OptionalExtension};

    use super::*;

    /// Conversation states in an SQLite file (table `conversation_states`, WAL), shared by
    /// the processes of one host; the appointments' file will do.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use civic_router::appointment::state::SqliteConversationStateStore;
    /// use civic_router::appointment::conformance;
    /// let dir = std::env::temp_dir().join(format!("cs-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("citas.db");
    /// conformance::check_state_store(&|| Arc::new(SqliteConversationStateStore::open(&path).unwrap())).unwrap();
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub struct SqliteConversationStateStore {
        path: PathBuf,
        conn: Mutex<Connection>,
    }

    impl fmt::Debug for SqliteConversationStateStore {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SqliteConversationStateStore")
                .field("path", &self.path)
                .finish()
        }
    }

    fn err(e: rusqlite::Error) -> AppointmentError {
        AppointmentError::Store(format!("sqlite conversation state: {e}"))
    }

    impl SqliteConversationStateStore {
        /// Opens (creating if needed) the store in an SQLite file.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, AppointmentError> {
            let conn = Connection::open(path.as_ref()).map_err(err)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .map_err(err)?;
            conn.execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE IF NOT EXISTS conversation_states (
                    key TEXT PRIMARY KEY,
                    data TEXT NOT NULL,
                    expires TEXT NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS conversation_states_expires
                    ON conversation_states (expires);",
            )
            .map_err(err)?;
            Ok(SqliteConversationStateStore {
                path: path.as_ref().to_path_buf(),
                conn: Mutex::new(conn),
            })
        }

        fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
            self.conn.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    impl ConversationStateStore for SqliteConversationStateStore {
        fn get(&self, key: &str) -> Result<Option<StoredState>, AppointmentError> {
            let row = self
                .conn()
                .query_row(
                    "SELECT data, expires FROM conversation_states WHERE key = ?1",
                    params![key],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()
                .map_err(err)?;
            row.map(|(data, e)| {
                Ok(StoredState {
                    data,
                    expires: parse_expires(&e)?,
                })
            })
            .transpose()
        }

        fn put(
            &self,
            key: &str,
            data: &str,
            expires: NaiveDateTime,
        ) -> Result<(), AppointmentError> {
            self.conn()
                .execute(
                    "INSERT INTO conversation_states (key, data, expires) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
                    params![key, data, expires.format(EXPIRES).to_string()],
                )
                .map_err(err)?;
            Ok(())
        }

        fn remove(&self, key: &str) -> Result<bool, AppointmentError> {
            let n = self
                .conn()
                .execute(
                    "DELETE FROM conversation_states WHERE key = ?1",
                    params![key],
                )
                .map_err(err)?;
            Ok(n > 0)
        }

        fn expire(&self, now: NaiveDateTime) -> Result<usize, AppointmentError> {
            self.conn()
                .execute(
                    "DELETE FROM conversation_states WHERE expires <= ?1",
                    params![now.format(EXPIRES).to_string()],
                )
                .map_err(err)
        }
    }
}

/// Opens a conversation-state store by URL, as the appointment stores open:
/// `memory://`, `sqlite://PATH` (or a bare path), `postgres://…[?schema=NAME]` (table
/// `conversation_states` in the cases' database; needs the `postgres` feature). The URL of an
/// appointment store gives the state store kept beside it; to open both at once (one
/// PostgreSQL pool) use [`open_booking_stores`](super::open_booking_stores).
///
/// ```
/// use civic_router::appointment::state::open_conversation_state_store;
/// let store = open_conversation_state_store("memory://").unwrap();
/// assert!(store.get("+34600000000").unwrap().is_none());
/// assert!(open_conversation_state_store("ftp://x").is_err());
/// ```
pub fn open_conversation_state_store(
    url: &str,
) -> Result<Arc<dyn ConversationStateStore>, crate::Error> {
    #[cfg(feature = "tickets")]
    {
        use crate::ticket::StoreUrl;
        match url.parse::<StoreUrl>()? {
            StoreUrl::Memory => Ok(Arc::new(MemoryConversationStateStore::default())),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(p) => Ok(Arc::new(SqliteConversationStateStore::open(p)?)),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => Ok(Arc::new(
                crate::ticket::PgStore::connect(&u)?.conversation_states(),
            )),
            #[allow(unreachable_patterns)]
            other => Err(AppointmentError::Store(format!(
                "this build of civic-router has no {} store",
                other.kind()
            ))
            .into()),
        }
    }
    #[cfg(not(feature = "tickets"))]
    {
        match url {
            "memory://" | "memory:" => Ok(Arc::new(MemoryConversationStateStore::default())),
            other => Err(AppointmentError::Store(format!(
                "store `{other}`: this build opens only memory:// conversation-state stores"
            ))
            .into()),
        }
    }
}
