//! Appointment reminders through the cases' outbox.
//!
//! [`Appointments::reminders_due`] says which citizens to remind; [`schedule_reminders`] writes
//! one outbox row of kind [`OutboxKind::Reminder`] per reminder — no ticket needed — and only
//! after that commit marks the appointments reminded. The relay then delivers the rows like
//! follow-ups: through the route of the citizen's channel, with retries and dead letters.
//!
//! The two writes are in two stores (the appointment store, the case store), so a crash can
//! fall between them. The order and the row's idempotency key make that harmless: the row is
//! written first, so no reminder is lost; the key is the appointment's reference and start
//! ([`reminder_key`]), unique in the outbox, so the next pass — which finds the appointment
//! still unreminded — writes nothing new and only marks it. A moved appointment has a new
//! start, hence a new key and a reminder of its own; an appointment moved while a pass runs is
//! not marked by it ([`AppointmentStore::mark_reminded_at`](crate::appointment::AppointmentStore::mark_reminded_at)),
//! so the next pass reminds the citizen of the new time.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store::{OutboxItem, OutboxKind};
use super::TicketStore;
use crate::appointment::{Appointments, Reminder};
use crate::error::Error;

/// What one pass of [`schedule_reminders`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderReport {
    /// Appointments whose reminder was due: active, not reminded, starting within the window.
    pub due: usize,
    /// Reminders this pass wrote to the outbox.
    pub enqueued: usize,
    /// Reminders the outbox held already (a pass that stopped before marking the appointment
    /// wrote them): not written again.
    pub already_queued: usize,
    /// Appointments marked reminded.
    pub marked: usize,
    /// Appointments moved while the pass ran: not marked, so the next pass reminds their
    /// citizens of the new time.
    pub moved: usize,
}

/// The idempotency key of the reminder of an appointment starting at `start` (local time):
/// `reminder:<reference>:<start>`. Moving the appointment changes it.
///
/// ```
/// use civic_router::ticket::reminder_key;
/// let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap().and_hms_opt(9, 30, 0).unwrap();
/// assert_eq!(reminder_key("CP-7KD3QX", t), "reminder:CP-7KD3QX:2026-12-09T09:30");
/// ```
pub fn reminder_key(reference: &str, start: NaiveDateTime) -> String {
    format!("reminder:{reference}:{}", start.format("%Y-%m-%dT%H:%M"))
}

/// The outbox row of a reminder, due at `at`: to the citizen on the channel they booked on,
/// with the appointment's reference and [`reminder_key`].
///
/// ```
/// use civic_router::appointment::Reminder;
/// use civic_router::ticket::{reminder_row, OutboxKind};
/// use civic_router::{ChannelKind, message::Contact};
/// let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap().and_hms_opt(9, 0, 0).unwrap();
/// let r = Reminder {
///     reference: "CP-7KD3QX".into(), channel: ChannelKind::Sms, start,
///     to: Contact { phone: Some("+34600111222".into()), ..Contact::default() },
///     text: "Recordatorio: tiene cita …".into(),
/// };
/// let row = reminder_row(&r, chrono::Utc::now());
/// assert_eq!((row.kind, row.target.as_str()), (OutboxKind::Reminder, "sms"));
/// assert_eq!(row.appointment.as_deref(), Some("CP-7KD3QX"));
/// assert!(row.reference.is_none());
/// assert_eq!(row.payload["start"], "2026-12-09T09:00:00");
/// ```
pub fn reminder_row(r: &Reminder, at: DateTime<Utc>) -> OutboxItem {
    OutboxItem {
        id: 0,
        kind: OutboxKind::Reminder,
        target: r.channel.as_str().to_string(),
        reference: None,
        appointment: Some(r.reference.clone()),
        event: "reminder".into(),
        idempotency_key: reminder_key(&r.reference, r.start),
        to: Some(r.to.clone()),
        payload: json!({
            "channel": r.channel,
            "appointment": r.reference,
            "start": r.start,
            "text": r.text,
        }),
        text: r.text.clone(),
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
        last_error: None,
    }
}

/// Queues the reminders due — appointments starting within `window` after `now` — in the
/// cases' outbox, then marks them reminded (see the [module](self) documentation for why a
/// crash between the two neither loses nor doubles a reminder). `now` carries the city's time
/// zone: its local time selects the appointments, its instant dates the rows. The relay
/// delivers them through the route of each citizen's channel.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{Duration, NaiveDate, TimeZone};
/// use civic_router::appointment::{Appointments, MemoryAppointmentStore, Offices};
/// use civic_router::ticket::{block_on, schedule_reminders, MemoryStore, OutboxKind, TicketStore};
/// use civic_router::{ChannelKind, message::Contact};
///
/// let offices = Offices::from_toml_str(r#"
///     [[service]]
///     id = "padron"
///     name = "Padrón"
///     [[office]]
///     id = "triana"
///     name = "Distrito Triana"
///     hours = ["mon-fri 09:00-10:00"]
///     services = ["padron"]
/// "#, "offices.toml").unwrap();
/// let book = Appointments::new(Arc::new(offices), Arc::new(MemoryAppointmentStore::default()));
/// let booked_at = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(11, 0, 0).unwrap();
/// let start = NaiveDate::from_ymd_opt(2026, 12, 9).unwrap().and_hms_opt(9, 0, 0).unwrap();
/// let who = Contact { phone: Some("+34600111222".into()), ..Contact::default() };
/// book.book("padron", "triana", start, &who, ChannelKind::Sms, booked_at).unwrap();
///
/// let cases = MemoryStore::new();
/// let now = chrono_tz::Europe::Madrid.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap();
/// let r = block_on(schedule_reminders(&cases, &book, now, Duration::hours(24))).unwrap();
/// assert_eq!((r.due, r.enqueued, r.marked), (1, 1, 1));
/// let rows = block_on(cases.pending()).unwrap();
/// assert_eq!(rows[0].kind, OutboxKind::Reminder);
/// assert!(rows[0].text.contains("Distrito Triana"));
/// // a second pass finds nothing due: one reminder, however often it runs
/// let again = block_on(schedule_reminders(&cases, &book, now, Duration::hours(24))).unwrap();
/// assert_eq!((again.due, again.enqueued), (0, 0));
/// ```
pub async fn schedule_reminders<Tz: TimeZone>(
    store: &dyn TicketStore,
    appointments: &Appointments,
    now: DateTime<Tz>,
    window: Duration,
) -> Result<ReminderReport, Error> {
    let local = now.naive_local();
    let at = now.with_timezone(&Utc);
    let due = appointments.reminders_due(local, window)?;
    let rows: Vec<OutboxItem> = due.iter().map(|r| reminder_row(r, at)).collect();
    let mut report = ReminderReport {
        due: due.len(),
        ..ReminderReport::default()
    };
    if rows.is_empty() {
        return Ok(report);
    }
    // first durably in the outbox; only then marked
    report.enqueued = store.enqueue_reminders(rows).await?;
    report.already_queued = report.due - report.enqueued;
    for r in &due {
        if appointments.mark_reminded_at(&r.reference, r.start)? {
            report.marked += 1;
        } else {
            report.moved += 1;
        }
    }
    Ok(report)
}
