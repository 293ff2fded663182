"""recorder's own model of HTTP traffic: plain frozen dataclasses, no mitmproxy, no I/O.

Bodies are bytes. Headers are ordered (name, value) pairs that keep case, order and
duplicates, because replay fidelity and shape drift both depend on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

Headers = tuple[tuple[str, str], ...]

DEFAULT_PORTS = {"http": 80, "https": 443}

# Kinds of upstream failure worth recording: replay reproduces them as the same failure.
ERROR_KINDS = ("refused", "reset", "timeout", "tls", "dns", "protocol", "other")


def header_values(headers: Headers, name: str) -> list[str]:
    """All values of a header, case-insensitively, in order."""
    lowered = name.lower()
    return [v for k, v in headers if k.lower() == lowered]


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of a header, or None."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def as_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    return tuple((str(k), str(v)) for k, v in pairs)


def media_type(headers: Headers) -> str:
    """The bare media type of Content-Type (`application/json`), lower case, or ''."""
    value = header_value(headers, "content-type") or ""
    return value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    scheme: str
    host: str
    port: int
    path: str
    query: str = ""  # raw, without the leading '?', exactly as sent
    http_version: str = "HTTP/1.1"
    headers: Headers = ()
    body: bytes = b""

    @property
    def origin(self) -> str:
        """`scheme://host[:port]`, the port only when it is not the scheme's default."""
        netloc = self.host if ":" not in self.host else f"[{self.host}]"
        if DEFAULT_PORTS.get(self.scheme) != self.port:
            netloc = f"{netloc}:{self.port}"
        return f"{self.scheme}://{netloc}"

    @property
    def url(self) -> str:
        return self.origin + self.path + (f"?{self.query}" if self.query else "")

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: Headers = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds: `started_at` is a Unix time; the others are offsets from it."""

    started_at: float
    first_byte: float | None = None
    ended: float | None = None


@dataclass(frozen=True, slots=True)
class InteractionError:
    """An upstream failure (refused, reset, timeout, TLS...) seen instead of a response."""

    kind: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Interaction:
    request: Request
    response: Response | None
    seq: int = 0
    timing: Timing = field(default_factory=lambda: Timing(0.0))
    error: InteractionError | None = None
    # Facts about the interaction that are not HTTP: the original content-encoding, a
    # truncated body's real size, and what normalize learns (route, shape, count).
    meta: Mapping[str, Any] = field(default_factory=dict)

    def evolve(self, **changes: Any) -> Interaction:
        return replace(self, **changes)
