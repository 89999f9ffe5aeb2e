"""The webhook example (examples/webhook_server.py) serves real HTTP requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import pytest

from civic_router import Router, Webhook
from conftest import CONFIG

TOKEN = "twilio-test-token"
SECRET = "meta-test-secret"

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "webhook_server.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_server", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["webhook_server"] = module
    spec.loader.exec_module(module)
    return module


webhook = _load()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = webhook.WebhookServer(
        ("127.0.0.1", 0),
        Router.from_toml(CONFIG),
        twilio=Webhook({"provider": "sms", "auth_tokens": [TOKEN]}),
        whatsapp=Webhook({"provider": "whatsapp", "app_secret": SECRET, "verify_token": "vt"}),
    )
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def post(url: str, body: bytes, content_type: str, **headers: str) -> tuple[int, str, str]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type, **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def post_json(url: str, value: Any) -> tuple[int, Any]:
    status, _, body = post(url, json.dumps(value).encode(), "application/json")
    return status, json.loads(body)


def test_json_message(base_url: str) -> None:
    status, d = post_json(f"{base_url}/messages", {"id": "m1", "channel": "whatsapp", "text": "farola apagada"})
    assert status == 200
    assert (d["department"], d["rules"]) == ("alumbrado", ["lighting"])
    status, ds = post_json(
        f"{base_url}/messages",
        [{"id": "a", "channel": "sms", "text": "bache"}, {"id": "b", "channel": "sms", "text": "huele a gas"}],
    )
    assert status == 200 and [d["department"] for d in ds] == ["obras", "emergencias"]


def twilio_signature(url: str, form: list[tuple[str, str]]) -> str:
    """Twilio's algorithm, written here independently: the URL, then each parameter's name and
    value in name order, HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(k + v for k, v in sorted(form))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilio_form_signed_verified_and_answered_in_twiml(base_url: str) -> None:
    from urllib.parse import urlencode

    form = [("MessageSid", "SM1"), ("From", "+34600000001"), ("To", "+34955000010"), ("Body", "huele a gas en el portal"), ("NumMedia", "0")]
    url = f"{base_url}/twilio"
    body = urlencode(form).encode()
    status, ctype, text = post(url, body, "application/x-www-form-urlencoded", **{"X-Twilio-Signature": twilio_signature(url, form)})
    assert status == 200 and ctype.startswith("text/xml"), text
    assert "<Message>" in text and "112" in text
    # the same form with a changed body or no signature: 403
    forged = urlencode([*form[:-2], ("Body", "otra cosa"), ("NumMedia", "0")]).encode()
    status, _, text = post(url, forged, "application/x-www-form-urlencoded", **{"X-Twilio-Signature": twilio_signature(url, form)})
    assert status == 403 and json.loads(text)["kind"] == "unauthorized"
    status, _, _ = post(url, body, "application/x-www-form-urlencoded")
    assert status == 403


def test_whatsapp_handshake_and_signed_webhook(base_url: str) -> None:
    with urllib.request.urlopen(f"{base_url}/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=77", timeout=10) as r:
        assert r.read() == b"77"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{base_url}/whatsapp?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1", timeout=10)
    assert info.value.code == 403
    fixture = Path(__file__).resolve().parents[2] / "core/tests/fixtures/channels/whatsapp/text.json"
    body = fixture.read_bytes()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, _, text = post(f"{base_url}/whatsapp", body, "application/json", **{"X-Hub-Signature-256": sig})
    assert status == 200, text
    out = json.loads(text)
    assert out["messages"] == 1 and out["replies"][0]["messaging_product"] == "whatsapp"
    status, _, _ = post(f"{base_url}/whatsapp", body + b" ", "application/json", **{"X-Hub-Signature-256": sig})
    assert status == 403


@pytest.mark.parametrize(
    "body, code",
    [
        (b"{", "BAD_REQUEST"),
        (json.dumps({"id": "1", "channel": "fax", "text": "x"}).encode(), "INPUT"),
        (json.dumps({"id": "big", "channel": "sms", "text": "a" * 100_000}).encode(), "INPUT"),
        (b'{"id": "1", "channel": "sms", "text": "\xff"}', "BAD_REQUEST"),
    ],
)
def test_bad_requests_are_400(base_url: str, body: bytes, code: Optional[str]) -> None:
    status, _, text = post(f"{base_url}/messages", body, "application/json")
    assert status == 400
    assert json.loads(text)["code"] == code


def test_too_large_and_unknown(base_url: str) -> None:
    # a body announced too large is refused before it is read
    import http.client

    conn = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=10)
    conn.putrequest("POST", "/messages")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(webhook.MAX_BODY + 1))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    status, _, _ = post(f"{base_url}/nope", b"{}", "application/json")
    assert status == 404
    with urllib.request.urlopen(f"{base_url}/health", timeout=10) as r:
        assert json.loads(r.read())["rules"] == 6
