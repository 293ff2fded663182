"""Recorded response → bytes on the wire (HTTP/1.1), faithfully and consistently.

Bodies are stored decoded; the original content-encoding (meta) is applied again when the
client accepts it, else the body goes out as identity. Content-Length is always recomputed
and Transfer-Encoding dropped, so framing matches the bytes sent. Built once per
(interaction, encoding) and cached: the hot path is a dict lookup.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Hashable
from http import HTTPStatus

from recorder.model import Headers, Response

# Framing and hop-by-hop headers: recomputed for the bytes we send, never replayed.
_DROP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive",
                   "content-encoding", "proxy-connection", "upgrade", "trailer"})


def accepts(accept_encoding: str, encoding: str) -> bool:
    """Does an Accept-Encoding header allow `encoding` (q=0 refuses)?"""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in (encoding, "*"):
            q = params.strip().removeprefix("q=")
            try:
                return float(q) > 0 if params else True
            except ValueError:
                return True
    return False


def encode(body: bytes, encoding: str) -> bytes | None:
    """The body in `encoding`, or None when recorder cannot produce that encoding."""
    if encoding == "gzip":
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        try:
            import brotli  # a mitmproxy dependency
        except ImportError:
            return None
        return brotli.compress(body)  # type: ignore[no-any-return]
    if encoding == "zstd":
        try:
            import zstandard  # a mitmproxy dependency
        except ImportError:
            return None
        return zstandard.ZstdCompressor().compress(body)
    return None


def reason_phrase(status: int, recorded: str) -> str:
    if recorded:
        return recorded
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def prepare(response: Response, encoding: str | None, extra: Headers = (),
            keep_alive: bool = True) -> Response:
    """The response to send: body in `encoding` when recorder can produce it, framing and
    hop-by-hop headers recomputed for exactly these bytes."""
    body = response.body
    headers = [(k, v) for k, v in response.headers if k.lower() not in _DROP]
    if encoding is not None:
        encoded = encode(body, encoding)
        if encoded is not None:
            body = encoded
            headers.append(("Content-Encoding", encoding))
    headers.extend(extra)
    if response.status >= 200 and response.status not in (204, 304):
        headers.append(("Content-Length", str(len(body))))
    else:
        body = b""
    if not keep_alive:
        headers.append(("Connection", "close"))
    return Response(response.status, reason_phrase(response.status, response.reason),
                    "HTTP/1.1", tuple(headers), body)


def wire_bytes(response: Response, encoding: str | None, extra: Headers = (),
               keep_alive: bool = True) -> bytes:
    ready = prepare(response, encoding, extra, keep_alive)
    head = f"HTTP/1.1 {ready.status} {ready.reason}\r\n"
    lines = "".join(f"{k}: {v}\r\n" for k, v in ready.headers)
    return (head + lines + "\r\n").encode("utf-8", "surrogateescape") + ready.body


def chosen_encoding(recorded: str | None, accept_encoding: str) -> str | None:
    """The recorded content-encoding if the client accepts it, else None (identity)."""
    return recorded if recorded and accepts(accept_encoding, recorded) else None


class WireCache:
    """Wire bytes per (key, encoding, keep-alive), built on first use. The key is a recorded
    position, or a position and a chaos plan's signature (the same plan, the same bytes)."""

    def __init__(self, limit: int = 65_536) -> None:
        self._cache: dict[tuple[Hashable, str | None, bool], bytes] = {}
        self.limit = limit

    def get(self, key: Hashable, response: Response, recorded_encoding: str | None,
            accept_encoding: str, keep_alive: bool, extra: Headers = ()) -> bytes:
        encoding = chosen_encoding(recorded_encoding, accept_encoding)
        cache_key = (key, encoding, keep_alive)
        data = self._cache.get(cache_key)
        if data is None:
            data = wire_bytes(response, encoding, extra, keep_alive)
            if len(self._cache) < self.limit:
                self._cache[cache_key] = data
        return data
