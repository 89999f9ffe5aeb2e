//! JavaScript classifier plug-ins joined into the Rust pipeline.
//!
//! [`JsClassifier`] implements the core [`Classifier`] trait over a JS function
//! `(context) => classification | null | undefined | Promise<…>`. The router calls it from a
//! worker thread (tokio's blocking pool for `routeAsync`, rayon's for `routeBatch`); the call
//! crosses to the JavaScript thread through a ThreadsafeFunction and the worker waits for the
//! answer, and for the Promise's settlement when the function returns one. The JavaScript
//! thread itself never waits: synchronous routing with a JS plug-in is refused
//! (`PLUGIN_REQUIRES_ASYNC`), since the plug-in could only run on the thread that is waiting.
//!
//! The ThreadsafeFunction is *weak*: a router holding a plug-in does not keep Node alive. A
//! throw or a rejection travels as the `source` of the core's `ClassifierError` and comes back
//! to JavaScript as the `cause` of the `CLASSIFIER` error, the original error object with its
//! stack.

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use civic_router::classify::{Classification, Classifier, ClassifierError, Context};
use napi::bindgen_prelude::{FromNapiValue, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Status, ValueType};
use serde_json::{json, Value};

/// The ThreadsafeFunction of a plug-in: takes the context as JSON, plain `(ctx) => …`
/// signature (not Node's error-first), weak.
pub(crate) type PluginFn = ThreadsafeFunction<Value, PluginReturn, Value, Status, false, true>;

/// What the plug-in function returned: a value at once, or a Promise of one.
pub(crate) enum PluginReturn {
    /// A plain value (`None`: `null` or `undefined`, nothing to say).
    Ready(Option<Value>),
    /// A Promise; its value is converted on the JS thread when it settles.
    Pending(Promise<PluginValue>),
}

/// A plug-in's answer as JSON data (`None`: `null` or `undefined`).
pub(crate) struct PluginValue(Option<Value>);

impl FromNapiValue for PluginValue {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut t = 0;
        // SAFETY: env and value are given by napi on the JS thread.
        let status = unsafe { sys::napi_typeof(env, v, &mut t) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::from(status),
                "could not read the plug-in's answer",
            ));
        }
        match ValueType::from(t) {
            ValueType::Undefined | ValueType::Null => Ok(PluginValue(None)),
            // SAFETY: as above.
            _ => unsafe { Value::from_napi_value(env, v) }.map(|v| PluginValue(Some(v))),
        }
    }
}

impl FromNapiValue for PluginReturn {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut is_promise = false;
        // SAFETY: env and value are given by napi on the JS thread.
        unsafe { sys::napi_is_promise(env, v, &mut is_promise) };
        if is_promise {
            // SAFETY: checked to be a Promise.
            unsafe { Promise::from_napi_value(env, v) }.map(PluginReturn::Pending)
        } else {
            // SAFETY: as above.
            unsafe { PluginValue::from_napi_value(env, v) }.map(|p| PluginReturn::Ready(p.0))
        }
    }
}

/// A JavaScript function as a core classifier.
pub(crate) struct JsClassifier {
    name: String,
    call: Arc<PluginFn>,
}

impl JsClassifier {
    /// Wraps a ThreadsafeFunction made from the plug-in function.
    pub(crate) fn new(name: String, call: PluginFn) -> Self {
        JsClassifier {
            name,
            call: Arc::new(call),
        }
    }

    fn fail(&self, message: impl Into<String>, source: Option<napi::Error>) -> ClassifierError {
        ClassifierError {
            name: self.name.clone(),
            message: message.into(),
            source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
        }
    }

    /// Calls the function on the JS thread and waits (on this worker thread) for its answer.
    fn answer(&self, cx: &Context<'_>) -> Result<Option<Value>, ClassifierError> {
        let context = context_json(cx)
            .map_err(|e| self.fail(format!("could not pass the message: {e}"), None))?;
        let (tx, rx) = mpsc::sync_channel(1);
        let status = self.call.call_with_return_value(
            context,
            ThreadsafeFunctionCallMode::NonBlocking,
            move |ret: napi::Result<PluginReturn>, _env| {
                // the receiver may be gone only if the worker gave up; nothing to do then
                let _ = tx.send(ret);
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(self.fail(
                format!("could not call the plug-in ({status}); is Node shutting down?"),
                None,
            ));
        }
        let returned = rx.recv().map_err(|_| {
            self.fail(
                "the plug-in was never called (the JavaScript environment closed)",
                None,
            )
        })?;
        let thrown = |e: napi::Error| {
            let what = if e.reason.is_empty() {
                "threw".to_string()
            } else {
                format!("threw: {}", e.reason)
            };
            self.fail(what, Some(e))
        };
        match returned.map_err(thrown)? {
            PluginReturn::Ready(v) => Ok(v),
            PluginReturn::Pending(promise) => match block_on(promise) {
                Ok(v) => Ok(v.0),
                Err(e) => {
                    let what = if e.reason.is_empty() {
                        "rejected".to_string()
                    } else {
                        format!("rejected: {}", e.reason)
                    };
                    Err(self.fail(what, Some(e)))
                }
            },
        }
    }
}

impl Classifier for JsClassifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        let Some(value) = self.answer(cx)? else {
            return Ok(None);
        };
        serde_path_to_error::deserialize::<_, Classification>(value)
            .map(Some)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let at = if path == "." {
                    String::new()
                } else {
                    format!("{path}: ")
                };
                self.fail(
                    format!(
                        "returned a value that is not a classification ({at}{inner}); return \
                         null or an object of Classification fields"
                    ),
                    None,
                )
            })
    }
}

/// What a plug-in receives: the message and what the router computed from it, in the core's
/// JSON field names.
fn context_json(cx: &Context<'_>) -> serde_json::Result<Value> {
    Ok(json!({
        "message": serde_json::to_value(cx.message)?,
        "text": cx.text.as_str(),
        "tokens": cx.text.tokens().collect::<Vec<_>>(),
        "district": cx.district,
        "local_time": cx.local_time.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
    }))
}

/// Wakes a parked thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Waits on this (worker) thread for a future: a plug-in's Promise, settled by the JS thread.
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
