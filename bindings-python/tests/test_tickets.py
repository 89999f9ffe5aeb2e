"""Cases from Python: ingestion (idempotent), status changes, errors, delivery through Python
callables, conversation history, the report, retention."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from civic_router import Appointments, Desk, Router, StoreError

SEVILLA = Path(__file__).resolve().parents[2] / "examples" / "sevilla"

CONFIG = """
[tickets]
reference_prefix = "SEV"
retention_days = 30
[categories]
alumbrado = "Alumbrado público"
limpieza = "Limpieza"
general = "General"
[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
[[department]]
id = "lipasam"
name = "LIPASAM"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
category.alumbrado = "alumbrado"
category.limpieza = "lipasam"
[replies]
other = "Hola, ¿en qué podemos ayudarle?"
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = { intent = "incident", category = "alumbrado" }
[[rule]]
id = "contenedor"
when.any_words = ["contenedor*"]
then = { intent = "incident", category = "limpieza" }
[[rule]]
id = "saludo"
when.any_words = ["hola"]
then = { intent = "other" }
"""

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def msg(mid: str, text: str, phone: str = "+34600000001") -> dict[str, Any]:
    return {"id": mid, "channel": "whatsapp", "text": text, "contact": {"phone": phone}}


PG_URL = os.environ.get("CIVIC_ROUTER_POSTGRES_URL", "")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    router = Router.from_toml(CONFIG)
    if request.param == "sqlite":
        yield Desk(router, tmp_path / "cases.db")
    elif request.param == "postgres":
        # opened by URL like any store; a schema of its own, dropped afterwards
        if not PG_URL:
            pytest.skip("CIVIC_ROUTER_POSTGRES_URL is not set: PostgreSQL store not tested")
        schema = f"civic_py_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        sep = "&" if "?" in PG_URL else "?"
        yield Desk(router, f"{PG_URL}{sep}schema={schema}")
        subprocess.run(["psql", PG_URL, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], capture_output=True)
    else:
        yield Desk(router)


def test_same_webhook_ten_times_is_one_ticket_and_one_notification(desk: Desk) -> None:
    outs = [desk.ingest(msg("wamid.1", "farola apagada"), at=T0) for _ in range(10)]
    refs = {o["ticket"]["reference"] for o in outs}
    assert refs == {"SEV-2026-000001"}
    assert [o["duplicate_delivery"] for o in outs] == [False] + [True] * 9
    notes = [p for p in desk.pending() if p["kind"] == "notification"]
    assert len(notes) == 1
    assert "SEV-2026-000001" in notes[0]["text"]


def test_transitions_and_typed_errors(desk: Desk) -> None:
    ref = desk.ingest(msg("m1", "farola apagada"), at=T0)["ticket"]["reference"]
    t = desk.change_status(ref, "accepted", actor="alumbrado", note="brigada avisada")
    assert t["status"] == "accepted"
    assert t["history"][-1]["actor"] == "alumbrado"
    assert t["history"][-1]["note"] == "brigada avisada"
    with pytest.raises(StoreError) as e:
        desk.change_status(ref, "closed", actor="alumbrado")
    assert e.value.kind == "refused_transition"
    assert e.value.code == "STORE"
    with pytest.raises(StoreError) as e:
        desk.ticket("SEV-2026-000099")
    assert e.value.kind == "unknown_ticket"
    with pytest.raises(StoreError) as e:
        desk.change_status(ref, "abierto", actor="x")
    assert e.value.kind == "invalid"
    with pytest.raises(StoreError) as e:
        desk.recategorise(ref, "limpieza", actor="agente", department="nadie")
    assert e.value.kind == "unknown_department"
    t = desk.recategorise(ref, "limpieza", actor="agente")
    assert (t["department"], t["status"]) == ("lipasam", "routed")


def test_status_question_is_answered(desk: Desk) -> None:
    ref = desk.ingest(msg("m1", "farola apagada"), at=T0)["ticket"]["reference"]
    out = desk.ingest(msg("m2", f"¿cómo va mi aviso {ref.lower()}?"), at=T0)
    assert out["status_query"] == ref
    assert ref in out["reply"]


def test_relay_through_python_callables_retries_then_dead_letters(desk: Desk) -> None:
    desk.ingest(msg("m1", "farola apagada"), at=T0)
    desk.ingest(msg("m2", "contenedor lleno", "+34600000002"), at=T0)
    calls: dict[str, int] = {}
    told: list[str] = []

    def department(row: dict[str, Any]) -> None:
        calls[row["target"]] = calls.get(row["target"], 0) + 1
        if row["target"] == "lipasam":
            raise ConnectionError("LIPASAM is down")
        if calls[row["target"]] <= 3:
            raise TimeoutError("slow")

    def notify(row: dict[str, Any]) -> None:
        told.append(row["text"])

    now = T0
    for _ in range(10):
        desk.relay_once(route=department, notify=notify, max_attempts=5, base_delay_s=1, at=now)
        now += timedelta(minutes=1)
    assert calls == {"alumbrado": 4, "lipasam": 5}
    assert len(told) == 2
    dead = desk.dead_letters()
    assert [d["item"]["target"] for d in dead] == ["lipasam"]
    assert "LIPASAM is down" in dead[0]["item"]["last_error"]
    assert desk.pending() == []


def test_conversation_report_and_retention(desk: Desk) -> None:
    desk.ingest(msg("m0", "hola"), at=T0)
    ref = desk.ingest(msg("m1", "farola apagada"), at=T0 + timedelta(minutes=1))["ticket"]["reference"]
    desk.relay_once(route=lambda row: None, notify=lambda row: None, at=T0 + timedelta(minutes=2))
    conv = desk.conversation_of("whatsapp", {"phone": "+34600000001"})
    assert [e["direction"] for e in conv] == ["inbound", "outbound", "inbound", "outbound"]
    assert len(desk.conversation_of_ticket(ref)) == 2
    assert [t["reference"] for t in desk.tickets_of("whatsapp", {"phone": "+34600000001"})] == [ref]
    for s in ["accepted", "resolved", "closed"]:
        desk.change_status(ref, s, actor="alumbrado", at=T0 + timedelta(days=1))
    before = desk.report()
    assert before["tickets"]["total"] == 1
    assert before["conversations"]["total"] == 1
    assert before["resolution"]["median_s"] == 86400 - 60
    assert "<svg" in desk.report(format="html")
    assert "conversations: 1" in desk.report(format="table")
    with pytest.raises(ValueError):
        desk.apply_retention(b"short")
    n = desk.apply_retention(b"0123456789abcdef", now=T0 + timedelta(days=60))
    assert n == 1
    assert desk.report() == before
    assert "600000001" not in str(desk.ticket(ref))


def test_threads_ingest_concurrently(tmp_path: Path) -> None:
    desk = Desk(Router.from_toml(CONFIG), tmp_path / "c.db")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(25):
                desk.ingest(msg(f"t{k}-{i}", "farola apagada", f"+3460000{k:04d}"), at=T0)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    refs = {p["reference"] for p in desk.pending() if p["kind"] == "delivery"}
    assert len(refs) == 100


def test_corrupt_store_is_a_typed_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, just some text that is long enough")
    with pytest.raises(StoreError) as e:
        Desk(Router.from_toml(CONFIG), junk)
    assert e.value.kind == "corrupt"


def test_appointment_reminders_go_through_the_outbox_once(desk: Desk, tmp_path: Path) -> None:
    appts = Appointments(SEVILLA / "offices.toml", store=tmp_path / "citas.db")
    ana = {"phone": "+34600000009"}
    # Tuesday 1 December 2026, 10:00 in Seville (09:00 UTC): the earliest slot is within a day
    a = appts.book_earliest("padron", contact=ana, channel="sms", now=datetime(2026, 12, 1, 10, 0), district="triana")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    r = desk.schedule_reminders(appts, hours=24, at=at)
    assert r == {"due": 1, "enqueued": 1, "already_queued": 0, "marked": 1, "moved": 0}
    assert desk.schedule_reminders(appts, hours=24, at=at)["due"] == 0
    assert appts.reminders_due(datetime(2026, 12, 1, 10, 0), hours=24) == []
    (row,) = desk.pending()
    assert row["kind"] == "reminder" and row["appointment"] == a["reference"] and "reference" not in row
    sent: list[dict[str, Any]] = []
    for minutes in (0, 10, 60):
        desk.relay_once(route=lambda row: None, notify=sent.append, at=at + timedelta(minutes=minutes))
        desk.schedule_reminders(appts, hours=24, at=at + timedelta(minutes=minutes))
    assert len(sent) == 1, sent
    assert sent[0]["target"] == "sms" and sent[0]["to"]["phone"] == "+34600000009"
    assert sent[0]["text"].startswith("Recordatorio:") and a["reference"] in sent[0]["text"]
    assert desk.pending() == []
    (entry,) = desk.conversation_of("sms", ana)
    assert entry["direction"] == "outbound" and "ticket" not in entry
    # moved: a fresh reminder for the new time
    later = datetime.fromisoformat(appts.offer("padron", district="triana", now=datetime.fromisoformat(a["start"]))[0]["start"])
    appts.move_to(a["reference"], later, now=datetime(2026, 12, 1, 10, 0))
    r = desk.schedule_reminders(appts, hours=24 * 7, at=at)
    assert (r["due"], r["enqueued"]) == (1, 1)
    with pytest.raises(ValueError):
        desk.schedule_reminders(appts, hours=-1)
