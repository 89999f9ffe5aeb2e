"""Typing helpers: the shapes of dicts the binding accepts and returns, and the classifier
protocol. Pure typing, no behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Protocol, TypedDict, Union

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
