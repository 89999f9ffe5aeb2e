//! The PostgreSQL appointment store: the appointments of every instance in the database the
//! [`PgStore`](crate::ticket::PgStore) keeps cases in (its pool, its schema, its migrations),
//! and the state of the booking conversations beside them.
//!
//! A booking takes a transaction-scoped advisory lock on its office and slot, counts the
//! places taken and inserts: two instances booking the same slot take turns, so the last place
//! is given once across processes, while bookings of other slots go on in parallel.

use ::postgres::NoTls;
use r2d2::Pool;
use r2d2_postgres::PostgresConnectionManager;

use super::state::{parse_expires, ConversationStateStore, StoredState, EXPIRES};
use super::*;

/// Appointments in PostgreSQL; made by [`PgStore::appointments`](crate::ticket::PgStore::appointments).
///
/// ```no_run
/// use std::sync::Arc;
/// use civic_router::appointment::conformance;
/// use civic_router::ticket::PgStore;
/// let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/test").unwrap();
/// conformance::check_store(Arc::new(store.appointments())).unwrap();
/// ```
#[derive(Clone)]
pub struct PgAppointmentStore {
    pool: Pool<PostgresConnectionManager<NoTls>>,
}

impl fmt::Debug for PgAppointmentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgAppointmentStore").finish_non_exhaustive()
    }
}

const TIME: &str = "%Y-%m-%d %H:%M:%S";

fn err(e: ::postgres::Error) -> AppointmentError {
    AppointmentError::Store(format!("postgres appointment store: {e}"))
}

fn decode(data: &str) -> Result<Appointment, AppointmentError> {
    serde_json::from_str(data)
        .map_err(|e| AppointmentError::Store(format!("postgres appointment store: row: {e}")))
}

fn encode(a: &Appointment) -> Result<String, AppointmentError> {
    serde_json::to_string(a)
        .map_err(|e| AppointmentError::Store(format!("postgres appointment store: encode: {e}")))
}

fn slot_taken(office: &str, start: NaiveDateTime) -> AppointmentError {
    AppointmentError::SlotTaken {
        office: office.to_string(),
        start: start.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// Locks one office's slot until the transaction ends, then counts its active bookings.
fn lock_and_count(
    tx: &mut ::postgres::Transaction<'_>,
    office: &str,
    start: NaiveDateTime,
) -> Result<u32, AppointmentError> {
    let start = start.format(TIME).to_string();
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || '@' || $2, 0))",
        &[&office, &start],
    )
    .map_err(err)?;
    let n: i64 = tx
        .query_one(
            "SELECT count(*) FROM appointments WHERE office = $1 AND start_at = $2 AND status != 'cancelled'",
            &[&office, &start],
        )
        .map_err(err)?
        .get(0);
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

impl PgAppointmentStore {
    pub(crate) fn new(pool: Pool<PostgresConnectionManager<NoTls>>) -> Self {
        PgAppointmentStore { pool }
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, AppointmentError> {
        self.pool
            .get()
            .map_err(|e| AppointmentError::Store(format!("postgres appointment store: {e}")))
    }

    fn list(
        &self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Appointment>, AppointmentError> {
        let mut c = self.client()?;
        c.query(sql, params)
            .map_err(err)?
            .iter()
            .map(|r| decode(&r.get::<_, String>(0)))
            .collect()
    }

    fn write(c: &mut ::postgres::Transaction<'_>, a: &Appointment) -> Result<(), AppointmentError> {
        c.execute(
            "INSERT INTO appointments (reference, office, service, start_at, end_at, status, contact_key, reminded, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (reference) DO UPDATE SET start_at = $4, end_at = $5, status = $6,
                 reminded = $8, data = $9",
            &[
                &a.reference,
                &a.office,
                &a.service,
                &a.start.format(TIME).to_string(),
                &a.end.format(TIME).to_string(),
                &a.status.as_str(),
                &contact_key(&a.contact),
                &a.reminded,
                &encode(a)?,
            ],
        )
        .map_err(err)?;
        Ok(())
    }

    fn one(
        c: &mut impl ::postgres::GenericClient,
        reference: &str,
        lock: bool,
    ) -> Result<Appointment, AppointmentError> {
        let sql = if lock {
            "SELECT data FROM appointments WHERE reference = $1 FOR UPDATE"
        } else {
            "SELECT data FROM appointments WHERE reference = $1"
        };
        match c.query_opt(sql, &[&reference]).map_err(err)? {
            Some(r) => decode(&r.get::<_, String>(0)),
            None => Err(AppointmentError::NotFound(reference.to_string())),
        }
    }
}

impl AppointmentStore for PgAppointmentStore {
    fn insert_if_free(&self, a: &Appointment, limit: u32) -> Result<(), AppointmentError> {
        let mut c = self.client()?;
        let mut tx = c.transaction().map_err(err)?;
        if lock_and_count(&mut tx, &a.office, a.start)? >= limit {
            return Err(slot_taken(&a.office, a.start));
        }
        let exists = tx
            .query_opt(
                "SELECT 1 FROM appointments WHERE reference = $1",
                &[&a.reference],
            )
            .map_err(err)?;
        if exists.is_some() {
            return Err(AppointmentError::Store(format!(
                "appointment `{}` exists already",
                a.reference
            )));
        }
        Self::write(&mut tx, a)?;
        tx.commit().map_err(err)
    }

    fn get(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        Self::one(&mut *self.client()?, reference, false)
    }

    fn set_status(
        &self,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<Appointment, AppointmentError> {
        let mut c = self.client()?;
        let mut tx = c.transaction().map_err(err)?;
        let mut a = Self::one(&mut tx, reference, true)?;
        a.status = status;
        Self::write(&mut tx, &a)?;
        tx.commit().map_err(err)?;
        Ok(a)
    }

    fn move_if_free(
        &self,
        reference: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
        limit: u32,
    ) -> Result<Appointment, AppointmentError> {
        let mut c = self.client()?;
        let mut tx = c.transaction().map_err(err)?;
        let mut a = Self::one(&mut tx, reference, true)?;
        if lock_and_count(&mut tx, &a.office, start)? >= limit {
            return Err(slot_taken(&a.office, start));
        }
        a.start = start;
        a.end = end;
        a.reminded = false;
        Self::write(&mut tx, &a)?;
        tx.commit().map_err(err)?;
        Ok(a)
    }

    fn taken(
        &self,
        office: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<HashMap<NaiveDateTime, u32>, AppointmentError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT start_at, count(*) FROM appointments
                 WHERE office = $1 AND start_at >= $2 AND start_at < $3 AND status != 'cancelled'
                 GROUP BY start_at",
                &[
                    &office,
                    &from.format(TIME).to_string(),
                    &to.format(TIME).to_string(),
                ],
            )
            .map_err(err)?;
        let mut out = HashMap::new();
        for r in rows {
            let s: String = r.get(0);
            let n: i64 = r.get(1);
            if let Ok(t) = NaiveDateTime::parse_from_str(&s, TIME) {
                out.insert(t, u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        Ok(out)
    }

    fn for_contact(&self, key: &str) -> Result<Vec<Appointment>, AppointmentError> {
        self.list(
            "SELECT data FROM appointments WHERE contact_key = $1 AND status != 'cancelled'
             ORDER BY start_at, reference",
            &[&key],
        )
    }

    fn unreminded(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Appointment>, AppointmentError> {
        self.list(
            "SELECT data FROM appointments WHERE NOT reminded AND status != 'cancelled'
             AND start_at >= $1 AND start_at < $2 ORDER BY start_at, reference",
            &[&from.format(TIME).to_string(), &to.format(TIME).to_string()],
        )
    }

    fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError> {
        let mut c = self.client()?;
        let mut tx = c.transaction().map_err(err)?;
        let mut a = Self::one(&mut tx, reference, true)?;
        a.reminded = true;
        Self::write(&mut tx, &a)?;
        tx.commit().map_err(err)
    }

    fn mark_reminded_at(
        &self,
        reference: &str,
        start: NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        let mut c = self.client()?;
        let mut tx = c.transaction().map_err(err)?;
        // the row is locked: a move waits for this transaction, or this one sees the move
        let mut a = Self::one(&mut tx, reference, true)?;
        if a.start != start {
            return Ok(false);
        }
        a.reminded = true;
        Self::write(&mut tx, &a)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }
}

/// Booking-conversation states in PostgreSQL (table `conversation_states`, migration 3), shared
/// by every instance: the answer to a question one instance asked may reach another. Made by
/// [`PgStore::conversation_states`](crate::ticket::PgStore::conversation_states).
///
/// ```no_run
/// use std::sync::Arc;
/// use civic_router::appointment::conformance;
/// use civic_router::ticket::PgStore;
/// let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/test?schema=civic").unwrap();
/// conformance::check_state_store(&|| Arc::new(store.conversation_states())).unwrap();
/// ```
#[derive(Clone)]
pub struct PgConversationStateStore {
    pool: Pool<PostgresConnectionManager<NoTls>>,
}

impl fmt::Debug for PgConversationStateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConversationStateStore")
            .finish_non_exhaustive()
    }
}

fn state_err(e: ::postgres::Error) -> AppointmentError {
    AppointmentError::Store(format!("postgres conversation state: {e}"))
}

impl PgConversationStateStore {
    pub(crate) fn new(pool: Pool<PostgresConnectionManager<NoTls>>) -> Self {
        PgConversationStateStore { pool }
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, AppointmentError> {
        self.pool
            .get()
            .map_err(|e| AppointmentError::Store(format!("postgres conversation state: {e}")))
    }
}

impl ConversationStateStore for PgConversationStateStore {
    fn get(&self, key: &str) -> Result<Option<StoredState>, AppointmentError> {
        let row = self
            .client()?
            .query_opt(
                "SELECT data, expires FROM conversation_states WHERE key = $1",
                &[&key],
            )
            .map_err(state_err)?;
        row.map(|r| {
            Ok(StoredState {
                data: r.get(0),
                expires: parse_expires(&r.get::<_, String>(1))?,
            })
        })
        .transpose()
    }

    fn put(&self, key: &str, data: &str, expires: NaiveDateTime) -> Result<(), AppointmentError> {
        self.client()?
            .execute(
                "INSERT INTO conversation_states (key, data, expires) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expires = EXCLUDED.expires",
                &[&key, &data, &expires.format(EXPIRES).to_string()],
            )
            .map_err(state_err)?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<bool, AppointmentError> {
        let n = self
            .client()?
            .execute("DELETE FROM conversation_states WHERE key = $1", &[&key])
            .map_err(state_err)?;
        Ok(n > 0)
    }

    fn expire(&self, now: NaiveDateTime) -> Result<usize, AppointmentError> {
        let n = self
            .client()?
            .execute(
                "DELETE FROM conversation_states WHERE expires <= $1",
                &[&now.format(EXPIRES).to_string()],
            )
            .map_err(state_err)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
