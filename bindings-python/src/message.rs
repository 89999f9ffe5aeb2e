//! `Message`, `Decision`, `RuleTrace` and the plug-in `Context` as Python classes, and the
//! conversions of Python values into core types.
//!
//! Every conversion goes through the core's serde definitions, so a dict is checked exactly as
//! a JSON line is (unknown fields refused, channel names checked); what is wrong comes back as
//! `InputError` with serde's reason.

use civic_router::classify::Context;
use civic_router::rules::RuleTrace;
use civic_router::{Decision, Message};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple,
};
use pythonize::pythonize;
use serde_json::Value;

use crate::errors::malformed;

/// How deep a value may nest (the limit serde_json applies to JSON text): a deeper value
/// would recurse the converter off the stack.
const MAX_DEPTH: usize = 128;

/// Why a Python value is not JSON data, and where (path segments, innermost first).
struct NotJson {
    path: Vec<String>,
    reason: String,
}

impl NotJson {
    fn new(reason: impl Into<String>) -> Self {
        NotJson {
            path: Vec::new(),
            reason: reason.into(),
        }
    }

    fn at(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    fn message(self) -> String {
        let mut path = String::new();
        let n = self.path.len();
        for (i, seg) in self.path.iter().rev().enumerate() {
            // a path through deep nesting: its start is enough
            if i == 5 && n > 6 {
                path.push('…');
                break;
            }
            if !seg.starts_with('[') && !path.is_empty() {
                path.push('.');
            }
            path.push_str(seg);
        }
        if path.is_empty() {
            self.reason
        } else {
            format!("{path}: {}", self.reason)
        }
    }
}

/// Converts a Python value into JSON data: dict (str keys), list or tuple, str, bool, int,
/// float (finite), None. Strict on purpose: a `str` is never read as a list of characters,
/// `bytes` are not text, and nesting is bounded.
fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, NotJson> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_str()
            .map(|s| Value::String(s.to_string()))
            .map_err(|e| NotJson::new(e.to_string()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(NotJson::new("integer out of range"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| NotJson::new(format!("{} is not a finite number", f.value())));
    }
    if depth == 0 {
        return Err(NotJson::new(format!(
            "nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| NotJson::new(format!("a key is a {}, not a str", type_name(&k))))?
                .to_str()
                .map_err(|e| NotJson::new(e.to_string()))?
                .to_string();
            let value = to_json(&v, depth - 1).map_err(|e| e.at(key.clone()))?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    let items: Option<Vec<Bound<'_, PyAny>>> = if let Ok(l) = obj.cast::<PyList>() {
        Some(l.iter().collect())
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        Some(t.iter().collect())
    } else {
        None
    };
    if let Some(items) = items {
        return items
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(v, depth - 1).map_err(|e| e.at(format!("[{i}]"))))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if obj.cast::<PyMapping>().is_ok() {
        // any other mapping, read as a dict
        let d = PyDict::new(obj.py());
        let items = obj.call_method0("items").and_then(|it| {
            for kv in it.try_iter()? {
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = kv?.extract()?;
                d.set_item(k, v)?;
            }
            Ok(())
        });
        items.map_err(|e| NotJson::new(e.to_string()))?;
        return to_json(d.as_any(), depth);
    }
    Err(NotJson::new(format!(
        "a {} is not JSON data (str, int, float, bool, None, list, dict)",
        type_name(obj)
    )))
}

/// Reads a core type from a Python value through its serde definition (the same checks as
/// JSON text); the error names the field (`location.lat: …`).
pub(crate) fn from_py<T: serde::de::DeserializeOwned>(obj: &Bound<'_, PyAny>) -> Result<T, String> {
    let value = to_json(obj, MAX_DEPTH).map_err(NotJson::message)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        if path == "." {
            reason
        } else {
            format!("{path}: {reason}")
        }
    })
}

/// Reads a message from a dict (or any mapping) with the fields of the JSON format.
pub(crate) fn message_from_mapping(obj: &Bound<'_, PyAny>) -> PyResult<Message> {
    if obj.cast::<PyDict>().is_err() && obj.cast::<PyMapping>().is_err() {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "expected a civic_router.Message or a dict, got {}",
            type_name(obj)
        )));
    }
    from_py::<Message>(obj).map_err(|reason| malformed(obj.py(), reason))
}

/// The type name of a value, for error messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A message given to the router: a `Message` object (borrowed, no copy) or a converted dict.
// Lives on the stack for one call; boxing the converted message would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum MessageArg<'py> {
    /// A `civic_router.Message`.
    Object(Bound<'py, PyMessage>),
    /// A dict, converted.
    Owned(Message),
}

impl MessageArg<'_> {
    /// The core message.
    pub(crate) fn get(&self) -> &Message {
        match self {
            MessageArg::Object(m) => &m.get().inner,
            MessageArg::Owned(m) => m,
        }
    }

    /// The core message, owned.
    pub(crate) fn into_message(self) -> Message {
        match self {
            MessageArg::Object(m) => m.get().inner.clone(),
            MessageArg::Owned(m) => m,
        }
    }
}

/// Accepts a `Message` or a dict.
pub(crate) fn message_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<MessageArg<'py>> {
    match obj.cast::<PyMessage>() {
        Ok(m) => Ok(MessageArg::Object(m.clone())),
        Err(_) => message_from_mapping(obj).map(MessageArg::Owned),
    }
}

/// One message from a citizen: `Message(id, channel, text, *, contact=…, …)`.
///
/// Immutable. The fields are those of the JSON format; `to_dict()` / `from_dict()` and
/// `to_json()` / `from_json()` convert.
#[pyclass(frozen, eq, name = "Message", module = "civic_router._native")]
#[derive(PartialEq)]
pub(crate) struct PyMessage {
    pub(crate) inner: Message,
}

#[pymethods]
impl PyMessage {
    #[new]
    #[pyo3(signature = (id, channel, text = None, *, contact = None, attachments = None,
        location = None, language = None, received_at = None, conversation_id = None,
        metadata = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        id: Bound<'_, PyAny>,
        channel: Bound<'_, PyAny>,
        text: Option<Bound<'_, PyAny>>,
        contact: Option<Bound<'_, PyAny>>,
        attachments: Option<Bound<'_, PyAny>>,
        location: Option<Bound<'_, PyAny>>,
        language: Option<Bound<'_, PyAny>>,
        received_at: Option<Bound<'_, PyAny>>,
        conversation_id: Option<Bound<'_, PyAny>>,
        metadata: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let d = PyDict::new(py);
        d.set_item("id", id)?;
        d.set_item("channel", channel)?;
        let received_at = match received_at {
            // a datetime (aware): its ISO 8601 form, which is RFC 3339
            Some(t) if t.hasattr("isoformat")? => Some(t.call_method0("isoformat")?),
            other => other,
        };
        for (k, v) in [
            ("text", text),
            ("contact", contact),
            ("attachments", attachments),
            ("location", location),
            ("language", language),
            ("received_at", received_at),
            ("conversation_id", conversation_id),
            ("metadata", metadata),
        ] {
            if let Some(v) = v {
                d.set_item(k, v)?;
            }
        }
        Ok(PyMessage {
            inner: message_from_mapping(d.as_any())?,
        })
    }

    /// A message from a dict with the fields of the JSON format.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyMessage {
            inner: message_from_mapping(data)?,
        })
    }

    /// A message from JSON text (`str`, or UTF-8 `bytes`).
    #[staticmethod]
    fn from_json(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = data.py();
        let parsed = if let Ok(s) = data.cast::<PyString>() {
            let s = s.to_str().map_err(|e| malformed(py, e.to_string()))?;
            serde_json::from_str::<Message>(s)
        } else if let Ok(b) = data.cast::<PyBytes>() {
            let s = std::str::from_utf8(b.as_bytes())
                .map_err(|e| malformed(py, format!("not UTF-8: {e}")))?;
            serde_json::from_str::<Message>(s)
        } else if let Ok(b) = data.cast::<PyByteArray>() {
            let bytes = b.to_vec();
            let s = std::str::from_utf8(&bytes)
                .map_err(|e| malformed(py, format!("not UTF-8: {e}")))?;
            serde_json::from_str::<Message>(s)
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "expected str or bytes, got {}",
                type_name(data)
            )));
        };
        parsed
            .map(|inner| PyMessage { inner })
            .map_err(|e| malformed(py, e.to_string()))
    }

    /// The provider's message id.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// The channel: `whatsapp`, `sms`, `voice`, `app`, `web`, `email` or `in_person`.
    #[getter]
    fn channel(&self) -> &'static str {
        self.inner.channel.as_str()
    }

    /// What the person wrote or said.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }

    /// The sender (`id`, `phone`, `email`, `name`; absent fields left out).
    #[getter]
    fn contact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.contact)?)
    }

    /// Files sent with the message.
    #[getter]
    fn attachments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.attachments)?)
    }

    /// Where the problem is, if given.
    #[getter]
    fn location<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.location)?)
    }

    /// BCP 47 language tag, if known.
    #[getter]
    fn language(&self) -> Option<&str> {
        self.inner.language.as_deref()
    }

    /// When it was received (RFC 3339), if known.
    #[getter]
    fn received_at(&self) -> Option<String> {
        self.inner.received_at.map(|t| t.to_rfc3339())
    }

    /// Conversation or thread id, if any.
    #[getter]
    fn conversation_id(&self) -> Option<&str> {
        self.inner.conversation_id.as_deref()
    }

    /// Free metadata from the channel.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.metadata)?)
    }

    /// The message as a dict in the JSON format (empty fields left out).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner)?)
    }

    /// The message as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    fn __repr__(&self) -> String {
        // the text may hold personal data: its length only
        format!(
            "Message(id={:?}, channel={:?}, text=<{} chars>)",
            self.inner.id,
            self.inner.channel.as_str(),
            self.inner.text.chars().count()
        )
    }
}

/// The decision for one message: intent, category, department, … and why (`explanation`).
#[pyclass(frozen, eq, name = "Decision", module = "civic_router._native")]
#[derive(PartialEq)]
pub(crate) struct PyDecision {
    pub(crate) inner: Decision,
}

#[pymethods]
impl PyDecision {
    /// The message id.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// The channel the message came on (and the reply goes back on).
    #[getter]
    fn channel(&self) -> &'static str {
        self.inner.channel.as_str()
    }

    /// `information`, `incident`, `appointment`, `emergency` or `other`.
    #[getter]
    fn intent(&self) -> &'static str {
        self.inner.intent.as_str()
    }

    /// The category id.
    #[getter]
    fn category(&self) -> &str {
        &self.inner.category
    }

    /// The department that must act (id).
    #[getter]
    fn department(&self) -> &str {
        &self.inner.department
    }

    /// The department's human name.
    #[getter]
    fn department_name(&self) -> &str {
        &self.inner.department_name
    }

    /// The district id, when known.
    #[getter]
    fn district(&self) -> Option<&str> {
        self.inner.district.as_deref()
    }

    /// `low`, `normal`, `high` or `urgent`.
    #[getter]
    fn priority(&self) -> &'static str {
        self.inner.priority.as_str()
    }

    /// Confidence in intent and category, 0–1, with 4 decimals (as in `to_dict()`).
    #[getter]
    fn confidence(&self) -> f64 {
        (f64::from(self.inner.confidence) * 10_000.0).round() / 10_000.0
    }

    /// Whether a human agent must take it.
    #[getter]
    fn handoff(&self) -> bool {
        self.inner.handoff
    }

    /// Tags set by rules.
    #[getter]
    fn tags(&self) -> Vec<String> {
        self.inner.tags.clone()
    }

    /// What to answer at once, on the same channel.
    #[getter]
    fn reply(&self) -> Option<&str> {
        self.inner.reply.as_deref()
    }

    /// Ids of the rules that fired, in order.
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.inner.rules.clone()
    }

    /// Why: normalised text, rules and patterns, classifier traces, district, routing entry.
    #[getter]
    fn explanation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.explanation)?)
    }

    /// The decision as a dict, the same as the CLI's JSON line.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner)?)
    }

    /// The decision as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    fn __repr__(&self) -> String {
        let d = &self.inner;
        format!(
            "Decision(id={:?}, intent={:?}, category={:?}, department={:?}, district={}, \
             priority={:?}, confidence={}, handoff={})",
            d.id,
            d.intent.as_str(),
            d.category,
            d.department,
            d.district
                .as_deref()
                .map_or("None".to_string(), |s| format!("{s:?}")),
            d.priority.as_str(),
            self.confidence(),
            if d.handoff { "True" } else { "False" },
        )
    }
}

/// One rule's verdict in a dry run.
#[pyclass(frozen, get_all, name = "RuleTrace", module = "civic_router._native")]
pub(crate) struct PyRuleTrace {
    /// The rule id.
    id: String,
    /// Its priority.
    priority: i32,
    /// Whether its conditions hold.
    matches: bool,
    /// Whether it would apply its actions (it matches and no earlier rule stopped the run).
    applies: bool,
    /// The patterns of its conditions that matched, as written.
    patterns: Vec<String>,
    /// Why it does not match, when it does not.
    reason: Option<String>,
}

impl From<RuleTrace> for PyRuleTrace {
    fn from(t: RuleTrace) -> Self {
        PyRuleTrace {
            id: t.id,
            priority: t.priority,
            matches: t.matches,
            applies: t.applies,
            patterns: t.patterns,
            reason: t.reason,
        }
    }
}

#[pymethods]
impl PyRuleTrace {
    fn __repr__(&self) -> String {
        format!(
            "RuleTrace(id={:?}, matches={}, applies={}, patterns={:?})",
            self.id,
            if self.matches { "True" } else { "False" },
            if self.applies { "True" } else { "False" },
            self.patterns
        )
    }
}

/// What a classifier plug-in receives: the message and what the router computed from it.
#[pyclass(frozen, get_all, name = "Context", module = "civic_router._native")]
pub(crate) struct PyContext {
    /// The message.
    message: Py<PyMessage>,
    /// Its normalised text (text and captions): ASCII, lower case, one space between tokens.
    text: String,
    /// The district placed from the text, if any.
    district: Option<String>,
    /// Local time of reception in the deployment's time zone (ISO 8601), if known.
    local_time: Option<String>,
}

impl PyContext {
    /// Copies a core context into a Python object.
    pub(crate) fn new(py: Python<'_>, cx: &Context<'_>) -> PyResult<Self> {
        Ok(PyContext {
            message: Py::new(
                py,
                PyMessage {
                    inner: cx.message.clone(),
                },
            )?,
            text: cx.text.as_str().to_string(),
            district: cx.district.map(str::to_string),
            local_time: cx
                .local_time
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        })
    }
}

#[pymethods]
impl PyContext {
    /// The tokens of the normalised text.
    #[getter]
    fn tokens(&self) -> Vec<&str> {
        self.text.split(' ').filter(|t| !t.is_empty()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Context(message={:?}, district={:?})",
            self.message.get().inner.id,
            self.district
        )
    }
}
