//! `Router`: the core router behind a Python class, and `normalize`.
//!
//! Every call that routes, reads a file or compiles a configuration runs detached from the
//! interpreter (other Python threads go on; `route_batch` spreads over every core) and inside a
//! panic guard.

use std::path::PathBuf;
use std::sync::Arc;

use civic_router::config::Config;
use civic_router::text::Normalizer;
use civic_router::{Error, Message, Router};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use pythonize::pythonize;

use crate::errors::{detached, guard, to_pyerr};
use crate::message::{message_arg, PyDecision, PyRuleTrace};
use crate::model::PyModel;
use crate::plugins::PyClassifier;

/// A plug-in and where it sits in the chain, kept to rebuild the router with one more.
#[derive(Clone)]
struct Plugin {
    first: bool,
    classifier: Arc<PyClassifier>,
}

/// Routes citizen messages to departments, with an explanation.
///
/// Immutable and safe to share between threads; `reload_file` / `reload_toml` swap the
/// configuration atomically (plug-ins stay).
#[pyclass(frozen, name = "Router", module = "civic_router._native")]
pub(crate) struct PyRouter {
    pub(crate) inner: Arc<Router>,
    plugins: Vec<Plugin>,
}

impl PyRouter {
    fn build(py: Python<'_>, config: Config, plugins: Vec<Plugin>) -> PyResult<Self> {
        let plugged = plugins.clone();
        let built = detached(py, move || {
            Router::from_config(config).map(|mut r| {
                for p in plugged {
                    r = if p.first {
                        r.with_classifier_first(p.classifier)
                    } else {
                        r.with_classifier(p.classifier)
                    };
                }
                r
            })
        })?;
        Ok(PyRouter {
            inner: Arc::new(built.map_err(|e| to_pyerr(py, e))?),
            plugins,
        })
    }

    fn read_file(py: Python<'_>, path: PathBuf) -> PyResult<Config> {
        detached(py, move || Config::from_path(path))?.map_err(|e| to_pyerr(py, e.into()))
    }

    fn read_toml(py: Python<'_>, text: String) -> PyResult<Config> {
        detached(py, move || Config::from_toml_str(&text, "<string>"))?
            .map_err(|e| to_pyerr(py, e.into()))
    }
}

#[pymethods]
impl PyRouter {
    /// Builds a router from a configuration file and the rule files it names (relative to it).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let config = Self::read_file(py, path)?;
        Self::build(py, config, Vec::new())
    }

    /// Builds a router from configuration text (TOML); rule files it names are read relative
    /// to the current directory.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: String) -> PyResult<Self> {
        let config = Self::read_toml(py, text)?;
        Self::build(py, config, Vec::new())
    }

    /// A new router with a Python classifier added to the chain: after the rules, or before
    /// them with `first=True`. `classifier` is a callable or an object with a `classify` method,
    /// called with a `Context` and returning `None` or a dict of `Classification` fields.
    #[pyo3(signature = (classifier, *, first = false, name = None))]
    fn with_classifier(
        &self,
        py: Python<'_>,
        classifier: &Bound<'_, PyAny>,
        first: bool,
        name: Option<String>,
    ) -> PyResult<Self> {
        let mut plugins = self.plugins.clone();
        plugins.push(Plugin {
            first,
            classifier: Arc::new(PyClassifier::new(classifier, name)?),
        });
        Self::build(py, self.inner.config(), plugins)
    }

    /// Decides what to do with one message (a `Message` or a dict in the JSON format).
    fn route(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<PyDecision> {
        let msg = message_arg(message)?;
        let (router, m) = (&*self.inner, msg.get());
        match detached(py, || router.route(m))? {
            Ok(inner) => Ok(PyDecision { inner }),
            Err(e) => Err(to_pyerr(py, e)),
        }
    }

    /// Decides for many messages at once, on every core, without holding the GIL. Returns one
    /// `Decision` per message, in order. The first failure is raised (with a note naming its
    /// index), unless `return_exceptions=True`: then failures take their place in the list.
    #[pyo3(signature = (messages, *, return_exceptions = false))]
    fn route_batch<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        return_exceptions: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut converted: Vec<Result<Message, PyErr>> = Vec::new();
        for item in messages.try_iter()? {
            converted.push(item.and_then(|m| message_arg(&m).map(|a| a.into_message())));
        }
        let mut ok: Vec<Message> = Vec::with_capacity(converted.len());
        let mut slots: Vec<Result<usize, PyErr>> = Vec::with_capacity(converted.len());
        for c in converted {
            slots.push(c.map(|m| {
                ok.push(m);
                ok.len() - 1
            }));
        }
        let router = &*self.inner;
        let routed: Vec<Result<civic_router::Decision, Error>> =
            detached(py, || router.route_batch(&ok))?;
        let mut routed: Vec<Option<Result<civic_router::Decision, Error>>> =
            routed.into_iter().map(Some).collect();
        let out = PyList::empty(py);
        for (i, slot) in slots.into_iter().enumerate() {
            let result = slot.and_then(|k| match routed.get_mut(k).and_then(Option::take) {
                Some(Ok(inner)) => Ok(PyDecision { inner }),
                Some(Err(e)) => Err(to_pyerr(py, e)),
                None => Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "route_batch lost a result",
                )),
            });
            match result {
                Ok(d) => out.append(Bound::new(py, d)?)?,
                Err(e) if return_exceptions => out.append(e.into_value(py))?,
                Err(e) => {
                    let v = e.value(py);
                    if v.hasattr("add_note")? {
                        v.call_method1("add_note", (format!("in route_batch: message {i}"),))?;
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// What every rule would do with a message, and why (plug-ins do not run).
    fn dry_run(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<Vec<PyRuleTrace>> {
        let msg = message_arg(message)?;
        let (router, m) = (&*self.inner, msg.get());
        match detached(py, || router.dry_run(m))? {
            Ok(traces) => Ok(traces.into_iter().map(PyRuleTrace::from).collect()),
            Err(e) => Err(to_pyerr(py, e)),
        }
    }

    /// Replaces the configuration with a file's, atomically; on error the old one stays.
    fn reload_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let config = Self::read_file(py, path)?;
        let router = &*self.inner;
        detached(py, || router.reload(config))?.map_err(|e| to_pyerr(py, e))
    }

    /// Replaces the configuration with TOML text, atomically; on error the old one stays.
    fn reload_toml(&self, py: Python<'_>, text: String) -> PyResult<()> {
        let config = Self::read_toml(py, text)?;
        let router = &*self.inner;
        detached(py, || router.reload(config))?.map_err(|e| to_pyerr(py, e))
    }

    /// Trains a statistical model on a labelled corpus (a path to a JSON Lines file, or an
    /// iterable of dicts), normalised with this router's lexicon, as
    /// ``civic-router train --config`` does; the model predicts with the same lexicon. The
    /// interpreter is released while it trains.
    #[pyo3(signature = (corpus, *, seed = 42, epochs = 30, learning_rate = 0.5, l2 = 0.0001, min_count = 3))]
    #[allow(clippy::too_many_arguments)]
    fn train_model(
        &self,
        py: Python<'_>,
        corpus: &Bound<'_, PyAny>,
        seed: u64,
        epochs: usize,
        learning_rate: f32,
        l2: f32,
        min_count: usize,
    ) -> PyResult<PyModel> {
        let options = civic_router::classify::model::TrainOptions {
            seed,
            epochs,
            learning_rate,
            l2,
            min_count,
        };
        crate::model::train(py, Some(self.inner.clone()), corpus, options)
    }

    /// Routes every message of a labelled corpus (a path or an iterable of dicts) and scores
    /// the decisions against the gold labels: accuracies, macro-F1, emergency recall, district
    /// accuracy, per-class scores and the most frequent confusions (the dict
    /// ``civic-router eval --json`` prints). The interpreter is released meanwhile.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        corpus: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::model::evaluate(py, self.inner.clone(), corpus)
    }

    /// Normalises a text as the router does (with the configuration's rewrites).
    fn normalize(&self, py: Python<'_>, text: &str) -> PyResult<String> {
        let router = &*self.inner;
        detached(py, || router.normalize(text).as_str().to_string())
    }

    /// The tokens of a text, normalised as the router does.
    fn tokens(&self, py: Python<'_>, text: &str) -> PyResult<Vec<String>> {
        let router = &*self.inner;
        detached(py, || {
            router
                .normalize(text)
                .tokens()
                .map(str::to_string)
                .collect()
        })
    }

    /// The configuration in force, as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || Ok(pythonize(py, &self.inner.config())?))
    }

    /// A department's human name, or `None` if there is no such department.
    fn department_name(&self, id: &str) -> Option<String> {
        self.inner.department_name(id)
    }

    /// The service line's name (`[router] name`).
    #[getter]
    fn name(&self) -> String {
        self.inner.config().router.name
    }

    /// Ids of the rules in force, in the order they run.
    #[getter]
    fn rule_ids(&self) -> Vec<String> {
        self.inner.rules().rule_ids().map(str::to_string).collect()
    }

    /// Names of the classifiers, in the order they run (`rules` is the rule engine).
    #[getter]
    fn classifier_names(&self) -> Vec<String> {
        self.inner.classifier_names()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let name = PyString::new(py, &self.name()).repr()?.to_string();
        Ok(format!(
            "Router(name={name}, rules={}, classifiers={:?})",
            self.inner.rules().len(),
            self.classifier_names()
        ))
    }
}

/// Normalises a text with the default Spanish normaliser: ASCII, lower case, accents folded,
/// `ñ` kept as `ny`, chat shorthand expanded, one space between tokens.
#[pyfunction]
pub(crate) fn normalize(py: Python<'_>, text: &str) -> PyResult<String> {
    // built once, outside the interpreter (no Python runs inside: a std OnceLock is safe)
    static SPANISH: std::sync::OnceLock<Normalizer> = std::sync::OnceLock::new();
    detached(py, || {
        SPANISH
            .get_or_init(Normalizer::spanish)
            .normalize(text)
            .as_str()
            .to_string()
    })
}
