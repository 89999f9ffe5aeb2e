"""The exceptions of civic-router: one class per error kind of the core, under
:class:`CivicRouterError`.

Each carries the core's message (``str(err)``) and a stable ``code`` (``CONFIG``, ``INPUT``,
``CLASSIFIER``, ``IO``, ``STORE``, ``DELIVERY``, ``INTERNAL``), the same codes the Node binding uses.

An exception raised *by a Python classifier plug-in* is not wrapped: the router raises the
plug-in's original exception again, with its traceback. A plug-in that returns something
that is not a classification gets :class:`ClassifierError`.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

__all__ = [
    "CivicRouterError",
    "ConfigError",
    "ConfigIssue",
    "InputError",
    "ClassifierError",
    "IoError",
    "InternalError",
    "StoreError",
    "DeliveryError",
]


class CivicRouterError(Exception):
    """Base class of every error civic-router raises."""

    code: str = "ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigIssue(NamedTuple):
    """One problem of a refused configuration."""

    file: str
    """The file (``<string>`` for text given directly)."""
    field: str
    """The field, as a path (``department[3].hours[0]``, ``rule `x`: when.any_text[0]``)."""
    reason: str
    """What is wrong."""


class ConfigError(CivicRouterError, ValueError):
    """A configuration or rule file was refused; ``issues`` lists every problem found."""

    code = "CONFIG"

    def __init__(self, message: str, issues: Iterable[tuple[str, str, str]] = ()) -> None:
        super().__init__(message)
        self.issues: list[ConfigIssue] = [ConfigIssue(*i) for i in issues]


class InputError(CivicRouterError, ValueError):
    """A message was refused: not a message, no id, text too large, invalid UTF-8."""

    code = "INPUT"


class ClassifierError(CivicRouterError):
    """A classifier failed, or a plug-in returned something that is not a classification."""

    code = "CLASSIFIER"

    def __init__(self, message: str, classifier: str = "") -> None:
        super().__init__(message)
        self.classifier = classifier


class IoError(CivicRouterError, OSError):
    """Reading a file failed."""

    code = "IO"


class InternalError(CivicRouterError):
    """A bug in civic-router (a Rust panic), reported instead of crashing the interpreter."""

    code = "INTERNAL"


class StoreError(CivicRouterError):
    """A ticket store refused a request or failed. ``kind`` says which: ``unknown_ticket``,
    ``refused_transition``, ``unknown_department``, ``corrupt`` (not a store, or damaged),
    ``backend`` (the database failed) or ``invalid``."""

    code = "STORE"

    def __init__(self, message: str, kind: str = "backend") -> None:
        super().__init__(message)
        self.kind = kind


class DeliveryError(CivicRouterError):
    """A case or a notification could not be delivered; ``retryable`` says whether a later
    attempt may succeed."""

    code = "DELIVERY"

    def __init__(self, message: str, target: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.target = target
        self.retryable = retryable
