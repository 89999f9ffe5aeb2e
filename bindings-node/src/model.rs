//! The statistical classifier from Node: `Model` (train, save, load, predict), and the corpus
//! work behind `router.trainModel`, `router.evaluate` and `crossValidate`.
//!
//! Thin: every behaviour is the core's (`civic_router::classify::model`, `civic_router::eval`).
//! A corpus is a path to a JSON Lines file or an array of objects in the same format; the
//! objects are converted on the JavaScript thread, then reading, training, scoring and
//! cross-validation run on tokio's blocking pool and the call returns a Promise. Loading,
//! saving and predicting are synchronous (a file read or write, microseconds to predict).
//! Errors carry the code `MODEL` (an empty or one-class corpus, a corrupt model file or one of
//! another version), `INPUT` (a bad corpus record, with its line), `IO`, `CONFIG` or
//! `INVALID_ARG` (an argument of the wrong type).

use std::sync::{Arc, OnceLock};

use civic_router::classify::model::{Model as CoreModel, TrainOptions};
use civic_router::config::Config;
use civic_router::eval::{self, CrossValidation, Evaluation, LabelledMessage};
use civic_router::text::Normalizer;
use civic_router::{ChannelKind, Router as CoreRouter};
use napi::bindgen_prelude::{
    Array, ClassInstance, FromNapiValue, JavaScriptClassExt, PromiseRaw, Unknown,
};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;
use serde::Deserialize;

use crate::convert::{json_from_js, options_arg, string_arg, to_js, type_name};
use crate::errors::{
    blocking, from_napi, guard, guard_sync, Failure, INPUT, INTERNAL, INVALID_ARG,
};
use crate::router::{promise, Router};

/// Training settings (`Model.train`, `router.trainModel`); omitted ones keep their defaults,
/// chosen by cross-validation on the development corpus.
#[napi(object, js_name = "TrainOptions")]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrainOptionsArg {
    /// Seed of the example order: the same seed and corpus give the same model (default 42).
    pub seed: Option<u32>,
    /// Passes over the data (default 30).
    pub epochs: Option<u32>,
    /// Initial learning rate, AdaGrad (default 0.5).
    pub learning_rate: Option<f64>,
    /// L2 regularisation strength (default 0.0001).
    pub l2: Option<f64>,
    /// Features seen in fewer training messages are dropped (default 3).
    pub min_count: Option<u32>,
}

impl TrainOptionsArg {
    fn core(self) -> TrainOptions {
        let d = TrainOptions::default();
        TrainOptions {
            seed: self.seed.map_or(d.seed, u64::from),
            epochs: self.epochs.map_or(d.epochs, |e| e as usize),
            learning_rate: self.learning_rate.map_or(d.learning_rate, |x| x as f32),
            l2: self.l2.map_or(d.l2, |x| x as f32),
            min_count: self.min_count.map_or(d.min_count, |c| c as usize),
        }
    }
}

/// Options of `crossValidate`.
#[napi(object)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrossValidateOptions {
    /// Folds (default 5; at least 2).
    pub k: Option<u32>,
    /// Seed of the folds and of training (default 42).
    pub seed: Option<u32>,
}

/// A corpus argument, converted on the JavaScript thread.
pub(crate) enum Corpus {
    /// A JSON Lines file.
    Path(String),
    /// Records given as objects, as JSON data.
    Records(Vec<serde_json::Value>),
}

impl Corpus {
    /// A path string, or an array of objects; anything else is `INVALID_ARG`.
    pub(crate) fn from_arg(v: &Unknown<'_>) -> Result<Corpus, Failure> {
        if matches!(v.get_type(), Ok(ValueType::String)) {
            return Ok(Corpus::Path(string_arg("corpus", v)?));
        }
        let mut is_array = false;
        // SAFETY: env and value come from a live `Unknown`.
        unsafe { napi::sys::napi_is_array(v.value().env, v.value().value, &mut is_array) };
        if !is_array {
            return Err(Failure::invalid_arg(
                "corpus",
                "a path or an array of objects",
                type_name(v),
            ));
        }
        // SAFETY: checked to be an array.
        let array: Array<'_> =
            unsafe { v.cast() }.map_err(|e| from_napi(INVALID_ARG, "corpus", e))?;
        let mut out = Vec::with_capacity(array.len() as usize);
        for i in 0..array.len() {
            let item: Option<Unknown<'_>> = array
                .get(i)
                .map_err(|e| from_napi(INVALID_ARG, "corpus", e))?;
            let got = item.as_ref().map_or("undefined", type_name);
            match item {
                Some(item) if got == "an object" => {
                    let json = json_from_js(&item).map_err(|e| {
                        from_napi(INPUT, &format!("line {}: not a message", i + 1), e)
                    })?;
                    out.push(json);
                }
                _ => {
                    return Err(Failure::invalid_arg(
                        &format!("corpus[{i}]"),
                        "an object",
                        got,
                    ))
                }
            }
        }
        Ok(Corpus::Records(out))
    }

    /// The labelled messages (reads the file): call off the event loop. A bad line of a file
    /// names the file.
    pub(crate) fn load(self) -> Result<Vec<LabelledMessage>, Failure> {
        match self {
            Corpus::Path(p) => eval::read_corpus(&p).map_err(|e| match e {
                civic_router::Error::Input(e) => Failure::new(INPUT, format!("{p}: {e}")),
                e => e.into(),
            }),
            Corpus::Records(v) => {
                Ok(eval::corpus_from_values(v).map_err(civic_router::Error::from)?)
            }
        }
    }
}

/// The default Spanish normaliser, built once.
fn spanish() -> Arc<Normalizer> {
    static SPANISH: OnceLock<Arc<Normalizer>> = OnceLock::new();
    SPANISH
        .get_or_init(|| Arc::new(Normalizer::spanish()))
        .clone()
}

/// The normaliser of a router (its lexicon's rewrites), or the default one.
fn normalizer_of(router: Option<&CoreRouter>) -> Arc<Normalizer> {
    match router {
        Some(r) => Arc::new(r.rules().normalizer().clone()),
        None => spanish(),
    }
}

/// An optional `router` argument: `undefined`/`null`, or a `Router`.
fn router_arg(env: &Env, v: Option<Unknown<'_>>) -> Result<Option<Arc<CoreRouter>>, Failure> {
    let Some(v) = v else { return Ok(None) };
    if matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null)) {
        return Ok(None);
    }
    let is_router = Router::instance_of(env, &v).unwrap_or(false);
    if !is_router {
        return Err(Failure::invalid_arg("router", "a Router", type_name(&v)));
    }
    // SAFETY: env and value come from a live `Unknown`, checked to be a `Router`.
    let r = unsafe { ClassInstance::<Router>::from_napi_value(env.raw(), v.value().value) }
        .map_err(|e| from_napi(INVALID_ARG, "router", e))?;
    Ok(Some(r.inner.clone()))
}

/// Trains on a corpus argument off the event loop, normalised as `router` normalises (or with
/// the default Spanish normaliser); the Promise resolves with a `Model`.
pub(crate) fn train<'e>(
    env: &'e Env,
    router: Option<Arc<CoreRouter>>,
    corpus: Unknown<'e>,
    options: Option<Unknown<'e>>,
) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
    let args = guard(|| {
        let corpus = Corpus::from_arg(&corpus)?;
        let o: TrainOptionsArg = options_arg("options", options)?;
        Ok((corpus, o.core()))
    });
    promise(
        env,
        async move {
            let (corpus, options) = args?;
            blocking(move || {
                let gold = corpus.load()?;
                let model = eval::train(router.as_deref(), &gold, &options)
                    .map_err(civic_router::Error::from)?;
                Ok(Model {
                    inner: Arc::new(model),
                    normalizer: normalizer_of(router.as_deref()),
                })
            })
            .await
        },
        |env, m: Model| {
            m.into_instance(env)
                .map(|i| i.to_unknown())
                .map_err(|e| from_napi(INTERNAL, "Model", e))
        },
    )
}

/// Scores `router` on a corpus argument off the event loop: the evaluation object.
pub(crate) fn evaluate<'e>(
    env: &'e Env,
    router: Arc<CoreRouter>,
    corpus: Unknown<'e>,
) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
    let corpus = guard(|| Corpus::from_arg(&corpus));
    promise(
        env,
        async move {
            let corpus = corpus?;
            blocking(move || {
                let gold = corpus.load()?;
                Ok(eval::evaluate(&router, &gold, |_, _| {})?)
            })
            .await
        },
        |env, ev: Evaluation| to_js(env, &ev.to_json()),
    )
}

/// Stratified K-fold cross-validation of a configuration on a corpus, off the event loop: for
/// each fold a model is trained on the other folds and the configuration (its rules with that
/// model) routes the held-out messages. Resolves with the evaluation plus
/// `messages_per_second` (one message at a time, steady state), `folds` (each message's fold,
/// in corpus order), `k` and `seed`.
#[napi(
    catch_unwind,
    ts_args_type = "configPath: string, corpus: Corpus, options?: CrossValidateOptions",
    ts_return_type = "Promise<CrossValidation>"
)]
pub fn cross_validate<'e>(
    env: &'e Env,
    config_path: Unknown<'e>,
    corpus: Unknown<'e>,
    options: Option<Unknown<'e>>,
) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
    let args = guard(|| {
        let path = string_arg("configPath", &config_path)?;
        let corpus = Corpus::from_arg(&corpus)?;
        let o: CrossValidateOptions = options_arg("options", options)?;
        Ok((path, corpus, o))
    });
    promise(
        env,
        async move {
            let (path, corpus, o) = args?;
            blocking(move || {
                let base = Config::from_path(&path).map_err(civic_router::Error::from)?;
                let gold = corpus.load()?;
                let k = o.k.map_or(5, |k| k as usize);
                let seed = o.seed.map_or(42, u64::from);
                Ok(eval::cross_validate(&base, &gold, k, seed, |_, _| {})?)
            })
            .await
        },
        |env, cv: CrossValidation| {
            let mut v = cv.evaluation.to_json();
            v["messages_per_second"] = cv.messages_per_second.into();
            v["folds"] = cv.folds.into();
            v["k"] = cv.k.into();
            v["seed"] = cv.seed.into();
            to_js(env, &v)
        },
    )
}

/// A trained statistical classifier (multinomial logistic regression over word and character
/// n-grams; one head for the intent, one for the category). Immutable; share it freely.
///
/// `Model.train(corpus, options?)` trains one (`router.trainModel` with a router's lexicon);
/// `Model.fromFile(path)` / `Model.fromJson(text)` load the versioned model file that `save` /
/// `toJson` write (and `civic-router train` writes).
#[napi]
pub struct Model {
    inner: Arc<CoreModel>,
    /// How `predict` normalises: as the training texts were.
    normalizer: Arc<Normalizer>,
}

#[napi]
impl Model {
    /// Trains a model on a labelled corpus — a path to a JSON Lines file, or an array of
    /// objects `{id, channel, text, intent, category, district?}` — with the default Spanish
    /// normaliser, off the event loop. The same corpus and options give the same model.
    /// Rejects with `MODEL` (empty or one-class corpus), `INPUT` (a bad record, with its
    /// line), `IO` or `INVALID_ARG`.
    #[napi(
        catch_unwind,
        ts_args_type = "corpus: Corpus, options?: TrainOptions",
        ts_return_type = "Promise<Model>"
    )]
    pub fn train<'e>(
        env: &'e Env,
        corpus: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        train(env, None, corpus, options)
    }

    /// Reads a model file. `router`: predict with that router's lexicon (a model trained with
    /// `router.trainModel`); by default, the default Spanish normaliser. Throws `IO` or
    /// `MODEL` (not a model file, another version, corrupt).
    #[napi(factory, catch_unwind, ts_args_type = "path: string, router?: Router")]
    pub fn from_file(
        env: Env,
        path: Unknown<'_>,
        router: Option<Unknown<'_>>,
    ) -> napi::Result<Model> {
        guard_sync(&env, || {
            let path = string_arg("path", &path)?;
            let router = router_arg(&env, router)?;
            let src = std::fs::read_to_string(&path).map_err(|source| civic_router::Error::Io {
                path: path.clone(),
                source,
            })?;
            Ok(Model {
                inner: Arc::new(CoreModel::from_json(&src).map_err(civic_router::Error::from)?),
                normalizer: normalizer_of(router.as_deref()),
            })
        })
    }

    /// Reads a model from its JSON text (see `fromFile` for `router`). Throws `MODEL`.
    #[napi(factory, catch_unwind, ts_args_type = "text: string, router?: Router")]
    pub fn from_json(
        env: Env,
        text: Unknown<'_>,
        router: Option<Unknown<'_>>,
    ) -> napi::Result<Model> {
        guard_sync(&env, || {
            let text = string_arg("text", &text)?;
            let router = router_arg(&env, router)?;
            Ok(Model {
                inner: Arc::new(CoreModel::from_json(&text).map_err(civic_router::Error::from)?),
                normalizer: normalizer_of(router.as_deref()),
            })
        })
    }

    /// The model file's text (JSON, with its format name and version).
    #[napi(catch_unwind)]
    pub fn to_json(&self, env: Env) -> napi::Result<String> {
        guard_sync(&env, || Ok(self.inner.to_json()))
    }

    /// Writes the model file. Throws `IO`.
    #[napi(catch_unwind, ts_args_type = "path: string")]
    pub fn save(&self, env: Env, path: Unknown<'_>) -> napi::Result<()> {
        guard_sync(&env, || {
            let path = string_arg("path", &path)?;
            std::fs::write(&path, self.inner.to_json()).map_err(|source| {
                Failure::from(civic_router::Error::Io {
                    path: path.clone(),
                    source,
                })
            })
        })
    }

    /// The most likely intent and category of a text (normalised as the training texts were),
    /// each with its probability and the features that weighed most, and the probability of
    /// the `emergency` intent. `channel`: the channel the text came on, a feature too.
    #[napi(
        catch_unwind,
        ts_args_type = "text: string, channel?: ChannelKind | null",
        ts_return_type = "Prediction"
    )]
    pub fn predict<'e>(
        &self,
        env: &'e Env,
        text: Unknown<'e>,
        channel: Option<Unknown<'e>>,
    ) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            let text = string_arg("text", &text)?;
            let channel: Option<ChannelKind> = match channel {
                Some(c) if !matches!(c.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                    Some(string_arg("channel", &c)?.parse().map_err(
                        |e: civic_router::message::UnknownChannel| {
                            Failure::new(INVALID_ARG, e.to_string())
                        },
                    )?)
                }
                _ => None,
            };
            let p = self
                .inner
                .predict(&self.normalizer.normalize(&text), channel);
            to_js(env, &p)
        })
    }

    /// The intent classes, sorted.
    #[napi(getter, catch_unwind)]
    pub fn intents(&self) -> Vec<String> {
        self.inner.intents().to_vec()
    }

    /// The category classes, sorted.
    #[napi(getter, catch_unwind)]
    pub fn categories(&self) -> Vec<String> {
        self.inner.categories().to_vec()
    }

    /// Number of features kept.
    #[napi(getter, catch_unwind)]
    pub fn feature_count(&self) -> u32 {
        u32::try_from(self.inner.feature_count()).unwrap_or(u32::MAX)
    }

    /// Number of training messages.
    #[napi(getter, catch_unwind)]
    pub fn trained_on(&self) -> u32 {
        u32::try_from(self.inner.trained_on).unwrap_or(u32::MAX)
    }
}
