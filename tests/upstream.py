"""A real local upstream API for tests: HTTP/1.1 and HTTP/2 over TLS (test CA) and plain
HTTP, served by hypercorn on loopback ports in a background thread.

Routes: /json, /gzip, /chunked (no Content-Length), /large?size=N, /echo (POST: the
request back as JSON), /status/N, /slow?ms=N, /secret (an OAuth-style token response).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from tests.tls import TestPKI

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RATE = {"base": "EUR", "quote": "USD", "rate": 1.0842, "amount": 9.2}


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]],
                 length: bool = True) -> None:
    if length:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


JSON = (b"content-type", b"application/json")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    request_body = await _body(receive)
    if path == "/json" or path.startswith("/v1/"):
        await _reply(send, 200, json.dumps({**RATE, "path": path}).encode(),
                     [JSON, (b"x-request-path", path.encode())])
    elif path == "/gzip":
        await _reply(send, 200, gzip.compress(json.dumps(RATE).encode()),
                     [JSON, (b"content-encoding", b"gzip")])
    elif path == "/chunked":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        for i in range(5):
            await send({"type": "http.response.body", "body": f"chunk {i}\n".encode(),
                        "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/large":
        size = int(query.get("size", 1_000_000))
        await _reply(send, 200, bytes(i % 251 for i in range(size)),
                     [(b"content-type", b"application/octet-stream")])
    elif path.startswith("/mirror"):
        # The request's body and content type come back, so every secret a test sends
        # travels both ways; /mirror/<name> adds a response-only header (corpus.py).
        from tests.redact.corpus import RESPONSE_HEADERS

        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        content_type = headers.get("content-type", "application/octet-stream").encode()
        extra = RESPONSE_HEADERS.get(path.removeprefix("/mirror/"))
        added = [(extra[0].encode(), extra[1].encode())] if extra else []
        await _reply(send, 200, request_body, [(b"content-type", content_type), *added])
    elif path == "/echo":
        echo = {
            "method": scope["method"],
            "body": request_body.decode("utf-8", "replace"),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            "http_version": scope["http_version"],
        }
        await _reply(send, 200, json.dumps(echo).encode(), [JSON])
    elif path.startswith("/status/"):
        await _reply(send, int(path.rsplit("/", 1)[1]), b'{"error": "as requested"}', [JSON])
    elif path == "/slow":
        await asyncio.sleep(int(query.get("ms", 100)) / 1000)
        await _reply(send, 200, b'{"slow": true}', [JSON])
    elif path == "/secret":
        token = {"access_token": "ya29.A0ARrdaM-secret-access-token-value", "token_type":
                 "Bearer", "expires_in": 3599}
        await _reply(send, 200, json.dumps(token).encode(),
                     [JSON, (b"set-cookie", b"session=abc123secret; Path=/; HttpOnly")])
    else:
        await _reply(send, 404, b'{"error": "not found"}', [JSON])


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class Upstream:
    http_port: int
    https_port: int
    pki: TestPKI

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


class UpstreamServer:
    """Runs the upstream in a thread; `stop()` ends it."""

    def __init__(self, pki: TestPKI) -> None:
        self.pki = pki
        self._plain = _listening_socket()
        self._tls = _listening_socket()
        self._loop = asyncio.new_event_loop()
        self._stopped: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.upstream = Upstream(self._plain.getsockname()[1], self._tls.getsockname()[1], pki)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        config = Config()
        config.certfile = str(self.pki.server_cert)
        config.keyfile = str(self.pki.server_key)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 0.5
        sockets = Sockets([self._tls], [self._plain], [])

        async def main() -> None:
            self._stopped = asyncio.Event()
            self._started.set()
            await worker_serve(
                wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
                config, sockets=sockets, shutdown_trigger=self._stopped.wait,
            )

        try:
            self._loop.run_until_complete(main())
        finally:
            self._loop.close()

    def start(self) -> Upstream:
        self._thread.start()
        self._started.wait(10)
        return self.upstream

    def stop(self) -> None:
        if self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)
        self._plain.close()
        self._tls.close()
