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
    Appointments,
    Context,
    Decision,
    Inbound,
    Desk,
    KnowledgeBase,
    Message,
    Router,
    RuleTrace,
    Webhook,
    __version__,
    normalize,
    segment_info,
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
    Provider,
    RenderedDict,
    ReplyDict,
    SegmentInfoDict,
    StatusDict,
)
from .errors import (
    ChannelError,
    CivicRouterError,
    ClassifierError,
    ConfigError,
    ConfigIssue,
    InputError,
    InternalError,
    IoError,
    ParseError,
    PayloadTooLargeError,
    ReplyError,
    SignatureError,
    StoreError,
    DeliveryError,
    AppointmentError,
)

__all__ = [
    "Router",
    "Desk",
    "KnowledgeBase",
    "Appointments",
    "AppointmentError",
    "Message",
    "Decision",
    "RuleTrace",
    "Context",
    "normalize",
    "Webhook",
    "Inbound",
    "segment_info",
    "__version__",
    "CivicRouterError",
    "ConfigError",
    "ConfigIssue",
    "InputError",
    "ClassifierError",
    "IoError",
    "InternalError",
    "ChannelError",
    "SignatureError",
    "ParseError",
    "PayloadTooLargeError",
    "ReplyError",
    "Provider",
    "RenderedDict",
    "ReplyDict",
    "SegmentInfoDict",
    "StatusDict",
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
