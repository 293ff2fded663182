"""replay --on-miss passthrough|record: forward a missed request to the real upstream.

Upstream TLS is verified (as in capture). The answer comes back as an Interaction, body
decoded with the original content-encoding noted, so it can be recorded like a capture.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from recorder.model import Interaction, InteractionError, Request, Response, Timing

_HOP_BY_HOP = frozenset({"host", "connection", "keep-alive", "proxy-connection",
                         "transfer-encoding", "upgrade", "te", "trailer", "content-length"})


class Upstream:
    def __init__(self, base_url: str | None, timeout: float = 30.0) -> None:
        """`base_url` (direct mode) sends every request there; None (proxy mode) sends each
        to the origin it names."""
        self.base = urlsplit(base_url) if base_url else None
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def url(self, request: Request) -> str:
        target = request.path + (f"?{request.query}" if request.query else "")
        if self.base is not None:
            return f"{self.base.scheme}://{self.base.netloc}{target}"
        return request.url

    async def fetch(self, request: Request, seq: int) -> Interaction:
        url = self.url(request)
        parts = urlsplit(url)
        forwarded = Request(request.method, parts.scheme, parts.hostname or "",
                            parts.port or (443 if parts.scheme == "https" else 80),
                            request.path, request.query, request.http_version,
                            request.headers, request.body)
        headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP]
        started = time.time()
        meta: dict[str, Any] = {"recorded_by": "replay --on-miss"}
        try:
            answer = await self.client.request(request.method, url, headers=headers,
                                               content=request.body)
        except httpx.HTTPError as exc:
            return Interaction(forwarded, None, seq, Timing(started, None, time.time() - started),
                               InteractionError(_kind(exc), str(exc) or type(exc).__name__),
                               meta)
        encoding = answer.headers.get("content-encoding")
        if encoding and encoding.lower() != "identity":
            meta["response_content_encoding"] = encoding
        response = Response(answer.status_code, answer.reason_phrase,
                            answer.http_version.replace("HTTP/2", "HTTP/2.0"),
                            tuple(answer.headers.multi_items()), answer.content)
        elapsed = time.time() - started
        return Interaction(forwarded, response, seq, Timing(started, elapsed, elapsed), None,
                           meta)

    async def close(self) -> None:
        await self.client.aclose()


def _kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        return "tls" if "ssl" in text or "certificate" in text else "refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "reset"
    return "other"
