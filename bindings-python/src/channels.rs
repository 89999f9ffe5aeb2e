//! `Webhook`: one provider's channel (WhatsApp, Twilio SMS and Voice, Open311, web form) as a
//! Python class, built from the core's `ChannelSettings`, and `segment_info`.
//!
//! A request crosses as the provider sent it — raw body bytes, headers, the full URL — and
//! the core verifies the signature over those bytes and parses them; nothing is decoded or
//! re-serialised here.

use std::sync::Arc;

use civic_router::channel::segments::segment_info as core_segment_info;
use civic_router::channel::settings::{AnyChannel, ChannelSettings};
use civic_router::channel::{Channel, Inbound, InboundRequest, Reply, ReplyContext};
use civic_router::message::Contact;
use civic_router::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString};
use pythonize::pythonize;
use serde_json::Value;

use crate::errors::{detached, guard, malformed, to_pyerr};
use crate::message::{from_py, type_name, PyDecision, PyMessage};

/// The raw body: `bytes`, `bytearray` or `str` (encoded as UTF-8).
fn body_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "body: expected bytes, bytearray or str, got {}",
        type_name(obj)
    )))
}

/// Headers: a mapping (a dict, a framework's header object) or an iterable of pairs.
fn headers_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj else {
        return Ok(Vec::new());
    };
    let pairs = if obj.hasattr("items")? {
        obj.call_method0("items")?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    for item in pairs.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "headers: expected a mapping or (name, value) pairs, got {}",
            type_name(obj)
        ))
    })? {
        let (name, value): (String, String) = item?
            .extract()
            .map_err(|_| PyTypeError::new_err("headers: every header must be a (str, str) pair"))?;
        out.push((name, value));
    }
    Ok(out)
}

/// What one provider request carried: messages to route, status callbacks, ignored items.
#[pyclass(frozen, get_all, name = "Inbound", module = "civic_router._native")]
pub(crate) struct PyInbound {
    /// The citizens' messages, ready for `Router.route`.
    messages: Py<PyList>,
    /// Delivery and call status callbacks (dicts: channel, message_id, state, …).
    statuses: Py<PyList>,
    /// Items neither routed nor tracked, with the reason (dicts: id, reason).
    ignored: Py<PyList>,
}

#[pymethods]
impl PyInbound {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Inbound(messages={}, statuses={}, ignored={})",
            self.messages.bind(py).len(),
            self.statuses.bind(py).len(),
            self.ignored.bind(py).len()
        )
    }
}

fn inbound_to_py(py: Python<'_>, inbound: Inbound) -> PyResult<PyInbound> {
    let messages = PyList::empty(py);
    for m in inbound.messages {
        messages.append(Py::new(py, PyMessage { inner: m })?)?;
    }
    let statuses = pythonize(py, &inbound.statuses)?.cast_into::<PyList>()?;
    let ignored = pythonize(py, &inbound.ignored)?.cast_into::<PyList>()?;
    Ok(PyInbound {
        messages: messages.unbind(),
        statuses: statuses.unbind(),
        ignored: ignored.unbind(),
    })
}

/// One provider's webhook endpoint: verifies and parses what the provider posts, and renders
/// replies in the provider's format.
///
/// ``Webhook({"provider": "whatsapp", "app_secret": "…", "verify_token": "…"})``; providers:
/// ``whatsapp``, ``sms``, ``voice``, ``open311``, ``web``. Immutable and thread-safe.
#[pyclass(frozen, name = "Webhook", module = "civic_router._native")]
pub(crate) struct PyWebhook {
    inner: Arc<AnyChannel>,
}

impl PyWebhook {
    fn request(
        method: &str,
        url: &str,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<InboundRequest> {
        Ok(InboundRequest {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers: headers_arg(headers)?,
            body: match body {
                Some(b) => body_arg(b)?,
                None => Vec::new(),
            },
        })
    }
}

#[pymethods]
impl PyWebhook {
    #[new]
    fn new(py: Python<'_>, settings: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value: Value = from_py(settings).map_err(|reason| malformed(py, reason))?;
        guard(py, || {
            let built = ChannelSettings::from_value(value)
                .map_err(|e| to_pyerr(py, Error::Config(e)))?
                .build();
            Ok(PyWebhook {
                inner: Arc::new(built),
            })
        })
    }

    /// The provider (`whatsapp`, `sms`, `voice`, `open311`, `web`).
    #[getter]
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    /// The channel its messages carry (`whatsapp`, `sms`, `voice`, `app`, `web`).
    #[getter]
    fn channel(&self) -> &'static str {
        self.inner.kind().as_str()
    }

    /// Bodies larger than this are refused before parsing.
    #[getter]
    fn max_body_bytes(&self) -> usize {
        self.inner.limits().max_body_bytes
    }

    /// Size check, signature check, parse: what a webhook endpoint calls with the raw body.
    #[pyo3(signature = (body, *, url, headers = None, method = "POST"))]
    fn receive(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        url: &str,
        headers: Option<&Bound<'_, PyAny>>,
        method: &str,
    ) -> PyResult<PyInbound> {
        let req = Self::request(method, url, headers, Some(body))?;
        let channel = self.inner.clone();
        let inbound =
            detached(py, move || channel.receive(&req))?.map_err(|e| to_pyerr(py, e.into()))?;
        inbound_to_py(py, inbound)
    }

    /// Checks the request's signature (or API key) only; raises `SignatureError`.
    #[pyo3(signature = (body, *, url, headers = None, method = "POST"))]
    fn verify(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        url: &str,
        headers: Option<&Bound<'_, PyAny>>,
        method: &str,
    ) -> PyResult<()> {
        let req = Self::request(method, url, headers, Some(body))?;
        let channel = self.inner.clone();
        detached(py, move || {
            req.check_size(channel.kind(), channel.limits())?;
            channel.verify(&req)
        })?
        .map_err(|e| to_pyerr(py, e.into()))
    }

    /// WhatsApp's subscription handshake: the challenge to answer (200, text/plain) for the
    /// `GET` URL Meta calls; `SignatureError` (403) on a wrong verify token.
    fn handshake(&self, py: Python<'_>, url: &str) -> PyResult<String> {
        let req = InboundRequest::get(url);
        guard(py, || {
            self.inner
                .handshake(&req)
                .map_err(|e| to_pyerr(py, e.into()))
        })
    }

    /// Renders a reply in the channel's format: a dict with `status`, `content_type`, `body`
    /// (and `segments` for SMS). `reply` is a `Decision` (its reply text, links and hand-off;
    /// `fallback` when it has none) or a reply dict (`text`, `links`, `options`, `ticket`,
    /// `handoff`, `end`). `to` is the inbound `Message` answered (its contact and id) or a
    /// contact dict; WhatsApp needs one. `hours_since_last_inbound` past 24 makes WhatsApp use
    /// its template.
    #[pyo3(signature = (reply, *, to = None, hours_since_last_inbound = None,
        in_reply_to = None, fallback = "Hemos recibido su mensaje.", ticket = None))]
    #[allow(clippy::too_many_arguments)]
    fn render<'py>(
        &self,
        py: Python<'py>,
        reply: &Bound<'py, PyAny>,
        to: Option<&Bound<'py, PyAny>>,
        hours_since_last_inbound: Option<f64>,
        in_reply_to: Option<String>,
        fallback: &str,
        ticket: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut reply = match reply.cast::<PyDecision>() {
            Ok(d) => Reply::from_decision(&d.get().inner, fallback),
            Err(_) => {
                if reply.cast::<pyo3::types::PyDict>().is_err() {
                    return Err(PyTypeError::new_err(format!(
                        "reply: expected a civic_router.Decision or a dict, got {}",
                        type_name(reply)
                    )));
                }
                from_py::<Reply>(reply).map_err(|r| malformed(py, format!("reply: {r}")))?
            }
        };
        if ticket.is_some() {
            reply.ticket = ticket;
        }
        let mut cx = match to {
            Some(t) if !t.is_none() => match t.cast::<PyMessage>() {
                Ok(m) => ReplyContext::replying_to(&m.get().inner),
                Err(_) => ReplyContext {
                    to: from_py::<Contact>(t).map_err(|r| malformed(py, format!("to: {r}")))?,
                    ..ReplyContext::default()
                },
            },
            _ => ReplyContext::default(),
        };
        cx.hours_since_last_inbound = hours_since_last_inbound;
        if in_reply_to.is_some() {
            cx.in_reply_to = in_reply_to;
        }
        let rendered = guard(py, || {
            self.inner
                .render(&reply, &cx)
                .map_err(|e| to_pyerr(py, e.into()))
        })?;
        Ok(pythonize(py, &rendered)?)
    }

    fn __repr__(&self) -> String {
        format!("Webhook(provider={:?})", self.inner.provider())
    }
}

/// How an SMS text is encoded and how many segments it costs (Twilio's rules: GSM-7 with its
/// extension table, else UCS-2).
#[pyfunction]
pub(crate) fn segment_info<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize(py, &core_segment_info(text))?)
}
