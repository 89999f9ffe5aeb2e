"""The exceptions of civic-router: one class per error kind of the core, under
:class:`CivicRouterError`.

Each carries the core's message (``str(err)``) and a stable ``code`` (``CONFIG``, ``INPUT``,
``CLASSIFIER``, ``IO``, ``CHANNEL``, ``STORE``, ``DELIVERY``, ``APPOINTMENT``, ``MODEL``,
``INTERNAL``), the same codes the Node binding uses.
A refused provider request is a :class:`ChannelError` whose subclass says why
(:class:`SignatureError`, :class:`ParseError`, :class:`PayloadTooLargeError`,
:class:`ReplyError`) and whose ``http_status`` is what the webhook should answer.

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
    "ChannelError",
    "SignatureError",
    "ParseError",
    "PayloadTooLargeError",
    "ReplyError",
    "InternalError",
    "StoreError",
    "DeliveryError",
    "AppointmentError",
    "ModelError",
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


class ChannelError(CivicRouterError, ValueError):
    """A provider request was refused, or a reply cannot be rendered on its channel.

    ``channel`` is the channel (``whatsapp``, ``sms``, …), ``field`` the field at fault (a
    path such as ``entry[0].changes[0].value.messages[1].from``), ``kind`` the core's kind
    (``malformed``, ``too_large``, ``unauthorized``, ``unsupported``, ``not_found``,
    ``reply``) and ``http_status`` the status the webhook endpoint should answer with.
    """

    code = "CHANNEL"

    def __init__(
        self,
        message: str,
        channel: str = "",
        field: str = "",
        kind: str = "",
        http_status: int = 400,
    ) -> None:
        super().__init__(message)
        self.channel = channel
        self.field = field
        self.kind = kind
        self.http_status = http_status


class SignatureError(ChannelError):
    """A signature, verify token or API key is missing or wrong (answer 403)."""


class ParseError(ChannelError):
    """The request is not what the provider sends: bad JSON or form, a missing or ill-typed
    field, invalid UTF-8 (answer 400)."""


class PayloadTooLargeError(ParseError):
    """The body is larger than the channel's limit; refused before parsing (answer 413)."""


class ReplyError(ChannelError):
    """A reply cannot be rendered within the channel's rules (no template outside
    WhatsApp's 24-hour window, no recipient)."""


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


class AppointmentError(CivicRouterError):
    """An appointment request was refused. ``kind`` says why: ``unknown_office``,
    ``unknown_service``, ``unknown_district``, ``not_offered``, ``no_slot``, ``slot_taken``,
    ``not_a_slot``, ``not_found``, ``invalid_state``, ``conversation_expired``, ``config`` or
    ``store``."""

    code = "APPOINTMENT"

    def __init__(self, message: str, kind: str = "store") -> None:
        super().__init__(message)
        self.kind = kind


class ModelError(CivicRouterError, ValueError):
    """A statistical model could not be trained (an empty corpus, a single intent or
    category, a learning rate that is not a positive number, too few messages for the folds
    asked) or read (not a model file, another format version, a corrupt file)."""

    code = "MODEL"
