"""A small WhatsApp/SMS webhook service on civic-router, with the standard library only.

Run it from the repository root (after ``pip install ./bindings-python``)::

    export TWILIO_AUTH_TOKEN=… WHATSAPP_APP_SECRET=… WHATSAPP_VERIFY_TOKEN=…
    python bindings-python/examples/webhook_server.py --config examples/sevilla/router.toml \
        --public-url https://010.example.org

then, from another terminal::

    # a message in civic-router's JSON format -> the decision as JSON
    curl -s localhost:8010/messages -H 'content-type: application/json' \
         -d '{"id": "m1", "channel": "whatsapp", "text": "farola apagada en calle Feria"}'

Endpoints:

* ``POST /messages``: one message, or a list routed with ``route_batch``; the decisions as JSON.
* ``POST /twilio``: Twilio's SMS (and WhatsApp-through-Twilio) webhook. The core verifies
  ``X-Twilio-Signature`` over the public URL and the form (``--public-url`` must be the address
  Twilio calls), parses it, and the answer is TwiML rendered by the core (segments counted).
* ``GET /whatsapp``: Meta's subscription handshake; ``POST /whatsapp``: the Cloud API webhook,
  ``X-Hub-Signature-256`` verified over the raw body. Meta wants a quick 200; the replies to
  send (the Graph API's send-message JSON, one per message) are returned in the response body
  here so they can be seen — a real service POSTs each to
  ``https://graph.facebook.com/v23.0/{phone-number-id}/messages`` with its access token.
* ``GET /health``.

A refused request is answered with the status the core gives (403 for a bad signature, 413 for
a body over 1 MiB, 400 for a malformed one). ``SIGHUP`` reloads the configuration (the old one
stays if the new one is refused). Nothing here reaches a log line with personal data: the
access log prints method, path and status only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from civic_router import (
    ChannelError,
    CivicRouterError,
    ConfigError,
    InputError,
    Router,
    Webhook,
)

MAX_BODY = 1 << 20
"""Largest request body read, in bytes (1 MiB); larger requests get 413."""

Json = Union[dict[str, Any], list[Any]]


class WebhookHandler(BaseHTTPRequestHandler):
    """Routes each request with the server's router."""

    server: WebhookServer
    server_version = "civic-router-webhook/1"

    def log_message(self, format: str, *args: Any) -> None:
        # method, path and status only: never bodies (personal data)
        sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n")

    def send(self, status: Union[HTTPStatus, int], body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status: Union[HTTPStatus, int], value: Json) -> None:
        self.send(status, json.dumps(value, ensure_ascii=False), "application/json")

    def send_error_json(self, status: Union[HTTPStatus, int], error: BaseException) -> None:
        code = error.code if isinstance(error, CivicRouterError) else "BAD_REQUEST"
        value: dict[str, Any] = {"error": str(error), "code": code}
        if isinstance(error, ChannelError):
            value["kind"] = error.kind
        self.send_json(status, value)

    def read_body(self) -> Optional[bytes]:
        length = int(self.headers.get("Content-Length") or "0")
        if length > MAX_BODY:
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large", "code": "INPUT"})
            return None
        return self.rfile.read(length)

    def public_url(self) -> str:
        """The URL the provider called, as it signed it (the public address, not ours)."""
        return self.server.public_url.rstrip("/") + self.path

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            r = self.server.router
            self.send_json(HTTPStatus.OK, {"status": "ok", "router": r.name, "rules": len(r.rule_ids)})
        elif path == "/whatsapp" and self.server.whatsapp is not None:
            try:
                self.send(HTTPStatus.OK, self.server.whatsapp.handshake(self.public_url()), "text/plain")
            except ChannelError as e:
                self.send_error_json(e.http_status, e)
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
            elif url.path == "/twilio" and self.server.twilio is not None:
                self.post_twilio(self.server.twilio, body)
            elif url.path == "/whatsapp" and self.server.whatsapp is not None:
                self.post_whatsapp(self.server.whatsapp, body)
            else:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found", "code": "NOT_FOUND"})
        except ChannelError as e:
            # a forged, oversized or malformed provider request
            self.send_error_json(e.http_status, e)
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

    def post_twilio(self, channel: Webhook, body: bytes) -> None:
        inbound = channel.receive(body, url=self.public_url(), headers=dict(self.headers.items()))
        if not inbound.messages:
            # a delivery status callback: acknowledged, nothing to say
            self.send(HTTPStatus.OK, '<?xml version="1.0" encoding="UTF-8"?><Response/>', "application/xml")
            return
        msg = inbound.messages[0]
        rendered = channel.render(self.server.router.route(msg), to=msg)
        self.send(rendered["status"], rendered["body"], rendered["content_type"].split(";")[0])

    def post_whatsapp(self, channel: Webhook, body: bytes) -> None:
        inbound = channel.receive(body, url=self.public_url(), headers=dict(self.headers.items()))
        replies = []
        for msg, decision in zip(inbound.messages, self.server.router.route_batch(inbound.messages)):
            replies.append(json.loads(channel.render(decision, to=msg)["body"]))
        self.send_json(HTTPStatus.OK, {"messages": len(inbound.messages), "statuses": len(inbound.statuses), "replies": replies})


class WebhookServer(ThreadingHTTPServer):
    """An HTTP server with one shared router (thread-safe: each request thread uses it)."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        router: Router,
        *,
        twilio: Optional[Webhook] = None,
        whatsapp: Optional[Webhook] = None,
        public_url: str = "",
    ) -> None:
        super().__init__(address, WebhookHandler)
        self.router = router
        self.twilio = twilio
        self.whatsapp = whatsapp
        self.public_url = public_url or f"http://{address[0]}:{self.server_address[1]}"


def main(argv: Optional[list[str]] = None) -> int:
    repo = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--config", type=Path, default=repo / "examples/sevilla/router.toml")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8010)
    p.add_argument("--public-url", default="", help="the address the providers call (Twilio signs it)")
    args = p.parse_args(argv)
    env = os.environ
    twilio = Webhook({"provider": "sms", "auth_tokens": [env["TWILIO_AUTH_TOKEN"]]}) if env.get("TWILIO_AUTH_TOKEN") else None
    whatsapp = (
        Webhook(
            {
                "provider": "whatsapp",
                "app_secret": env["WHATSAPP_APP_SECRET"],
                "verify_token": env.get("WHATSAPP_VERIFY_TOKEN", ""),
            }
        )
        if env.get("WHATSAPP_APP_SECRET")
        else None
    )
    try:
        router = Router.from_file(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    server = WebhookServer((args.host, args.port), router, twilio=twilio, whatsapp=whatsapp, public_url=args.public_url)
    for name, hook in [("/twilio", twilio), ("/whatsapp", whatsapp)]:
        if hook is None:
            print(f"{name}: off (set its secrets in the environment to serve it)", file=sys.stderr)

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
