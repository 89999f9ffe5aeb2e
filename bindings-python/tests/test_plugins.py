"""Python classifier plug-ins in the Rust chain: what they receive, what they may return, and
what happens when they raise, return garbage, or make the Rust side panic."""

from __future__ import annotations

import os
import threading
import traceback
from typing import Any, Optional

import pytest

from civic_router import (
    ClassificationDict,
    ClassifierError,
    Context,
    InternalError,
    Router,
    _native,
)
from conftest import msg


def parks(cx: Context) -> Optional[ClassificationDict]:
    if "parque" in cx.tokens:
        return {"intent": "incident", "category": "actividades", "confidence": 0.8}
    return None


def test_a_function_fills_what_the_rules_leave_open(router: Router) -> None:
    r = router.with_classifier(parks)
    assert r.classifier_names == ["rules", "parks"]
    assert router.classifier_names == ["rules"], "the original router is unchanged"
    d = r.route(msg("el parque está sucio"))
    assert d.category == "actividades"
    assert d.confidence == 0.8
    assert d.explanation["classifiers"][1] == {
        "classifier": "parks",
        "output": {
            "intent": "incident",
            "category": "actividades",
            "confidence": 0.8,
            "handoff": False,
            "authoritative": False,
        },
        "applied": ["intent", "category"],
    }
    # rules that fire first keep their labels
    assert r.route(msg("farola rota en el parque")).category == "alumbrado"


class Greeter:
    """An object with `classify` and a `name`."""

    name = "greeter"

    def __init__(self) -> None:
        self.seen: list[Context] = []

    def classify(self, cx: Context) -> Optional[ClassificationDict]:
        self.seen.append(cx)
        if "hola" in cx.tokens:
            return {
                "intent": "other",
                "category": "general",
                "confidence": 0.95,
                "tags": ["saludo"],
                "reply": "¡Hola! ¿En qué podemos ayudarle?",
                "authoritative": True,
            }
        return None


def test_an_object_with_classify_first_in_the_chain(router: Router) -> None:
    g = Greeter()
    r = router.with_classifier(g, first=True)
    assert r.classifier_names == ["greeter", "rules"]
    d = r.route(msg("Holaaa, una farola apagada", received_at="2026-11-28T23:00:00+01:00"))
    assert d.intent == "other" and d.tags == ["saludo"]
    assert d.reply == "¡Hola! ¿En qué podemos ayudarle?"
    assert d.rules == [], "authoritative: the rules did not run"
    cx = g.seen[-1]
    assert cx.text == "hola una farola apagada"
    assert cx.tokens == ["hola", "una", "farola", "apagada"]
    assert cx.message.text == "Holaaa, una farola apagada"
    assert cx.message.id == "m1"
    assert cx.local_time == "2026-11-28T23:00:00"
    assert cx.district is None
    r.route(msg("farola en Triana"))
    assert g.seen[-1].district == "triana"


def test_names_and_chaining(router: Router) -> None:
    r = router.with_classifier(lambda cx: None, name="a").with_classifier(parks, name="b")
    assert r.classifier_names == ["rules", "a", "b"]
    assert router.with_classifier(lambda cx: None).classifier_names == ["rules", "<lambda>"]


def test_reload_keeps_the_plugins(router: Router) -> None:
    from conftest import CONFIG

    r = router.with_classifier(parks)
    r.reload_toml(CONFIG)
    assert r.classifier_names == ["rules", "parks"]
    assert r.route(msg("el parque está sucio")).category == "actividades"


def test_not_a_classifier_is_a_type_error(router: Router) -> None:
    with pytest.raises(TypeError, match="callable or an object with a `classify` method"):
        router.with_classifier(42)  # type: ignore[arg-type]

    class NotCallable:
        classify = 3

    with pytest.raises(TypeError, match="not callable"):
        router.with_classifier(NotCallable())  # type: ignore[arg-type]


class WeightsMissing(RuntimeError):
    pass


def failing_model(cx: Context) -> Optional[ClassificationDict]:
    raise WeightsMissing("weights missing")


def test_a_plugin_exception_is_raised_again_with_its_traceback(router: Router) -> None:
    r = router.with_classifier(failing_model)
    with pytest.raises(WeightsMissing, match="weights missing") as info:
        r.route(msg("hola"))
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "failing_model" in frames, frames
    # the same from route_batch, in place or raised
    out = r.route_batch([msg("hola", id="a"), msg("farola", id="b")], return_exceptions=True)
    assert all(isinstance(e, WeightsMissing) for e in out)
    with pytest.raises(WeightsMissing):
        r.route_batch([msg("hola")])
    # dry_run runs the rules only
    assert r.dry_run(msg("farola"))[1].applies


def test_base_exceptions_pass_through(router: Router) -> None:
    def interrupted(cx: Context) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        router.with_classifier(interrupted).route(msg("hola"))


@pytest.mark.parametrize(
    "garbage, reason",
    [
        (42, "int"),
        ("incident", "str"),
        ([1, 2], "list"),
        ({"intent": "complaint"}, "unknown variant `complaint`"),
        ({"intnet": "incident"}, "unknown field `intnet`"),
        ({"confidence": "high"}, "confidence"),
        ({"tags": "a"}, "tags"),
        ({"evidence": [{"source": 1}]}, "evidence[0].source"),
        ({"category": "general", "confidence": 1.5}, "between 0 and 1"),
        ({"category": "general", "confidence": float("nan")}, "confidence: NaN is not a finite number"),
        ({"category": "general", "confidence": -0.5}, "between 0 and 1"),
        ({"tags": "a"}, "tags: invalid type: string"),
        ({1: "incident"}, "a key is a int"),
    ],
)
def test_garbage_from_a_plugin_is_a_classifier_error(router: Router, garbage: Any, reason: str) -> None:
    r = router.with_classifier(lambda cx: garbage, name="junk")
    with pytest.raises(ClassifierError) as info:
        r.route(msg("hola"))
    e = info.value
    assert e.classifier == "junk"
    assert e.code == "CLASSIFIER"
    assert "classifier `junk` failed" in str(e)
    assert reason in str(e), str(e)


def panicking(cx: Context) -> None:
    # What another PyO3 extension lets out when it panics. PyO3 turns it back into a Rust panic
    # as soon as the router reads the error: a real unwinding panic inside the pipeline.
    raise _native._PanicException("boom in a plug-in")


def test_a_panic_surfaces_as_internal_error_not_an_abort(router: Router) -> None:
    r = router.with_classifier(panicking)
    with pytest.raises(InternalError, match="boom in a plug-in") as info:
        r.route(msg("hola"))
    assert isinstance(info.value, Exception), "caught by `except Exception`"
    # in a batch the panic happens on rayon worker threads, and comes back the same way
    with pytest.raises(InternalError, match="boom in a plug-in"):
        r.route_batch([msg("hola", id=str(i)) for i in range(64)])
    # the router (and the interpreter) are fine afterwards
    assert router.route(msg("farola")).department == "alumbrado"
    assert r.dry_run(msg("farola"))[1].applies


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
def test_route_batch_calls_plugins_from_several_threads_at_once(router: Router) -> None:
    # Passes only if two rayon workers are inside the plug-in at the same time: the batch runs
    # in parallel and the calling thread does not hold the GIL meanwhile.
    barrier = threading.Barrier(2, timeout=20)
    threads: set[int] = set()
    lock = threading.Lock()

    def meet(cx: Context) -> None:
        with lock:
            threads.add(threading.get_ident())
        if cx.message.id in ("0", "1"):
            barrier.wait()
        return None

    r = router.with_classifier(meet)
    # one message per rayon split: the first two meet at the barrier
    out = r.route_batch([msg("hola", id=str(i)) for i in range(2)])
    assert len(out) == 2
    assert len(threads) >= 2
