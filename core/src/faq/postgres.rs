//! The PostgreSQL gap log: the unanswered questions of every instance, counted in the database
//! the [`PgStore`](crate::ticket::PgStore) keeps cases in (its pool, its schema, its
//! migrations; table `faq_gaps`, migration 3).
//!
//! A question is counted with one `INSERT … ON CONFLICT (key) DO UPDATE SET count = count + 1
//! … RETURNING count`: the row is updated in place under its lock, so instances recording the
//! same question at the same moment each add exactly one and each get a count of their own.

use ::postgres::NoTls;
use chrono::SecondsFormat;
use r2d2::Pool;
use r2d2_postgres::PostgresConnectionManager;

use super::*;
use crate::ticket::postgres::db;

/// A gap log in PostgreSQL, shared by every instance; made by
/// [`PgStore::gap_log`](crate::ticket::PgStore::gap_log) or opened by URL with
/// [`open_gap_log`](super::open_gap_log).
///
/// ```no_run
/// use civic_router::faq::{conformance, GapLog};
/// use civic_router::ticket::PgStore;
/// let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/test?schema=civic").unwrap();
/// let log = store.gap_log();
/// log.record("ibi pag", "¿cómo pago el IBI?", Some("tramites"), chrono::Utc::now()).unwrap();
/// conformance::check_gap_log(&|| std::sync::Arc::new(store.gap_log())).unwrap();
/// ```
#[derive(Clone)]
pub struct PgGapLog {
    pool: Pool<PostgresConnectionManager<NoTls>>,
}

impl fmt::Debug for PgGapLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgGapLog").finish_non_exhaustive()
    }
}

/// Fixed-width UTC time (nanoseconds, `Z`): text order is time order, and it reads back exact.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn time(s: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            Error::Store(crate::error::StoreError::new(
                crate::error::StoreErrorKind::Corrupt,
                format!("postgres gap log: time `{s}`: {e}"),
            ))
        })
}

impl PgGapLog {
    pub(crate) fn new(pool: Pool<PostgresConnectionManager<NoTls>>) -> Self {
        PgGapLog { pool }
    }

    fn client(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, Error> {
        self.pool.get().map_err(|e| {
            Error::Store(crate::error::StoreError::backend(format!(
                "postgres gap log: no connection: {e}"
            )))
        })
    }
}

impl GapLog for PgGapLog {
    fn record(
        &self,
        key: &str,
        question: &str,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let n: i64 = self
            .client()?
            .query_one(
                "INSERT INTO faq_gaps (key, example, count, category, first_seen, last_seen)
                 VALUES ($1, $2, 1, $3, $4, $4)
                 ON CONFLICT (key) DO UPDATE SET count = faq_gaps.count + 1,
                    last_seen = GREATEST(faq_gaps.last_seen, EXCLUDED.last_seen)
                 RETURNING count",
                &[&key, &question, &category, &ts(at)],
            )
            .map_err(db)?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn top(&self, limit: usize) -> Result<Vec<Gap>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // keys tie-break in byte order (COLLATE "C"), as in memory and SQLite
        let rows = self
            .client()?
            .query(
                "SELECT key, example, count, category, first_seen, last_seen FROM faq_gaps
                 ORDER BY count DESC, last_seen DESC, key COLLATE \"C\" LIMIT $1",
                &[&limit],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(Gap {
                    key: r.get(0),
                    example: r.get(1),
                    count: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                    category: r.get(3),
                    first_seen: time(&r.get::<_, String>(4))?,
                    last_seen: time(&r.get::<_, String>(5))?,
                })
            })
            .collect()
    }

    fn resolve(&self, key: &str) -> Result<bool, Error> {
        let n = self
            .client()?
            .execute("DELETE FROM faq_gaps WHERE key = $1", &[&key])
            .map_err(db)?;
        Ok(n > 0)
    }
}
