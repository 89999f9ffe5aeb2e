"""The webhook example (examples/webhook_server.py) serves real HTTP requests."""

from __future__ import annotations

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

from civic_router import Router
from conftest import CONFIG

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
    server = webhook.WebhookServer(("127.0.0.1", 0), Router.from_toml(CONFIG))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def post(url: str, body: bytes, content_type: str) -> tuple[int, str, str]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
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


def test_twilio_form(base_url: str) -> None:
    form = "MessageSid=SM1&From=whatsapp%3A%2B34600000001&Body=huele+a+gas+en+el+portal&NumMedia=0"
    status, ctype, body = post(f"{base_url}/twilio", form.encode(), "application/x-www-form-urlencoded")
    assert status == 200 and ctype.startswith("application/xml")
    assert "<Message>Llame al 112 ahora. (SM1)</Message>" in body
    status, _, body = post(f"{base_url}/twilio?format=json", form.encode(), "application/x-www-form-urlencoded")
    d = json.loads(body)
    assert (d["channel"], d["intent"], d["id"]) == ("whatsapp", "emergency", "SM1")
    sms = "MessageSid=SM2&From=%2B34600000002&Body=bache+%3C%26%3E&NumMedia=1&MediaUrl0=https%3A%2F%2Fx%2F1&MediaContentType0=image%2Fjpeg"
    status, _, body = post(f"{base_url}/twilio", sms.encode(), "application/x-www-form-urlencoded")
    assert status == 200 and "<Message>Aviso recibido" in body


def test_message_from_twilio_builds_a_message() -> None:
    m = webhook.message_from_twilio(
        {"MessageSid": ["SM9"], "From": ["+34600"], "Body": ["hola"], "NumMedia": ["1"],
         "MediaUrl0": ["https://m/1"], "MediaContentType0": ["image/png"], "Latitude": ["37.3"],
         "Longitude": ["-5.9"]}
    )
    assert (m.id, m.channel, m.text) == ("SM9", "sms", "hola")
    assert m.attachments == [{"kind": "image", "url": "https://m/1", "mime_type": "image/png"}]
    assert m.location == {"lat": 37.3, "lon": -5.9}


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
