"""The demo API: a small currency-conversion and settlement service, stdlib only.

Well-behaved, it answers like the friendly fiction in a test suite's mocks. With
`drift=True` it answers like production did in DESIGN.md's story: amounts as numeric
strings ("108.42"), reordered fields, a new `fee` field, a null `settled_at`, and a
payment that reports `succeeded` without having settled.

`handle()` is pure (request in, response out); `make_server()` puts it on a socket.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "demo-key-7Hq2mZ4xV9rT1wLp"  # what the example client sends; redacted on capture

RATES = {"EUR": {"USD": 1.0842, "GBP": 0.8573, "JPY": 162.37, "CHF": 0.9561}}


@dataclass
class DemoState:
    drift: bool = False
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def _money(value: float, drift: bool) -> float | str:
    """Production's habit: numbers as strings, formatted to two decimals."""
    return f"{value:.2f}" if drift else round(value, 2)


def handle(state: DemoState, method: str, target: str, headers: dict[str, str],
           body: bytes) -> Reply:
    url = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    if url.path == "/health":
        return Reply(200, {"ok": True})
    if headers.get("authorization") != f"Bearer {API_KEY}":
        return Reply(401, {"error": "unauthorized", "message": "missing or bad API key"})
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return Reply(400, {"error": "bad_json"})
    parts = url.path.strip("/").split("/")
    if method == "GET" and url.path == "/v1/rates":
        base = query.get("base", "EUR")
        if base not in RATES:
            return Reply(404, {"error": "unknown_currency", "currency": base})
        rates: dict[str, Any] = {k: (f"{v}" if state.drift else v)
                                 for k, v in RATES[base].items()}
        reply = {"base": base, "rates": rates, "as_of": "2026-11-24T09:00:00Z"}
        return Reply(200, dict(reversed(reply.items())) if state.drift else reply)
    if method == "POST" and url.path == "/v1/convert":
        return _convert(state, payload)
    if method == "POST" and url.path == "/v1/payments":
        return _pay(state, payload)
    if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payments"]:
        with state.lock:
            payment = state.payments.get(parts[2])
        if payment is None:
            return Reply(404, {"error": "not_found", "id": parts[2]})
        return Reply(200, payment)
    return Reply(404, {"error": "not_found", "path": url.path})


def _convert(state: DemoState, payload: dict[str, Any]) -> Reply:
    source, target = payload.get("from", "EUR"), payload.get("to")
    amount = payload.get("amount")
    rate = RATES.get(source, {}).get(target or "")
    if rate is None or not isinstance(amount, int | float):
        return Reply(422, {"error": "invalid_conversion", "from": source, "to": target})
    with state.lock:
        number = next(state.ids)
    reply: dict[str, Any] = {
        "id": f"cv_{number:06d}",
        "from": source,
        "to": target,
        "rate": rate,
        "amount": _money(amount * rate, state.drift),
    }
    if state.drift:
        reply = {"amount": reply["amount"], "id": reply["id"], "rate": str(rate),
                 "from": source, "to": target, "fee": "0.35"}
    return Reply(200, reply)


def _pay(state: DemoState, payload: dict[str, Any]) -> Reply:
    amount = payload.get("amount")
    if not isinstance(amount, int | float) or amount <= 0:
        return Reply(422, {"error": "invalid_amount"})
    with state.lock:
        number = next(state.ids)
        payment: dict[str, Any] = {
            "id": f"pay_{number:06d}",
            "amount": _money(amount, state.drift),
            "currency": payload.get("currency", "EUR"),
            # Production's surprise: "succeeded" arrives before the money has settled.
            "status": "succeeded" if state.drift else "settled",
            "settled_at": None if state.drift else "2026-11-24T09:00:01Z",
        }
        state.payments[payment["id"]] = payment
    return Reply(201, payment)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DemoServer

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = handle(self.server.state, self.command, self.path, headers, body)
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log
        pass


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: DemoState) -> None:
        self.state = state
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def make_server(host: str = "127.0.0.1", port: int = 0, drift: bool = False) -> DemoServer:
    return DemoServer((host, port), DemoState(drift=drift))


def serve_in_thread(server: DemoServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    return thread
