"""A small WhatsApp/SMS webhook service on civic-router, with the standard library only.

Run it from the repository root (after ``pip install ./bindings-python``)::

    python bindings-python/examples/webhook_server.py --config examples/sevilla/router.toml

then, from another terminal::

    # a message in civic-router's JSON format -> the decision as JSON
    curl -s localhost:8010/messages -H 'content-type: application/json' \\
         -d '{"id": "m1", "channel": "whatsapp", "text": "farola apagada en calle Feria"}'

    # a Twilio-style form POST (SMS, or WhatsApp when From starts with "whatsapp:")
    # -> TwiML with the reply to send back (or the decision as JSON with ?format=json)
    curl -s localhost:8010/twilio -d MessageSid=SM1 -d From=whatsapp:+34600000001 \\
         --data-urlencode 'Body=huele a gas en el portal'

Endpoints: ``POST /messages`` (one message, or a list routed with ``route_batch``),
``POST /twilio``, ``GET /health``. ``SIGHUP`` reloads the configuration (the old one stays if
the new one is refused).

Until the channels issue lands in the core, this example parses only these two formats itself
and does NOT verify webhook signatures (``X-Twilio-Signature``): put it behind something that
does, or wait for the core's channel parsers. Nothing here reaches a log line with personal
data: the access log prints method, path and status only.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Optional, Union
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from civic_router import (
    CivicRouterError,
    ConfigError,
    Decision,
    InputError,
    Message,
    Router,
)

MAX_BODY = 1 << 20
"""Largest request body read, in bytes (1 MiB); larger requests get 413."""

Json = Union[dict[str, Any], list[Any]]


def message_from_twilio(form: Mapping[str, list[str]]) -> Message:
    """A Twilio-style SMS/WhatsApp webhook form as a civic-router Message."""

    def one(key: str) -> Optional[str]:
        values = form.get(key)
        return values[0] if values else None

    sender = one("From") or ""
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    phone = sender.removeprefix("whatsapp:")
    attachments: list[dict[str, str]] = []
    for i in range(int(one("NumMedia") or "0")):
        url, mime = one(f"MediaUrl{i}"), one(f"MediaContentType{i}")
        if url:
            kind = (mime or "document").split("/")[0]
            attachments.append({"kind": kind, "url": url, **({"mime_type": mime} if mime else {})})
    location: dict[str, Any] = {}
    lat, lon, address = one("Latitude"), one("Longitude"), one("Address")
    if lat and lon:
        location.update(lat=float(lat), lon=float(lon))
    if address:
        location["address"] = address
    return Message.from_dict(
        {
            "id": one("MessageSid") or one("SmsSid") or "",
            "channel": channel,
            "text": one("Body") or "",
            "contact": {"phone": phone} if phone else {},
            "attachments": attachments,
            **({"location": location} if location else {}),
            "metadata": {"provider": "twilio", "to": one("To") or ""},
        }
    )


def twiml(decision: Decision) -> str:
    """The TwiML answer: the decision's reply, if it has one."""
    body = f"<Message>{escape(decision.reply)}</Message>" if decision.reply else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


class WebhookHandler(BaseHTTPRequestHandler):
    """Routes each request with the server's router."""

    server: WebhookServer
    server_version = "civic-router-webhook/1"

    def log_message(self, format: str, *args: Any) -> None:
        # method, path and status only: never bodies (personal data)
        sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n")

    def send(self, status: HTTPStatus, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status: HTTPStatus, value: Json) -> None:
        self.send(status, json.dumps(value, ensure_ascii=False), "application/json")

    def send_error_json(self, status: HTTPStatus, error: BaseException) -> None:
        code = error.code if isinstance(error, CivicRouterError) else "BAD_REQUEST"
        self.send_json(status, {"error": str(error), "code": code})

    def read_body(self) -> Optional[bytes]:
        length = int(self.headers.get("Content-Length") or "0")
        if length > MAX_BODY:
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large", "code": "INPUT"})
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/health":
            r = self.server.router
            self.send_json(HTTPStatus.OK, {"status": "ok", "router": r.name, "rules": len(r.rule_ids)})
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "code": "NOT_FOUND"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.read_body()
        if body is None:
            return
        try:
            if url.path == "/messages":
                self.post_messages(body)
            elif url.path == "/twilio":
                as_json = parse_qs(url.query).get("format") == ["json"]
                self.post_twilio(body, as_json)
            else:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "code": "NOT_FOUND"})
        except (InputError, ValueError, TypeError) as e:
            # a message that cannot be routed as given: the sender's fault
            self.send_error_json(HTTPStatus.BAD_REQUEST, e)
        except CivicRouterError as e:
            # a classifier or the router failed: ours
            self.send_error_json(HTTPStatus.INTERNAL_SERVER_ERROR, e)

    def post_messages(self, body: bytes) -> None:
        data = json.loads(body.decode("utf-8"))
        if isinstance(data, list):
            decisions = self.server.router.route_batch(data)
            self.send_json(HTTPStatus.OK, [d.to_dict() for d in decisions])
        else:
            self.send_json(HTTPStatus.OK, self.server.router.route(data).to_dict())

    def post_twilio(self, body: bytes, as_json: bool) -> None:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        decision = self.server.router.route(message_from_twilio(form))
        if as_json:
            self.send_json(HTTPStatus.OK, decision.to_dict())
        else:
            self.send(HTTPStatus.OK, twiml(decision), "application/xml")


class WebhookServer(ThreadingHTTPServer):
    """An HTTP server with one shared router (thread-safe: each request thread uses it)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        super().__init__(address, WebhookHandler)
        self.router = router


def main(argv: Optional[list[str]] = None) -> int:
    repo = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--config", type=Path, default=repo / "examples/sevilla/router.toml")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8010)
    args = p.parse_args(argv)
    try:
        router = Router.from_file(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    server = WebhookServer((args.host, args.port), router)

    def reload(signum: int, frame: Optional[FrameType]) -> None:
        try:
            router.reload_file(args.config)
            print("configuration reloaded", file=sys.stderr)
        except ConfigError as e:
            print(f"reload refused, keeping the old configuration: {e}", file=sys.stderr)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload)
    host, port = server.server_address[:2]
    print(f"{router.name}: {len(router.rule_ids)} rules; listening on http://{host!s}:{port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
