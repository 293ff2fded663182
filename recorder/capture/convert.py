"""mitmproxy flow → recorder Interaction. The only place that knows mitmproxy's HTTP types.

Bodies are stored decoded (gzip, deflate, br, zstd) with the original content-encoding
noted in meta, so shapes and redaction see the real content and replay can re-encode.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from mitmproxy import http

from recorder.model import Headers, Interaction, InteractionError, Request, Response, Timing


def _headers(headers: http.Headers) -> Headers:
    # Header bytes are kept exactly: non-UTF-8 bytes survive as surrogate escapes.
    return tuple(
        (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
        for k, v in headers.fields
    )


MAX_DECODED = 64 * 1024 * 1024  # a decoded body larger than this is kept encoded


def bounded_decode(raw: bytes, encoding: str, limit: int = MAX_DECODED) -> bytes | None:
    """Decode gzip, deflate, br or zstd, but never past `limit` bytes (no gzip bombs).
    None when the body cannot be decoded within the limit."""
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            wbits = 31 if encoding != "deflate" else (15 if raw[:1] == b"\x78" else -15)
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(raw, limit + 1)
            return out if len(out) <= limit and not inflater.unconsumed_tail else None
        if encoding == "br":
            import brotli

            decompressor = brotli.Decompressor()
            chunks, total = [], 0
            for start in range(0, len(raw), 1024):  # small inputs keep each output step small
                chunk = decompressor.process(raw[start:start + 1024])
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
            return b"".join(chunks)
        if encoding == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw))
            out = reader.read(limit + 1)
            return out if len(out) <= limit else None
    except (zlib.error, OSError, ValueError, EOFError) as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # brotli.error and zstd errors have no common base
        raise ValueError(str(exc)) from exc
    raise ValueError(f"unknown content-encoding {encoding!r}")


def decode_body(raw: bytes, content_encoding: str | None, meta: dict[str, Any],
                prefix: str) -> bytes:
    """Decode a body; on an encoding we cannot undo (or a body that would decode past the
    limit), keep the raw bytes and say so."""
    if not raw or not content_encoding or content_encoding.strip().lower() == "identity":
        return raw
    meta[f"{prefix}_content_encoding"] = content_encoding
    try:
        decoded = bounded_decode(raw, content_encoding.strip().lower(), MAX_DECODED)
    except ValueError:
        decoded = None
    if decoded is None:
        meta[f"{prefix}_body_encoded"] = True
        return raw
    return decoded


def classify_error(message: str) -> str:
    """The kind of an upstream failure, from mitmproxy's error message."""
    text = message.lower()
    for kind, needles in (
        ("tls", ("tls", "ssl", "certificate")),
        ("refused", ("refused", "connect call failed")),
        ("timeout", ("timed out", "timeout")),
        ("reset", ("reset", "closed connection", "connection closed", "broken pipe")),
        ("dns", ("name or service", "nodename", "getaddrinfo", "name resolution")),
        ("protocol", ("protocol", "invalid", "malformed")),
    ):
        if any(needle in text for needle in needles):
            return kind
    return "other"


def flow_to_interaction(
    flow: http.HTTPFlow,
    seq: int,
    response_body: bytes | None = None,
    response_size: int | None = None,
) -> Interaction:
    """Convert a finished flow. `response_body` replaces the flow's body when it was
    streamed past mitmproxy (only the first `--max-body` bytes were kept; the real size is
    `response_size`)."""
    req = flow.request
    meta: dict[str, Any] = {}
    path, _, query = req.path.partition("?")
    request = Request(
        method=req.method,
        scheme=req.scheme,
        host=req.host,
        port=req.port,
        path=path,
        query=query,
        http_version=req.http_version,
        headers=_headers(req.headers),
        body=decode_body(req.raw_content or b"", req.headers.get("content-encoding"), meta,
                         "request"),
    )
    started = req.timestamp_start
    response = None
    first_byte = ended = None
    if flow.response is not None:
        resp = flow.response
        if response_body is None:
            body = resp.raw_content or b""
        else:
            body = response_body
            if response_size is not None and response_size > len(body):
                meta["response_body_truncated"] = response_size
        encoding_name = resp.headers.get("content-encoding")
        if "response_body_truncated" in meta and encoding_name:
            # A truncated compressed body cannot be decoded whole: keep the bytes as sent.
            meta["response_content_encoding"] = encoding_name
            meta["response_body_encoded"] = True
        else:
            body = decode_body(body, encoding_name, meta, "response")
        response = Response(
            status=resp.status_code,
            reason=resp.reason,
            http_version=resp.http_version,
            headers=_headers(resp.headers),
            body=body,
        )
        first_byte = resp.timestamp_start - started if resp.timestamp_start else None
        ended = resp.timestamp_end - started if resp.timestamp_end else None
    error = None
    if flow.error is not None and response is None:
        error = InteractionError(classify_error(flow.error.msg), flow.error.msg)
        ended = flow.error.timestamp - started
    return Interaction(request, response, seq, Timing(started, first_byte, ended), error, meta)
