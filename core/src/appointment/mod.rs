//! Appointments (cita previa): offices, their services and slots; booking, moving, confirming
//! and cancelling; reminders.
//!
//! [`Offices`] is read from a file (TOML or JSON): the services the city books (padrón,
//! registro, social worker…; some marked `urgent`), and the offices — one per district plus
//! central ones — with their opening hours, holidays, the services they offer, how many people
//! they attend at once per slot (`capacity`) and how many of those places are held back for
//! urgent services (`urgent_reserve`). A slot is `slot_minutes` long on the office's opening
//! hours.
//!
//! [`Appointments`] books through an [`AppointmentStore`], the durable part: the store alone
//! decides, atomically, whether a slot still has a place ([`AppointmentStore::insert_if_free`]),
//! so two requests can never take the last place twice — the memory store under one lock,
//! the SQLite store in a `BEGIN IMMEDIATE` transaction. The trait is synchronous: both stores
//! are blocking by nature (a lock, an embedded database), a booking is one short transaction,
//! and the callers (the pipeline's edge, Python threads, Node's worker pool) already run off
//! any event loop; an async store (PostgreSQL) can implement it over a blocking pool, and
//! [`conformance::check_store`] tells whether it keeps the contract.
//!
//! ```
//! use std::sync::Arc;
//! use chrono::NaiveDate;
//! use civic_router::appointment::{Appointments, MemoryAppointmentStore, Offices};
//! use civic_router::{ChannelKind, message::Contact};
//!
//! let offices = Offices::from_toml_str(r#"
//!     slot_minutes = 30
//!     holidays = ["2026-12-08"]
//!     [[service]]
//!     id = "padron"
//!     name = "Padrón"
//!     words = ["empadron*", "padron"]
//!     [[office]]
//!     id = "triana"
//!     name = "Distrito Triana"
//!     district = "triana"
//!     location = [37.383, -6.008]
//!     hours = ["mon-fri 09:00-10:00"]
//!     services = ["padron"]
//!     capacity = 1
//! "#, "offices.toml").unwrap();
//! let book = Appointments::new(Arc::new(offices), Arc::new(MemoryAppointmentStore::default()));
//! // Monday 7 December 2026, 11:00: today is closed for the day, the 8th is a holiday
//! let now = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(11, 0, 0).unwrap();
//! let slots = book.offer("padron", Some("triana"), now, 3).unwrap();
//! assert_eq!(slots[0].start.to_string(), "2026-12-09 09:00:00");
//! let contact = Contact { phone: Some("+34600000000".into()), ..Contact::default() };
//! let a = book.book("padron", "triana", slots[0].start, &contact, ChannelKind::Whatsapp, now).unwrap();
//! assert!(a.reference.starts_with("CP-"));
//! // the same slot again: full
//! assert!(book.book("padron", "triana", slots[0].start, &contact, ChannelKind::Sms, now).is_err());
//! book.cancel(&a.reference).unwrap();
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

pub use crate::error::AppointmentError;
use crate::error::{ConfigError, ConfigIssue};
use crate::message::{ChannelKind, Contact};
use crate::route::WeeklyHours;
use crate::text::{NormalizedText, Normalizer};

pub mod conformance;
pub mod conversation;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use postgres::{PgAppointmentStore, PgConversationStateStore};
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteAppointmentStore;
pub mod state;
pub use state::{open_conversation_state_store, ConversationStateStore};

/// A service the city books appointments for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Identifier.
    pub id: String,
    /// Human name (`Padrón: altas y cambios`).
    pub name: String,
    /// Words that name it in a message (`empadron*` matches a prefix), normalised like the
    /// text.
    #[serde(default)]
    pub words: Vec<String>,
    /// Urgent services may use the places held back (`urgent_reserve`): they are never left
    /// without a slot by ordinary bookings.
    #[serde(default)]
    pub urgent: bool,
}

/// An office as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    /// Identifier.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The district it serves (none: a central office).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `[lat, lon]`: the nearest office to a district is measured from its own office's
    /// location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<[f64; 2]>,
    /// Opening hours for appointments (`mon-fri 09:00-14:00`).
    pub hours: Vec<String>,
    /// The services it offers.
    pub services: Vec<String>,
    /// People attended at once per slot (default 1).
    #[serde(default = "one")]
    pub capacity: u32,
    /// Places per slot only urgent services may take (default 0).
    #[serde(default)]
    pub urgent_reserve: u32,
    /// Days it is closed besides the city's holidays.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

fn one() -> u32 {
    1
}
fn fifteen() -> u32 {
    15
}
fn fourteen() -> u32 {
    14
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficesFile {
    #[serde(default)]
    example: bool,
    #[serde(default = "fifteen")]
    slot_minutes: u32,
    #[serde(default = "fourteen")]
    horizon_days: u32,
    #[serde(default)]
    lead_minutes: u32,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default, rename = "service")]
    services: Vec<Service>,
    #[serde(default, rename = "office")]
    offices: Vec<Office>,
}

/// The offices, their services and calendars: immutable once loaded.
pub struct Offices {
    /// Whether the file is example content.
    pub example: bool,
    slot_minutes: u32,
    horizon_days: u32,
    lead_minutes: u32,
    holidays: HashSet<NaiveDate>,
    services: Vec<Service>,
    offices: Vec<(Office, WeeklyHours)>,
    /// per service, its phrases; per phrase, its words: (word, is_prefix)
    words: Vec<Vec<Vec<(String, bool)>>>,
}

impl fmt::Debug for Offices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offices")
            .field("services", &self.services.len())
            .field("offices", &self.offices.len())
            .finish()
    }
}

/// A free slot offered to a citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The office id.
    pub office: String,
    /// Its name.
    pub office_name: String,
    /// Start, local time.
    pub start: NaiveDateTime,
    /// End, local time.
    pub end: NaiveDateTime,
    /// Places still free.
    pub free: u32,
}

impl Slot {
    /// `miércoles 9 de diciembre a las 09:00`: how the slot is said in Spanish.
    ///
    /// ```
    /// use civic_router::appointment::Slot;
    /// let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap().and_hms_opt(9, 30, 0).unwrap();
    /// let s = Slot { office: "o".into(), office_name: "Distrito Triana".into(), start: t, end: t, free: 1 };
    /// assert_eq!(s.spanish(), "miércoles 9 de diciembre a las 09:30");
    /// ```
    pub fn spanish(&self) -> String {
        spanish_time(self.start)
    }
}

/// `miércoles 9 de diciembre a las 09:30`.
pub fn spanish_time(t: NaiveDateTime) -> String {
    const DAYS: [&str; 7] = [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ];
    const MONTHS: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    format!(
        "{} {} de {} a las {:02}:{:02}",
        DAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.hour(),
        t.minute()
    )
}

impl Offices {
    /// Parses an offices file in TOML.
    pub fn from_toml_str(src: &str, origin: &str) -> Result<Offices, ConfigError> {
        let de = toml::Deserializer::new(src);
        let f: OfficesFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::one(
                origin,
                if path == "." { "(syntax)".into() } else { path },
                e.into_inner().message().lines().next().unwrap_or("invalid"),
            )
        })?;
        Self::build(f, origin)
    }

    /// Parses an offices file in JSON (the same fields).
    ///
    /// ```
    /// let e = civic_router::appointment::Offices::from_json_str(r#"{"office": [{"id": "a"}]}"#, "o.json");
    /// assert!(e.unwrap_err().to_string().contains("o.json"));
    /// ```
    pub fn from_json_str(src: &str, origin: &str) -> Result<Offices, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(src);
        let f: OfficesFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::one(
                origin,
                if path == "." { "(syntax)".into() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        Self::build(f, origin)
    }

    /// Reads an offices file: JSON by its `.json` extension, TOML otherwise.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Offices, crate::Error> {
        let p = path.as_ref();
        let src = std::fs::read_to_string(p).map_err(|source| crate::Error::Io {
            path: p.display().to_string(),
            source,
        })?;
        let o = p.display().to_string();
        Ok(if o.to_ascii_lowercase().ends_with(".json") {
            Self::from_json_str(&src, &o)?
        } else {
            Self::from_toml_str(&src, &o)?
        })
    }

    fn build(f: OfficesFile, origin: &str) -> Result<Offices, ConfigError> {
        let mut issues = Vec::new();
        let mut issue = |field: String, reason: String| {
            issues.push(ConfigIssue {
                file: origin.to_string(),
                field,
                reason,
            })
        };
        if !(5..=240).contains(&f.slot_minutes) {
            issue(
                "slot_minutes".into(),
                format!("{} is not between 5 and 240", f.slot_minutes),
            );
        }
        if !(1..=366).contains(&f.horizon_days) {
            issue(
                "horizon_days".into(),
                format!("{} is not between 1 and 366", f.horizon_days),
            );
        }
        let mut sids = HashSet::new();
        for (i, s) in f.services.iter().enumerate() {
            if !sids.insert(s.id.as_str()) {
                issue(
                    format!("service[{i}].id"),
                    format!("duplicate service `{}`", s.id),
                );
            }
        }
        let mut oids = HashSet::new();
        let mut offices = Vec::new();
        for (i, o) in f.offices.iter().enumerate() {
            if !oids.insert(o.id.as_str()) {
                issue(
                    format!("office[{i}].id"),
                    format!("duplicate office `{}`", o.id),
                );
            }
            for (j, s) in o.services.iter().enumerate() {
                if !sids.contains(s.as_str()) {
                    issue(
                        format!("office[{i}].services[{j}]"),
                        format!("unknown service `{s}`"),
                    );
                }
            }
            if o.capacity == 0 {
                issue(format!("office[{i}].capacity"), "must be at least 1".into());
            }
            if o.urgent_reserve >= o.capacity && o.capacity > 0 {
                issue(
                    format!("office[{i}].urgent_reserve"),
                    format!(
                        "{} leaves no place for ordinary services (capacity {})",
                        o.urgent_reserve, o.capacity
                    ),
                );
            }
            match WeeklyHours::parse(&o.hours) {
                Ok(h) => offices.push((o.clone(), h)),
                Err(e) => issue(format!("office[{i}].hours"), e),
            }
        }
        if !issues.is_empty() {
            return Err(ConfigError { issues });
        }
        let normalizer = Normalizer::spanish();
        let words = f
            .services
            .iter()
            .map(|s| {
                s.words
                    .iter()
                    .map(|w| {
                        w.split_whitespace()
                            .map(|part| {
                                (
                                    normalizer.normalize_phrase(part.trim_end_matches('*')),
                                    part.ends_with('*'),
                                )
                            })
                            .filter(|(p, _)| !p.is_empty())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Ok(Offices {
            example: f.example,
            slot_minutes: f.slot_minutes,
            horizon_days: f.horizon_days,
            lead_minutes: f.lead_minutes,
            holidays: f.holidays.into_iter().collect(),
            services: f.services,
            offices,
            words,
        })
    }

    /// The offices named by a configuration's `[appointments]` section, if it has one.
    ///
    /// ```
    /// let cfg = civic_router::Config::from_path("../examples/sevilla/router.toml").unwrap();
    /// let offices = civic_router::appointment::Offices::from_config(&cfg).unwrap().unwrap();
    /// assert_eq!(offices.offices().filter(|o| o.district.is_some()).count(), 11);
    /// ```
    pub fn from_config(cfg: &crate::Config) -> Result<Option<Offices>, ConfigError> {
        match &cfg.offices_source {
            None => Ok(None),
            Some((name, src)) if name.to_ascii_lowercase().ends_with(".json") => {
                Self::from_json_str(src, name).map(Some)
            }
            Some((name, src)) => Self::from_toml_str(src, name).map(Some),
        }
    }

    /// The services.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// A service by id.
    pub fn service(&self, id: &str) -> Result<&Service, AppointmentError> {
        self.services
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| AppointmentError::UnknownService(id.to_string()))
    }

    /// The offices.
    pub fn offices(&self) -> impl Iterator<Item = &Office> {
        self.offices.iter().map(|o| &o.0)
    }

    /// An office by id.
    pub fn office(&self, id: &str) -> Result<&Office, AppointmentError> {
        self.offices
            .iter()
            .map(|o| &o.0)
            .find(|o| o.id == id)
            .ok_or_else(|| AppointmentError::UnknownOffice(id.to_string()))
    }

    fn hours(&self, id: &str) -> Option<&WeeklyHours> {
        self.offices.iter().find(|o| o.0.id == id).map(|o| &o.1)
    }

    /// The length of a slot.
    pub fn slot_minutes(&self) -> u32 {
        self.slot_minutes
    }

    /// The service a text names (its `words`, as whole words or prefixes), first in file order.
    ///
    /// ```
    /// let o = civic_router::appointment::Offices::from_toml_str(r#"
    ///     [[service]]
    ///     id = "padron"
    ///     name = "Padrón"
    ///     words = ["empadron*", "padron"]
    /// "#, "o.toml").unwrap();
    /// let n = civic_router::text::Normalizer::spanish();
    /// assert_eq!(o.find_service(&n.normalize("quiero cita para EMPADRONARME")).unwrap().id, "padron");
    /// ```
    pub fn find_service(&self, text: &NormalizedText) -> Option<&Service> {
        let tokens: Vec<&str> = text.tokens().collect();
        for (i, phrases) in self.words.iter().enumerate() {
            for phrase in phrases {
                if phrase.is_empty() || phrase.len() > tokens.len() {
                    continue;
                }
                let hit = tokens.windows(phrase.len()).any(|win| {
                    win.iter().zip(phrase).all(|(t, (w, prefix))| {
                        if *prefix {
                            t.starts_with(w.as_str())
                        } else {
                            t == w
                        }
                    })
                });
                if hit {
                    return Some(&self.services[i]);
                }
            }
        }
        None
    }

    /// Offices offering a service, best first: those of the district, then the others by
    /// distance from the district's own office (central offices count as anywhere when the
    /// district has none with a location).
    pub fn offices_for(
        &self,
        service: &str,
        district: Option<&str>,
    ) -> Result<Vec<&Office>, AppointmentError> {
        self.service(service)?;
        let offering: Vec<&Office> = self
            .offices()
            .filter(|o| o.services.iter().any(|s| s == service))
            .collect();
        let Some(d) = district else {
            return Ok(offering);
        };
        if !self.offices().any(|o| o.district.as_deref() == Some(d)) {
            return Err(AppointmentError::UnknownDistrict(d.to_string()));
        }
        let centre = self
            .offices()
            .find(|o| o.district.as_deref() == Some(d))
            .and_then(|o| o.location);
        let mut ranked: Vec<(f64, &Office)> = offering
            .into_iter()
            .map(|o| {
                let rank = if o.district.as_deref() == Some(d) {
                    -1.0
                } else {
                    match (centre, o.location) {
                        (Some(a), Some(b)) => crate::route::haversine_m((a[0], a[1]), (b[0], b[1])),
                        _ => f64::MAX,
                    }
                };
                (rank, o)
            })
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(ranked.into_iter().map(|r| r.1).collect())
    }

    /// Whether `start` is a slot of the office: an open, non-holiday day, on the slot grid,
    /// inside the hours.
    fn check_slot(&self, office: &Office, start: NaiveDateTime) -> Result<(), String> {
        let day = start.date();
        if self.holidays.contains(&day) || office.holidays.contains(&day) {
            return Err("a holiday".into());
        }
        let h = self.hours(&office.id).ok_or("unknown office")?;
        let m = start.hour() * 60 + start.minute();
        if start.second() != 0 {
            return Err("not on the slot grid".into());
        }
        let wd = day.weekday().num_days_from_monday() as usize;
        let ok = h.spans(wd).iter().any(|&(a, b)| {
            m >= a && m + self.slot_minutes <= b && (m - a) % self.slot_minutes == 0
        });
        if ok {
            Ok(())
        } else {
            Err("outside the opening hours or off the slot grid".into())
        }
    }

    /// The slot starts of an office from `from` (inclusive) for `days` days.
    fn starts(&self, office: &Office, from: NaiveDateTime, days: u32) -> Vec<NaiveDateTime> {
        let Some(h) = self.hours(&office.id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in 0..days {
            let Some(day) = from.date().checked_add_days(chrono::Days::new(d as u64)) else {
                break;
            };
            if self.holidays.contains(&day) || office.holidays.contains(&day) {
                continue;
            }
            for &(a, b) in h.spans(day.weekday().num_days_from_monday() as usize) {
                let mut m = a;
                while m + self.slot_minutes <= b {
                    if let Some(t) = day.and_hms_opt(m / 60, m % 60, 0) {
                        if t >= from {
                            out.push(t);
                        }
                    }
                    m += self.slot_minutes;
                }
            }
        }
        out
    }
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked, not yet confirmed.
    Booked,
    /// Confirmed by the citizen.
    Confirmed,
    /// Cancelled: the place is free again.
    Cancelled,
}

impl AppointmentStatus {
    /// `booked`, `confirmed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Confirmed => "confirmed",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "booked" => Some(AppointmentStatus::Booked),
            "confirmed" => Some(AppointmentStatus::Confirmed),
            "cancelled" => Some(AppointmentStatus::Cancelled),
            _ => None,
        }
    }

    /// Whether it holds a place.
    pub fn is_active(self) -> bool {
        self != AppointmentStatus::Cancelled
    }
}

/// A booked appointment.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    /// The reference the citizen quotes (`CP-7KD3QX`).
    pub reference: String,
    /// The office.
    pub office: String,
    /// The service.
    pub service: String,
    /// Start, local time.
    pub start: NaiveDateTime,
    /// End, local time.
    pub end: NaiveDateTime,
    /// Status.
    pub status: AppointmentStatus,
    /// Who booked it (redacted in `Debug`).
    pub contact: Contact,
    /// The channel to remind them on.
    pub channel: ChannelKind,
    /// Booked for an urgent service (may use the reserve).
    pub urgent: bool,
    /// When it was booked.
    pub created_at: DateTime<Utc>,
    /// Whether the reminder was sent.
    pub reminded: bool,
}

impl fmt::Debug for Appointment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Appointment")
            .field("reference", &self.reference)
            .field("office", &self.office)
            .field("service", &self.service)
            .field("start", &self.start)
            .field("status", &self.status)
            .field("channel", &self.channel)
            .field("contact", &"<redacted>")
            .finish()
    }
}

/// The key a contact's appointments are found by: the channel's id for them.
pub fn contact_key(c: &Contact) -> String {
    c.phone
        .clone()
        .or_else(|| c.id.clone())
        .or_else(|| c.email.clone())
        .unwrap_or_default()
}

/// A reminder to send: to whom, on which channel, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// The appointment's reference.
    pub reference: String,
    /// Who.
    pub to: Contact,
    /// On which channel.
    pub channel: ChannelKind,
    /// The text, in Spanish.
    pub text: String,
    /// When the appointment is, local time.
    pub start: NaiveDateTime,
}

/// Durable storage of appointments. Implementations must make
/// [`insert_if_free`](Self::insert_if_free) and [`move_if_free`](Self::move_if_free) atomic:
/// count the places taken in the slot and write, with no other writer in between.
pub trait AppointmentStore: Send + Sync {
    /// Writes the appointment if fewer than `limit` active appointments hold its office and
    /// start; otherwise [`AppointmentError::SlotTaken`].
    fn insert_if_free(&self, a: &Appointment, limit: u32) -> Result<(), AppointmentError>;
    /// An appointment by reference.
    fn get(&self, reference: &str) -> Result<Appointment, AppointmentError>;
    /// Sets the status.
    fn set_status(
        &self,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<Appointment, AppointmentError>;
    /// Moves an active appointment to another slot of the same office if it has a place.
    fn move_if_free(
        &self,
        reference: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
        limit: u32,
    ) -> Result<Appointment, AppointmentError>;
    /// Active appointments per slot start of an office, in `[from, to)`.
    fn taken(
        &self,
        office: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<HashMap<NaiveDateTime, u32>, AppointmentError>;
    /// A contact's active appointments, soonest first.
    fn for_contact(&self, key: &str) -> Result<Vec<Appointment>, AppointmentError>;
    /// Active appointments not yet reminded starting in `[from, to)`.
    fn unreminded(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Appointment>, AppointmentError>;
    /// Records that the reminder was sent.
    fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError>;
    /// Records that the reminder of the appointment as it starts at `start` is sent (or
    /// durably queued); `Ok(false)`, changing nothing, when it was moved in the meantime — its
    /// new time needs a reminder of its own. Stores make the check and the write one step; this
    /// default, for stores written before it, reads then writes.
    fn mark_reminded_at(
        &self,
        reference: &str,
        start: NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        if self.get(reference)?.start != start {
            return Ok(false);
        }
        self.mark_reminded(reference)?;
        Ok(true)
    }
}

/// Opens an appointment store by URL, as the case stores open: `memory://`, `sqlite://PATH` (or
/// a bare path), `postgres://…[?schema=NAME]` (the cases' database; needs the `postgres`
/// feature). A store kind this build lacks is a `Store` error.
///
/// ```
/// use civic_router::appointment::open_appointment_store;
/// let store = open_appointment_store("memory://").unwrap();
/// assert!(store.for_contact("nobody").unwrap().is_empty());
/// assert!(open_appointment_store("ftp://x").is_err());
/// ```
pub fn open_appointment_store(url: &str) -> Result<Arc<dyn AppointmentStore>, crate::Error> {
    #[cfg(feature = "tickets")]
    {
        use crate::ticket::StoreUrl;
        match url.parse::<StoreUrl>()? {
            StoreUrl::Memory => Ok(Arc::new(MemoryAppointmentStore::default())),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(p) => Ok(Arc::new(SqliteAppointmentStore::open(p)?)),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => Ok(Arc::new(
                crate::ticket::PgStore::connect(&u)?.appointments(),
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
            "memory://" | "memory:" => Ok(Arc::new(MemoryAppointmentStore::default())),
            other => Err(AppointmentError::Store(format!(
                "store `{other}`: this build opens only memory:// appointment stores"
            ))
            .into()),
        }
    }
}

/// The stores a booking service needs, opened from one URL by [`open_booking_stores`].
#[derive(Clone)]
pub struct BookingStores {
    /// The appointments.
    pub appointments: Arc<dyn AppointmentStore>,
    /// The state of booking conversations, kept beside them.
    pub states: Arc<dyn ConversationStateStore>,
}

impl fmt::Debug for BookingStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingStores").finish_non_exhaustive()
    }
}

/// Opens the appointment store and the conversation-state store one URL names, as
/// [`open_appointment_store`] and [`open_conversation_state_store`] would, but for
/// PostgreSQL with one connection pool: `memory://` (both in memory), `sqlite://PATH` or a
/// bare path (both tables in that file), `postgres://…[?schema=NAME]` (both in the cases'
/// database). Several instances given the same URL share appointments and conversations: a
/// citizen's answer may reach any of them.
///
/// ```
/// use civic_router::appointment::open_booking_stores;
/// let dir = std::env::temp_dir().join(format!("booking-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let url = format!("sqlite://{}", dir.join("citas.db").display());
/// let a = open_booking_stores(&url).unwrap();
/// let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
/// a.states.put("+34600000000", "{}", now).unwrap();
/// // another process opening the same URL sees it
/// let b = open_booking_stores(&url).unwrap();
/// assert!(b.states.get("+34600000000").unwrap().is_some());
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// ```no_run
/// let stores = civic_router::appointment::open_booking_stores(
///     "postgres://postgres@127.0.0.1:5432/test?schema=civic",
/// ).unwrap();
/// assert!(stores.appointments.for_contact("+34600000000").unwrap().is_empty());
/// ```
pub fn open_booking_stores(url: &str) -> Result<BookingStores, crate::Error> {
    #[cfg(feature = "tickets")]
    {
        use crate::ticket::StoreUrl;
        match url.parse::<StoreUrl>()? {
            StoreUrl::Memory => Ok(BookingStores {
                appointments: Arc::new(MemoryAppointmentStore::default()),
                states: Arc::new(state::MemoryConversationStateStore::default()),
            }),
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(p) => Ok(BookingStores {
                appointments: Arc::new(SqliteAppointmentStore::open(&p)?),
                states: Arc::new(state::SqliteConversationStateStore::open(&p)?),
            }),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => {
                let pg = crate::ticket::PgStore::connect(&u)?;
                Ok(BookingStores {
                    appointments: Arc::new(pg.appointments()),
                    states: Arc::new(pg.conversation_states()),
                })
            }
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
            "memory://" | "memory:" => Ok(BookingStores {
                appointments: Arc::new(MemoryAppointmentStore::default()),
                states: Arc::new(state::MemoryConversationStateStore::default()),
            }),
            other => Err(AppointmentError::Store(format!(
                "store `{other}`: this build opens only memory:// appointment stores"
            ))
            .into()),
        }
    }
}

/// Appointments in memory, under one lock.
#[derive(Debug, Default)]
pub struct MemoryAppointmentStore {
    inner: Mutex<BTreeMap<String, Appointment>>,
}

impl MemoryAppointmentStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Appointment>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn count_at(m: &BTreeMap<String, Appointment>, office: &str, start: NaiveDateTime) -> u32 {
    m.values()
        .filter(|a| a.office == office && a.start == start && a.status.is_active())
        .count() as u32
}

impl AppointmentStore for MemoryAppointmentStore {
    fn insert_if_free(&self, a: &Appointment, limit: u32) -> Result<(), AppointmentError> {
        let mut m = self.lock();
        if count_at(&m, &a.office, a.start) >= limit {
            return Err(AppointmentError::SlotTaken {
                office: a.office.clone(),
                start: a.start.format("%Y-%m-%d %H:%M").to_string(),
            });
        }
        if m.contains_key(&a.reference) {
            return Err(AppointmentError::Store(format!(
                "duplicate reference {}",
                a.reference
            )));
        }
        m.insert(a.reference.clone(), a.clone());
        Ok(())
    }

    fn get(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        self.lock()
            .get(reference)
            .cloned()
            .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))
    }

    fn set_status(
        &self,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<Appointment, AppointmentError> {
        let mut m = self.lock();
        let a = m
            .get_mut(reference)
            .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))?;
        a.status = status;
        Ok(a.clone())
    }

    fn move_if_free(
        &self,
        reference: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
        limit: u32,
    ) -> Result<Appointment, AppointmentError> {
        let mut m = self.lock();
        let office = m
            .get(reference)
            .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))?
            .office
            .clone();
        if count_at(&m, &office, start) >= limit {
            return Err(AppointmentError::SlotTaken {
                office,
                start: start.format("%Y-%m-%d %H:%M").to_string(),
            });
        }
        let a = m.get_mut(reference).expect("checked above");
        a.start = start;
        a.end = end;
        a.reminded = false;
        Ok(a.clone())
    }

    fn taken(
        &self,
        office: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<HashMap<NaiveDateTime, u32>, AppointmentError> {
        let mut out = HashMap::new();
        for a in self.lock().values() {
            if a.office == office && a.status.is_active() && a.start >= from && a.start < to {
                *out.entry(a.start).or_default() += 1;
            }
        }
        Ok(out)
    }

    fn for_contact(&self, key: &str) -> Result<Vec<Appointment>, AppointmentError> {
        let mut v: Vec<Appointment> = self
            .lock()
            .values()
            .filter(|a| a.status.is_active() && contact_key(&a.contact) == key)
            .cloned()
            .collect();
        v.sort_by_key(|a| a.start);
        Ok(v)
    }

    fn unreminded(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<Appointment>, AppointmentError> {
        let mut v: Vec<Appointment> = self
            .lock()
            .values()
            .filter(|a| a.status.is_active() && !a.reminded && a.start >= from && a.start < to)
            .cloned()
            .collect();
        v.sort_by_key(|a| a.start);
        Ok(v)
    }

    fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError> {
        let mut m = self.lock();
        let a = m
            .get_mut(reference)
            .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))?;
        a.reminded = true;
        Ok(())
    }

    fn mark_reminded_at(
        &self,
        reference: &str,
        start: NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        let mut m = self.lock();
        let a = m
            .get_mut(reference)
            .ok_or_else(|| AppointmentError::NotFound(reference.to_string()))?;
        if a.start != start {
            return Ok(false);
        }
        a.reminded = true;
        Ok(true)
    }
}

/// A new appointment reference: `CP-` and six letters or digits (no 0/O, 1/I), random.
pub fn new_reference() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut x = h.finish();
    let mut s = String::from("CP-");
    for _ in 0..6 {
        s.push(ALPHABET[(x % 32) as usize] as char);
        x /= 32;
    }
    s
}

/// Booking: offices and a store.
#[derive(Clone)]
pub struct Appointments {
    offices: Arc<Offices>,
    store: Arc<dyn AppointmentStore>,
}

impl fmt::Debug for Appointments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Appointments")
            .field("offices", &self.offices)
            .finish()
    }
}

impl Appointments {
    /// Booking over these offices and this store.
    pub fn new(offices: Arc<Offices>, store: Arc<dyn AppointmentStore>) -> Self {
        Appointments { offices, store }
    }

    /// The offices.
    pub fn offices(&self) -> &Offices {
        &self.offices
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AppointmentStore> {
        &self.store
    }

    fn limit(&self, office: &Office, service: &Service) -> u32 {
        if service.urgent {
            office.capacity
        } else {
            office.capacity - office.urgent_reserve
        }
    }

    fn earliest_from(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + Duration::minutes(self.offices.lead_minutes as i64)
    }

    /// The first `n` free slots of one office for a service, from `now`.
    pub fn free_slots(
        &self,
        service: &str,
        office: &str,
        now: NaiveDateTime,
        n: usize,
    ) -> Result<Vec<Slot>, AppointmentError> {
        self.free_slots_after(service, office, now, None, n)
    }

    /// Like [`free_slots`](Self::free_slots), only slots starting after `after` (the next
    /// page of offers).
    pub fn free_slots_after(
        &self,
        service: &str,
        office: &str,
        now: NaiveDateTime,
        after: Option<NaiveDateTime>,
        n: usize,
    ) -> Result<Vec<Slot>, AppointmentError> {
        let s = self.offices.service(service)?;
        let o = self.offices.office(office)?;
        if !o.services.iter().any(|x| x == service) {
            return Err(AppointmentError::NotOffered {
                office: office.into(),
                service: service.into(),
            });
        }
        let mut from = self.earliest_from(now);
        if let Some(a) = after {
            from = from.max(a + Duration::minutes(1));
        }
        let days = (now.date() + Duration::days(self.offices.horizon_days as i64 + 1))
            .signed_duration_since(from.date())
            .num_days()
            .max(0) as u32;
        let starts = self.offices.starts(o, from, days);
        let (Some(first), Some(last)) = (starts.first(), starts.last()) else {
            return Ok(Vec::new());
        };
        let taken = self
            .store
            .taken(&o.id, *first, *last + Duration::minutes(1))?;
        let limit = self.limit(o, s);
        let len = Duration::minutes(self.offices.slot_minutes as i64);
        Ok(starts
            .into_iter()
            .filter_map(|t| {
                let used = taken.get(&t).copied().unwrap_or(0);
                (used < limit).then(|| Slot {
                    office: o.id.clone(),
                    office_name: o.name.clone(),
                    start: t,
                    end: t + len,
                    free: limit - used,
                })
            })
            .take(n)
            .collect())
    }

    /// Up to `n` free slots for a service, all in one office: the district's own office when
    /// it has a slot today or tomorrow; else the nearest office that has one; else whichever
    /// office has the earliest slot within the horizon.
    pub fn offer(
        &self,
        service: &str,
        district: Option<&str>,
        now: NaiveDateTime,
        n: usize,
    ) -> Result<Vec<Slot>, AppointmentError> {
        self.offer_after(service, district, now, None, n)
    }

    /// Like [`offer`](Self::offer), only slots starting after `after` (the citizen asked for
    /// other hours).
    pub fn offer_after(
        &self,
        service: &str,
        district: Option<&str>,
        now: NaiveDateTime,
        after: Option<NaiveDateTime>,
        n: usize,
    ) -> Result<Vec<Slot>, AppointmentError> {
        let offices = self.offices.offices_for(service, district)?;
        let soon = now.date() + Duration::days(1);
        let mut best: Option<Vec<Slot>> = None;
        for o in offices {
            let slots = self.free_slots_after(service, &o.id, now, after, n)?;
            let Some(first) = slots.first() else { continue };
            if first.start.date() <= soon {
                return Ok(slots);
            }
            if best
                .as_ref()
                .is_none_or(|b| b.first().is_some_and(|bf| first.start < bf.start))
            {
                best = Some(slots);
            }
        }
        best.ok_or_else(|| AppointmentError::NoSlot {
            service: service.into(),
            days: self.offices.horizon_days,
        })
    }

    /// Books one place in a slot. The slot must be one the office offers; the store refuses
    /// it when full ([`AppointmentError::SlotTaken`]).
    pub fn book(
        &self,
        service: &str,
        office: &str,
        start: NaiveDateTime,
        contact: &Contact,
        channel: ChannelKind,
        now: NaiveDateTime,
    ) -> Result<Appointment, AppointmentError> {
        let s = self.offices.service(service)?;
        let o = self.offices.office(office)?;
        if !o.services.iter().any(|x| x == service) {
            return Err(AppointmentError::NotOffered {
                office: office.into(),
                service: service.into(),
            });
        }
        self.bookable(o, start, now)?;
        let a = Appointment {
            reference: new_reference(),
            office: o.id.clone(),
            service: s.id.clone(),
            start,
            end: start + Duration::minutes(self.offices.slot_minutes as i64),
            status: AppointmentStatus::Booked,
            contact: contact.clone(),
            channel,
            urgent: s.urgent,
            created_at: Utc::now(),
            reminded: false,
        };
        self.store.insert_if_free(&a, self.limit(o, s))?;
        Ok(a)
    }

    fn bookable(
        &self,
        o: &Office,
        start: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<(), AppointmentError> {
        let not = |reason: String| AppointmentError::NotASlot {
            office: o.id.clone(),
            start: start.format("%Y-%m-%d %H:%M").to_string(),
            reason,
        };
        if start < self.earliest_from(now) {
            return Err(not("in the past or too soon".into()));
        }
        if start > now + Duration::days(self.offices.horizon_days as i64 + 1) {
            return Err(not("beyond the booking horizon".into()));
        }
        self.offices.check_slot(o, start).map_err(not)
    }

    /// Books the earliest free slot (see [`offer`](Self::offer)); when another request takes
    /// it first, the next one.
    pub fn book_earliest(
        &self,
        service: &str,
        district: Option<&str>,
        contact: &Contact,
        channel: ChannelKind,
        now: NaiveDateTime,
    ) -> Result<Appointment, AppointmentError> {
        for _ in 0..8 {
            let slots = self.offer(service, district, now, 8)?;
            for s in &slots {
                match self.book(service, &s.office, s.start, contact, channel, now) {
                    Err(AppointmentError::SlotTaken { .. }) => continue,
                    other => return other,
                }
            }
        }
        Err(AppointmentError::NoSlot {
            service: service.into(),
            days: self.offices.horizon_days,
        })
    }

    /// Confirms an appointment.
    pub fn confirm(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        let a = self.store.get(reference)?;
        if a.status == AppointmentStatus::Cancelled {
            return Err(AppointmentError::InvalidState {
                reference: reference.into(),
                status: a.status.as_str().into(),
                action: "confirm".into(),
            });
        }
        self.store
            .set_status(reference, AppointmentStatus::Confirmed)
    }

    /// Cancels an appointment: its place is free again.
    pub fn cancel(&self, reference: &str) -> Result<Appointment, AppointmentError> {
        let a = self.store.get(reference)?;
        if a.status == AppointmentStatus::Cancelled {
            return Err(AppointmentError::InvalidState {
                reference: reference.into(),
                status: a.status.as_str().into(),
                action: "cancel".into(),
            });
        }
        self.store
            .set_status(reference, AppointmentStatus::Cancelled)
    }

    /// Moves an appointment to another slot of its office (kept if the new one is full).
    pub fn move_to(
        &self,
        reference: &str,
        start: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<Appointment, AppointmentError> {
        let a = self.store.get(reference)?;
        if a.status == AppointmentStatus::Cancelled {
            return Err(AppointmentError::InvalidState {
                reference: reference.into(),
                status: a.status.as_str().into(),
                action: "move".into(),
            });
        }
        let o = self.offices.office(&a.office)?;
        let s = self.offices.service(&a.service)?;
        self.bookable(o, start, now)?;
        let end = start + Duration::minutes(self.offices.slot_minutes as i64);
        self.store
            .move_if_free(reference, start, end, self.limit(o, s))
    }

    /// A contact's active appointments, soonest first.
    pub fn for_contact(&self, contact: &Contact) -> Result<Vec<Appointment>, AppointmentError> {
        self.store.for_contact(&contact_key(contact))
    }

    /// The reminders due: active appointments starting within `window` after `now` that were
    /// not reminded yet, each with its contact, channel and Spanish text. Send them (the
    /// channel's reply, or a WhatsApp template beyond the 24-hour window), then
    /// [`mark_reminded`](Self::mark_reminded) — or let the cases' outbox deliver them, with
    /// retries and once only: `civic_router::ticket::schedule_reminders` (feature `tickets`).
    pub fn reminders_due(
        &self,
        now: NaiveDateTime,
        window: Duration,
    ) -> Result<Vec<Reminder>, AppointmentError> {
        let due = self.store.unreminded(now, now + window)?;
        Ok(due
            .into_iter()
            .map(|a| {
                let office = self.offices.office(&a.office).ok();
                let service = self
                    .offices
                    .service(&a.service)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|_| a.service.clone());
                let text = format!(
                    "Recordatorio: tiene cita para {service} el {} en {}{}. Referencia {}. Si no puede acudir, responda CANCELAR.",
                    spanish_time(a.start),
                    office.map_or(a.office.as_str(), |o| o.name.as_str()),
                    office
                        .and_then(|o| o.address.as_deref())
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default(),
                    a.reference
                );
                Reminder {
                    reference: a.reference,
                    to: a.contact,
                    channel: a.channel,
                    text,
                    start: a.start,
                }
            })
            .collect())
    }

    /// Records that a reminder was sent.
    pub fn mark_reminded(&self, reference: &str) -> Result<(), AppointmentError> {
        self.store.mark_reminded(reference)
    }

    /// Records that the reminder for the appointment at `start` was sent or queued; `false`
    /// when it has moved since (see [`AppointmentStore::mark_reminded_at`]).
    pub fn mark_reminded_at(
        &self,
        reference: &str,
        start: NaiveDateTime,
    ) -> Result<bool, AppointmentError> {
        self.store.mark_reminded_at(reference, start)
    }
}
