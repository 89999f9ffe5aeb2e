//! Core errors as Python exceptions, and the panic guard of every entry point.
//!
//! The exception classes are plain Python classes in `civic_router/errors.py` (one per core
//! [`ErrorKind`], under `CivicRouterError`); this module looks them up once and instantiates
//! them with the core's message. A classifier plug-in's own exception is not wrapped: the
//! original Python exception, with its traceback, is raised again.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use civic_router::error::{ChannelError, ChannelErrorKind, ClassifierError, Error};
use civic_router::InputError;
use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};

/// The module that defines the exception classes.
const ERRORS_MODULE: &str = "civic_router.errors";

/// A cached exception class of `civic_router.errors`.
struct ExceptionClass {
    name: &'static str,
    cell: PyOnceLock<Py<PyType>>,
}

impl ExceptionClass {
    const fn new(name: &'static str) -> Self {
        ExceptionClass {
            name,
            cell: PyOnceLock::new(),
        }
    }

    /// Builds an instance with positional arguments; a failure to build it (the package is
    /// broken) is returned as that failure.
    fn err<'py, A>(&self, py: Python<'py>, args: A) -> PyErr
    where
        A: PyCallArgs<'py>,
    {
        let built = self
            .cell
            .import(py, ERRORS_MODULE, self.name)
            .and_then(|cls| cls.call1(args));
        match built {
            Ok(obj) => PyErr::from_value(obj),
            Err(e) => e,
        }
    }
}

static CIVIC_ROUTER_ERROR: ExceptionClass = ExceptionClass::new("CivicRouterError");
static CONFIG_ERROR: ExceptionClass = ExceptionClass::new("ConfigError");
static INPUT_ERROR: ExceptionClass = ExceptionClass::new("InputError");
static CLASSIFIER_ERROR: ExceptionClass = ExceptionClass::new("ClassifierError");
static IO_ERROR: ExceptionClass = ExceptionClass::new("IoError");
static INTERNAL_ERROR: ExceptionClass = ExceptionClass::new("InternalError");
static CHANNEL_ERROR: ExceptionClass = ExceptionClass::new("ChannelError");
static SIGNATURE_ERROR: ExceptionClass = ExceptionClass::new("SignatureError");
static PARSE_ERROR: ExceptionClass = ExceptionClass::new("ParseError");
static TOO_LARGE_ERROR: ExceptionClass = ExceptionClass::new("PayloadTooLargeError");
static REPLY_ERROR: ExceptionClass = ExceptionClass::new("ReplyError");
static STORE_ERROR: ExceptionClass = ExceptionClass::new("StoreError");
static DELIVERY_ERROR: ExceptionClass = ExceptionClass::new("DeliveryError");
static APPOINTMENT_ERROR: ExceptionClass = ExceptionClass::new("AppointmentError");
static MODEL_ERROR: ExceptionClass = ExceptionClass::new("ModelError");

/// Converts a core error into the matching Python exception.
///
/// * `Config` → `ConfigError(message, issues)`, `issues` a list of `(file, field, reason)`;
/// * `Input` → `InputError`; `Io` → `IoError`;
/// * `Store` → `StoreError(message, kind)` (`unknown_ticket`, `refused_transition`, …);
/// * `Delivery` → `DeliveryError(message, target, retryable)`;
/// * `Appointment` → `AppointmentError(message, kind)` (`slot_taken`, `not_found`, …);
/// * `Model` → `ModelError` (a model that cannot be trained or read);
/// * `Classifier` → the plug-in's original exception when one was raised, else
///   `ClassifierError(message, classifier)`;
/// * a kind this binding does not know yet → `CivicRouterError`.
pub(crate) fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Config(e) => {
            let message = e.to_string();
            let issues: Vec<(String, String, String)> = e
                .issues
                .into_iter()
                .map(|i| (i.file, i.field, i.reason))
                .collect();
            match PyList::new(py, issues) {
                Ok(list) => CONFIG_ERROR.err(py, (message, list)),
                Err(e) => e,
            }
        }
        Error::Input(e) => INPUT_ERROR.err(py, (e.to_string(),)),
        Error::Classifier(e) => classifier_err(py, e),
        e @ Error::Io { .. } => IO_ERROR.err(py, (e.to_string(),)),
        Error::Channel(e) => channel_err(py, e),
        Error::Store(e) => STORE_ERROR.err(py, (e.to_string(), e.kind.as_str())),
        Error::Delivery(e) => DELIVERY_ERROR.err(py, (e.to_string(), e.target, e.retryable)),
        Error::Appointment(e) => APPOINTMENT_ERROR.err(py, (e.to_string(), appointment_kind(&e))),
        Error::Model(e) => MODEL_ERROR.err(py, (e.to_string(),)),
        e => CIVIC_ROUTER_ERROR.err(py, (e.to_string(),)),
    }
}

/// The kind of an appointment error, as Python sees it.
fn appointment_kind(e: &civic_router::error::AppointmentError) -> &'static str {
    use civic_router::error::AppointmentError as A;
    match e {
        A::UnknownOffice(_) => "unknown_office",
        A::UnknownService(_) => "unknown_service",
        A::UnknownDistrict(_) => "unknown_district",
        A::NotOffered { .. } => "not_offered",
        A::NoSlot { .. } => "no_slot",
        A::SlotTaken { .. } => "slot_taken",
        A::NotASlot { .. } => "not_a_slot",
        A::NotFound(_) => "not_found",
        A::InvalidState { .. } => "invalid_state",
        A::ConversationExpired => "conversation_expired",
        A::Config(_) => "config",
        _ => "store",
    }
}

fn channel_err(py: Python<'_>, e: ChannelError) -> PyErr {
    let class = match e.kind {
        ChannelErrorKind::Unauthorized => &SIGNATURE_ERROR,
        ChannelErrorKind::Malformed => &PARSE_ERROR,
        ChannelErrorKind::TooLarge => &TOO_LARGE_ERROR,
        ChannelErrorKind::Reply => &REPLY_ERROR,
        _ => &CHANNEL_ERROR,
    };
    class.err(
        py,
        (
            e.to_string(),
            e.channel.as_str(),
            e.field.clone(),
            e.kind.as_str(),
            e.kind.http_status(),
        ),
    )
}

fn classifier_err(py: Python<'_>, e: ClassifierError) -> PyErr {
    let message = e.to_string();
    let ClassifierError { name, source, .. } = e;
    // the plug-in raised: the same exception object, traceback and all
    if let Some(Ok(original)) = source.map(|s| s.downcast::<PyErr>()) {
        return *original;
    }
    CLASSIFIER_ERROR.err(py, (message, name))
}

/// An `InputError` for a value that is not a message (`line` 0: not from a file).
pub(crate) fn malformed(py: Python<'_>, reason: impl Into<String>) -> PyErr {
    to_pyerr(
        py,
        InputError::Malformed {
            line: 0,
            reason: reason.into(),
        }
        .into(),
    )
}

/// An `InputError` with a message of the binding's own (a corpus line, with its file).
pub(crate) fn input_error(py: Python<'_>, message: String) -> PyErr {
    INPUT_ERROR.err(py, (message,))
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// `InternalError` for a panic: a bug, reported as an ordinary exception (`PanicException`
/// derives from `BaseException` and would escape `except Exception` in a city's worker).
pub(crate) fn internal(py: Python<'_>, payload: &(dyn Any + Send)) -> PyErr {
    INTERNAL_ERROR.err(
        py,
        (format!(
            "internal error (a bug in civic-router, please report it): {}",
            panic_message(payload)
        ),),
    )
}

/// Runs `f`; a panic inside becomes `InternalError` instead of unwinding into Python.
pub(crate) fn guard<'py, T>(py: Python<'py>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(internal(py, payload.as_ref())),
    }
}

/// Runs `f` detached from the interpreter (other Python threads run meanwhile, and classifier
/// plug-ins called from worker threads can attach); a panic inside becomes `InternalError`.
pub(crate) fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    match py.detach(move || catch_unwind(AssertUnwindSafe(f))) {
        Ok(v) => Ok(v),
        Err(payload) => Err(internal(py, payload.as_ref())),
    }
}
