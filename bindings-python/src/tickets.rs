//! `Desk`: cases (tickets), their store, delivery and statistics, behind a Python class.
//!
//! Every call that touches the store runs detached from the interpreter (the GIL is released
//! while SQLite commits) and inside a panic guard. Results are plain dicts and lists in the
//! JSON shapes of the core (`Ticket`, `Ingested`, `Report`, …).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use civic_router::error::DeliveryError;
use civic_router::ticket::report::Report;
use civic_router::ticket::route::{MailRoute, Relay, RetryPolicy, Route};
use civic_router::ticket::{
    block_on, Desk, MemoryStore, OutboxItem, Status, StatusRequest, StoreUrl, TicketStore,
};
use civic_router::{ChannelKind, Error};
use pyo3::prelude::*;
use pythonize::pythonize;

use crate::errors::{detached, guard, to_pyerr};
use crate::message::{from_py, message_arg};
use crate::router::PyRouter;
use crate::selfservice::PyAppointments;

fn py_value<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize(py, v).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

fn parse_status(py: Python<'_>, s: &str) -> PyResult<Status> {
    s.parse().map_err(|e: civic_router::ticket::UnknownStatus| {
        to_pyerr(py, civic_router::StoreError::invalid(e.to_string()).into())
    })
}

/// A Python callable as a route: called with the outbox row as a dict; returning normally is
/// success, raising is a failure to retry (or final, if it raises `ValueError`).
struct PyRoute {
    callable: Py<PyAny>,
}

#[async_trait::async_trait]
impl Route for PyRoute {
    async fn send(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        Python::attach(|py| {
            let arg = py_value(py, item)
                .map_err(|e| DeliveryError::permanent(&item.target, e.to_string()))?;
            match self.callable.bind(py).call1((arg,)) {
                Ok(_) => Ok(()),
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyValueError>(py) => {
                    Err(DeliveryError::permanent(&item.target, e.to_string()))
                }
                Err(e) => Err(DeliveryError::retryable(&item.target, e.to_string())),
            }
        })
    }
}

/// Cases: ingests messages into tickets, changes their status, delivers them and reports.
///
/// ``Desk(router, store=None)``: ``store`` is the path of a SQLite file (created if needed),
/// a store URL (``sqlite://PATH``, ``postgres://user@host/db?schema=NAME``, ``memory://``),
/// or ``None`` for a store in memory.
#[pyclass(frozen, name = "Desk", module = "civic_router._native")]
pub(crate) struct PyDesk {
    inner: Arc<Desk>,
}

impl PyDesk {
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Desk) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let desk = &*self.inner;
        detached(py, || f(desk))?.map_err(|e| to_pyerr(py, e))
    }
}

#[pymethods]
impl PyDesk {
    #[new]
    #[pyo3(signature = (router, store = None))]
    fn new(py: Python<'_>, router: &Bound<'_, PyRouter>, store: Option<PathBuf>) -> PyResult<Self> {
        let router = router.get().inner.clone();
        let built = detached(py, move || -> Result<Desk, Error> {
            // a path is an SQLite file; `sqlite://`, `postgres://`, `memory://` URLs choose
            let store: Arc<dyn TicketStore> = match store {
                Some(p) => p.to_string_lossy().parse::<StoreUrl>()?.open()?,
                None => Arc::new(MemoryStore::new()),
            };
            Desk::with_store(router, store)
        })?;
        Ok(PyDesk {
            inner: Arc::new(built.map_err(|e| to_pyerr(py, e))?),
        })
    }

    /// Routes a message (a ``Message`` or a dict) and keeps it: inbox, ticket, outbox, in one
    /// commit. Returns after the commit (acknowledge the webhook then) a dict: ``decision``,
    /// ``duplicate_delivery``, ``ticket``, ``reply``, ``status_query``.
    #[pyo3(signature = (message, *, at = None))]
    fn ingest<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        at: Option<DateTime<Utc>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let msg = message_arg(message)?.into_message();
        let out = self.run(py, move |d| match at {
            Some(t) => block_on(d.ingest_at(&msg, t)),
            None => block_on(d.ingest(&msg)),
        })?;
        py_value(py, &out)
    }

    /// Changes a ticket's status (``accepted``, ``in_progress``, ``resolved``, …). Raises
    /// ``StoreError`` (``kind`` ``refused_transition`` or ``unknown_ticket``).
    #[pyo3(signature = (reference, status, *, actor, note = String::new(), at = None))]
    fn change_status<'py>(
        &self,
        py: Python<'py>,
        reference: String,
        status: &str,
        actor: String,
        note: String,
        at: Option<DateTime<Utc>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let to = parse_status(py, status)?;
        let mut req = StatusRequest::new(to, actor).with_note(note);
        if let Some(t) = at {
            req = req.at(t);
        }
        let t = self.run(py, move |d| block_on(d.change_status(&reference, req)))?;
        py_value(py, &t)
    }

    /// Moves a ticket to another category; its department comes from the routing table unless
    /// given. The new department receives the case, the old one is told.
    #[pyo3(signature = (reference, category, *, actor, note = String::new(), department = None))]
    fn recategorise<'py>(
        &self,
        py: Python<'py>,
        reference: String,
        category: String,
        actor: String,
        note: String,
        department: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = self.run(py, move |d| {
            block_on(d.recategorise(
                &reference,
                &category,
                department.as_deref(),
                &actor,
                &note,
                Utc::now(),
            ))
        })?;
        py_value(py, &t)
    }

    /// One ticket, by its reference (as a citizen writes it: ``sev 2026 123`` works).
    fn ticket<'py>(&self, py: Python<'py>, reference: String) -> PyResult<Bound<'py, PyAny>> {
        let t = self.run(py, move |d| block_on(d.ticket(&reference)))?;
        py_value(py, &t)
    }

    /// The tickets a contact (a dict like a message's ``contact``) reported or asked about.
    fn tickets_of<'py>(
        &self,
        py: Python<'py>,
        channel: &str,
        contact: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ch, c) = channel_contact(py, channel, contact)?;
        let v = self.run(py, move |d| block_on(d.tickets_of(ch, &c)))?;
        py_value(py, &v)
    }

    /// A contact's messages and replies, oldest first.
    fn conversation_of<'py>(
        &self,
        py: Python<'py>,
        channel: &str,
        contact: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ch, c) = channel_contact(py, channel, contact)?;
        let v = self.run(py, move |d| block_on(d.conversation_of(ch, &c)))?;
        py_value(py, &v)
    }

    /// The messages and replies about a ticket, oldest first.
    fn conversation_of_ticket<'py>(
        &self,
        py: Python<'py>,
        reference: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = self.run(py, move |d| block_on(d.conversation_of_ticket(&reference)))?;
        py_value(py, &v)
    }

    /// Outbox rows still to deliver.
    fn pending<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.run(py, |d| Ok(block_on(d.store().pending())?))?;
        py_value(py, &v)
    }

    /// Outbox rows given up on.
    fn dead_letters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.run(py, |d| Ok(block_on(d.store().dead_letters())?))?;
        py_value(py, &v)
    }

    /// Queues the reminders of the appointments starting within ``hours`` after ``at``
    /// (default: now; the router's time zone gives the local time) in the outbox, then marks
    /// them reminded; ``relay_once`` delivers them to ``notify`` like the follow-ups (rows of
    /// ``kind`` ``"reminder"``, with ``appointment`` and no ``reference``). Run it as often as
    /// you like: each reminder is queued once, and a moved appointment gets a new one.
    /// Returns the counts (``due``, ``enqueued``, ``already_queued``, ``marked``, ``moved``).
    #[pyo3(signature = (appointments, *, hours = 24, at = None))]
    fn schedule_reminders<'py>(
        &self,
        py: Python<'py>,
        appointments: &Bound<'py, PyAppointments>,
        hours: i64,
        at: Option<DateTime<Utc>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !(0..=24 * 366).contains(&hours) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "hours must be between 0 and 8784",
            ));
        }
        let book = appointments.get().book().clone();
        let r = self.run(py, move |d| {
            block_on(d.schedule_reminders(
                &book,
                at.unwrap_or_else(Utc::now),
                chrono::Duration::hours(hours),
            ))
        })?;
        py_value(py, &r)
    }

    /// Delivers the due outbox rows once: departments to ``webhooks[id]`` (HTTP JSON with an
    /// ``Idempotency-Key``), else to ``route(row)`` if given, else as e-mail files in
    /// ``mail_dir``; citizens' notifications and appointment reminders to ``notify(row)``. A
    /// callable that raises fails the attempt (``ValueError``: for good). Returns the counts
    /// (``claimed``, ``sent``, ``retried``, ``dead``).
    #[pyo3(signature = (*, webhooks = None, route = None, notify = None, mail_dir = None,
        max_attempts = None, base_delay_s = 5.0, at = None))]
    #[allow(clippy::too_many_arguments)]
    fn relay_once<'py>(
        &self,
        py: Python<'py>,
        webhooks: Option<BTreeMap<String, String>>,
        route: Option<Py<PyAny>>,
        notify: Option<Py<PyAny>>,
        mail_dir: Option<PathBuf>,
        max_attempts: Option<u32>,
        base_delay_s: f64,
        at: Option<DateTime<Utc>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let desk = self.inner.clone();
        let mut relay = Relay::new(desk.store().clone()).retry(RetryPolicy {
            max_attempts: max_attempts.unwrap_or(desk.max_attempts()),
            base: std::time::Duration::from_secs_f64(base_delay_s.max(0.0)),
            ..RetryPolicy::default()
        });
        for (dep, url) in webhooks.unwrap_or_default() {
            let r = civic_router::ticket::route::HttpRoute::new(&url)
                .map_err(|e| to_pyerr(py, e.into()))?;
            relay = relay.department(dep, Arc::new(r));
        }
        if let Some(dir) = mail_dir {
            let mut mail = MailRoute::new(dir, "010@civic-router.invalid");
            for d in desk.router().config().departments {
                if let Some(e) = d.email {
                    mail = mail.with_recipient(d.id, e);
                }
            }
            let mail: Arc<dyn Route> = Arc::new(mail);
            relay = relay.default_department(mail.clone()).default_channel(mail);
        }
        if let Some(r) = route {
            relay = relay.default_department(Arc::new(PyRoute { callable: r }));
        }
        if let Some(n) = notify {
            relay = relay.default_channel(Arc::new(PyRoute { callable: n }));
        }
        let report = detached(py, move || -> Result<_, Error> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| civic_router::StoreError::backend(format!("runtime: {e}")))?;
            Ok(rt.block_on(relay.run_once_at(at.unwrap_or_else(Utc::now)))?)
        })?
        .map_err(|e| to_pyerr(py, e))?;
        py_value(py, &report)
    }

    /// The statistics: a dict (``format="dict"``), or the text of ``"table"``, ``"json"`` or
    /// ``"html"`` (a self-contained page with charts). ``month`` restricts it (``YYYY-MM``).
    #[pyo3(signature = (*, month = None, format = "dict"))]
    fn report<'py>(
        &self,
        py: Python<'py>,
        month: Option<String>,
        format: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r: Report = self.run(py, move |d| block_on(d.report(month.as_deref())))?;
        guard(py, || match format {
            "dict" => py_value(py, &r),
            "table" => Ok(r.to_table().into_pyobject(py)?.into_any()),
            "html" => Ok(r.to_html().into_pyobject(py)?.into_any()),
            "json" => {
                let s = serde_json::to_string_pretty(&r)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
                Ok(s.into_pyobject(py)?.into_any())
            }
            other => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "format must be dict, table, json or html, got {other:?}"
            ))),
        })
    }

    /// Pseudonymises tickets closed more than ``tickets.retention_days`` before ``now``
    /// (default: now) with the secret ``key``; returns how many.
    #[pyo3(signature = (key, *, now = None))]
    fn apply_retention(
        &self,
        py: Python<'_>,
        key: Vec<u8>,
        now: Option<DateTime<Utc>>,
    ) -> PyResult<usize> {
        if key.len() < 16 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "the key must be at least 16 bytes",
            ));
        }
        self.run(py, move |d| {
            block_on(d.apply_retention(now.unwrap_or_else(Utc::now), &key))
        })
    }

    fn __repr__(&self) -> String {
        format!("Desk(prefix={:?})", self.inner.policy().prefix)
    }
}

fn channel_contact(
    py: Python<'_>,
    channel: &str,
    contact: &Bound<'_, PyAny>,
) -> PyResult<(ChannelKind, civic_router::message::Contact)> {
    let ch: ChannelKind = channel
        .parse()
        .map_err(|e: civic_router::message::UnknownChannel| {
            crate::errors::malformed(py, e.to_string())
        })?;
    let c = from_py(contact).map_err(|e| crate::errors::malformed(py, format!("contact: {e}")))?;
    Ok((ch, c))
}
