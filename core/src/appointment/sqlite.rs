//! The SQLite appointment store: one row per appointment; every booking counts the places
//! taken and inserts inside one `BEGIN IMMEDIATE` transaction, so concurrent bookers —
//! threads with their own connections, or other processes on the host — are serialised by
//! SQLite's write lock and the last place is given once.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::*;

/// Appointments in a SQLite file (WAL, `synchronous=FULL`), with a pool of connections.
///
/// ```
/// use civic_router::appointment::{conformance, SqliteAppointmentStore};
/// let dir = std::env::temp_dir().join(format!("cp-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteAppointmentStore::open(dir.join("citas.db")).unwrap();
/// conformance::check_store(std::sync::Arc::new(store)).unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct SqliteAppointmentStore {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteAppointmentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteAppointmentStore")
            .field("path", &self.path)
            .finish()
    }
}

fn err(e: rusqlite::Error) -> AppointmentError {
    AppointmentError::Store(e.to_string())
}

const TIME: &str = "%Y-%m-%d %H:%M:%S";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Appointment> {
    let t = |i: usize| -> rusqlite::Result<NaiveDateTime> {
        let s: String = r.get(i)?;
        NaiveDateTime::parse_from_str(&s, TIME).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let status: String = r.get(5)?;
    let contact: String = r.get(6)?;
    let channel: String = r.get(7)?;
    let created: String = r.get(9)?;
    Ok(Appointment {
        reference: r.get(0)?,
        office: r.get(1)?,
        service: r.get(2)?,
        start: t(3)?,
        end: t(4)?,
        status: AppointmentStatus::parse(&status).unwrap_or(AppointmentStatus::Cancelled),
        contact: serde_json::from_str(&contact).unwrap_or_default(),
        channel: channel.parse().unwrap_or(ChannelKind::Web),
        urgent: r.get::<_, i64>(8)? != 0,
        created_at: DateTime::parse_from_rfc3339(&created)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default(),
        reminded: r.get::<_, i64>(10)? != 0,
    })
}

const COLS: &str = "reference, office, service, start, end_at, status, contact, channel, urgent, created_at, reminded";

impl SqliteAppointmentStore {
    /// Opens (creating if needed) the store in a SQLite file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AppointmentError> {
        let s = SqliteAppointmentStore {
            path: path.as_ref().to_path_buf(),
            pool: Mutex::new(Vec::new()),
        };
        let c = s.connect()?;
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS appointments (
                reference TEXT PRIMARY KEY,
                office TEXT NOT NULL,
                service TEXT NOT NULL,
                start TEXT NOT NULL,
                end_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'cancelled')),
                contact TEXT NOT NULL,
                contact_key TEXT NOT NULL,
                channel TEXT NOT NULL,
                urgent INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                reminded INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS appointments_slot ON appointments (office, start, status);
             CREATE INDEX IF NOT EXISTS appointments_contact ON appointments (contact_key);",
        )
        .map_err(err)?;
        s.give(c);
        Ok(s)
    }

    fn connect(&self) -> Result<Connection, AppointmentError> {
        let c = Connection::open(&self.path).map_err(err)?;
        c.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(err)?;
        c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(err)?;
        Ok(c)
    }

    fn take(&self) -> Result<Connection, AppointmentError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn give(&self, c: Connection) {
        let mut p = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if p.len() < 8 {
            p.push(c);
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, AppointmentError>,
    ) -> Result<T, AppointmentError> {
        let mut c = self.take()?;
        let r = f(&mut c);
        self.give(c);
        r
    }

    fn one(c: &Connection, reference: &str) -> Result<Appointment, AppointmentError> {
        c.query_row(
            &format!("SELECT {COLS} FROM appointments WHERE reference = ?1"),
            params![reference],
            row,
        )
        .optional()
        .map_err(err)?
        .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))
    }
}

fn taken_at(
    tx: &rusqlite::Transaction<'_>,
    office: &str,
    start: NaiveDateTime,
) -> Result<u32, AppointmentError> {
    tx.query_row(
        "SELECT count(*) FROM appointments WHERE office = ?1 AND start = ?2 AND status != 'cancelled'",
        params![office, start.format(TIME).to_string()],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u32)
    .map_err(err)
}

impl AppointmentStore for SqliteAppointmentStore {
    fn insert_if_free(&self, a: &Appointment, limit: u32) -> Result<(), AppointmentError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            if taken_at(&tx, &a.office, a.start)? >= limit {
                return Err(AppointmentError::SlotTaken {
                    office: a.office.clone(),
                    start: a.start.format("%Y-%m-%d %H:%M").to_string(),
                });
            }
            tx.execute(
                "INSERT INTO appointments (reference, office, service, start, end_at, status, contact, contact_key, channel, urgent, created_at, reminded)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    a.reference,
                    a.office,
                    a.service,
                    a.start.format(TIME).to_string(),
                    a.end.format(TIME).to_string(),
                    a.status.as_str(),
                    serde_json::to_string(&a.contact).unwrap_or_default(),
                    contact_key(&a.contact),
                    a.channel.as_str(),
                    a.urgent as i64,
                    a.created_at.to_rfc3339(),
                    a.reminded as i64,
                ],
            )
            .map_err(err)?;
            tx.commit().map_err(err)
        })
    }

    fn get(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        self.with(|c| Self::one(c, reference))
    }

    fn set_status(
        &self,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<Appointment, AppointmentError> {
        self.with(|c| {
            let n = c
                .execute(
                    "UPDATE appointments SET status = ?2 WHERE reference = ?1",
                    params![reference, status.as_str()],
                )
                .map_err(err)?;
            if n == 0 {
                return Err(AppointmentError::NotFound(reference.to_string()));
            }
            Self::one(c, reference)
        })
    }

    fn move_if_free(
        &self,
        reference: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
        limit: u32,
    ) -> Result<Appointment, AppointmentError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let a = Self::one(&tx, reference)?;
            if taken_at(&tx, &a.office, start)? >= limit {
                return Err(AppointmentError::SlotTaken {
                    office: a.office,
                    start: start.format("%Y-%m-%d %H:%M").to_string(),
                });
            }
            tx.execute(
                "UPDATE appointments SET start = ?2, end_at = ?3, reminded = 0 WHERE reference = ?1",
                params![
                    reference,
                    start.format(TIME).to_string(),
                    end.format(TIME).to_string()
                ],
            )
            .map_err(err)?;
            let a = Self::one(&tx, reference)?;
            tx.commit().map_err(err)?;
            Ok(a)
        })
    }

    fn taken(
        &self,
        office: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<HashMap<NaiveDateTime, u32>, AppointmentError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT start, count(*) FROM appointments
                     WHERE office = ?1 AND start >= ?2 AND start < ?3 AND status != 'cancelled'
                     GROUP BY start",
                )
                .map_err(err)?;
            let rows = st
                .query_map(
                    params![
                        office,
                        from.format(TIME).to_string(),
                        to.format(TIME).to_string()
                    ],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )
                .map_err(err)?;
            let mut out = HashMap::new();
            for r in rows {
                let (s, n) = r.map_err(err)?;
                if let Ok(t) = NaiveDateTime::parse_from_str(&s, TIME) {
                    out.insert(t, n as u32);
                }
            }
            Ok(out)
        })
    }

    fn for_contact(&self, key: &str) -> Result<Vec<Appointment>, AppointmentError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM appointments WHERE contact_key = ?1 AND status != 'cancelled' ORDER BY start"
                ))
                .map_err(err)?;
            let v = st
                .query_map(params![key], row)
                .map_err(err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            Ok(v)
        })
    }

    fn unreminded(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Appointment>, AppointmentError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM appointments WHERE reminded = 0 AND status != 'cancelled'
                     AND start >= ?1 AND start < ?2 ORDER BY start"
                ))
                .map_err(err)?;
            let v = st
                .query_map(
                    params![from.format(TIME).to_string(), to.format(TIME).to_string()],
                    row,
                )
                .map_err(err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            Ok(v)
        })
    }

    fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError> {
        self.with(|c| {
            let n = c
                .execute(
                    "UPDATE appointments SET reminded = 1 WHERE reference = ?1",
                    params![reference],
                )
                .map_err(err)?;
            if n == 0 {
                return Err(AppointmentError::NotFound(reference.to_string()));
            }
            Ok(())
        })
    }

    fn mark_reminded_at(
        &self,
        reference: &str,
        start: NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        self.with(|c| {
            let n = c
                .execute(
                    "UPDATE appointments SET reminded = 1 WHERE reference = ?1 AND start = ?2",
                    params![reference, start.format(TIME).to_string()],
                )
                .map_err(err)?;
            if n == 0 {
                Self::one(c, reference)?; // NotFound, or it moved
            }
            Ok(n > 0)
        })
    }
}
