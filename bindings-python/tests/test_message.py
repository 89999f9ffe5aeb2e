"""The Message class: construction, fields, conversions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from civic_router import InputError, Message


def test_construct_and_read_fields() -> None:
    m = Message(
        "wamid.1",
        "whatsapp",
        "Hay una farola apagada",
        contact={"phone": "+34600111222", "name": "Ana"},
        attachments=[{"kind": "image", "url": "media:1", "caption": "mirad"}],
        location={"lat": 37.39, "lon": -5.99, "address": "C/ Feria 1"},
        language="es",
        received_at="2026-11-28T23:00:00+01:00",
        conversation_id="c1",
        metadata={"speech_confidence": 0.8, "raw": {"a": [1, 2]}},
    )
    assert (m.id, m.channel, m.text) == ("wamid.1", "whatsapp", "Hay una farola apagada")
    assert m.contact == {"phone": "+34600111222", "name": "Ana"}
    assert m.attachments == [{"kind": "image", "url": "media:1", "caption": "mirad"}]
    assert m.location == {"lat": 37.39, "lon": -5.99, "address": "C/ Feria 1"}
    assert (m.language, m.conversation_id) == ("es", "c1")
    assert m.received_at == "2026-11-28T23:00:00+01:00"
    assert m.metadata == {"speech_confidence": 0.8, "raw": {"a": [1, 2]}}


def test_defaults() -> None:
    m = Message("1", "sms")
    assert m.text == "" and m.contact == {} and m.attachments == [] and m.location is None
    assert m.language is None and m.received_at is None and m.metadata == {}
    assert m.to_dict() == {"id": "1", "channel": "sms", "contact": {}, "text": ""}


def test_received_at_accepts_an_aware_datetime() -> None:
    t = datetime(2026, 11, 28, 23, 0, tzinfo=timezone(timedelta(hours=1)))
    assert Message("1", "sms", "x", received_at=t).received_at == "2026-11-28T23:00:00+01:00"
    with pytest.raises(InputError):
        Message("1", "sms", "x", received_at=datetime(2026, 11, 28, 23, 0))  # naive: no offset


def test_round_trips() -> None:
    data = {
        "id": "1",
        "channel": "app",
        "text": "bache",
        "contact": {"id": "u1"},
        "location": {"lat": 37.0, "lon": -6.0},
        "metadata": {"k": "v"},
    }
    m = Message.from_dict(data)
    assert Message.from_dict(m.to_dict()) == m
    assert Message.from_json(m.to_json()) == m
    assert json.loads(m.to_json()) == m.to_dict()
    assert m != Message.from_dict({**data, "text": "otro"})


def test_repr_hides_the_text_and_contact() -> None:
    m = Message("1", "sms", "mi DNI es 12345678Z", contact={"phone": "+34600111222"})
    r = repr(m)
    assert "12345678Z" not in r and "600111222" not in r
    assert "'1'" in r or '"1"' in r


def test_messages_are_immutable() -> None:
    m = Message("1", "sms", "x")
    with pytest.raises(AttributeError):
        m.text = "y"  # type: ignore[misc]
