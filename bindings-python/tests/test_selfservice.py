"""Self-service from Python: the knowledge base, auto-answers in decisions, appointments and
booking conversations (the core's behaviour, reached through the binding)."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

import civic_router
from civic_router import AppointmentError, Appointments, ConfigError, KnowledgeBase, Router

SEVILLA = Path(__file__).resolve().parents[2] / "examples" / "sevilla"
NOW = datetime(2026, 12, 1, 10, 0)  # a Tuesday


def test_knowledge_base_search_and_gap_key() -> None:
    kb = KnowledgeBase.from_path(SEVILLA / "faq.toml")
    assert len(kb) >= 60
    hits = kb.search("kiero enpadronarme en sevilla", top=2, threshold=0.3)
    assert hits[0]["entry"]["id"] == "padron-alta"
    assert hits[0]["answers"] is True
    assert hits[0]["entry"]["example"] is True
    assert kb.gap_key("¿Dónde recogen los MUEBLES viejos?") == "muebl recog viej"


def test_broken_knowledge_base_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as e:
        KnowledgeBase.from_toml("[[entry]]\nid = 'a'\n", "faq.toml")
    assert e.value.code == "CONFIG"
    kb = KnowledgeBase.from_json('[{"id": "a", "category": "agua", "questions": ["factura del agua"], "answer": "En la web."}]')
    assert kb.search("pagar la factura del agua")[0]["entry"]["id"] == "a"


def test_decision_is_answered_automatically() -> None:
    router = Router.from_file(SEVILLA / "router.toml")
    d = router.route({"id": "m1", "channel": "sms", "text": "¿a qué hora abre el registro de Triana?"})
    as_dict = d.to_dict()
    assert as_dict["auto_answered"] is True
    assert as_dict["answer"]["entry"] == "registro-horario"


def test_book_cancel_and_typed_errors() -> None:
    appts = Appointments(SEVILLA / "offices.toml")
    slots = appts.offer("padron", district="triana", now=NOW)
    assert slots[0]["office"] == "distrito_triana"
    me = {"phone": "+34600000001"}
    a = appts.book_slot("padron", "distrito_triana", datetime.fromisoformat(slots[0]["start"]), contact=me, channel="whatsapp", now=NOW)
    assert a["reference"].startswith("CP-")
    assert appts.confirm(a["reference"])["status"] == "confirmed"
    due = appts.reminders_due(NOW, hours=24)
    assert due and a["reference"] in due[0]["text"]
    appts.cancel(a["reference"])
    with pytest.raises(AppointmentError) as e:
        appts.confirm(a["reference"])
    assert e.value.kind == "invalid_state" and e.value.code == "APPOINTMENT"
    with pytest.raises(AppointmentError) as e:
        appts.offer("nope", now=NOW)
    assert e.value.kind == "unknown_service"


def test_fifty_threads_one_last_place(tmp_path: Path) -> None:
    appts = Appointments(SEVILLA / "offices.toml", store=tmp_path / "citas.db")
    slot = datetime(2026, 12, 1, 12, 0)
    appts.book_slot("padron", "distrito_triana", slot, contact={"phone": "+34600000000"}, channel="sms", now=NOW)
    results: list[str] = []
    barrier = threading.Barrier(50)

    def book(i: int) -> None:
        barrier.wait()
        try:
            appts.book_slot("padron", "distrito_triana", slot, contact={"phone": f"+346100{i:05}"}, channel="sms", now=NOW)
            results.append("ok")
        except AppointmentError as e:
            results.append(e.kind)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert results.count("slot_taken") == 49


def test_conversation_books_and_expires() -> None:
    appts = Appointments(SEVILLA / "offices.toml", conversation_minutes=15)
    me = {"phone": "+34600000002"}
    turn = appts.converse("quiero cita para empadronarme en Triana", contact=me, channel="whatsapp", now=NOW, district="triana")
    assert [o[0] for o in turn["options"]] == ["opt:1", "opt:2", "opt:3"]
    turn = appts.converse("opt:1", contact=me, channel="whatsapp", now=NOW)
    assert turn["done"] and turn["appointment"]["reference"] in turn["text"]
    # a citizen who never answers
    appts.converse("cita para el padrón", contact=me, channel="sms", now=NOW, district="sur")
    with pytest.raises(AppointmentError) as e:
        appts.converse("1", contact=me, channel="sms", now=datetime(2026, 12, 1, 10, 30))
    assert e.value.kind == "conversation_expired"


def test_exports() -> None:
    for name in ("KnowledgeBase", "Appointments", "AppointmentError"):
        assert name in civic_router.__all__
