"""Channels from Python: provider webhooks verified and parsed from raw bytes, replies rendered
in each provider's format, and every refusal a typed exception.

Signatures come from ``core/tests/fixtures/channels/signatures.json``, computed with Python's
``hmac`` and twilio's ``RequestValidator`` (independent of civic-router's own signer)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from civic_router import (
    ChannelError,
    ContactDict,
    CivicRouterError,
    ConfigError,
    InputError,
    Message,
    ParseError,
    PayloadTooLargeError,
    ReplyDict,
    ReplyError,
    Router,
    SignatureError,
    Webhook,
    segment_info,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "core" / "tests" / "fixtures" / "channels"
VECTORS: dict[str, Any] = json.loads((FIXTURES / "signatures.json").read_text("utf-8"))
WA_SECRET = "civic-router-test-app-secret"
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
SHARED_KEY = "webhooks-shared-key-secret-0001"
SMS_URL = "https://010.sevilla.example/sms/inbound"
SEVILLA = REPO_ROOT / "examples" / "sevilla" / "router.toml"


def whatsapp() -> Webhook:
    return Webhook(
        {
            "provider": "whatsapp",
            "app_secret": WA_SECRET,
            "verify_token": "token-010",
            "template": {"name": "incidencia_estado"},
        }
    )


def sms() -> Webhook:
    return Webhook({"provider": "sms", "auth_tokens": [TWILIO_TOKEN], "shared_keys": [SHARED_KEY]})


def voice() -> Webhook:
    return Webhook(
        {
            "provider": "voice",
            "auth_tokens": [TWILIO_TOKEN],
            "shared_keys": [SHARED_KEY],
            "gather_action": "https://010.sevilla.example/ivr/gather",
        }
    )


def wa_sig(body: bytes) -> str:
    return "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()


# --- WhatsApp ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["whatsapp"], ids=lambda v: v["file"])
def test_every_whatsapp_fixture_verifies_with_the_independent_signature(vector: dict[str, Any]) -> None:
    body = (FIXTURES / vector["file"]).read_bytes()
    inbound = whatsapp().receive(
        body, url="https://010.sevilla.example/wa", headers={"X-Hub-Signature-256": vector["signature"]}
    )
    assert len(inbound.messages) + len(inbound.statuses) + len(inbound.ignored) >= 1


def test_whatsapp_text_becomes_a_message_the_router_routes() -> None:
    body = (FIXTURES / "whatsapp" / "text.json").read_bytes()
    inbound = whatsapp().receive(body, url="https://x/wa", headers=[("x-hub-signature-256", wa_sig(body))])
    (msg,) = inbound.messages
    assert isinstance(msg, Message)
    assert msg.channel == "whatsapp" and msg.id.startswith("wamid.")
    router = Router.from_file(SEVILLA)
    d = router.route(msg)
    rendered = whatsapp().render(d, to=msg)
    assert rendered["status"] == 200 and rendered["content_type"] == "application/json"
    out = json.loads(rendered["body"])
    assert out["messaging_product"] == "whatsapp"
    assert out.get("to") or out.get("recipient")


def test_a_knowledge_base_answer_is_a_link_button_on_whatsapp_and_short_by_sms() -> None:
    router = Router.from_file(SEVILLA)
    q = "¿cómo pongo una queja o reclamación al ayuntamiento?"
    msg = Message("q1", "whatsapp", q, contact={"phone": "+34600111222"})
    d = router.route(msg)
    assert d.to_dict()["auto_answered"] is True
    out = json.loads(whatsapp().render(d, to=msg)["body"])
    assert out["type"] == "interactive"
    assert out["interactive"]["type"] == "cta_url"
    assert out["interactive"]["action"] == {
        "name": "cta_url",
        "parameters": {"display_text": "Quejas y sugerencias", "url": "https://www.sevilla.example/sugerencias"},
    }
    assert out["interactive"]["body"]["text"] == d.reply
    # a reply dict asks for the button with link_button
    reply: ReplyDict = {
        "text": "Pida cita en la sede.",
        "links": [{"title": "Cita previa", "url": "https://010.sevilla.example/cita"}],
        "link_button": True,
    }
    out = json.loads(whatsapp().render(reply, to={"phone": "+34600111222"})["body"])
    assert out["interactive"]["action"]["parameters"]["display_text"] == "Cita previa"
    # by SMS: the short text and the link
    sms_msg = Message("q2", "sms", q, contact={"phone": "+34600111222"})
    body = sms().render(router.route(sms_msg), to=sms_msg)["body"]
    assert "Quejas y sugerencias: https://www.sevilla.example/sugerencias" in body


def test_whatsapp_statuses_are_kept_apart_from_messages() -> None:
    body = (FIXTURES / "whatsapp" / "status_failed.json").read_bytes()
    inbound = whatsapp().receive(body, url="https://x/wa", headers={"X-Hub-Signature-256": wa_sig(body)})
    assert inbound.messages == []
    assert inbound.statuses[0]["state"] == "failed"
    assert "statuses=1" in repr(inbound)


@pytest.mark.parametrize(
    "change",
    ["body", "signature", "missing"],
)
def test_a_forged_or_changed_whatsapp_request_is_a_signature_error(change: str) -> None:
    body = (FIXTURES / "whatsapp" / "text.json").read_bytes()
    headers = {"X-Hub-Signature-256": wa_sig(body)}
    if change == "body":
        body = body.replace(b"farola", b"farolo") if b"farola" in body else body + b" "
    elif change == "signature":
        headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    else:
        headers = {}
    with pytest.raises(SignatureError) as info:
        whatsapp().receive(body, url="https://x/wa", headers=headers)
    e = info.value
    assert isinstance(e, ChannelError) and isinstance(e, CivicRouterError)
    assert (e.code, e.channel, e.kind, e.http_status) == ("CHANNEL", "whatsapp", "unauthorized", 403)


def test_whatsapp_handshake() -> None:
    wa = whatsapp()
    ok = "https://x/wa?hub.mode=subscribe&hub.verify_token=token-010&hub.challenge=1158201444"
    assert wa.handshake(ok) == "1158201444"
    with pytest.raises(SignatureError):
        wa.handshake("https://x/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    with pytest.raises(ChannelError) as info:
        sms().handshake(ok)
    assert info.value.kind == "unsupported"


def test_whatsapp_uses_the_template_outside_24_hours_and_refuses_without_one() -> None:
    reply: ReplyDict = {"text": "Su aviso está en curso.", "ticket": "SEV-2026-000123"}
    to: ContactDict = {"phone": "+34600111222"}
    out = json.loads(whatsapp().render(reply, to=to, hours_since_last_inbound=30)["body"])
    assert out["type"] == "template"
    bare = Webhook({"provider": "whatsapp", "app_secret": "s", "verify_token": "t"})
    with pytest.raises(ReplyError) as info:
        bare.render(reply, to=to, hours_since_last_inbound=30)
    assert info.value.kind == "reply"


def test_whatsapp_buttons_from_reply_options() -> None:
    reply: ReplyDict = {
        "text": "¿Confirma la cita?",
        "options": [{"id": "cita:ok", "title": "Sí"}, {"id": "cita:no", "title": "No"}],
    }
    out = json.loads(whatsapp().render(reply, to={"phone": "+34600111222"})["body"])
    assert out["type"] == "interactive"
    assert [b["reply"]["id"] for b in out["interactive"]["action"]["buttons"]] == ["cita:ok", "cita:no"]


# --- Twilio SMS and Voice ---------------------------------------------------------------


def twilio_vectors() -> list[dict[str, Any]]:
    out = []
    for v in VECTORS["twilio"]:
        if v["json_body"] is not None or not v["body_file"]:
            continue
        out.append(v)
    return out


@pytest.mark.parametrize("vector", twilio_vectors(), ids=lambda v: v["name"])
def test_twilio_vectors_through_the_webhooks(vector: dict[str, Any]) -> None:
    body = urlencode([tuple(p) for p in vector["received_params"]]).encode()
    headers = {"X-Twilio-Signature": vector["signature"]}
    if vector["algorithm"] == "HMAC_SHA256":
        headers["X-Twilio-Webhooks-Signature-Settings"] = "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256"
    hook = voice() if vector["channel"] == "voice" else sms()
    if vector["valid"]:
        hook.receive(body, url=vector["url_received"], headers=headers)
        hook.verify(body, url=vector["url_received"], headers=headers)
    else:
        with pytest.raises(SignatureError):
            hook.receive(body, url=vector["url_received"], headers=headers)


def signed_sms(name: str) -> tuple[bytes, dict[str, str], str]:
    v = next(v for v in VECTORS["twilio"] if v["name"] == f"sms/{name}")
    return (FIXTURES / v["body_file"]).read_bytes(), {"X-Twilio-Signature": v["signature"]}, v["url_received"]


def test_sms_end_to_end_twiml_with_segments() -> None:
    body, headers, url = signed_sms("inbound_text")
    inbound = sms().receive(body, url=url, headers=headers)
    (msg,) = inbound.messages
    assert msg.channel == "sms" and "farola" in msg.text
    assert msg.contact["phone"].startswith("+34")
    d = Router.from_file(SEVILLA).route(msg)
    assert d.category == "alumbrado"
    rendered = sms().render(d, to=msg, ticket="SEV-2026-000123")
    assert rendered["content_type"].startswith("application/xml") or rendered["content_type"].startswith("text/xml")
    assert rendered["body"].startswith("<?xml") and "<Message>" in rendered["body"]
    assert "SEV-2026-000123" in rendered["body"]
    assert rendered["segments"]["segments"] >= 1


def test_sms_status_callback() -> None:
    body, headers, url = signed_sms("status_delivered")
    inbound = sms().receive(body, url=url, headers=headers)
    assert inbound.messages == [] and inbound.statuses[0]["state"] == "delivered"


def test_voice_speech_turn_is_spoken_back() -> None:
    v = next(v for v in VECTORS["twilio"] if v["name"] == "voice/gather_speech")
    body = (FIXTURES / v["body_file"]).read_bytes()
    inbound = voice().receive(body, url=v["url_received"], headers={"X-Twilio-Signature": v["signature"]})
    (msg,) = inbound.messages
    assert msg.channel == "voice" and msg.text
    d = Router.from_file(SEVILLA).route(msg)
    twiml = voice().render(d, to=msg)["body"]
    assert "<Say" in twiml and ("<Gather" in twiml or "<Hangup" in twiml or "<Dial" in twiml)


def test_segment_info_known_answers() -> None:
    assert segment_info("Hola") == {
        "encoding": "gsm7",
        "units": 4,
        "characters": 4,
        "segments": 1,
        "parts": [4],
        "non_gsm": [],
    }
    assert segment_info("a" * 161)["segments"] == 2
    assert segment_info("ñ")["encoding"] == "gsm7"  # ñ is in GSM-7
    assert segment_info("í")["encoding"] == "ucs2"
    assert segment_info("😀" * 35)["segments"] == 1  # 70 UTF-16 units fit one part
    assert segment_info("😀" * 36)["segments"] == 2  # 72 do not: parts of 67


# --- web and Open311 --------------------------------------------------------------------


def test_web_form_takes_str_bytes_and_bytearray() -> None:
    web = Webhook({"provider": "web"})
    assert web.channel == "web" and web.provider == "web"
    bodies: list[bytes | bytearray | str] = [
        '{"id": "f1", "text": "bache"}',
        b'{"id": "f1", "text": "bache"}',
        bytearray(b'{"text": "bache"}'),
    ]
    for body in bodies:
        assert web.receive(body, url="https://x/form").messages[0].text == "bache"


def test_open311_requires_its_api_key() -> None:
    o = Webhook({"provider": "open311", "api_keys": ["k-1"], "services": [{"code": "alumbrado", "name": "Alumbrado"}]})
    assert o.channel == "app"
    form = (FIXTURES / "open311" / "create_request.form").read_bytes()
    url = "https://010.sevilla.example/open311/v2/requests.json"
    with pytest.raises(SignatureError):
        o.receive(form.replace(b"api_key=", b"api_key=wrong"), url=url)


# --- bad input --------------------------------------------------------------------------


def test_malformed_bodies_are_parse_errors_naming_channel_and_field() -> None:
    web = Webhook({"provider": "web"})
    for body in [b"{", b"[]", b'{"text": 3}', b"\xff\xfe{}"]:
        with pytest.raises(ParseError) as info:
            web.receive(body, url="https://x/form")
        assert info.value.channel == "web" and info.value.http_status == 400
        assert info.value.field


def test_a_10_mb_body_is_refused_before_parsing() -> None:
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    for hook in [Webhook({"provider": "web"}), whatsapp(), sms()]:
        with pytest.raises(PayloadTooLargeError) as info:
            hook.receive(body, url="https://x/in", headers={"X-Hub-Signature-256": wa_sig(body)})
        assert info.value.http_status == 413 and isinstance(info.value, ParseError)


def test_limits_are_configurable() -> None:
    web = Webhook({"provider": "web", "limits": {"max_body_bytes": 16}})
    assert web.max_body_bytes == 16
    with pytest.raises(PayloadTooLargeError):
        web.receive(b'{"text": "una farola apagada"}', url="https://x/form")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"provider": "fax"}, "provider"),
        ({}, "provider"),
        ({"provider": "sms"}, "auth_tokens"),
        ({"provider": "sms", "auth_tokens": "t"}, "auth_tokens"),
        ({"provider": "web", "colour": "red"}, "colour"),
        ({"provider": "whatsapp", "app_secret": "", "verify_token": "t"}, "app_secret"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        Webhook(settings)
    assert any(field in i.field or field in i.reason for i in info.value.issues), info.value.issues


def test_wrong_argument_types_are_type_errors() -> None:
    web = Webhook({"provider": "web"})
    with pytest.raises(TypeError):
        web.receive(123, url="https://x/form")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        web.receive(b"{}", url="https://x/form", headers=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        web.render("hola")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        Webhook({"provider": "web", "limits": object()})
    with pytest.raises(InputError):
        web.render({"text": 3})  # type: ignore[arg-type]


def test_one_webhook_serves_many_threads() -> None:
    body = (FIXTURES / "whatsapp" / "text.json").read_bytes()
    headers = {"X-Hub-Signature-256": wa_sig(body)}
    wa = whatsapp()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                assert len(wa.receive(body, url="https://x/wa", headers=headers).messages) == 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
