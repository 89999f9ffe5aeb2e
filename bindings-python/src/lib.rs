//! The Python binding of civic-router: the native module `civic_router._native`.
//!
//! Thin by design: it converts types and errors, and every behaviour lives in the core crate.
//! The Python package (`python/civic_router`) re-exports these classes, defines the exception
//! hierarchy (`civic_router.errors`) and ships the type stubs (`_native.pyi`).
//!
//! Robustness at the boundary:
//! * every entry point that runs core code does it inside a panic guard, so a panic surfaces
//!   as `civic_router.InternalError` (an `Exception`), never as an abort or a
//!   `BaseException` that `except Exception` would miss;
//! * routing, compiling, reading files, training and evaluating run detached from the
//!   interpreter; Python
//!   classifier plug-ins attach only for their own call, and no lock is held meanwhile.

mod channels;
mod errors;
mod message;
mod model;
mod plugins;
mod router;
mod selfservice;
mod tickets;

use pyo3::prelude::*;

/// The native part of `civic_router`; import `civic_router` instead.
#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::channels::{segment_info, PyInbound, PyWebhook};
    #[pymodule_export]
    use crate::message::{PyContext, PyDecision, PyMessage, PyRuleTrace};
    #[pymodule_export]
    use crate::model::{cross_validate, PyModel};
    #[pymodule_export]
    use crate::router::{normalize, PyRouter};
    #[pymodule_export]
    use crate::selfservice::{PyAppointments, PyKnowledgeBase};
    #[pymodule_export]
    use crate::tickets::PyDesk;

    // `setattr`, not `add`: these two stay out of `__all__`.
    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.setattr("__version__", env!("CARGO_PKG_VERSION"))?;
        // PyO3's class for a panic seen from Python. Exposed (privately) so the tests can make a
        // plug-in raise it: PyO3 turns it back into a panic inside the router, which the
        // boundary guard must report as `InternalError`.
        m.setattr(
            "_PanicException",
            m.py().get_type::<pyo3::panic::PanicException>(),
        )?;
        Ok(())
    }
}
