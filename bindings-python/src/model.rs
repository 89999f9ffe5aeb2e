//! The statistical classifier from Python: `Model` (train, save, load, predict), and the
//! corpus work behind `Router.train_model`, `Router.evaluate` and `cross_validate`.
//!
//! Thin: every behaviour is the core's (`civic_router::classify::model`, `civic_router::eval`).
//! A corpus is a path to a JSON Lines file or an iterable of dicts in the same format; the dicts
//! are converted while attached, then reading, training, scoring and cross-validation run
//! detached from the interpreter, inside the panic guard. Errors: `ModelError` (code `MODEL`:
//! an empty or one-class corpus, a corrupt model file or one of another version), `InputError`
//! (a bad corpus record, with its line), `IoError`, `ConfigError`, `TypeError`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use civic_router::classify::model::{Model, TrainOptions};
use civic_router::config::Config;
use civic_router::eval::{self, CrossValidation, Evaluation, LabelledMessage};
use civic_router::text::Normalizer;
use civic_router::{ChannelKind, Error, Router};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMapping, PyString};
use pythonize::pythonize;

use crate::errors::{detached, input_error, malformed, to_pyerr};
use crate::message::{from_py, type_name};
use crate::router::PyRouter;

/// A corpus argument, converted while attached.
pub(crate) enum Corpus {
    /// A JSON Lines file.
    Path(PathBuf),
    /// Records given as dicts, converted to JSON data.
    Records(Vec<serde_json::Value>),
}

/// Why a corpus could not be read: a core error, and the file it came from.
pub(crate) struct CorpusError {
    path: Option<PathBuf>,
    error: Error,
}

impl CorpusError {
    fn core(error: impl Into<Error>) -> Self {
        CorpusError {
            path: None,
            error: error.into(),
        }
    }

    /// The Python exception; a bad line of a file names the file.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match (self.path, self.error) {
            (Some(p), Error::Input(e)) => input_error(py, format!("{}: {e}", p.display())),
            (_, e) => to_pyerr(py, e),
        }
    }
}

impl Corpus {
    /// Reads a corpus argument: a `str` or `os.PathLike` is a path, any other iterable yields
    /// dicts; anything else is a `TypeError`.
    pub(crate) fn from_arg(obj: &Bound<'_, PyAny>) -> PyResult<Corpus> {
        if obj.cast::<PyString>().is_ok() || obj.hasattr("__fspath__")? {
            return Ok(Corpus::Path(obj.extract()?));
        }
        if obj.cast::<PyBytes>().is_ok()
            || obj.cast::<PyByteArray>().is_ok()
            || obj.cast::<PyMapping>().is_ok()
        {
            return Err(not_a_corpus(obj));
        }
        let items = obj.try_iter().map_err(|_| not_a_corpus(obj))?;
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            let item = item?;
            if item.cast::<PyDict>().is_err() && item.cast::<PyMapping>().is_err() {
                return Err(PyTypeError::new_err(format!(
                    "corpus item {}: expected a dict, got {}",
                    i + 1,
                    type_name(&item)
                )));
            }
            let value = from_py::<serde_json::Value>(&item).map_err(|reason| {
                to_pyerr(
                    obj.py(),
                    civic_router::InputError::Malformed {
                        line: i + 1,
                        reason,
                    }
                    .into(),
                )
            })?;
            out.push(value);
        }
        Ok(Corpus::Records(out))
    }

    /// The labelled messages (reads the file): call detached.
    pub(crate) fn load(self) -> Result<Vec<LabelledMessage>, CorpusError> {
        match self {
            Corpus::Path(p) => eval::read_corpus(&p).map_err(|error| CorpusError {
                path: Some(p),
                error,
            }),
            Corpus::Records(v) => eval::corpus_from_values(v).map_err(CorpusError::core),
        }
    }
}

fn not_a_corpus(obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "corpus must be a path (str or os.PathLike) or an iterable of dicts, got {}",
        type_name(obj)
    ))
}

/// The default Spanish normaliser, built once (no Python runs inside: a std OnceLock is safe).
fn spanish() -> Arc<Normalizer> {
    static SPANISH: OnceLock<Arc<Normalizer>> = OnceLock::new();
    SPANISH
        .get_or_init(|| Arc::new(Normalizer::spanish()))
        .clone()
}

/// The normaliser of a router (its lexicon's rewrites), or the default one.
fn normalizer_of(router: Option<&Router>) -> Arc<Normalizer> {
    match router {
        Some(r) => Arc::new(r.rules().normalizer().clone()),
        None => spanish(),
    }
}

/// Trains on a corpus argument, normalised as `router` normalises (or with the default
/// Spanish normaliser), detached.
pub(crate) fn train(
    py: Python<'_>,
    router: Option<Arc<Router>>,
    corpus: &Bound<'_, PyAny>,
    options: TrainOptions,
) -> PyResult<PyModel> {
    let corpus = Corpus::from_arg(corpus)?;
    let trained = detached(py, move || -> Result<PyModel, CorpusError> {
        let gold = corpus.load()?;
        let model = eval::train(router.as_deref(), &gold, &options).map_err(CorpusError::core)?;
        Ok(PyModel {
            inner: Arc::new(model),
            normalizer: normalizer_of(router.as_deref()),
        })
    })?;
    trained.map_err(|e| e.into_pyerr(py))
}

/// Scores `router` on a corpus argument: the evaluation dict.
pub(crate) fn evaluate<'py>(
    py: Python<'py>,
    router: Arc<Router>,
    corpus: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let corpus = Corpus::from_arg(corpus)?;
    let ev = detached(py, move || -> Result<Evaluation, CorpusError> {
        let gold = corpus.load()?;
        eval::evaluate(&router, &gold, |_, _| {}).map_err(CorpusError::core)
    })?
    .map_err(|e| e.into_pyerr(py))?;
    evaluation_dict(py, &ev, None)
}

/// `Evaluation::to_json` as a dict (confusions as tuples), with a cross-validation's speed,
/// folds, `k` and seed.
fn evaluation_dict<'py>(
    py: Python<'py>,
    ev: &Evaluation,
    cv: Option<&CrossValidation>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut v = ev.to_json();
    if let Some(cv) = cv {
        v["messages_per_second"] = cv.messages_per_second.into();
        v["folds"] = cv.folds.clone().into();
        v["k"] = cv.k.into();
        v["seed"] = cv.seed.into();
    }
    let dict = value(py, &v)?;
    dict.set_item("confusions", value(py, &ev.confusions(20))?)?;
    Ok(dict)
}

fn value<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize(py, v).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// Stratified K-fold cross-validation of a configuration on a corpus: for each fold a model is
/// trained on the other folds and the configuration (its rules with that model) routes the
/// held-out messages. Returns the evaluation dict with ``messages_per_second`` (one message at
/// a time, steady state), ``folds`` (each message's fold, in corpus order), ``k`` and ``seed``.
#[pyfunction]
#[pyo3(signature = (config_path, corpus, *, k = 5, seed = 42))]
pub(crate) fn cross_validate<'py>(
    py: Python<'py>,
    config_path: PathBuf,
    corpus: &Bound<'py, PyAny>,
    k: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let corpus = Corpus::from_arg(corpus)?;
    let cv = detached(py, move || -> Result<CrossValidation, CorpusError> {
        let base = Config::from_path(config_path).map_err(CorpusError::core)?;
        let gold = corpus.load()?;
        eval::cross_validate(&base, &gold, k, seed, |_, _| {}).map_err(CorpusError::core)
    })?
    .map_err(|e| e.into_pyerr(py))?;
    evaluation_dict(py, &cv.evaluation, Some(&cv))
}

/// A trained statistical classifier (multinomial logistic regression over word and character
/// n-grams; one head for the intent, one for the category). Immutable; safe to share between
/// threads.
///
/// ``Model.train(corpus, …)`` trains one (``Router.train_model`` with a router's lexicon);
/// ``Model.from_file(path)`` / ``Model.from_json(text)`` load the versioned model file that
/// ``save`` / ``to_json`` write (and ``civic-router train`` writes).
#[pyclass(frozen, name = "Model", module = "civic_router._native")]
pub(crate) struct PyModel {
    inner: Arc<Model>,
    /// How `predict` normalises: as the training texts were.
    normalizer: Arc<Normalizer>,
}

fn router_of(router: Option<&Bound<'_, PyRouter>>) -> Option<Arc<Router>> {
    router.map(|r| r.get().inner.clone())
}

#[pymethods]
impl PyModel {
    /// Trains a model on a labelled corpus (a path to a JSON Lines file, or an iterable of
    /// dicts with ``id``, ``channel``, ``text``, ``intent``, ``category`` and optionally
    /// ``district``), with the default Spanish normaliser. The same corpus and options give
    /// the same model. The interpreter is released while it trains.
    #[staticmethod]
    #[pyo3(signature = (corpus, *, seed = 42, epochs = 30, learning_rate = 0.5, l2 = 0.0001, min_count = 3))]
    fn train(
        py: Python<'_>,
        corpus: &Bound<'_, PyAny>,
        seed: u64,
        epochs: usize,
        learning_rate: f32,
        l2: f32,
        min_count: usize,
    ) -> PyResult<Self> {
        let options = TrainOptions {
            seed,
            epochs,
            learning_rate,
            l2,
            min_count,
        };
        train(py, None, corpus, options)
    }

    /// Reads a model file. ``router``: predict with that router's lexicon (a model trained
    /// with ``Router.train_model``); by default, the default Spanish normaliser.
    #[staticmethod]
    #[pyo3(signature = (path, *, router = None))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        router: Option<&Bound<'_, PyRouter>>,
    ) -> PyResult<Self> {
        let router = router_of(router);
        detached(py, move || -> Result<PyModel, Error> {
            let src = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            Ok(PyModel {
                inner: Arc::new(Model::from_json(&src)?),
                normalizer: normalizer_of(router.as_deref()),
            })
        })?
        .map_err(|e| to_pyerr(py, e))
    }

    /// Reads a model from its JSON text (see ``from_file`` for ``router``).
    #[staticmethod]
    #[pyo3(signature = (text, *, router = None))]
    fn from_json(
        py: Python<'_>,
        text: &str,
        router: Option<&Bound<'_, PyRouter>>,
    ) -> PyResult<Self> {
        let router = router_of(router);
        detached(py, move || -> Result<PyModel, Error> {
            Ok(PyModel {
                inner: Arc::new(Model::from_json(text)?),
                normalizer: normalizer_of(router.as_deref()),
            })
        })?
        .map_err(|e| to_pyerr(py, e))
    }

    /// The model file's text (JSON, with its format name and version).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        let m = &*self.inner;
        detached(py, || m.to_json())
    }

    /// Writes the model file.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let m = &*self.inner;
        detached(py, move || {
            std::fs::write(&path, m.to_json()).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
        })?
        .map_err(|e| to_pyerr(py, e))
    }

    /// The most likely intent and category of a text (normalised as the training texts were),
    /// each with its probability and the features that weighed most, and the probability of
    /// the ``emergency`` intent. ``channel``: the channel the text came on, a feature too.
    #[pyo3(signature = (text, channel = None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        channel: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let channel: Option<ChannelKind> = channel
            .map(|c| {
                c.parse()
                    .map_err(|e: civic_router::message::UnknownChannel| {
                        malformed(py, e.to_string())
                    })
            })
            .transpose()?;
        let (m, n) = (&*self.inner, &*self.normalizer);
        let p = detached(py, || m.predict(&n.normalize(text), channel))?;
        value(py, &p)
    }

    /// The intent classes, sorted.
    #[getter]
    fn intents(&self) -> Vec<String> {
        self.inner.intents().to_vec()
    }

    /// The category classes, sorted.
    #[getter]
    fn categories(&self) -> Vec<String> {
        self.inner.categories().to_vec()
    }

    /// Number of features kept.
    #[getter]
    fn feature_count(&self) -> usize {
        self.inner.feature_count()
    }

    /// Number of training messages.
    #[getter]
    fn trained_on(&self) -> usize {
        self.inner.trained_on
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(intents={}, categories={}, features={}, trained_on={})",
            self.inner.intents().len(),
            self.inner.categories().len(),
            self.inner.feature_count(),
            self.inner.trained_on
        )
    }
}
