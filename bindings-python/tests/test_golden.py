"""The golden routing corpus (tests/data/routing/*.jsonl), read by the Rust, Python and Node test
suites alike: every case must route as expected here too.

Format, one JSON object a line: {"name", "config" (path from the repository root), "message",
"expect": {"intent", "category", "department", "district", optional "rules", "handoff",
"route"}}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civic_router import Router
from conftest import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "data" / "routing"


def _cases() -> list[Any]:
    out: list[Any] = []
    for f in sorted(CORPUS.glob("*.jsonl")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                case = json.loads(line)
                out.append(pytest.param(case, id=f"{f.name}:{n}:{case.get('name', '')}"))
    return out


CASES = _cases()
_routers: dict[str, Router] = {}


def _router(config: str) -> Router:
    if config not in _routers:
        _routers[config] = Router.from_file(REPO_ROOT / config)
    return _routers[config]


@pytest.mark.skipif(not CASES, reason=f"no golden cases in {CORPUS} yet")
@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: dict[str, Any]) -> None:
    expect = case["expect"]
    d = _router(case["config"]).route(case["message"])
    got = {
        "intent": d.intent,
        "category": d.category,
        "department": d.department,
        "district": d.district,
    }
    want = {k: expect.get(k) for k in got}
    assert got == want, case["name"]
    for rule in expect.get("rules") or []:
        assert rule in d.rules, f"rule {rule} did not fire (fired: {d.rules})"
    if "handoff" in expect:
        assert d.handoff == expect["handoff"]
    if "route" in expect:
        assert d.explanation["route"]["entry"] == expect["route"]


@pytest.mark.skipif(not CASES, reason=f"no golden cases in {CORPUS} yet")
def test_golden_route_batch_agrees_with_route() -> None:
    by_config: dict[str, list[dict[str, Any]]] = {}
    for p in CASES:
        case = p.values[0]
        by_config.setdefault(case["config"], []).append(case["message"])
    for config, messages in by_config.items():
        r = _router(config)
        assert r.route_batch(messages) == [r.route(m) for m in messages]


def test_the_corpus_reader_reads_the_format(tmp_path: Path) -> None:
    """The reader itself, on an inline case, so this file never runs zero tests."""
    from conftest import CONFIG

    (tmp_path / "router.toml").write_text(CONFIG, encoding="utf-8")
    case: dict[str, Any] = {
        "name": "farola",
        "config": "router.toml",
        "message": {"id": "g1", "channel": "sms", "text": "farola apagada en Triana"},
        "expect": {"intent": "incident", "category": "alumbrado", "department": "alumbrado",
                   "district": "triana", "rules": ["lighting"], "handoff": False,
                   "route": "category:alumbrado"},
    }
    global REPO_ROOT
    saved = REPO_ROOT
    try:
        REPO_ROOT = tmp_path
        _routers.clear()
        test_golden_case(case)
        case["expect"]["department"] = "obras"
        with pytest.raises(AssertionError):
            test_golden_case(case)
    finally:
        REPO_ROOT = saved
        _routers.clear()
