"""The pipeline through the binding, on the inline configuration: the same behaviours the Rust
integration tests check (tests/pipeline.rs), seen from Python."""

from __future__ import annotations

from pathlib import Path

import pytest

import civic_router
from civic_router import ConfigError, Decision, InputError, Message, Router
from conftest import CONFIG, msg


def test_category_route_and_reply(router: Router) -> None:
    d = router.route(msg("La farola de mi calle no enciende"))
    assert isinstance(d, Decision)
    assert (d.intent, d.category, d.department) == ("incident", "alumbrado", "alumbrado")
    assert d.department_name == "Servicio de Alumbrado"
    assert d.explanation["route"]["entry"] == "category:alumbrado"
    assert d.rules == ["lighting"]
    assert d.explanation["rules"][0]["patterns"] == ["farola*"]
    assert d.reply == "Aviso recibido: Alumbrado público. Lo atenderá Servicio de Alumbrado."
    assert d.handoff is False
    assert d.priority == "normal"
    assert d.channel == "whatsapp" and d.id == "m1"
    assert d.district is None
    assert d.confidence == pytest.approx(0.9)


def test_district_from_gazetteer_and_district_route(router: Router) -> None:
    d = router.route(msg("¿Hay talleres de cerámica en el Tardón?"))
    assert d.district == "triana"
    assert d.department == "distrito_triana"
    assert d.explanation["route"]["entry"] == "district:triana"
    assert d.explanation["district"] == {"id": "triana", "matched": "el tardon", "source": "place"}
    d = router.route(msg("¿hay talleres en la Macarena?"))
    assert d.district == "macarena"
    assert d.explanation["route"]["entry"] == "default"


def test_override_beats_category(router: Router) -> None:
    d = router.route(msg("Un bache enorme en la SE-30 salida 5"))
    assert d.department == "junta_carreteras"
    assert d.explanation["route"]["entry"] == "override:carretera-autonomica"
    assert router.route(msg("hay talleres junto a la A-4?")).department != "junta_carreteras"


def test_emergency_is_urgent_and_stops_the_rules(router: Router) -> None:
    d = router.route(msg("huele mucho a gas en el portal, y hay una farola rota"))
    assert (d.intent, d.category, d.department, d.priority) == (
        "emergency",
        "emergencias",
        "emergencias",
        "urgent",
    )
    assert d.rules == ["emergency-gas"]
    assert d.handoff is False
    assert d.reply == "Llame al 112 ahora. (m1)"


def test_after_hours_fallback_uses_received_at(router: Router) -> None:
    saturday_night = "2026-11-28T23:00:00+01:00"
    d = router.route(msg("farola caída con cables sueltos, peligro", received_at=saturday_night))
    assert d.priority == "high"
    assert d.department == "guardia"
    assert d.explanation["route"]["after_hours_from"] == "alumbrado"
    monday = "2026-11-30T09:00:00Z"
    d = router.route(msg("farola caída con cables sueltos, peligro", received_at=monday))
    assert d.department == "alumbrado"


def test_low_confidence_goes_to_a_human_agent(router: Router) -> None:
    d = router.route(msg("mucho ruido"))
    assert d.category == "medio_ambiente"
    assert d.handoff is True
    assert d.department == "agentes"
    assert d.reply == "Le atiende una persona en breve."


def test_unclassified_message_defaults_and_says_so(router: Router) -> None:
    d = router.route(msg("hola buenas"))
    assert (d.intent, d.category, d.confidence, d.handoff) == ("other", "general", 0.0, True)
    assert "intent" in d.explanation["notes"][0]


def test_captions_are_routed_and_tags_kept(router: Router) -> None:
    m = Message(
        "m2",
        "app",
        "",
        attachments=[{"kind": "image", "mime_type": "image/jpeg", "caption": "socavón en la acera"}],
        location={"lat": 37.38, "lon": -6.0},
    )
    d = router.route(m)
    assert d.category == "via_publica"
    assert d.tags == ["firme"]


def test_message_object_and_dict_route_the_same(router: Router) -> None:
    data = msg("bache en la calle Betis", contact={"phone": "+34600111222"})
    assert router.route(data) == router.route(Message.from_dict(data))


def test_decision_to_dict_and_json_agree(router: Router) -> None:
    import json

    d = router.route(msg("farola apagada en Triana"))
    as_dict = d.to_dict()
    assert json.loads(d.to_json()) == as_dict
    for key in ("id", "channel", "intent", "category", "department", "district", "confidence"):
        assert as_dict[key] == getattr(d, key)
    assert as_dict["explanation"] == d.explanation
    assert "farola" in repr(d) or "alumbrado" in repr(d)


def test_route_batch_equals_route_in_order(router: Router) -> None:
    texts = ["farola", "bache", "huele a gas", "talleres en triana", "hola", "ruido"]
    msgs = [msg(texts[i % len(texts)], id=f"m{i}", channel="sms") for i in range(300)]
    batch = router.route_batch(msgs)
    assert len(batch) == len(msgs)
    assert [d.id for d in batch] == [m["id"] for m in msgs]
    assert batch == [router.route(m) for m in msgs]
    # any iterable, Message objects too
    objs = (Message.from_dict(m) for m in msgs[:10])
    assert router.route_batch(objs) == batch[:10]
    assert router.route_batch([]) == []


def test_route_batch_raises_the_first_failure_or_returns_it(router: Router) -> None:
    msgs = [msg("farola", id="a"), {"id": "b", "channel": "fax", "text": "x"}, msg("", id=" ")]
    with pytest.raises(InputError) as info:
        router.route_batch(msgs)
    assert "fax" in str(info.value)
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python 3.11+
        assert notes == ["in route_batch: message 1"]
    out = router.route_batch(msgs, return_exceptions=True)
    assert isinstance(out[0], Decision) and out[0].department == "alumbrado"
    assert isinstance(out[1], InputError)
    assert isinstance(out[2], InputError) and "id" in str(out[2])


def test_dry_run_agrees_with_route(router: Router) -> None:
    for text in ["farola rota", "huele a gas y hay una farola caída", "talleres en triana", "hola"]:
        m = msg(text)
        traces = router.dry_run(m)
        assert [t.id for t in traces] == router.rule_ids
        assert [t.id for t in traces if t.applies] == router.route(m).rules
    by_id = {t.id: t for t in router.dry_run(msg("huele a gas y una farola caída"))}
    assert by_id["lighting"].matches and not by_id["lighting"].applies
    assert by_id["lighting"].patterns == ["farola*"]
    assert by_id["pothole"].reason is not None and not by_id["pothole"].matches
    with pytest.raises(InputError):
        router.dry_run(msg("x", id=""))


def test_reload_swaps_and_a_bad_reload_keeps_the_old_configuration() -> None:
    r = Router.from_toml(CONFIG)
    assert r.route(msg("bache")).department == "obras"
    r.reload_toml(CONFIG.replace('category.via_publica = "obras"', 'category.via_publica = "010"'))
    assert r.route(msg("bache")).department == "010"
    with pytest.raises(ConfigError) as info:
        r.reload_toml(CONFIG.replace('default = "010"', 'default = "nadie"'))
    assert "routing.default" in str(info.value)
    assert r.route(msg("bache")).department == "010", "old configuration kept"


def test_from_file_and_reload_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nid = "bache"\nwhen.any_words = ["bache*"]\n'
        'then = { intent = "incident", category = "via_publica" }\n',
        encoding="utf-8",
    )
    cfg = tmp_path / "router.toml"
    cfg.write_text(
        '[router]\nname = "Archivo"\nrules = ["rules.toml"]\n'
        '[categories]\nvia_publica = "Vía pública"\ngeneral = "General"\n'
        '[[department]]\nid = "obras"\nname = "Obras"\n'
        '[[department]]\nid = "010"\nname = "010"\n'
        '[routing]\ndefault = "010"\ncategory.via_publica = "obras"\n',
        encoding="utf-8",
    )
    r = Router.from_file(cfg)  # a Path
    assert r.name == "Archivo"
    assert r.route(msg("un bache")).department == "obras"
    r2 = Router.from_file(str(cfg))  # a str
    assert r2.rule_ids == ["bache"]
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('= "obras"\n\n', '= "obras"\n'), encoding="utf-8")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('category.via_publica = "obras"', ""), encoding="utf-8")
    r.reload_file(cfg)
    assert r.route(msg("un bache")).department == "010"
    with pytest.raises(ConfigError) as info:
        Router.from_file(tmp_path / "missing.toml")
    assert "missing.toml" in str(info.value)


def test_configuration_refusals_name_the_field() -> None:
    cases = [
        (CONFIG.replace('default = "010"', 'default = "nadie"'), "routing.default"),
        (CONFIG.replace('name = "Test line"', 'name = "Test line"\ntimezone = "Mars/Base"'), "router.timezone"),
        (CONFIG.replace("handoff_below = 0.5", "handoff_below = 5.0"), "router.handoff_below"),
        (CONFIG.replace('category = "via_publica", tags', 'category = "baches", tags'), "then.category"),
        ("[router\nname = 1", "(syntax)"),
    ]
    for text, field in cases:
        with pytest.raises(ConfigError) as info:
            Router.from_toml(text)
        e = info.value
        assert e.code == "CONFIG"
        assert e.issues, "issues listed"
        assert any(field in i.field for i in e.issues), (field, e.issues)
        assert all(i.file == "<string>" for i in e.issues)
        assert field in str(e)


def test_config_errors_list_every_issue() -> None:
    text = CONFIG.replace('default = "010"', 'default = "nadie"').replace(
        "handoff_below = 0.5", "handoff_below = 5.0"
    )
    with pytest.raises(ConfigError) as info:
        Router.from_toml(text)
    fields = [i.field for i in info.value.issues]
    assert "routing.default" in fields and "router.handoff_below" in fields
    assert "2 problems" in str(info.value)


def test_introspection(router: Router) -> None:
    assert router.name == "Test line"
    assert router.rule_ids[0] == "emergency-gas"
    assert router.classifier_names == ["rules"]
    assert router.department_name("obras") == "Vía Pública"
    assert router.department_name("nadie") is None
    cfg = router.config()
    assert cfg["routing"]["default"] == "010"
    assert "Test line" in repr(router)


def test_normalize() -> None:
    # the core's normaliser, passed through (its behaviour is tested in core/src/text.rs)
    assert civic_router.normalize("Holaaaa, la FAROLA de la C/ Feria está apagá") == (
        "hola la farola de la calle feria esta apagada"
    )
    assert civic_router.normalize("Año") == "anyo"
    assert civic_router.normalize("") == ""


def test_router_normalize_uses_the_configuration_rewrites() -> None:
    r = Router.from_toml(CONFIG.replace("[categories]", '[text]\nrewrites = { lipa = "lipasam" }\n\n[categories]'))
    assert r.normalize("Llamé a LIPA") == "llame a lipasam"
    assert r.tokens("Llamé a LIPA") == ["llame", "a", "lipasam"]
    assert civic_router.normalize("Llamé a LIPA") == "llame a lipa"


def test_version() -> None:
    assert civic_router.__version__.count(".") == 2
