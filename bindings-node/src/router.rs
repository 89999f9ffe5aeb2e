//! `Router`: the core router behind a JavaScript class, and `normalize`.
//!
//! Every export runs inside a panic guard (and carries `#[napi(catch_unwind)]` for what napi's
//! own glue does), so no input can abort Node. `routeAsync` and `routeBatch` run on tokio's
//! blocking pool and return Promises; the event loop goes on meanwhile.

use std::sync::{Arc, OnceLock};

use civic_router::config::Config;
use civic_router::text::Normalizer;
use civic_router::{Decision, Message, Router as CoreRouter};
use napi::bindgen_prelude::{Function, PromiseRaw, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;
use serde::Deserialize;

use crate::convert::{message_from_js, options_arg, string_arg, to_js, type_name};
use crate::errors::{
    blocking, from_napi, guard, guard_sync, Failure, INVALID_ARG, PLUGIN_REQUIRES_ASYNC,
};
use crate::plugins::{JsClassifier, PluginFn, PluginReturn};

/// Options of `withClassifier`.
#[napi(object)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClassifierOptions {
    /// Run before the rules (default: after them).
    pub first: Option<bool>,
    /// The name shown in explanations and errors (default: the function's name).
    pub name: Option<String>,
}

/// A plug-in and where it sits in the chain, kept to rebuild the router with one more.
#[derive(Clone)]
struct Plugin {
    first: bool,
    classifier: Arc<JsClassifier>,
}

/// Routes citizen messages to departments, with an explanation.
///
/// Immutable apart from `reloadFile` / `reloadToml`, which swap the configuration atomically
/// (plug-ins stay); safe to share across the whole service.
#[napi]
pub struct Router {
    pub(crate) inner: Arc<CoreRouter>,
    plugins: Vec<Plugin>,
}

impl Router {
    fn build(config: Config, plugins: Vec<Plugin>) -> Result<Router, Failure> {
        let mut router = CoreRouter::from_config(config)?;
        for p in &plugins {
            let c: Arc<dyn civic_router::Classifier> = p.classifier.clone();
            router = if p.first {
                router.with_classifier_first(c)
            } else {
                router.with_classifier(c)
            };
        }
        Ok(Router {
            inner: Arc::new(router),
            plugins,
        })
    }

    /// The batch behind `routeBatch` (`return_errors` false) and `routeBatchSettled` (true).
    fn batch<'e>(
        &self,
        env: &'e Env,
        messages: Unknown<'e>,
        return_errors: bool,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let converted = guard(|| Ok((batch_arg(&messages)?, return_errors)));
        let router = self.inner.clone();
        promise(
            env,
            async move {
                let (slots, return_errors) = converted?;
                let results = blocking(move || {
                    let (ok, idx): (Vec<Message>, Vec<usize>) = slots
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| s.as_ref().ok().map(|m| (m.clone(), i)))
                        .unzip();
                    let routed = router.route_batch(&ok);
                    let mut out: Vec<Option<Job<Decision>>> = Vec::with_capacity(slots.len());
                    let mut routed = routed.into_iter().zip(idx).peekable();
                    for (i, slot) in slots.into_iter().enumerate() {
                        match slot {
                            Err(f) => out.push(Some(Err(f))),
                            Ok(_) => match routed.next() {
                                Some((r, j)) if j == i => out.push(Some(r.map_err(Failure::from))),
                                _ => out.push(None),
                            },
                        }
                    }
                    Ok(out)
                })
                .await?;
                let mut settled = Vec::with_capacity(results.len());
                for (i, r) in results.into_iter().enumerate() {
                    let r = r.unwrap_or_else(|| {
                        Err(Failure::new(
                            crate::errors::INTERNAL,
                            "routeBatch lost a result",
                        ))
                    });
                    match r {
                        Ok(d) => settled.push(Ok(d)),
                        Err(mut f) => {
                            f.index = Some(u32::try_from(i).unwrap_or(u32::MAX));
                            if !return_errors {
                                f.message = format!("message {i} of the batch: {}", f.message);
                                return Err(f);
                            }
                            settled.push(Err(f));
                        }
                    }
                }
                Ok(settled)
            },
            |env, settled: Vec<Job<Decision>>| {
                let mut array = env
                    .create_array(u32::try_from(settled.len()).unwrap_or(u32::MAX))
                    .map_err(|e| from_napi(crate::errors::INTERNAL, "routeBatch", e))?;
                for (i, r) in settled.into_iter().enumerate() {
                    let v = match r {
                        Ok(d) => to_js(env, &d)?,
                        Err(f) => {
                            let e = f.throwable(env);
                            // SAFETY: the env is the live JS thread's.
                            let raw = unsafe {
                                napi::bindgen_prelude::ToNapiValue::to_napi_value(env.raw(), e)
                            }
                            .map_err(|e| from_napi(crate::errors::INTERNAL, "routeBatch", e))?;
                            // SAFETY: a value just made on this env.
                            unsafe { Unknown::from_raw_unchecked(env.raw(), raw) }
                        }
                    };
                    array
                        .set(u32::try_from(i).unwrap_or(u32::MAX), v)
                        .map_err(|e| from_napi(crate::errors::INTERNAL, "routeBatch", e))?;
                }
                Ok(array.to_unknown())
            },
        )
    }

    /// Refuses a synchronous routing call when a JS plug-in is in the chain.
    fn require_sync(&self, what: &str) -> Result<(), Failure> {
        if self.plugins.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(
                PLUGIN_REQUIRES_ASYNC,
                format!(
                    "`{what}` is synchronous and this router has a JavaScript plug-in, which can only \
                     run on the JavaScript thread that `{what}` would block; use `routeAsync` or \
                     `routeBatch`"
                ),
            ))
        }
    }
}

/// The settled value of an async routing job: JSON data for JS, or the failure.
pub(crate) type Job<T> = Result<T, Failure>;

/// Starts `job` off the event loop; the Promise resolves with `done(output)` or rejects with
/// the failure as an `Error`.
pub(crate) fn promise<'e, T, F, D>(
    env: &'e Env,
    job: F,
    done: D,
) -> napi::Result<PromiseRaw<'e, Unknown<'e>>>
where
    T: Send + 'static,
    F: std::future::Future<Output = Job<T>> + Send + 'static,
    D: FnOnce(&'e Env, T) -> Job<Unknown<'e>> + 'static,
{
    env.spawn_future_with_callback(async move { Ok(job.await) }, move |env, out| {
        match guard(|| out.and_then(|v| done(env, v))) {
            Ok(v) => Ok(v),
            Err(f) => Err(f.throwable(env)),
        }
    })
}

#[napi]
impl Router {
    /// Builds a router from a configuration file (TOML) and the rule files it names (relative
    /// to it). Throws `IO` when a file cannot be read and `CONFIG` (with `issues`) when the
    /// configuration is refused.
    #[napi(factory, catch_unwind, ts_args_type = "path: string")]
    pub fn from_file(env: Env, path: Unknown<'_>) -> napi::Result<Router> {
        guard_sync(&env, || {
            let path = string_arg("path", &path)?;
            Router::build(
                Config::from_path(&path).map_err(civic_router::Error::from)?,
                Vec::new(),
            )
        })
    }

    /// Builds a router from configuration text (TOML); rule files it names are read relative to
    /// the current directory.
    #[napi(factory, catch_unwind, ts_args_type = "text: string")]
    pub fn from_toml(env: Env, text: Unknown<'_>) -> napi::Result<Router> {
        guard_sync(&env, || {
            let text = string_arg("text", &text)?;
            let config =
                Config::from_toml_str(&text, "<string>").map_err(civic_router::Error::from)?;
            Router::build(config, Vec::new())
        })
    }

    /// A new router with a JavaScript classifier added to the chain: after the rules, or before
    /// them with `{ first: true }`. The function receives a `PluginContext` and returns a
    /// `Classification`, `null`/`undefined` (nothing to say), or a Promise of one. A router with
    /// a plug-in routes only through `routeAsync` and `routeBatch`.
    #[napi(
        catch_unwind,
        ts_args_type = "classifier: (context: PluginContext) => PluginResult | Promise<PluginResult>, options?: ClassifierOptions"
    )]
    pub fn with_classifier(
        &self,
        env: Env,
        classifier: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Router> {
        guard_sync(&env, || {
            if !matches!(classifier.get_type(), Ok(ValueType::Function)) {
                return Err(Failure::invalid_arg(
                    "classifier",
                    "a function",
                    type_name(&classifier),
                ));
            }
            let opts: ClassifierOptions = options_arg("options", options)?;
            // SAFETY: checked to be a function.
            let func: Function<'_, serde_json::Value, PluginReturn> = unsafe { classifier.cast() }
                .map_err(|e| from_napi(INVALID_ARG, "classifier", e))?;
            let name = match opts.name {
                Some(n) => n,
                None => function_name(&classifier).unwrap_or_else(|| "js".to_string()),
            };
            let tsfn: PluginFn = func
                .build_threadsafe_function()
                .callee_handled::<false>()
                .weak::<true>()
                .build()
                .map_err(|e| from_napi(INVALID_ARG, "classifier", e))?;
            let mut plugins = self.plugins.clone();
            plugins.push(Plugin {
                first: opts.first.unwrap_or(false),
                classifier: Arc::new(JsClassifier::new(name, tsfn)),
            });
            Router::build(self.inner.config(), plugins)
        })
    }

    /// Decides what to do with one message, synchronously (a few microseconds: fine on the
    /// event loop for one short message). Throws `INPUT` for a value that is not a message and
    /// `PLUGIN_REQUIRES_ASYNC` when a JavaScript plug-in is registered.
    #[napi(
        catch_unwind,
        ts_args_type = "message: Message",
        ts_return_type = "Decision"
    )]
    pub fn route<'e>(&self, env: &'e Env, message: Unknown<'e>) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            self.require_sync("route")?;
            let msg = message_from_js(&message)?;
            to_js(env, &self.inner.route(&msg)?)
        })
    }

    /// Decides what to do with one message off the event loop (and runs JavaScript plug-ins).
    /// Rejects with `INPUT`, `CLASSIFIER` (the plug-in's own error as `cause`), … errors.
    #[napi(
        catch_unwind,
        ts_args_type = "message: Message",
        ts_return_type = "Promise<Decision>"
    )]
    pub fn route_async<'e>(
        &self,
        env: &'e Env,
        message: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let msg = guard(|| message_from_js(&message));
        let router = self.inner.clone();
        promise(
            env,
            async move {
                let msg = msg?;
                blocking(move || Ok(router.route(&msg)?)).await
            },
            |env, d: Decision| to_js(env, &d),
        )
    }

    /// Decides for many messages at once, spread over every core, off the event loop. Resolves
    /// with one decision per message, in order; rejects with the first failure (its `index`
    /// says which message).
    #[napi(
        catch_unwind,
        ts_args_type = "messages: Message[]",
        ts_return_type = "Promise<Decision[]>"
    )]
    pub fn route_batch<'e>(
        &self,
        env: &'e Env,
        messages: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        self.batch(env, messages, false)
    }

    /// `routeBatch` that never rejects for one message (like `Promise.allSettled`): each
    /// failure is an `Error` (with `code` and `index`) in its message's place.
    #[napi(
        catch_unwind,
        ts_args_type = "messages: Message[]",
        ts_return_type = "Promise<Array<Decision | CivicRouterError>>"
    )]
    pub fn route_batch_settled<'e>(
        &self,
        env: &'e Env,
        messages: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        self.batch(env, messages, true)
    }

    /// What every rule would do with a message, and why (plug-ins do not run, so this stays
    /// synchronous with them registered).
    #[napi(
        catch_unwind,
        ts_args_type = "message: Message",
        ts_return_type = "RuleTrace[]"
    )]
    pub fn dry_run<'e>(&self, env: &'e Env, message: Unknown<'e>) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            let msg = message_from_js(&message)?;
            to_js(env, &self.inner.dry_run(&msg)?)
        })
    }

    /// Trains a statistical model on a labelled corpus (a path to a JSON Lines file, or an
    /// array of objects), normalised with this router's lexicon as `civic-router train
    /// --config` does, off the event loop; the model predicts with the same lexicon. Rejects
    /// with `MODEL`, `INPUT` (a bad record, with its line), `IO` or `INVALID_ARG`.
    #[napi(
        catch_unwind,
        ts_args_type = "corpus: Corpus, options?: TrainOptions",
        ts_return_type = "Promise<Model>"
    )]
    pub fn train_model<'e>(
        &self,
        env: &'e Env,
        corpus: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        crate::model::train(env, Some(self.inner.clone()), corpus, options)
    }

    /// Routes every message of a labelled corpus (a path or an array of objects) off the event
    /// loop and scores the decisions against the gold labels: accuracies, macro-F1, emergency
    /// recall, district accuracy, per-class scores and the most frequent confusions (what
    /// `civic-router eval --json` prints). JavaScript plug-ins run.
    #[napi(
        catch_unwind,
        ts_args_type = "corpus: Corpus",
        ts_return_type = "Promise<Evaluation>"
    )]
    pub fn evaluate<'e>(
        &self,
        env: &'e Env,
        corpus: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        crate::model::evaluate(env, self.inner.clone(), corpus)
    }

    /// Replaces the configuration with a file's, atomically; on error the old one stays.
    #[napi(catch_unwind, ts_args_type = "path: string")]
    pub fn reload_file(&self, env: Env, path: Unknown<'_>) -> napi::Result<()> {
        guard_sync(&env, || {
            let path = string_arg("path", &path)?;
            let config = Config::from_path(&path).map_err(civic_router::Error::from)?;
            Ok(self.inner.reload(config)?)
        })
    }

    /// Replaces the configuration with TOML text, atomically; on error the old one stays.
    #[napi(catch_unwind, ts_args_type = "text: string")]
    pub fn reload_toml(&self, env: Env, text: Unknown<'_>) -> napi::Result<()> {
        guard_sync(&env, || {
            let text = string_arg("text", &text)?;
            let config =
                Config::from_toml_str(&text, "<string>").map_err(civic_router::Error::from)?;
            Ok(self.inner.reload(config)?)
        })
    }

    /// Normalises a text as the router does (with the configuration's rewrites).
    #[napi(catch_unwind, ts_args_type = "text: string")]
    pub fn normalize(&self, env: Env, text: Unknown<'_>) -> napi::Result<String> {
        guard_sync(&env, || {
            let text = string_arg("text", &text)?;
            Ok(self.inner.normalize(&text).into_string())
        })
    }

    /// The tokens of a text, normalised as the router does.
    #[napi(catch_unwind, ts_args_type = "text: string")]
    pub fn tokens(&self, env: Env, text: Unknown<'_>) -> napi::Result<Vec<String>> {
        guard_sync(&env, || {
            let text = string_arg("text", &text)?;
            Ok(self
                .inner
                .normalize(&text)
                .tokens()
                .map(str::to_string)
                .collect())
        })
    }

    /// A department's human name, or `null` if there is no such department.
    #[napi(catch_unwind)]
    pub fn department_name(&self, id: String) -> Option<String> {
        self.inner.department_name(&id)
    }

    /// The service line's name (`[router] name`).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.inner.config().router.name
    }

    /// Ids of the rules in force, in the order they run.
    #[napi(getter, catch_unwind)]
    pub fn rule_ids(&self) -> Vec<String> {
        self.inner.rules().rule_ids().map(str::to_string).collect()
    }

    /// Names of the classifiers, in the order they run (`rules` is the rule engine).
    #[napi(getter, catch_unwind)]
    pub fn classifier_names(&self) -> Vec<String> {
        self.inner.classifier_names()
    }

    /// Whether a JavaScript plug-in is in the chain (then only the async calls route).
    #[napi(getter, catch_unwind)]
    pub fn has_plugins(&self) -> bool {
        !self.plugins.is_empty()
    }
}

/// The `name` of a JS function, when it has a non-empty one.
fn function_name(f: &Unknown<'_>) -> Option<String> {
    // SAFETY: a function is an object.
    let obj: napi::bindgen_prelude::Object<'_> = unsafe { f.cast() }.ok()?;
    use napi::bindgen_prelude::JsObjectValue;
    let name: Option<String> = obj.get_named_property("name").ok()?;
    name.filter(|n| !n.is_empty())
}

/// The messages of a batch: an array, each element converted (a bad one fails in its place).
fn batch_arg(v: &Unknown<'_>) -> Result<Vec<Job<Message>>, Failure> {
    let mut is_array = false;
    // SAFETY: env and value come from a live `Unknown`.
    unsafe { napi::sys::napi_is_array(v.value().env, v.value().value, &mut is_array) };
    if !is_array {
        return Err(Failure::invalid_arg("messages", "an array", type_name(v)));
    }
    // SAFETY: checked to be an array.
    let array: napi::bindgen_prelude::Array<'_> =
        unsafe { v.cast() }.map_err(|e| from_napi(INVALID_ARG, "messages", e))?;
    let mut out = Vec::with_capacity(array.len() as usize);
    for i in 0..array.len() {
        let item: Option<Unknown<'_>> = array
            .get(i)
            .map_err(|e| from_napi(INVALID_ARG, "messages", e))?;
        out.push(match item {
            Some(item) => message_from_js(&item),
            None => Err(Failure::malformed(
                "expected an object like {id, channel, text}, got undefined",
            )),
        });
    }
    Ok(out)
}

/// Normalises a text with the default Spanish normaliser: ASCII, lower case, accents folded,
/// `ñ` kept as `ny`, chat shorthand expanded, one space between tokens.
#[napi(catch_unwind, ts_args_type = "text: string")]
pub fn normalize(env: Env, text: Unknown<'_>) -> napi::Result<String> {
    static SPANISH: OnceLock<Normalizer> = OnceLock::new();
    guard_sync(&env, || {
        let text = string_arg("text", &text)?;
        Ok(SPANISH
            .get_or_init(Normalizer::spanish)
            .normalize(&text)
            .into_string())
    })
}

/// The version of the civic-router core this module was built with.
#[napi(catch_unwind)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Panics inside the same guards the exports use: `"sync"` throws, `"async"` rejects. For the
/// test that a panic is an `INTERNAL` error and Node lives on; not part of the API.
#[napi(catch_unwind, js_name = "__panicForTesting", skip_typescript)]
pub fn panic_for_testing<'e>(env: &'e Env, mode: String) -> napi::Result<Unknown<'e>> {
    if mode == "async" {
        let p = promise(
            env,
            blocking(|| -> Job<()> { panic!("deliberate panic (async) for the test suite") }),
            |env, ()| to_js(env, &()),
        )?;
        return Ok(p.to_unknown());
    }
    guard_sync(env, || -> Job<Unknown<'e>> {
        panic!("deliberate panic (sync) for the test suite")
    })
}
