"""Type stubs of the native module (hand-written; checked by ``mypy.stubtest``)."""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from os import PathLike
from typing import Any, Literal, final, overload

from ._types import (
    AttachmentDict,
    Channel,
    ClassifierLike,
    ContactDict,
    Corpus,
    CrossValidationDict,
    EvaluationDict,
    PredictionDict,
    Intent,
    LocationDict,
    MessageDict,
    Priority,
    Provider,
    ReplyDict,
    RenderedDict,
    SegmentInfoDict,
    StatusDict,
    IgnoredDict,
)

__all__ = [
    "Appointments",
    "KnowledgeBase",
    "Context",
    "Decision",
    "Desk",
    "Inbound",
    "Message",
    "Model",
    "RuleTrace",
    "Webhook",
    "normalize",
    "segment_info",
    "Router",
    "cross_validate",
]

__version__: str
_PanicException: type[BaseException]

_MessageLike = Message | MessageDict | Mapping[str, Any]

@final
class Message:
    """One message from a citizen."""

    def __new__(
        cls,
        id: str,
        channel: Channel,
        text: str | None = None,
        *,
        contact: ContactDict | None = None,
        attachments: list[AttachmentDict] | None = None,
        location: LocationDict | None = None,
        language: str | None = None,
        received_at: str | datetime | None = None,
        conversation_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message: ...
    @staticmethod
    def from_dict(data: MessageDict | Mapping[str, Any]) -> Message: ...
    @staticmethod
    def from_json(data: str | bytes | bytearray) -> Message: ...
    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def text(self) -> str: ...
    @property
    def contact(self) -> ContactDict: ...
    @property
    def attachments(self) -> list[AttachmentDict]: ...
    @property
    def location(self) -> LocationDict | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def received_at(self) -> str | None: ...
    @property
    def conversation_id(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    def to_dict(self) -> MessageDict: ...
    def to_json(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class Decision:
    """The decision for one message, and why."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def intent(self) -> Intent: ...
    @property
    def category(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def department_name(self) -> str: ...
    @property
    def district(self) -> str | None: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def confidence(self) -> float: ...
    @property
    def handoff(self) -> bool: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def reply(self) -> str | None: ...
    @property
    def rules(self) -> list[str]: ...
    @property
    def explanation(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class RuleTrace:
    """One rule's verdict in a dry run."""

    @property
    def id(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def matches(self) -> bool: ...
    @property
    def applies(self) -> bool: ...
    @property
    def patterns(self) -> list[str]: ...
    @property
    def reason(self) -> str | None: ...

@final
class Context:
    """What a classifier plug-in receives."""

    @property
    def message(self) -> Message: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def district(self) -> str | None: ...
    @property
    def local_time(self) -> str | None: ...

@final
class Router:
    """Routes citizen messages to departments, with an explanation."""

    @staticmethod
    def from_file(path: str | PathLike[str]) -> Router: ...
    @staticmethod
    def from_toml(text: str) -> Router: ...
    def with_classifier(
        self, classifier: ClassifierLike, *, first: bool = False, name: str | None = None
    ) -> Router: ...
    def route(self, message: _MessageLike) -> Decision: ...
    @overload
    def route_batch(
        self, messages: Iterable[_MessageLike], *, return_exceptions: Literal[False] = False
    ) -> list[Decision]: ...
    @overload
    def route_batch(
        self, messages: Iterable[_MessageLike], *, return_exceptions: bool
    ) -> list[Decision | BaseException]: ...
    def dry_run(self, message: _MessageLike) -> list[RuleTrace]: ...
    def train_model(
        self,
        corpus: Corpus,
        *,
        seed: int = 42,
        epochs: int = 30,
        learning_rate: float = 0.5,
        l2: float = 0.0001,
        min_count: int = 3,
    ) -> Model: ...
    def evaluate(self, corpus: Corpus) -> EvaluationDict: ...
    def reload_file(self, path: str | PathLike[str]) -> None: ...
    def reload_toml(self, text: str) -> None: ...
    def normalize(self, text: str) -> str: ...
    def tokens(self, text: str) -> list[str]: ...
    def config(self) -> dict[str, Any]: ...
    def department_name(self, id: str) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def rule_ids(self) -> list[str]: ...
    @property
    def classifier_names(self) -> list[str]: ...

@final
class Model:
    """A trained statistical classifier (intent and category heads)."""

    @staticmethod
    def train(
        corpus: Corpus,
        *,
        seed: int = 42,
        epochs: int = 30,
        learning_rate: float = 0.5,
        l2: float = 0.0001,
        min_count: int = 3,
    ) -> Model: ...
    @staticmethod
    def from_file(path: str | PathLike[str], *, router: Router | None = None) -> Model: ...
    @staticmethod
    def from_json(text: str, *, router: Router | None = None) -> Model: ...
    def to_json(self) -> str: ...
    def save(self, path: str | PathLike[str]) -> None: ...
    def predict(self, text: str, channel: Channel | None = None) -> PredictionDict: ...
    @property
    def intents(self) -> list[str]: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def feature_count(self) -> int: ...
    @property
    def trained_on(self) -> int: ...

def cross_validate(
    config_path: str | PathLike[str], corpus: Corpus, *, k: int = 5, seed: int = 42
) -> CrossValidationDict: ...

@final
class Desk:
    """Cases: ingests messages into tickets, changes them, delivers them, reports."""

    def __new__(cls, router: Router, store: str | PathLike[str] | None = None) -> Desk: ...
    def ingest(self, message: _MessageLike, *, at: datetime | None = None) -> dict[str, Any]: ...
    def change_status(
        self,
        reference: str,
        status: str,
        *,
        actor: str,
        note: str = ...,
        at: datetime | None = None,
    ) -> dict[str, Any]: ...
    def recategorise(
        self,
        reference: str,
        category: str,
        *,
        actor: str,
        note: str = ...,
        department: str | None = None,
    ) -> dict[str, Any]: ...
    def ticket(self, reference: str) -> dict[str, Any]: ...
    def tickets_of(self, channel: Channel | str, contact: ContactDict | Mapping[str, Any]) -> list[dict[str, Any]]: ...
    def conversation_of(
        self, channel: Channel | str, contact: ContactDict | Mapping[str, Any]
    ) -> list[dict[str, Any]]: ...
    def conversation_of_ticket(self, reference: str) -> list[dict[str, Any]]: ...
    def pending(self) -> list[dict[str, Any]]: ...
    def dead_letters(self) -> list[dict[str, Any]]: ...
    def schedule_reminders(
        self, appointments: Appointments, *, hours: int = 24, at: datetime | None = None
    ) -> dict[str, int]: ...
    def relay_once(
        self,
        *,
        webhooks: Mapping[str, str] | None = None,
        route: Callable[[dict[str, Any]], object] | None = None,
        notify: Callable[[dict[str, Any]], object] | None = None,
        mail_dir: str | PathLike[str] | None = None,
        max_attempts: int | None = None,
        base_delay_s: float = 5.0,
        at: datetime | None = None,
    ) -> dict[str, int]: ...
    @overload
    def report(self, *, month: str | None = None, format: Literal["dict"] = "dict") -> dict[str, Any]: ...
    @overload
    def report(self, *, month: str | None = None, format: Literal["table", "json", "html"]) -> str: ...
    def apply_retention(self, key: bytes, *, now: datetime | None = None) -> int: ...

@final
class KnowledgeBase:
    """The knowledge base that answers information requests (BM25, Spanish stemming)."""

    @staticmethod
    def from_path(path: str | PathLike[str]) -> KnowledgeBase: ...
    @staticmethod
    def from_toml(text: str, origin: str = ...) -> KnowledgeBase: ...
    @staticmethod
    def from_json(text: str, origin: str = ...) -> KnowledgeBase: ...
    def __len__(self) -> int: ...
    def search(self, question: str, top: int = 1, threshold: float = 0.5) -> list[dict[str, Any]]: ...
    def gap_key(self, question: str) -> str: ...

@final
class Appointments:
    """Appointments (cita previa): offices, slots, bookings and booking conversations."""

    def __new__(
        cls,
        offices: str | PathLike[str],
        store: str | PathLike[str] | None = None,
        conversation_minutes: int = 15,
    ) -> Appointments: ...
    def offer(
        self, service: str, *, now: datetime, district: str | None = None, n: int = 3
    ) -> list[dict[str, Any]]: ...
    def book_slot(
        self,
        service: str,
        office: str,
        start: datetime,
        *,
        contact: ContactDict | Mapping[str, Any],
        channel: Channel | str,
        now: datetime,
    ) -> dict[str, Any]: ...
    def book_earliest(
        self,
        service: str,
        *,
        contact: ContactDict | Mapping[str, Any],
        channel: Channel | str,
        now: datetime,
        district: str | None = None,
    ) -> dict[str, Any]: ...
    def confirm(self, reference: str) -> dict[str, Any]: ...
    def cancel(self, reference: str) -> dict[str, Any]: ...
    def move_to(self, reference: str, start: datetime, *, now: datetime) -> dict[str, Any]: ...
    def reminders_due(self, now: datetime, hours: int = 24) -> list[dict[str, Any]]: ...
    def mark_reminded(self, reference: str) -> None: ...
    def converse(
        self,
        text: str,
        *,
        contact: ContactDict | Mapping[str, Any],
        channel: Channel | str,
        now: datetime,
        district: str | None = None,
    ) -> dict[str, Any]: ...

def normalize(text: str) -> str: ...


_Headers = Mapping[str, str] | Iterable[tuple[str, str]]

@final
class Inbound:
    """What one provider request carried."""

    @property
    def messages(self) -> list[Message]: ...
    @property
    def statuses(self) -> list[StatusDict]: ...
    @property
    def ignored(self) -> list[IgnoredDict]: ...

@final
class Webhook:
    """One provider's webhook endpoint: verify and parse requests, render replies."""

    def __new__(cls, settings: Mapping[str, Any]) -> Webhook: ...
    @property
    def provider(self) -> Provider: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def max_body_bytes(self) -> int: ...
    def receive(
        self,
        body: bytes | bytearray | str,
        *,
        url: str,
        headers: _Headers | None = None,
        method: str = "POST",
    ) -> Inbound: ...
    def verify(
        self,
        body: bytes | bytearray | str,
        *,
        url: str,
        headers: _Headers | None = None,
        method: str = "POST",
    ) -> None: ...
    def handshake(self, url: str) -> str: ...
    def render(
        self,
        reply: Decision | ReplyDict,
        *,
        to: Message | ContactDict | None = None,
        hours_since_last_inbound: float | None = None,
        in_reply_to: str | None = None,
        fallback: str = "Hemos recibido su mensaje.",
        ticket: str | None = None,
    ) -> RenderedDict: ...

def segment_info(text: str) -> SegmentInfoDict: ...
