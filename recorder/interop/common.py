"""What the format adapters share: located errors, header and body conversions."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from recorder.capture.convert import decode_body
from recorder.errors import RecorderError
from recorder.model import Headers, Request, header_value

FRAMING = frozenset({"content-length", "transfer-encoding", "content-encoding"})


class InteropError(RecorderError):
    """A malformed file to import: says which file and where in it."""

    def __init__(self, path: str, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}",
                         "check that the file is complete and of the format given")


class Located:
    """Reads fields out of parsed data, raising InteropError that names where."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, data: Any, key: str, where: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        if not isinstance(data, Mapping):
            raise InteropError(self.path, where, "expected an object")
        if key not in data:
            if default is not ...:
                return default
            raise InteropError(self.path, f"{where}.{key}", "missing")
        value = data[key]
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise InteropError(self.path, f"{where}.{key}",
                               f"expected {names}, got {type(value).__name__}")
        return value


def request_from_url(method: str, url: str, http_version: str, headers: Headers,
                     body: bytes) -> Request:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Request(method.upper(), parts.scheme, parts.hostname, port, parts.path or "/",
                   parts.query, http_version, headers, body)


def decoded(body: bytes, headers: Headers, meta: dict[str, Any], prefix: str) -> bytes:
    """Bodies are stored decoded, as capture stores them, with the encoding noted."""
    return decode_body(body, header_value(headers, "content-encoding"), meta, prefix)


def b64(text: str, path: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InteropError(path, where, f"not valid base64 ({exc})") from exc


def parse_time(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def iso(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp or 0, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def export_headers(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    """Headers for a body exported decoded: framing recomputed, no content-encoding."""
    out = [(k, v) for k, v in headers if k.lower() not in FRAMING]
    if body:
        out.append(("Content-Length", str(len(body))))
    return out
