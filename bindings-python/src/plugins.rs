//! Python classifier plug-ins joined into the Rust pipeline.
//!
//! [`PyClassifier`] implements the core [`Classifier`] trait over any Python callable, or any
//! object with a `classify` method. It is called with a `Context` and returns `None` (nothing to
//! say) or a dict of `Classification` fields, read through the core's serde definition (unknown
//! fields and unknown intents refused; the chain checks the confidence).
//!
//! It may be called from any thread (rayon workers in `route_batch`): it attaches to the
//! interpreter for the call only, and the router never holds a lock meanwhile. When the plug-in
//! raises, the `PyErr` travels as the `source` of the core's `ClassifierError`, and the binding
//! raises that same exception again in the caller, traceback and all.

use civic_router::classify::{Classification, Classifier, ClassifierError, Context};
use pyo3::prelude::*;

use crate::message::{from_py, type_name, PyContext};

/// A Python callable as a core classifier.
pub(crate) struct PyClassifier {
    name: String,
    /// The callable: the object itself or its bound `classify` method.
    call: Py<PyAny>,
}

impl PyClassifier {
    /// Wraps `obj`: an object with a `classify` method, or a callable. The name is `name`, else
    /// the object's `name` attribute (a `str`), else its `__name__`, else its type's name.
    pub(crate) fn new(obj: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<Self> {
        let call = if let Ok(m) = obj.getattr("classify") {
            m
        } else if obj.is_callable() {
            obj.clone()
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "a classifier is a callable or an object with a `classify` method, got {}",
                type_name(obj)
            )));
        };
        if !call.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "the classifier's `classify` attribute is not callable",
            ));
        }
        let name = match name {
            Some(n) => n,
            None => ["name", "__name__"]
                .iter()
                .find_map(|a| obj.getattr(*a).ok()?.extract::<String>().ok())
                .unwrap_or_else(|| type_name(obj)),
        };
        Ok(PyClassifier {
            name,
            call: call.unbind(),
        })
    }

    fn call(
        &self,
        py: Python<'_>,
        cx: &Context<'_>,
    ) -> Result<Option<Classification>, ClassifierError> {
        let raised = |e: PyErr| ClassifierError {
            name: self.name.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        };
        let ctx = PyContext::new(py, cx).map_err(raised)?;
        let out = self.call.bind(py).call1((ctx,)).map_err(raised)?;
        if out.is_none() {
            return Ok(None);
        }
        from_py::<Classification>(&out).map(Some).map_err(|e| {
            ClassifierError::new(
                self.name.clone(),
                format!(
                    "returned {} that is not a classification ({e}); return None or a dict \
                     of Classification fields",
                    type_name(&out)
                ),
            )
        })
    }
}

impl Classifier for PyClassifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn classify(&self, cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
        Python::attach(|py| self.call(py, cx))
    }
}
