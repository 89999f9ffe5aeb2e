//! The PostgreSQL store: one database shared by several instances of the service.
//!
//! Every instance is stateless; the database is the one truth. The same lifecycle code as the
//! SQLite store runs inside a PostgreSQL transaction ([`lifecycle::Tx`]), and what must happen
//! once across instances is held by the database itself:
//!
//! * a retried webhook reaching another instance finds its inbox row (a unique index on channel
//!   and provider id; two instances inserting at once: the loser's transaction is retried and
//!   finds the winner's row, so it makes no second ticket);
//! * reference numbers come from a row updated with `INSERT … ON CONFLICT … RETURNING`;
//! * outbox relays in several processes claim rows with `FOR UPDATE SKIP LOCKED` and a lease,
//!   so each delivery is attempted by one relay at a time, always with its idempotency key;
//! * the schema moves forward by numbered migrations under an advisory lock, so instances
//!   starting together do not race.
//!
//! Connections come from an `r2d2` pool; each sets `statement_timeout` and its `search_path` (the
//! store's schema, `civic_router` by default) when it is made. Calls block on the database;
//! called from a tokio runtime they run on its blocking pool.
//!
//! ```no_run
//! use civic_router::ticket::{block_on, PgStore, TicketStore};
//! let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/test").unwrap();
//! println!("{} tickets", block_on(store.tickets()).unwrap().len());
//! ```

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use postgres::{Client, NoTls, Transaction};
use r2d2::{CustomizeConnection, Pool};
use r2d2_postgres::PostgresConnectionManager;

use super::lifecycle::{self, NewOutbox, Policy, Tx};
use super::store::*;
use super::{redact_url, Reference, Ticket};
use crate::error::{StoreError, StoreErrorKind};
use crate::message::ChannelKind;

/// The schema version this code writes: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Key of the advisory lock held while migrating (any instance, any schema of the database).
const MIGRATION_LOCK: i64 = 0x6369_7669_6330_3031; // "civic001"

const MIGRATIONS: &[&str] = &[
    // 1: tickets, sequences, conversation entries (the inbox is the inbound ones), outbox,
    // dead letters — the SQLite schema, with PostgreSQL's types
    r#"
    CREATE TABLE tickets (
        reference     TEXT PRIMARY KEY,
        n             BIGSERIAL UNIQUE,
        category      TEXT NOT NULL,
        status        TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        closed_at     TEXT,
        pseudonymised BOOLEAN NOT NULL DEFAULT FALSE,
        lat           DOUBLE PRECISION,
        lon           DOUBLE PRECISION,
        data          TEXT NOT NULL
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
        id           BIGSERIAL PRIMARY KEY,
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
        id              BIGSERIAL PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        reference       TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending',
        next_attempt_at TEXT NOT NULL,
        data            TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
    CREATE TABLE dead_letters (
        id        BIGSERIAL PRIMARY KEY,
        outbox_id BIGINT NOT NULL UNIQUE,
        reference TEXT NOT NULL,
        dead_at   TEXT NOT NULL,
        data      TEXT NOT NULL
    );
    "#,
    // 2: appointments (one row each; bookings of a slot serialised by an advisory lock)
    r#"
    CREATE TABLE appointments (
        reference   TEXT PRIMARY KEY,
        office      TEXT NOT NULL,
        service     TEXT NOT NULL,
        start_at    TEXT NOT NULL,
        end_at      TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'cancelled')),
        contact_key TEXT NOT NULL,
        reminded    BOOLEAN NOT NULL DEFAULT FALSE,
        data        TEXT NOT NULL
    );
    CREATE INDEX appointments_slot ON appointments (office, start_at) WHERE status != 'cancelled';
    CREATE INDEX appointments_contact ON appointments (contact_key);
    "#,
    // 3, reminders: outbox rows that belong to no ticket (appointment reminders) have no
    // reference; retention finds the delivered ones by the partial index. (Appended after
    // migration 2; numbered after the others when branches merge: it depends on 1 only.)
    r#"
    ALTER TABLE outbox ALTER COLUMN reference DROP NOT NULL;
    ALTER TABLE dead_letters ALTER COLUMN reference DROP NOT NULL;
    CREATE INDEX outbox_done_reminders ON outbox (next_attempt_at)
        WHERE reference IS NULL AND state != 'pending';
    "#,
    // 4: the knowledge-base gap log (one row per question key, counted in place) and the
    // state of booking conversations (one row per contact, JSON, with its local expiry)
    r#"
    CREATE TABLE faq_gaps (
        key        TEXT PRIMARY KEY,
        example    TEXT NOT NULL,
        count      BIGINT NOT NULL,
        category   TEXT,
        first_seen TEXT NOT NULL,
        last_seen  TEXT NOT NULL
    );
    CREATE TABLE conversation_states (
        key     TEXT PRIMARY KEY,
        data    TEXT NOT NULL,
        expires TEXT NOT NULL
    );
    CREATE INDEX conversation_states_expires ON conversation_states (expires);
    "#,
];

/// How a [`PgStore`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections in the pool (default 8).
    pub pool_size: u32,
    /// `statement_timeout` of every connection (default 30 s): a statement running longer is
    /// cancelled and the call fails with a `Backend` error instead of hanging.
    pub statement_timeout: StdDuration,
    /// How long to wait for a connection from the pool (default 10 s).
    pub connect_timeout: StdDuration,
    /// The schema the tables live in, created if missing (default `civic_router`).
    pub schema: String,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 8,
            statement_timeout: StdDuration::from_secs(30),
            connect_timeout: StdDuration::from_secs(10),
            schema: "civic_router".into(),
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// SQLSTATEs after which the whole transaction is run again: a unique violation (another
/// instance inserted the same inbox key first), a serialization failure, a deadlock.
fn conflict(e: &postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| matches!(c.code(), "23505" | "40001" | "40P01"))
}

pub(crate) fn db(e: postgres::Error) -> StoreError {
    let what = match e.code().map(|c| c.code()) {
        Some("57014") => "statement timeout (the statement was cancelled)".to_string(),
        Some(code) => format!("SQLSTATE {code}"),
        None => "connection".to_string(),
    };
    StoreError::backend(format!("postgres store: {what}: {e}"))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::backend(format!("store: encode: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, format!("store: {what}: {e}")))
}

/// One transaction as the lifecycle sees it; remembers whether it lost a race.
struct PgTx<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    conflicted: bool,
}

impl PgTx<'_, '_> {
    fn err(&mut self, e: postgres::Error) -> StoreError {
        self.conflicted |= conflict(&e);
        db(e)
    }
}

impl Tx for PgTx<'_, '_> {
    fn inbox_get(
        &mut self,
        channel: ChannelKind,
        provider_id: &str,
    ) -> Result<Option<ConversationEntry>, StoreError> {
        let row = self
            .tx
            .query_opt(
                "SELECT data FROM entries WHERE direction = 'inbound' AND channel = $1 AND provider_id = $2",
                &[&channel.as_str(), &provider_id],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| parse(&r.get::<_, String>(0), "entry"))
            .transpose()
    }

    fn append_entry(&mut self, e: &ConversationEntry) -> Result<(), StoreError> {
        insert_entry(self.tx, e).map_err(|e| self.err(e))
    }

    fn next_seq(&mut self, prefix: &str, year: i32) -> Result<u32, StoreError> {
        let n: i32 = self
            .tx
            .query_one(
                "INSERT INTO sequences (prefix, year, last) VALUES ($1, $2, 1)
                 ON CONFLICT (prefix, year) DO UPDATE SET last = sequences.last + 1
                 RETURNING last",
                &[&prefix, &year],
            )
            .map_err(|e| self.err(e))?
            .get(0);
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
        let rows = self
            .tx
            .query(
                "SELECT data FROM tickets
                 WHERE category = $1 AND status IN ('routed', 'accepted', 'in_progress')
                   AND lat BETWEEN $3 AND $4 AND lon BETWEEN $5 AND $6 AND created_at >= $2
                 ORDER BY created_at, n",
                &[
                    &category,
                    &ts(since),
                    &(point.0 - dlat),
                    &(point.0 + dlat),
                    &(point.1 - dlon),
                    &(point.1 + dlon),
                ],
            )
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| parse(&r.get::<_, String>(0), "ticket"))
            .collect()
    }

    fn load(&mut self, reference: &Reference) -> Result<Option<Ticket>, StoreError> {
        load_ticket(self.tx, reference, false).map_err(|e| self.err(e))?
    }

    fn save(&mut self, t: &Ticket) -> Result<(), StoreError> {
        let data = json(t)?;
        self.tx
            .execute(
                "INSERT INTO tickets (reference, category, status, created_at, closed_at, pseudonymised, lat, lon, data)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (reference) DO UPDATE SET category = $2, status = $3, closed_at = $5,
                     pseudonymised = $6, lat = $7, lon = $8, data = $9",
                &[
                    &t.reference.to_string(),
                    &t.category,
                    &t.status.as_str(),
                    &ts(t.created_at),
                    &t.closed_at().map(ts),
                    &t.pseudonymised_at.is_some(),
                    &t.point().map(|p| p.0),
                    &t.point().map(|p| p.1),
                    &data,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn enqueue(&mut self, item: &NewOutbox) -> Result<(), StoreError> {
        let data = json(item)?;
        self.tx
            .execute(
                "INSERT INTO outbox (idempotency_key, reference, next_attempt_at, data) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (idempotency_key) DO NOTHING",
                &[
                    &item.idempotency_key,
                    &item.reference.as_ref().map(|r| r.to_string()),
                    &ts(item.next_attempt_at),
                    &data,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

fn insert_entry(c: &mut Transaction<'_>, e: &ConversationEntry) -> Result<(), postgres::Error> {
    let data = serde_json::to_string(e).unwrap_or_default();
    c.execute(
        "INSERT INTO entries (direction, channel, provider_id, contact_key, conversation, ticket, at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &match e.direction {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            },
            &e.channel.as_str(),
            &e.provider_id,
            &e.contact_key,
            &e.conversation,
            &e.ticket.as_ref().map(|r| r.to_string()),
            &ts(e.at),
            &data,
        ],
    )?;
    Ok(())
}

#[allow(clippy::type_complexity)]
fn load_ticket(
    c: &mut impl postgres::GenericClient,
    reference: &Reference,
    lock: bool,
) -> Result<Result<Option<Ticket>, StoreError>, postgres::Error> {
    let sql = if lock {
        "SELECT data FROM tickets WHERE reference = $1 FOR UPDATE"
    } else {
        "SELECT data FROM tickets WHERE reference = $1"
    };
    let row = c.query_opt(sql, &[&reference.to_string()])?;
    Ok(row
        .map(|r| parse(&r.get::<_, String>(0), "ticket"))
        .transpose())
}

/// Sets the search path and the statement timeout of each new connection.
#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_parameter_is_the_stores_own() {
        use super::split_schema;
        assert_eq!(
            split_schema("postgres://u@h/db?schema=civic"),
            ("postgres://u@h/db".to_string(), Some("civic".to_string()))
        );
        assert_eq!(
            split_schema("postgres://u@h/db?sslmode=disable&schema=x&connect_timeout=3"),
            (
                "postgres://u@h/db?sslmode=disable&connect_timeout=3".to_string(),
                Some("x".to_string())
            )
        );
        assert_eq!(
            split_schema("postgres://u@h/db"),
            ("postgres://u@h/db".to_string(), None)
        );
    }
}

#[derive(Debug)]
struct Session {
    schema: String,
    statement_timeout_ms: u128,
}

impl CustomizeConnection<Client, postgres::Error> for Session {
    fn on_acquire(&self, c: &mut Client) -> Result<(), postgres::Error> {
        c.batch_execute(&format!(
            "SET search_path TO {}; SET statement_timeout = {};",
            quote_ident(&self.schema),
            self.statement_timeout_ms
        ))
    }
}

/// Takes the store's own `schema=NAME` parameter out of a URL (PostgreSQL's driver would
/// refuse it), so a deployment file can say `postgres://app@db/city?schema=civic`.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(v) => {
                schema = Some(v.to_string());
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, schema)
}

/// An SQL identifier, quoted.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Tickets and their history, inbox and conversations, outbox and dead letters in a
/// PostgreSQL database shared by every instance (see the [module](self) documentation).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<PostgresConnectionManager<NoTls>>,
    shown: String,
    schema: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.shown)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects with the default [`PgOptions`] and brings the schema up to date.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::connect_with(url, PgOptions::default())
    }

    /// Connects (`postgres://user[:password]@host[:port]/database[?schema=NAME]`), creates the
    /// schema if missing and applies the migrations this build knows. An unreachable server, a refused
    /// login or a schema newer than this build is a `Backend`/`Corrupt` [`StoreError`] with
    /// the URL (its password hidden).
    pub fn connect_with(url: &str, mut options: PgOptions) -> Result<PgStore, StoreError> {
        let (url, schema) = split_schema(url);
        if let Some(schema) = schema {
            options.schema = schema;
        }
        let url = url.as_str();
        let shown = redact_url(url);
        let config: postgres::Config = url.parse().map_err(|e| {
            StoreError::new(
                StoreErrorKind::Invalid,
                format!("store `{shown}`: not a PostgreSQL URL: {e}"),
            )
        })?;
        if options.schema.is_empty() {
            return Err(StoreError::new(
                StoreErrorKind::Invalid,
                "store: the PostgreSQL schema name is empty",
            ));
        }
        let mut config = config;
        config.connect_timeout(options.connect_timeout);
        // the schema must exist before the pool's connections put it on their search path
        let mut first = config
            .connect(NoTls)
            .map_err(|e| StoreError::backend(format!("store `{shown}`: cannot connect: {e}")))?;
        first
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_ident(&options.schema)
            ))
            .or_else(|e| {
                // two instances creating it at once: the loser sees a unique violation
                if conflict(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| StoreError::backend(format!("store `{shown}`: create schema: {e}")))?;
        drop(first);
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            .connection_customizer(Box::new(Session {
                schema: options.schema.clone(),
                statement_timeout_ms: options.statement_timeout.as_millis(),
            }))
            .build(manager)
            .map_err(|e| StoreError::backend(format!("store `{shown}`: pool: {e}")))?;
        let store = PgStore {
            pool,
            shown,
            schema: options.schema,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The schema the tables live in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::backend(format!("store `{}`: no connection: {e}", self.shown)))
    }

    /// The appointment store in the same database, schema and pool: see
    /// [`PgAppointmentStore`](crate::appointment::PgAppointmentStore).
    pub fn appointments(&self) -> crate::appointment::PgAppointmentStore {
        crate::appointment::PgAppointmentStore::new(self.pool.clone())
    }

    /// The state of booking conversations in the same database, schema and pool: see
    /// [`PgConversationStateStore`](crate::appointment::PgConversationStateStore).
    pub fn conversation_states(&self) -> crate::appointment::PgConversationStateStore {
        crate::appointment::PgConversationStateStore::new(self.pool.clone())
    }

    /// The knowledge-base gap log in the same database, schema and pool: see
    /// [`PgGapLog`](crate::faq::PgGapLog).
    pub fn gap_log(&self) -> crate::faq::PgGapLog {
        crate::faq::PgGapLog::new(self.pool.clone())
    }

    /// Applies the migrations this build knows, under an advisory lock (instances starting
    /// together wait for each other). Returns the schema version. `civic-router migrate` calls
    /// it; [`connect`](Self::connect) does too.
    pub fn migrate(&self) -> Result<i32, StoreError> {
        let mut c = self.client()?;
        // already up to date (the usual start): no need to queue on the lock that every
        // instance on the database shares (versions only grow)
        if let Ok(row) = c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]) {
            let version: i32 = row.get(0);
            if version == SCHEMA_VERSION {
                return Ok(version);
            }
        }
        let mut tx = c.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)",
        )
        .map_err(db)?;
        let version: i32 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(db)?
            .get(0);
        if version > SCHEMA_VERSION {
            return Err(StoreError::new(
                StoreErrorKind::Corrupt,
                format!(
                    "store `{}` schema `{}` has version {version}; this build knows up to {SCHEMA_VERSION}",
                    self.shown, self.schema
                ),
            ));
        }
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let v = i as i32 + 1;
            if v > version {
                tx.batch_execute(m).map_err(db)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                    &[&v, &ts(Utc::now())],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(SCHEMA_VERSION.max(version))
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        let mut c = self.client()?;
        Ok(
            c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
                .map_err(db)?
                .get(0),
        )
    }

    /// Drops the store's schema and everything in it (tests, and `civic-router migrate
    /// --drop`). Irreversible.
    pub fn drop_schema(&self) -> Result<(), StoreError> {
        let mut c = self.client()?;
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        ))
        .map_err(db)
    }

    /// Runs `f` with a pooled connection: on tokio's blocking pool when called from a runtime,
    /// else on this thread.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        let job = move || {
            let mut c = store.client()?;
            f(&mut c)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::spawn_blocking(job)
                .await
                .map_err(|e| StoreError::backend(format!("store: blocking task: {e}")))?,
            Err(_) => job(),
        }
    }

    /// [`run`](Self::run) in a transaction that is run again (up to five times) when it loses
    /// a race to another instance.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut PgTx<'_, '_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |c| {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let mut tx = c.transaction().map_err(db)?;
                let mut ptx = PgTx {
                    tx: &mut tx,
                    conflicted: false,
                };
                let result = f(&mut ptx);
                let conflicted = ptx.conflicted;
                match result {
                    Ok(v) => match tx.commit() {
                        Ok(()) => return Ok(v),
                        Err(e) if conflict(&e) && attempt < 5 => continue,
                        Err(e) => return Err(db(e)),
                    },
                    Err(_) if conflicted && attempt < 5 => {
                        drop(tx); // rolls back
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
        })
        .await
    }

    async fn query<T>(
        &self,
        sql: &'static str,
        param: Option<String>,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        self.run(move |c| {
            let rows = match &param {
                Some(p) => c.query(sql, &[p]),
                None => c.query(sql, &[]),
            }
            .map_err(db)?;
            rows.iter()
                .map(|r| parse(&r.get::<_, String>(0), what))
                .collect()
        })
        .await
    }
}

fn outbox_item(row: &postgres::Row) -> Result<OutboxItem, StoreError> {
    let mut o: OutboxItem = parse(&row.get::<_, String>(1), "outbox row")?;
    o.id = row.get(0);
    Ok(o)
}

#[async_trait]
impl TicketStore for PgStore {
    async fn ingest(&self, plan: IngestPlan) -> Result<IngestOutcome, StoreError> {
        self.write(move |tx| lifecycle::ingest(tx, &plan)).await
    }

    async fn change_status(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: StatusRequest,
    ) -> Result<Ticket, StoreError> {
        let (policy, reference) = (policy.clone(), reference.clone());
        self.write(move |tx| {
            lock_ticket(tx, &reference)?;
            lifecycle::change_status(tx, &policy, &reference, &request)
        })
        .await
    }

    async fn recategorise(
        &self,
        policy: &Policy,
        reference: &Reference,
        request: RecategoriseRequest,
    ) -> Result<Ticket, StoreError> {
        let (policy, reference) = (policy.clone(), reference.clone());
        self.write(move |tx| {
            lock_ticket(tx, &reference)?;
            lifecycle::recategorise(tx, &policy, &reference, &request)
        })
        .await
    }

    async fn ticket(&self, reference: &Reference) -> Result<Ticket, StoreError> {
        let reference = reference.clone();
        self.run(move |c| {
            load_ticket(c, &reference, false)
                .map_err(db)??
                .ok_or_else(|| StoreError::unknown_ticket(&reference))
        })
        .await
    }

    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.query("SELECT data FROM tickets ORDER BY n", None, "ticket")
            .await
    }

    async fn tickets_of_contact(&self, contact_key: &str) -> Result<Vec<Ticket>, StoreError> {
        self.query(
            "SELECT data FROM tickets WHERE reference IN
                 (SELECT ticket FROM entries WHERE contact_key = $1 AND ticket IS NOT NULL)
             ORDER BY n",
            Some(contact_key.to_string()),
            "ticket",
        )
        .await
    }

    async fn record_outbound(&self, entry: ConversationEntry) -> Result<(), StoreError> {
        self.write(move |tx| tx.append_entry(&entry)).await
    }

    async fn conversation_of_contact(
        &self,
        contact_key: &str,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query(
            "SELECT data FROM entries WHERE contact_key = $1 ORDER BY id",
            Some(contact_key.to_string()),
            "entry",
        )
        .await
    }

    async fn conversation_of_ticket(
        &self,
        reference: &Reference,
    ) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query(
            "SELECT data FROM entries WHERE ticket = $1 ORDER BY id",
            Some(reference.to_string()),
            "entry",
        )
        .await
    }

    async fn entries(&self) -> Result<Vec<ConversationEntry>, StoreError> {
        self.query("SELECT data FROM entries ORDER BY id", None, "entry")
            .await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |tx| {
            // rows another relay holds are skipped, not waited for
            let rows = tx
                .tx
                .query(
                    "SELECT id, data FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
                    &[&ts(now), &limit],
                )
                .map_err(|e| tx.err(e))?;
            let out: Vec<OutboxItem> = rows.iter().map(outbox_item).collect::<Result<_, _>>()?;
            let until = ts(now + lease);
            for item in &out {
                tx.tx
                    .execute(
                        "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2",
                        &[&until, &item.id],
                    )
                    .map_err(|e| tx.err(e))?;
            }
            Ok(out)
        })
        .await
    }

    async fn enqueue_reminders(&self, rows: Vec<OutboxItem>) -> Result<usize, StoreError> {
        for r in &rows {
            lifecycle::check_reminder(r)?;
        }
        self.write(move |tx| {
            let mut added = 0;
            for r in &rows {
                let n = tx
                    .tx
                    .execute(
                        "INSERT INTO outbox (idempotency_key, reference, next_attempt_at, data)
                         VALUES ($1, NULL, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING",
                        &[&r.idempotency_key, &ts(r.next_attempt_at), &json(r)?],
                    )
                    .map_err(|e| tx.err(e))?;
                added += n as usize;
            }
            Ok(added)
        })
        .await
    }

    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(move |tx| {
            let row = tx
                .tx
                .query_opt(
                    "SELECT id, data FROM outbox WHERE id = $1 AND state = 'pending' FOR UPDATE",
                    &[&id],
                )
                .map_err(|e| tx.err(e))?;
            let Some(row) = row else {
                return Ok(());
            };
            let o = outbox_item(&row)?;
            tx.tx
                .execute(
                    "UPDATE outbox SET state = 'sent', next_attempt_at = $2 WHERE id = $1",
                    &[&id, &ts(at)],
                )
                .map_err(|e| tx.err(e))?;
            let conversation = match (o.kind, lifecycle::recipient_key(&o), &o.reference) {
                (OutboxKind::Notification, Some((_, ckey)), Some(r)) => tx
                    .tx
                    .query_opt(
                        "SELECT conversation FROM entries WHERE contact_key = $1 AND ticket = $2
                         ORDER BY id DESC LIMIT 1",
                        &[&ckey, &r.to_string()],
                    )
                    .map_err(|e| tx.err(e))?
                    .map(|r| r.get(0)),
                _ => None,
            };
            if let Some(e) = lifecycle::delivered_entry(&o, at, conversation) {
                tx.append_entry(&e)?;
            }
            Ok(())
        })
        .await
    }

    async fn mark_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let error = error.to_string();
        self.write(move |tx| {
            let row = tx
                .tx
                .query_opt(
                    "SELECT id, data FROM outbox WHERE id = $1 AND state = 'pending' FOR UPDATE",
                    &[&id],
                )
                .map_err(|e| tx.err(e))?;
            let Some(row) = row else {
                return Ok(());
            };
            let mut o = outbox_item(&row)?;
            o.attempts += 1;
            o.last_error = Some(error.clone());
            match retry_at {
                Some(t) => {
                    o.next_attempt_at = t;
                    tx.tx
                        .execute(
                            "UPDATE outbox SET next_attempt_at = $2, data = $3 WHERE id = $1",
                            &[&id, &ts(t), &json(&o)?],
                        )
                        .map_err(|e| tx.err(e))?;
                }
                None => {
                    tx.tx
                        .execute(
                            "UPDATE outbox SET state = 'dead', data = $2 WHERE id = $1",
                            &[&id, &json(&o)?],
                        )
                        .map_err(|e| tx.err(e))?;
                    let reference = o.reference.as_ref().map(|r| r.to_string());
                    let letter = json(&DeadLetter {
                        item: o,
                        dead_at: at,
                    })?;
                    tx.tx
                        .execute(
                            "INSERT INTO dead_letters (outbox_id, reference, dead_at, data) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (outbox_id) DO NOTHING",
                            &[&id, &reference, &ts(at), &letter],
                        )
                        .map_err(|e| tx.err(e))?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn pending(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.run(|c| {
            let rows = c
                .query(
                    "SELECT id, data FROM outbox WHERE state = 'pending' ORDER BY id",
                    &[],
                )
                .map_err(db)?;
            rows.iter().map(outbox_item).collect()
        })
        .await
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.query(
            "SELECT data FROM dead_letters ORDER BY id",
            None,
            "dead letter",
        )
        .await
    }

    async fn pseudonymise(
        &self,
        closed_before: DateTime<Utc>,
        key: &[u8],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let key = key.to_vec();
        self.write(move |tx| {
            let rows = tx
                .tx
                .query(
                    "SELECT data FROM tickets WHERE NOT pseudonymised AND closed_at IS NOT NULL
                     AND closed_at < $1 FOR UPDATE",
                    &[&ts(closed_before)],
                )
                .map_err(|e| tx.err(e))?;
            let mut due: Vec<Ticket> = rows
                .iter()
                .map(|r| parse(&r.get::<_, String>(0), "ticket"))
                .collect::<Result<_, _>>()?;
            let mut conversations = std::collections::BTreeSet::new();
            for t in &mut due {
                let reference = t.reference.to_string();
                for r in tx
                    .tx
                    .query(
                        "SELECT DISTINCT conversation FROM entries WHERE ticket = $1",
                        &[&reference],
                    )
                    .map_err(|e| tx.err(e))?
                {
                    conversations.insert(r.get::<_, String>(0));
                }
                lifecycle::pseudonymise_ticket(t, &key, at);
                tx.save(t)?;
            }
            // conversations that opened no ticket, quiet since before the cut-off
            for r in tx
                .tx
                .query(
                    "SELECT conversation FROM entries GROUP BY conversation
                     HAVING MAX(at) < $1 AND COUNT(ticket) = 0
                        AND COUNT(*) FILTER (WHERE contact_key NOT LIKE 'p:%') > 0",
                    &[&ts(closed_before)],
                )
                .map_err(|e| tx.err(e))?
            {
                conversations.insert(r.get::<_, String>(0));
            }
            for conv in &conversations {
                let rows = tx
                    .tx
                    .query(
                        "SELECT id, data FROM entries WHERE conversation = $1",
                        &[conv],
                    )
                    .map_err(|e| tx.err(e))?;
                for r in rows {
                    let id: i64 = r.get(0);
                    let mut e: ConversationEntry = parse(&r.get::<_, String>(1), "entry")?;
                    lifecycle::pseudonymise_entry(&mut e, &key);
                    tx.tx
                        .execute(
                            "UPDATE entries SET contact_key = $2, conversation = $3, data = $4 WHERE id = $1",
                            &[&id, &e.contact_key, &e.conversation, &json(&e)?],
                        )
                        .map_err(|e| tx.err(e))?;
                }
            }
            // delivered and dead notifications carry the recipient: drop it
            let rows = tx
                .tx
                .query(
                    "SELECT o.id, o.data FROM outbox o JOIN tickets t ON t.reference = o.reference
                     WHERE o.state != 'pending' AND t.pseudonymised",
                    &[],
                )
                .map_err(|e| tx.err(e))?;
            for r in rows {
                let id: i64 = r.get(0);
                let mut v: serde_json::Value = parse(&r.get::<_, String>(1), "outbox row")?;
                lifecycle::scrub_outbox_json(&mut v);
                tx.tx
                    .execute("UPDATE outbox SET data = $2 WHERE id = $1", &[&id, &json(&v)?])
                    .map_err(|e| tx.err(e))?;
            }
            let rows = tx
                .tx
                .query(
                    "SELECT d.id, d.data FROM dead_letters d JOIN tickets t ON t.reference = d.reference
                     WHERE t.pseudonymised",
                    &[],
                )
                .map_err(|e| tx.err(e))?;
            for r in rows {
                let id: i64 = r.get(0);
                let mut v: serde_json::Value = parse(&r.get::<_, String>(1), "dead letter")?;
                if let Some(item) = v.get_mut("item") {
                    lifecycle::scrub_outbox_json(item);
                }
                tx.tx
                    .execute(
                        "UPDATE dead_letters SET data = $2 WHERE id = $1",
                        &[&id, &json(&v)?],
                    )
                    .map_err(|e| tx.err(e))?;
            }
            // reminders delivered or given up before the cut-off: drop the recipient too
            let cutoff = ts(closed_before);
            let rows = tx
                .tx
                .query(
                    "SELECT id, data FROM outbox WHERE reference IS NULL AND state != 'pending'
                     AND next_attempt_at < $1 FOR UPDATE",
                    &[&cutoff],
                )
                .map_err(|e| tx.err(e))?;
            for r in rows {
                let id: i64 = r.get(0);
                let mut v: serde_json::Value = parse(&r.get::<_, String>(1), "outbox row")?;
                if v.get("to").is_none() {
                    continue;
                }
                lifecycle::scrub_outbox_json(&mut v);
                tx.tx
                    .execute("UPDATE outbox SET data = $2 WHERE id = $1", &[&id, &json(&v)?])
                    .map_err(|e| tx.err(e))?;
            }
            let rows = tx
                .tx
                .query(
                    "SELECT id, data FROM dead_letters WHERE reference IS NULL AND dead_at < $1
                     FOR UPDATE",
                    &[&cutoff],
                )
                .map_err(|e| tx.err(e))?;
            for r in rows {
                let id: i64 = r.get(0);
                let mut v: serde_json::Value = parse(&r.get::<_, String>(1), "dead letter")?;
                match v.get_mut("item") {
                    Some(item) if item.get("to").is_some() => lifecycle::scrub_outbox_json(item),
                    _ => continue,
                }
                tx.tx
                    .execute(
                        "UPDATE dead_letters SET data = $2 WHERE id = $1",
                        &[&id, &json(&v)?],
                    )
                    .map_err(|e| tx.err(e))?;
            }
            Ok(due.len())
        })
        .await
    }
}

/// Locks a ticket's row for the rest of the transaction, so two instances changing the same
/// ticket take turns instead of overwriting each other's history.
fn lock_ticket(tx: &mut PgTx<'_, '_>, reference: &Reference) -> Result<(), StoreError> {
    tx.tx
        .execute(
            "SELECT 1 FROM tickets WHERE reference = $1 FOR UPDATE",
            &[&reference.to_string()],
        )
        .map_err(|e| tx.err(e))?;
    Ok(())
}
