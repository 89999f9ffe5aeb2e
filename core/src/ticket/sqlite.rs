//! The SQLite store: the embedded default.
//!
//! One file, `journal_mode=WAL` with `synchronous=FULL` (a commit is on disk before the call
//! returns, so a webhook acknowledged after it survives a power cut, not only a crash), every
//! write in a `BEGIN IMMEDIATE` transaction (writers queue for the lock at the start instead
//! of failing half-way), and a `schema_version` table the migrations move forward.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::lifecycle::{self, NewOutbox, Policy, Tx};
use super::store::*;
use super::{Reference, Ticket};
use crate::error::{StoreError, StoreErrorKind};
use crate::message::ChannelKind;

/// The schema version this code writes: the number of [`MIGRATIONS`].
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MIGRATIONS: &[&str] = &[
    // 1: tickets, sequences, conversation entries (the inbox is the inbound ones), outbox,
    // dead letters
    r#"
    CREATE TABLE tickets (
        reference   TEXT PRIMARY KEY,
        n           INTEGER NOT NULL UNIQUE,
        category    TEXT NOT NULL,
        status      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        closed_at   TEXT,
        pseudonymised INTEGER NOT NULL DEFAULT 0,
        lat         REAL,
        lon         REAL,
        data        TEXT NOT NULL
    );
    CREATE INDEX tickets_open_nearby ON tickets (category, lat)
        WHERE status IN ('routed', 'accepted', 'in_progress') AND lat IS NOT NULL;
    CREATE INDEX tickets_closed ON tickets (closed_at) WHERE closed_at IS NOT NULL;
    CREATE TABLE sequences (
        prefix TEXT NOT NULL,
        year   INTEGER NOT NULL,
        last   INTEGER NOT NULL,
        PRIMARY KEY (prefix, year)
    );
    CREATE TABLE entries (
        id           INTEGER PRIMARY KEY,
        direction    TEXT NOT NULL,
        channel      TEXT NOT NULL,
        provider_id  TEXT,
        contact_key  TEXT NOT NULL,
        conversation TEXT NOT NULL,
        ticket       TEXT,
        at           TEXT NOT NULL,
        data         TEXT NOT NULL
    );
    CREATE UNIQUE INDEX inbox_key ON entries (channel, provider_id) WHERE direction = 'inbound';
    CREATE INDEX entries_contact ON entries (contact_key);
    CREATE INDEX entries_ticket ON entries (ticket);
    CREATE INDEX entries_conversation ON entries (conversation);
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL DEFAULT 'pending',
        next_attempt_at TEXT NOT NULL,
        data            TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
    CREATE TABLE dead_letters (
        id        INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL UNIQUE,
        dead_at   TEXT NOT NULL,
        data      TEXT NOT NULL
    );
    "#,
    // 2: reminders — outbox rows that belong to no ticket (appointment reminders). The row's
    // kind becomes a column, so retention finds delivered reminders without reading every
    // row. A file at this version may hold rows a version-1 build cannot read: that build
    // refuses the file instead of failing on them.
    r#"
    ALTER TABLE outbox ADD COLUMN kind TEXT;
    UPDATE outbox SET kind = json_extract(data, '$.kind');
    CREATE INDEX outbox_done_reminders ON outbox (next_attempt_at)
        WHERE kind = 'reminder' AND state != 'pending';
    "#,
];

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn db(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            StoreError::new(StoreErrorKind::Corrupt, format!("store: {e}"))
        }
        _ => StoreError::backend(format!("store: {e}")),
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::backend(format!("store: encode: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, format!("store: {what}: {e}")))
}

struct SqlTx<'a> {
    tx: &'a Transaction<'a>,
}

impl Tx for SqlTx<'_> {
    fn inbox_get(
        &mut self,
        channel: ChannelKind,
        provider_id: &str,
    ) -> Result<Option<ConversationEntry>, StoreError> {
        let data: Option<String> = self
            .tx
            .query_row(
                "SELECT data FROM entries WHERE direction = 'inbound' AND channel = ?1 AND provider_id = ?2",
                params![channel.as_str(), provider_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        data.map(|d| parse(&d, "entry")).transpose()
    }

    fn append_entry(&mut self, e: &ConversationEntry) -> Result<(), StoreError> {
        insert_entry(self.tx, e)
    }

    fn next_seq(&mut self, prefix: &str, year: i32) -> Result<u32, StoreError> {
        let n: i64 = self
            .tx
            .query_row(
                "INSERT INTO sequences (prefix, year, last) VALUES (?1, ?2, 1)
                 ON CONFLICT (prefix, year) DO UPDATE SET last = last + 1
                 RETURNING last",
                params![prefix, year],
                |r| r.get(0),
            )
            .map_err(db)?;
        u32::try_from(n).map_err(|_| StoreError::backend("store: sequence overflow"))
    }

    fn duplicate_candidates(
        &mut self,
        category: &str,
        since: DateTime<Utc>,
        point: (f64, f64),
        radius_m: f64,
    ) -> Result<Vec<Ticket>, StoreError> {
        let (dlat, dlon) = lifecycle::bounding_box(point, radius_m);
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT data FROM tickets
                 WHERE category = ?1 AND status IN ('routed', 'accepted', 'in_progress')
                   AND lat BETWEEN ?3 AND ?4 AND lon BETWEEN ?5 AND ?6 AND created_at >= ?2
                 ORDER BY created_at, n",
            )
            .map_err(db)?;
        let rows = st
            .query_map(
                params![
                    category,
                    ts(since),
                    point.0 - dlat,
                    point.0 + dlat,
                    point.1 - dlon,
                    point.1 + dlon
                ],
                |r| r.get::<_, String>(0),
            )
            .map_err(db)?;
        rows.map(|d| parse(&d.map_err(db)?, "ticket")).collect()
    }

    fn load(&mut self, reference: &Reference) -> Result<Option<Ticket>, StoreError> {
        load_ticket(self.tx, reference)
    }

    fn save(&mut self, t: &Ticket) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO tickets (reference, n, category, status, created_at, closed_at, pseudonymised, lat, lon, data)
                 VALUES (?1, (SELECT COALESCE(MAX(n), 0) + 1 FROM tickets), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (reference) DO UPDATE SET category = ?2, status = ?3, closed_at = ?5,
                     pseudonymised = ?6, lat = ?7, lon = ?8, data = ?9",
                params![
                    t.reference.to_string(),
                    t.category,
                    t.status.as_str(),
                    ts(t.created_at),
                    t.closed_at().map(ts),
                    t.pseudonymised_at.is_some(),
                    t.point().map(|p| p.0),
                    t.point().map(|p| p.1),
                    json(t)?
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn enqueue(&mut self, item: &NewOutbox) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO outbox (idempotency_key, kind, next_attempt_at, data) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (idempotency_key) DO NOTHING",
                params![
                    item.idempotency_key,
                    item.kind.as_str(),
                    ts(item.next_attempt_at),
                    json(item)?
                ],
            )
            .map_err(db)?;
        Ok(())
    }
}

fn insert_entry(c: &Connection, e: &ConversationEntry) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO entries (direction, channel, provider_id, contact_key, conversation, ticket, at, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            match e.direction {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            },
            e.channel.as_str(),
            e.provider_id,
            e.contact_key,
            e.conversation,
            e.ticket.as_ref().map(|r| r.to_string()),
            ts(e.at),
            json(e)?
        ],
    )
    .map_err(db)?;
    Ok(())
}

fn load_ticket(c: &Connection, reference: &Reference) -> Result<Option<Ticket>, StoreError> {
    let data: Option<String> = c
        .query_row(
            "SELECT data FROM tickets WHERE reference = ?1",
            params![reference.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    data.map(|d| parse(&d, "ticket")).transpose()
}

/// Tickets and their history, inbox and conversations, outbox and dead letters in one SQLite
/// file.
///
/// The connection sits behind a mutex: calls from many threads queue, and other processes
/// wait for the write lock (busy timeout 10 s). Each call does its SQLite work synchronously
/// when polled — a commit is one flush to disk, about a millisecond on a local SSD — so an
/// async service with strict latency goals calls it through `spawn_blocking`.
///
/// ```
/// use civic_router::ticket::{SqliteStore, TicketStore, block_on};
/// let dir = std::env::temp_dir().join(format!("civic-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteStore::open(dir.join("cases.db")).unwrap();
/// assert!(block_on(store.tickets()).unwrap().is_empty());
/// assert_eq!(store.integrity_check().unwrap(), "ok");
///
/// // a file that is not a store is refused with a typed error, not a panic
/// std::fs::write(dir.join("junk.db"), b"this is not sqlite, just text long enough to be read").unwrap();
/// let err = SqliteStore::open(dir.join("junk.db")).unwrap_err();
/// assert_eq!(err.kind, civic_router::error::StoreErrorKind::Corrupt);
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) a store file and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| corrupt_or(&path, e))?;
        SqliteStore::setup(conn, path)
    }

    /// A store in memory (tests): the same SQL, nothing on disk.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(db)?;
        SqliteStore::setup(conn, PathBuf::from(":memory:"))
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let corrupt = |e: rusqlite::Error| corrupt_or(&path, e);
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(corrupt)?;
        // WAL survives a crash of the process; FULL makes each commit survive a power cut
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(corrupt)?;
        if shown != ":memory:" && !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::backend(format!(
                "store `{shown}`: cannot use WAL (journal mode {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(corrupt)?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
            path,
        };
        store.migrate()?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let shown = self.path.display().to_string();
        let mut c = self.lock();
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| corrupt_or(&self.path, e))?;
        let has_version: bool = tx
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| corrupt_or(&self.path, e))?
            > 0;
        let version: i64 = if has_version {
            tx.query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(db)?
            .unwrap_or(0)
        } else {
            let tables: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if tables > 0 {
                return Err(StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!("`{shown}` is an SQLite file but not a civic-router store"),
                ));
            }
            tx.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)",
            )
            .map_err(db)?;
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::new(
                StoreErrorKind::Corrupt,
                format!("`{shown}` has schema version {version}; this build knows up to {SCHEMA_VERSION}"),
            ));
        }
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let v = i as i64 + 1;
            if v > version {
                tx.execute_batch(m).map_err(db)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                    params![v, ts(Utc::now())],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// `PRAGMA integrity_check`: `ok`, or SQLite's list of problems.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let c = self.lock();
        let mut st = c.prepare("PRAGMA integrity_check").map_err(db)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        let v: Vec<String> = rows.collect::<Result<_, _>>().map_err(db)?;
        Ok(v.join("\n"))
    }

    /// The schema version of the file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.lock()
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .map_err(db)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut c = self.lock();
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let v = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(v)
    }

    fn query<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        what: &str,
    ) -> Result<Vec<T>, StoreError>
    where
        T: serde::de::DeserializeOwned,
    {
        let c = self.lock();
        let mut st = c.prepare_cached(sql).map_err(db)?;
        let rows = st.query_map(p, |r| r.get::<_, String>(0)).map_err(db)?;
        rows.map(|d| parse(&d.map_err(db)?, what)).collect()
    }
}

fn corrupt_or(path: &Path, e: rusqlite::Error) -> StoreError {
    let mut err = db(e);
    if err.kind == StoreErrorKind::Corrupt {
        err.message = format!(
            "`{}` is not a civic-router store or is damaged ({})",
            path.display(),
            err.message
        );
    }
    err
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn ingest(&self, plan: IngestPlan) -> Result<IngestOutcome, StoreError> {
        self.write(|tx| lifecycle::ingest(&mut SqlTx { tx }, &plan))
    }

    async fn change_status(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: StatusRequest,
    ) -> Result<Ticket, StoreError> {
        self.write(|tx| lifecycle::change_status(&mut SqlTx { tx }, policy, reference, &request))
    }

    async fn recategorise(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: RecategoriseRequest,
    ) -> Result<Ticket, StoreError> {
        self.write(|tx| lifecycle::recategorise(&mut SqlTx { tx }, policy, reference, &request))
    }

    async fn ticket(&self, reference: &Reference) -> Result<Ticket, StoreError> {
        load_ticket(&self.lock(), reference)?.ok_or_else(|| StoreError::unknown_ticket(reference))
    }

    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.query("SELECT data FROM tickets ORDER BY n", [], "ticket")
    }

    async fn tickets_of_contact(&self, contact_key: &str) -> Result<Vec<Ticket>, StoreError> {
        self.query(
            "SELECT data FROM tickets WHERE reference IN
                 (SELECT ticket FROM entries WHERE contact_key = ?1 AND ticket IS NOT NULL)
             ORDER BY n",
            params![contact_key],
            "ticket",
        )
    }

    async fn record_outbound(&self, entry: ConversationEntry) -> Result<(), StoreError> {
        self.write(|tx| insert_entry(tx, &entry))
    }

    async fn conversation_of_contact(
        &self,
        contact_key: &str,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query(
            "SELECT data FROM entries WHERE contact_key = ?1 ORDER BY id",
            params![contact_key],
            "entry",
        )
    }

    async fn conversation_of_ticket(
        &self,
        reference: &Reference,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query(
            "SELECT data FROM entries WHERE ticket = ?1 ORDER BY id",
            params![reference.to_string()],
            "entry",
        )
    }

    async fn entries(&self) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query("SELECT data FROM entries ORDER BY id", [], "entry")
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.write(|tx| {
            let mut st = tx
                .prepare_cached(
                    "SELECT id, data FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at, id LIMIT ?2",
                )
                .map_err(db)?;
            let rows = st
                .query_map(params![ts(now), limit as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, data) = row.map_err(db)?;
                let mut item: OutboxItem = parse(&data, "outbox row")?;
                item.id = id;
                out.push(item);
            }
            let until = ts(now + lease);
            for item in &out {
                tx.execute(
                    "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2",
                    params![until, item.id],
                )
                .map_err(db)?;
            }
            Ok(out)
        })
    }

    async fn enqueue_reminders(&self, rows: Vec<OutboxItem>) -> Result<usize, StoreError> {
        for r in &rows {
            lifecycle::check_reminder(r)?;
        }
        self.write(|tx| {
            let mut added = 0;
            for r in &rows {
                added += tx
                    .execute(
                        "INSERT INTO outbox (idempotency_key, kind, next_attempt_at, data)
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (idempotency_key) DO NOTHING",
                        params![
                            r.idempotency_key,
                            r.kind.as_str(),
                            ts(r.next_attempt_at),
                            json(r)?
                        ],
                    )
                    .map_err(db)?;
            }
            Ok(added)
        })
    }

    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(|tx| {
            let data: Option<String> = tx
                .query_row(
                    "SELECT data FROM outbox WHERE id = ?1 AND state = 'pending'",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(data) = data else {
                return Ok(());
            };
            let o: OutboxItem = parse(&data, "outbox row")?;
            tx.execute(
                "UPDATE outbox SET state = 'sent', next_attempt_at = ?2 WHERE id = ?1",
                params![id, ts(at)],
            )
            .map_err(db)?;
            let conversation = match (o.kind, lifecycle::recipient_key(&o), &o.reference) {
                (OutboxKind::Notification, Some((_, ckey)), Some(r)) => tx
                    .query_row(
                        "SELECT conversation FROM entries WHERE contact_key = ?1 AND ticket = ?2
                         ORDER BY id DESC LIMIT 1",
                        params![ckey, r.to_string()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db)?,
                _ => None,
            };
            if let Some(e) = lifecycle::delivered_entry(&o, at, conversation) {
                insert_entry(tx, &e)?;
            }
            Ok(())
        })
    }

    async fn mark_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let data: Option<String> = tx
                .query_row(
                    "SELECT data FROM outbox WHERE id = ?1 AND state = 'pending'",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(data) = data else {
                return Ok(());
            };
            let mut o: OutboxItem = parse(&data, "outbox row")?;
            o.id = id;
            o.attempts += 1;
            o.last_error = Some(error.to_string());
            match retry_at {
                Some(t) => {
                    o.next_attempt_at = t;
                    tx.execute(
                        "UPDATE outbox SET next_attempt_at = ?2, data = ?3 WHERE id = ?1",
                        params![id, ts(t), json(&o)?],
                    )
                    .map_err(db)?;
                }
                None => {
                    tx.execute(
                        "UPDATE outbox SET state = 'dead', data = ?2 WHERE id = ?1",
                        params![id, json(&o)?],
                    )
                    .map_err(db)?;
                    tx.execute(
                        "INSERT INTO dead_letters (outbox_id, dead_at, data) VALUES (?1, ?2, ?3)",
                        params![
                            id,
                            ts(at),
                            json(&DeadLetter {
                                item: o,
                                dead_at: at
                            })?
                        ],
                    )
                    .map_err(db)?;
                }
            }
            Ok(())
        })
    }

    async fn pending(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let c = self.lock();
        let mut st = c
            .prepare_cached("SELECT id, data FROM outbox WHERE state = 'pending' ORDER BY id")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(db)?;
        rows.map(|row| {
            let (id, data) = row.map_err(db)?;
            let mut o: OutboxItem = parse(&data, "outbox row")?;
            o.id = id;
            Ok(o)
        })
        .collect()
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.query(
            "SELECT data FROM dead_letters ORDER BY id",
            [],
            "dead letter",
        )
    }

    async fn pseudonymise(
        &self,
        closed_before: DateTime<Utc>,
        key: &[u8],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        self.write(|tx| {
            let mut due: Vec<Ticket> = Vec::new();
            {
                let mut st = tx
                    .prepare(
                        "SELECT data FROM tickets WHERE pseudonymised = 0 AND closed_at IS NOT NULL AND closed_at < ?1",
                    )
                    .map_err(db)?;
                let rows = st
                    .query_map(params![ts(closed_before)], |r| r.get::<_, String>(0))
                    .map_err(db)?;
                for d in rows {
                    due.push(parse(&d.map_err(db)?, "ticket")?);
                }
            }
            let mut sqltx = SqlTx { tx };
            let mut conversations = std::collections::BTreeSet::new();
            for t in &mut due {
                let mut st = tx
                    .prepare_cached("SELECT DISTINCT conversation FROM entries WHERE ticket = ?1")
                    .map_err(db)?;
                let rows = st
                    .query_map(params![t.reference.to_string()], |r| r.get::<_, String>(0))
                    .map_err(db)?;
                for c in rows {
                    conversations.insert(c.map_err(db)?);
                }
                lifecycle::pseudonymise_ticket(t, key, at);
                sqltx.save(t)?;
            }
            // conversations that opened no ticket, quiet since before the cut-off
            {
                let mut st = tx
                    .prepare(
                        "SELECT conversation FROM entries GROUP BY conversation
                         HAVING MAX(at) < ?1 AND SUM(ticket IS NOT NULL) = 0
                            AND SUM(contact_key NOT LIKE 'p:%') > 0",
                    )
                    .map_err(db)?;
                let rows = st
                    .query_map(params![ts(closed_before)], |r| r.get::<_, String>(0))
                    .map_err(db)?;
                for c in rows {
                    conversations.insert(c.map_err(db)?);
                }
            }
            for conv in &conversations {
                let mut st = tx
                    .prepare_cached("SELECT id, data FROM entries WHERE conversation = ?1")
                    .map_err(db)?;
                let rows: Vec<(i64, String)> = st
                    .query_map(params![conv], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(db)?
                    .collect::<Result<_, _>>()
                    .map_err(db)?;
                for (id, data) in rows {
                    let mut e: ConversationEntry = parse(&data, "entry")?;
                    lifecycle::pseudonymise_entry(&mut e, key);
                    tx.execute(
                        "UPDATE entries SET contact_key = ?2, conversation = ?3, data = ?4 WHERE id = ?1",
                        params![id, e.contact_key, e.conversation, json(&e)?],
                    )
                    .map_err(db)?;
                }
            }
            // delivered and dead notifications carry the recipient: drop it
            tx.execute(
                "UPDATE outbox SET data = json_remove(json_set(data, '$.text', ?1), '$.to', '$.payload.text')
                 WHERE state != 'pending' AND json_extract(data, '$.reference') IN
                     (SELECT reference FROM tickets WHERE pseudonymised = 1)",
                params![lifecycle::ERASED],
            )
            .map_err(db)?;
            tx.execute(
                "UPDATE dead_letters SET data = json_remove(json_set(data, '$.item.text', ?1), '$.item.to', '$.item.payload.text')
                 WHERE json_extract(data, '$.item.reference') IN
                     (SELECT reference FROM tickets WHERE pseudonymised = 1)",
                params![lifecycle::ERASED],
            )
            .map_err(db)?;
            // reminders delivered or given up before the cut-off: drop the recipient too
            tx.execute(
                "UPDATE outbox SET data = json_remove(json_set(data, '$.text', ?1), '$.to', '$.payload.text')
                 WHERE kind = 'reminder' AND state != 'pending' AND next_attempt_at < ?2
                   AND json_extract(data, '$.to') IS NOT NULL",
                params![lifecycle::ERASED, ts(closed_before)],
            )
            .map_err(db)?;
            tx.execute(
                "UPDATE dead_letters SET data = json_remove(json_set(data, '$.item.text', ?1), '$.item.to', '$.item.payload.text')
                 WHERE dead_at < ?2 AND json_extract(data, '$.item.kind') = 'reminder'
                   AND json_extract(data, '$.item.to') IS NOT NULL",
                params![lifecycle::ERASED, ts(closed_before)],
            )
            .map_err(db)?;
            Ok(due.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{block_on, reminder_row};

    /// A file written by a build that knew migration 1 only, with one outbox row of then.
    fn version_1_file(path: &Path) {
        let c = Connection::open(path).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);
             INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        let row = serde_json::json!({
            "id": 0, "kind": "notification", "target": "sms", "reference": "SEV-2026-000001",
            "event": "routed", "idempotency_key": "SEV-2026-000001:1:n:0",
            "to": {"phone": "+34600111222"}, "payload": {}, "text": "Hemos registrado su aviso",
            "attempts": 0, "next_attempt_at": "2026-01-01T10:00:00Z",
            "created_at": "2026-01-01T10:00:00Z"
        });
        c.execute(
            "INSERT INTO outbox (idempotency_key, next_attempt_at, data) VALUES (?1, ?2, ?3)",
            params![
                "SEV-2026-000001:1:n:0",
                "2026-01-01T10:00:00.000000Z",
                row.to_string()
            ],
        )
        .unwrap();
    }

    #[test]
    fn a_version_1_file_moves_forward_and_keeps_its_outbox() {
        let dir = std::env::temp_dir().join(format!("civic-sqlite-mig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db");
        std::fs::remove_file(&path).ok();
        version_1_file(&path);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), 2);
        let kinds: Vec<String> = {
            let c = store.lock();
            let mut st = c.prepare("SELECT kind FROM outbox").unwrap();
            st.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(kinds, ["notification"], "the kind column is filled in");
        let pending = block_on(store.pending()).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            pending[0].reference.as_ref().unwrap().to_string(),
            "SEV-2026-000001"
        );
        // and it takes reminders now
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap();
        let r = crate::appointment::Reminder {
            reference: "CP-MIGR01".into(),
            to: crate::message::Contact {
                phone: Some("+34600111222".into()),
                ..Default::default()
            },
            channel: ChannelKind::Sms,
            text: "Recordatorio".into(),
            start,
        };
        let row = reminder_row(&r, Utc::now());
        assert_eq!(block_on(store.enqueue_reminders(vec![row])).unwrap(), 1);
        assert_eq!(block_on(store.pending()).unwrap().len(), 2);
        drop(store);
        // opened again: nothing to migrate
        assert_eq!(
            SqliteStore::open(&path).unwrap().schema_version().unwrap(),
            2
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_file_newer_than_this_build_is_refused() {
        let dir = std::env::temp_dir().join(format!("civic-sqlite-new-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("new.db");
        std::fs::remove_file(&path).ok();
        SqliteStore::open(&path).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute(
                "INSERT INTO schema_version VALUES (?1, 'later')",
                params![SCHEMA_VERSION + 1],
            )
            .unwrap();
        let e = SqliteStore::open(&path).unwrap_err();
        assert_eq!(e.kind, StoreErrorKind::Corrupt);
        assert!(e.to_string().contains("this build knows up to 2"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
