//! Self-service from Python: `KnowledgeBase` (search the FAQ, gap keys) and `Appointments`
//! (offer, book, move, confirm, cancel, reminders, booking conversations).
//!
//! Thin: every behaviour is the core's (`civic_router::faq`, `civic_router::appointment`).
//! Results are dicts in the core's JSON shapes; store calls run detached from the interpreter
//! and inside the panic guard; errors are `AppointmentError` (code `APPOINTMENT`),
//! `ConfigError` or `IoError`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use civic_router::appointment::conversation::Conversations;
use civic_router::appointment::{
    open_appointment_store, AppointmentStore, Appointments, MemoryAppointmentStore, Offices,
};
use civic_router::faq::KnowledgeBase;
use civic_router::message::Contact;
use civic_router::{ChannelKind, Error};
use pyo3::prelude::*;
use pythonize::{depythonize, pythonize};

use crate::errors::{detached, guard, malformed, to_pyerr};

fn py_value<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize(py, v).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

fn channel(py: Python<'_>, s: &str) -> PyResult<ChannelKind> {
    s.parse()
        .map_err(|e: civic_router::message::UnknownChannel| malformed(py, e.to_string()))
}

fn contact(py: Python<'_>, c: &Bound<'_, PyAny>) -> PyResult<Contact> {
    depythonize(c).map_err(|e| malformed(py, format!("not a contact: {e}")))
}

/// The knowledge base: ``KnowledgeBase.from_path(path)`` (TOML, or JSON by extension),
/// ``KnowledgeBase.from_toml(text)``, ``KnowledgeBase.from_json(text)``.
#[pyclass(frozen, name = "KnowledgeBase", module = "civic_router._native")]
pub(crate) struct PyKnowledgeBase {
    inner: Arc<KnowledgeBase>,
}

#[pymethods]
impl PyKnowledgeBase {
    /// Reads a knowledge-base file.
    #[staticmethod]
    fn from_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let kb = detached(py, move || KnowledgeBase::from_path(path))?;
        Ok(PyKnowledgeBase {
            inner: Arc::new(kb.map_err(|e| to_pyerr(py, e))?),
        })
    }

    /// Parses a TOML knowledge base.
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<string>".to_string()))]
    fn from_toml(py: Python<'_>, text: &str, origin: String) -> PyResult<Self> {
        guard(py, || {
            let kb = KnowledgeBase::from_toml_str(text, &origin)
                .map_err(|e| to_pyerr(py, Error::Config(e)))?;
            Ok(PyKnowledgeBase {
                inner: Arc::new(kb),
            })
        })
    }

    /// Parses a JSON knowledge base (``{"entry": [...]}`` or a list of entries).
    #[staticmethod]
    #[pyo3(signature = (text, origin = "<string>".to_string()))]
    fn from_json(py: Python<'_>, text: &str, origin: String) -> PyResult<Self> {
        guard(py, || {
            let kb = KnowledgeBase::from_json_str(text, &origin)
                .map_err(|e| to_pyerr(py, Error::Config(e)))?;
            Ok(PyKnowledgeBase {
                inner: Arc::new(kb),
            })
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The ``top`` best entries for a question, best first: dicts with ``entry`` (the entry as
    /// a dict), ``score``, ``confidence``, ``matched`` and ``answers`` (whether it reaches
    /// ``threshold`` under the knowledge base's rule).
    #[pyo3(signature = (question, top = 1, threshold = 0.5))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        question: &str,
        top: usize,
        threshold: f32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let hits = guard(py, || Ok(self.inner.search_top(question, top)))?;
        let out: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "entry": &*h.entry,
                    "score": h.score,
                    "confidence": h.confidence,
                    "matched": h.matched,
                    "answers": h.answers(threshold),
                })
            })
            .collect();
        py_value(py, &out)
    }

    /// The key an unanswered question is counted under in a gap log.
    fn gap_key(&self, py: Python<'_>, question: &str) -> PyResult<String> {
        guard(py, || Ok(self.inner.gap_key(question)))
    }
}

/// Appointments: ``Appointments(offices_path, store=None, conversation_minutes=15)``;
/// ``store`` is a SQLite file (created if needed), a store URL (``postgres://…``) or ``None`` for memory. Times are local
/// ``datetime`` objects without a time zone (the city's time).
#[pyclass(frozen, name = "Appointments", module = "civic_router._native")]
pub(crate) struct PyAppointments {
    talk: Arc<Conversations>,
}

impl PyAppointments {
    pub(crate) fn book(&self) -> &Appointments {
        self.talk.appointments()
    }
}

fn appt_err(py: Python<'_>, e: civic_router::error::AppointmentError) -> PyErr {
    to_pyerr(py, Error::Appointment(e))
}

#[pymethods]
impl PyAppointments {
    #[new]
    #[pyo3(signature = (offices, store = None, conversation_minutes = 15))]
    fn new(
        py: Python<'_>,
        offices: PathBuf,
        store: Option<PathBuf>,
        conversation_minutes: u32,
    ) -> PyResult<Self> {
        let built = detached(py, move || -> Result<Conversations, Error> {
            let offices = Offices::from_path(offices)?;
            // a path is an SQLite file; sqlite://, postgres://, memory:// URLs choose
            let store: Arc<dyn AppointmentStore> = match store {
                Some(p) => open_appointment_store(&p.to_string_lossy())?,
                None => Arc::new(MemoryAppointmentStore::default()),
            };
            Ok(Conversations::new(
                Appointments::new(Arc::new(offices), store),
                Duration::minutes(conversation_minutes as i64),
            ))
        })?;
        Ok(PyAppointments {
            talk: Arc::new(built.map_err(|e| to_pyerr(py, e))?),
        })
    }

    /// Up to ``n`` free slots for a service (dicts), in the district's office or the nearest.
    #[pyo3(signature = (service, *, now, district = None, n = 3))]
    fn offer<'py>(
        &self,
        py: Python<'py>,
        service: String,
        now: NaiveDateTime,
        district: Option<String>,
        n: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = detached(py, || {
            self.book().offer(&service, district.as_deref(), now, n)
        })?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Books a slot; returns the appointment (a dict with its ``reference``). Raises
    /// ``AppointmentError`` when the slot is full, closed or unknown.
    #[pyo3(signature = (service, office, start, *, contact, channel, now))]
    #[allow(clippy::too_many_arguments)]
    fn book_slot<'py>(
        &self,
        py: Python<'py>,
        service: String,
        office: String,
        start: NaiveDateTime,
        contact: &Bound<'py, PyAny>,
        channel: &str,
        now: NaiveDateTime,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self::contact(py, contact)?;
        let ch = self::channel(py, channel)?;
        let r = detached(py, || {
            self.book().book(&service, &office, start, &c, ch, now)
        })?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Books the earliest free slot for a service.
    #[pyo3(signature = (service, *, contact, channel, now, district = None))]
    fn book_earliest<'py>(
        &self,
        py: Python<'py>,
        service: String,
        contact: &Bound<'py, PyAny>,
        channel: &str,
        now: NaiveDateTime,
        district: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self::contact(py, contact)?;
        let ch = self::channel(py, channel)?;
        let r = detached(py, || {
            self.book()
                .book_earliest(&service, district.as_deref(), &c, ch, now)
        })?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Confirms an appointment.
    fn confirm<'py>(&self, py: Python<'py>, reference: String) -> PyResult<Bound<'py, PyAny>> {
        let r = detached(py, || self.book().confirm(&reference))?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Cancels an appointment.
    fn cancel<'py>(&self, py: Python<'py>, reference: String) -> PyResult<Bound<'py, PyAny>> {
        let r = detached(py, || self.book().cancel(&reference))?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Moves an appointment to another slot of its office.
    #[pyo3(signature = (reference, start, *, now))]
    fn move_to<'py>(
        &self,
        py: Python<'py>,
        reference: String,
        start: NaiveDateTime,
        now: NaiveDateTime,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = detached(py, || self.book().move_to(&reference, start, now))?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Reminders due within ``hours`` after ``now``: dicts with ``reference``, ``to``,
    /// ``channel``, ``text`` and ``start``.
    #[pyo3(signature = (now, hours = 24))]
    fn reminders_due<'py>(
        &self,
        py: Python<'py>,
        now: NaiveDateTime,
        hours: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = detached(py, || {
            self.book().reminders_due(now, Duration::hours(hours))
        })?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }

    /// Records that a reminder was sent.
    fn mark_reminded(&self, py: Python<'_>, reference: String) -> PyResult<()> {
        let r = detached(py, || self.book().mark_reminded(&reference))?;
        r.map_err(|e| appt_err(py, e))
    }

    /// One message of a booking conversation: returns the turn (``text``, ``options`` as
    /// ``[id, title]`` pairs, ``appointment``, ``done``). Raises ``AppointmentError`` when the
    /// citizen answers a question that expired.
    #[pyo3(signature = (text, *, contact, channel, now, district = None))]
    fn converse<'py>(
        &self,
        py: Python<'py>,
        text: String,
        contact: &Bound<'py, PyAny>,
        channel: &str,
        now: NaiveDateTime,
        district: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self::contact(py, contact)?;
        let ch = self::channel(py, channel)?;
        let r = detached(py, || {
            self.talk.handle(&c, ch, &text, district.as_deref(), now)
        })?;
        py_value(py, &r.map_err(|e| appt_err(py, e))?)
    }
}
