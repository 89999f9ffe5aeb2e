"""Typing helpers: the shapes of dicts the binding accepts and returns, and the classifier
protocol. Pure typing, no behaviour."""

from __future__ import annotations

import os
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Iterable,
    Literal,
    Mapping,
    Optional,
    Protocol,
    TypedDict,
    Union,
)

if TYPE_CHECKING:
    from ._native import Context

__all__ = [
    "Channel",
    "Intent",
    "Priority",
    "ContactDict",
    "AttachmentDict",
    "LocationDict",
    "MessageDict",
    "EvidenceDict",
    "ClassificationDict",
    "ClassifierProtocol",
    "ClassifierLike",
    "Provider",
    "ReplyDict",
    "LinkDict",
    "ReplyOptionDict",
    "RenderedDict",
    "SegmentInfoDict",
    "StatusDict",
    "IgnoredDict",
    "CorpusRecordDict",
    "Corpus",
    "ScoredDict",
    "PredictionDict",
    "ClassScoreDict",
    "EvaluationDict",
    "CrossValidationDict",
]

Channel = Literal["whatsapp", "sms", "voice", "app", "web", "email", "in_person"]
Intent = Literal["information", "incident", "appointment", "emergency", "other"]
Priority = Literal["low", "normal", "high", "urgent"]


class ContactDict(TypedDict, total=False):
    id: str
    phone: str
    email: str
    name: str


class _AttachmentRequired(TypedDict):
    kind: str


class AttachmentDict(_AttachmentRequired, total=False):
    mime_type: str
    url: str
    caption: str


class LocationDict(TypedDict, total=False):
    lat: float
    lon: float
    address: str


class _MessageRequired(TypedDict):
    id: str
    channel: Channel


class MessageDict(_MessageRequired, total=False):
    """A message in the JSON format (what ``Message.to_dict()`` returns)."""

    text: str
    contact: ContactDict
    attachments: list[AttachmentDict]
    location: LocationDict
    language: str
    received_at: str
    conversation_id: str
    metadata: dict[str, Any]


class EvidenceDict(TypedDict):
    source: str
    detail: list[str]


class ClassificationDict(TypedDict, total=False):
    """What a classifier plug-in returns; every field is optional."""

    intent: Intent
    category: str
    department: str
    priority: Priority
    tags: list[str]
    reply: str
    confidence: float
    handoff: bool
    authoritative: bool
    evidence: list[EvidenceDict]


class ClassifierProtocol(Protocol):
    """An object that classifies: ``classify(context)`` returns a classification or None."""

    def classify(self, context: Context, /) -> Optional[ClassificationDict]: ...


ClassifierLike = Union[
    ClassifierProtocol, Callable[["Context"], Optional[ClassificationDict]]
]
"""What ``Router.with_classifier`` accepts."""


Provider = Literal["whatsapp", "sms", "voice", "open311", "web"]


class LinkDict(TypedDict):
    """A self-service link in a reply."""

    title: str
    url: str


class _ReplyOptionRequired(TypedDict):
    id: str
    title: str


class ReplyOptionDict(_ReplyOptionRequired, total=False):
    """A quick-reply option: a button on WhatsApp, a number by SMS, a spoken choice by voice."""

    description: str


class _ReplyRequired(TypedDict):
    text: str


class ReplyDict(_ReplyRequired, total=False):
    """A reply, independent of the channel (what ``Webhook.render`` takes besides a Decision).

    ``link_button``: the first link is the call to action, a button where the channel has one
    (WhatsApp: an interactive ``cta_url`` message)."""

    links: list[LinkDict]
    link_button: bool
    options: list[ReplyOptionDict]
    ticket: str
    handoff: bool
    end: bool


class SegmentInfoDict(TypedDict):
    """What an SMS text costs (``segment_info``)."""

    encoding: Literal["gsm7", "ucs2"]
    units: int
    characters: int
    segments: int
    parts: list[int]
    non_gsm: list[str]


class _RenderedRequired(TypedDict):
    status: int
    content_type: str
    body: str


class RenderedDict(_RenderedRequired, total=False):
    """A rendered reply: the HTTP response to give (TwiML, XML, JSON) or, for WhatsApp, the
    JSON to POST to the Graph API; ``segments`` for SMS."""

    segments: SegmentInfoDict


class _StatusRequired(TypedDict):
    channel: Channel
    message_id: str
    state: Any


class StatusDict(_StatusRequired, total=False):
    """A delivery or call status callback (``Inbound.statuses``)."""

    recipient: str
    timestamp: int
    correlation: str
    errors: list[dict[str, Any]]


class IgnoredDict(TypedDict):
    """An item a request carried that is neither a message nor a status."""

    id: str | None
    reason: str


class _CorpusRecordRequired(_MessageRequired):
    intent: Intent
    category: str


class CorpusRecordDict(_CorpusRecordRequired, total=False):
    """One labelled message of a corpus: a message in the JSON format with its gold labels
    (the format of ``corpus/dev.jsonl``, one such object per line)."""

    district: str | None
    text: str
    contact: ContactDict
    attachments: list[AttachmentDict]
    location: LocationDict
    language: str
    received_at: str
    conversation_id: str
    metadata: dict[str, Any]


Corpus = Union[str, os.PathLike[str], Iterable[Union[CorpusRecordDict, Mapping[str, Any]]]]
"""What ``Model.train``, ``Router.train_model``, ``Router.evaluate`` and ``cross_validate``
accept: a path to a JSON Lines file, or an iterable of labelled records."""


class ScoredDict(TypedDict):
    """A label with its probability and the features that weighed most for it (strongest
    first, ``(feature, weight)``)."""

    label: str
    probability: float
    top_features: list[tuple[str, float]]


class PredictionDict(TypedDict):
    """What ``Model.predict`` returns."""

    intent: ScoredDict
    category: ScoredDict
    emergency_probability: float


class ClassScoreDict(TypedDict):
    """Precision, recall and F1 of one class, and its gold support."""

    support: int
    precision: float
    recall: float
    f1: float


class EvaluationDict(TypedDict):
    """A router scored on a labelled corpus (``Router.evaluate``; what
    ``civic-router eval --json`` prints). ``confusions``: the most frequent errors,
    ``(field, gold, predicted, count)``, largest first."""

    messages: int
    intent_accuracy: float
    category_accuracy: float
    joint_accuracy: float
    category_macro_f1: float
    emergency_recall: float
    district_accuracy: float
    intent: dict[str, ClassScoreDict]
    category: dict[str, ClassScoreDict]
    confusions: list[tuple[str, str, str, int]]


class CrossValidationDict(EvaluationDict):
    """What ``cross_validate`` returns: every message scored once, by a model that did not
    see it; the routing speed in steady state; each message's fold, in corpus order."""

    messages_per_second: float
    folds: list[int]
    k: int
    seed: int
