"""civic-router: route citizen messages to a city's departments in microseconds, with an
explanation.

>>> from civic_router import Router
>>> router = Router.from_file("examples/sevilla/router.toml")   # doctest: +SKIP
>>> d = router.route({"id": "m1", "channel": "whatsapp", "text": "farola apagada"})  # doctest: +SKIP
>>> d.department, d.rules   # doctest: +SKIP

The work happens in the Rust core; this package is a thin binding (pyo3).
"""

from __future__ import annotations

from ._native import (
    Context,
    Decision,
    Desk,
    Message,
    Router,
    RuleTrace,
    __version__,
    normalize,
)
from ._types import (
    AttachmentDict,
    Channel,
    ClassificationDict,
    ClassifierLike,
    ClassifierProtocol,
    ContactDict,
    EvidenceDict,
    Intent,
    LocationDict,
    MessageDict,
    Priority,
)
from .errors import (
    CivicRouterError,
    ClassifierError,
    ConfigError,
    ConfigIssue,
    InputError,
    InternalError,
    IoError,
    StoreError,
    DeliveryError,
)

__all__ = [
    "Router",
    "Desk",
    "Message",
    "Decision",
    "RuleTrace",
    "Context",
    "normalize",
    "__version__",
    "CivicRouterError",
    "ConfigError",
    "ConfigIssue",
    "InputError",
    "ClassifierError",
    "IoError",
    "InternalError",
    "StoreError",
    "DeliveryError",
    "AttachmentDict",
    "Channel",
    "ClassificationDict",
    "ClassifierLike",
    "ClassifierProtocol",
    "ContactDict",
    "EvidenceDict",
    "Intent",
    "LocationDict",
    "MessageDict",
    "Priority",
]
