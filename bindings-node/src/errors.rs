//! Core errors as JavaScript `Error`s with a stable `code`, and the panic guard of every export.
//!
//! Every failure the binding reports is a [`Failure`]: a code, the core's message, and what JS
//! code may want to read (`issues` of a refused configuration, the plug-in's own error as
//! `cause`). It becomes a real JS `Error` object on the JavaScript thread ([`Failure::throwable`])
//! so sync exports throw it and async ones reject with it.
//!
//! Codes: the core's [`ErrorKind::code`](civic_router::ErrorKind::code) (`CONFIG`, `INPUT`,
//! `CLASSIFIER`, `IO`, `CHANNEL`, `STORE`, `DELIVERY`, `APPOINTMENT`, `MODEL`) and the
//! binding's own [`INVALID_ARG`],
//! [`PLUGIN_REQUIRES_ASYNC`] and
//! [`INTERNAL`] (a panic: a bug, reported instead of aborting Node).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use civic_router::error::{ChannelError, ClassifierError, ConfigIssue, Error};
use civic_router::InputError;
use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi::{Env, JsError, Status};

/// A message that is not one (the core's `ErrorKind::Input`).
pub(crate) const INPUT: &str = "INPUT";
/// An argument of the wrong type (not a message: those are `INPUT`).
pub(crate) const INVALID_ARG: &str = "INVALID_ARG";
/// A synchronous call on a router with a JavaScript plug-in: the plug-in runs on the JS thread,
/// which the sync call would block (deadlock). Use `routeAsync` / `routeBatch`.
pub(crate) const PLUGIN_REQUIRES_ASYNC: &str = "PLUGIN_REQUIRES_ASYNC";
/// A panic inside the binding or the core: a bug, reported as an ordinary `Error`.
pub(crate) const INTERNAL: &str = "INTERNAL";

/// A failure on its way to JavaScript (boxed: results stay small on the hot path).
#[derive(Debug)]
pub(crate) struct Failure(Box<FailureData>);

/// What a [`Failure`] carries.
#[derive(Debug)]
pub(crate) struct FailureData {
    /// The stable `code`.
    pub(crate) code: &'static str,
    /// The message (the core's `Display`).
    pub(crate) message: String,
    /// The problems of a refused configuration (`err.issues`).
    pub(crate) issues: Vec<ConfigIssue>,
    /// The classifier that failed (`err.classifier`).
    pub(crate) classifier: Option<String>,
    /// The position in a batch (`err.index`).
    pub(crate) index: Option<u32>,
    /// A JavaScript error behind this one (a plug-in's throw or rejection), as `err.cause`.
    pub(crate) cause: Option<napi::Error>,
    /// `CHANNEL`: the refused request's channel, field, kind and HTTP status.
    pub(crate) channel: Option<ChannelError>,
}

impl Failure {
    /// A failure with a code and a message.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure(Box::new(FailureData {
            code,
            message: message.into(),
            issues: Vec::new(),
            classifier: None,
            index: None,
            cause: None,
            channel: None,
        }))
    }

    /// `INVALID_ARG`: `what` was expected.
    pub(crate) fn invalid_arg(name: &str, what: &str, got: &str) -> Self {
        Failure::new(INVALID_ARG, format!("`{name}` must be {what}, got {got}"))
    }

    /// `INPUT`: not a message (the core's `InputError::Malformed`, with no line).
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Error::from(InputError::Malformed {
            line: 0,
            reason: reason.into(),
        })
        .into()
    }

    /// `INTERNAL` for a panic payload.
    pub(crate) fn panicked(payload: &(dyn Any + Send)) -> Self {
        let text = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        Failure::new(
            INTERNAL,
            format!("internal error (a bug in civic-router, please report it): {text}"),
        )
    }

    /// Builds the JavaScript `Error` (on the JS thread) and wraps it so that napi throws or
    /// rejects with that very object.
    pub(crate) fn throwable(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(e) => e,
            // building the object failed (the environment is shutting down): a plain error
            Err(e) => e,
        }
    }

    fn build(self, env: &Env) -> napi::Result<napi::Error> {
        let FailureData {
            code,
            message,
            issues,
            classifier,
            index,
            cause,
            channel,
        } = *self.0;
        let mut error = napi::Error::new(code, message);
        if let Some(c) = cause {
            error.cause = Some(Box::new(c));
        }
        let value: Unknown<'_> = JsError::from(error).into_unknown(*env);
        // SAFETY: `into_unknown` made an `Error` object, so it is an object.
        let mut object: Object<'_> = unsafe { value.cast()? };
        if !issues.is_empty() {
            object.set_named_property("issues", env.to_js_value(&issues)?)?;
        }
        if let Some(c) = classifier {
            object.set_named_property("classifier", c)?;
        }
        if let Some(i) = index {
            object.set_named_property("index", i)?;
        }
        if let Some(c) = channel {
            object.set_named_property("channel", c.channel.as_str())?;
            object.set_named_property("field", c.field)?;
            object.set_named_property("kind", c.kind.as_str())?;
            object.set_named_property("httpStatus", u32::from(c.kind.http_status()))?;
        }
        Ok(napi::Error::from(value))
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = e.kind().code();
        match e {
            Error::Config(c) => {
                let mut f = Failure::new(code, c.to_string());
                f.issues = c.issues;
                f
            }
            Error::Classifier(c) => {
                let message = c.to_string();
                let ClassifierError { name, source, .. } = c;
                // a JS plug-in threw or rejected: its error travels as the cause
                let cause = source
                    .and_then(|s| s.downcast::<napi::Error>().ok())
                    .map(|b| *b);
                let mut f = Failure::new(code, message);
                f.classifier = Some(name);
                f.cause = cause;
                f
            }
            Error::Channel(c) => {
                let mut f = Failure::new(code, c.to_string());
                f.channel = Some(c);
                f
            }
            other => Failure::new(code, other.to_string()),
        }
    }
}

/// napi's own error (a failed conversion, a JS exception pending from a getter) as a failure
/// with `code`, keeping a pending JS exception as the cause.
pub(crate) fn from_napi(code: &'static str, context: &str, e: napi::Error) -> Failure {
    let message = if e.reason.is_empty() {
        context.to_string()
    } else {
        format!("{context}: {}", e.reason)
    };
    let mut f = Failure::new(code, message);
    f.cause = (e.status == Status::PendingException).then_some(e);
    f
}

/// Runs `f`; a panic inside becomes an `INTERNAL` failure instead of unwinding into Node.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Failure::panicked(payload.as_ref())),
    }
}

impl std::ops::Deref for Failure {
    type Target = FailureData;
    fn deref(&self) -> &FailureData {
        &self.0
    }
}

impl std::ops::DerefMut for Failure {
    fn deref_mut(&mut self) -> &mut FailureData {
        &mut self.0
    }
}

/// [`guard`] for a synchronous export: the failure is thrown as its JS `Error`.
pub(crate) fn guard_sync<T>(env: &Env, f: impl FnOnce() -> Result<T, Failure>) -> napi::Result<T> {
    guard(f).map_err(|e| e.throwable(env))
}

/// Runs `f` on tokio's blocking pool (off the event loop, and off libuv's small thread pool,
/// which a JS plug-in's own I/O may need); a panic inside is an `INTERNAL` failure.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, Failure>
where
    F: FnOnce() -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    match napi::tokio::task::spawn_blocking(move || guard(f)).await {
        Ok(r) => r,
        Err(join) if join.is_panic() => Err(Failure::panicked(join.into_panic().as_ref())),
        Err(join) => Err(Failure::new(INTERNAL, format!("routing job lost: {join}"))),
    }
}
