"""Redaction: secrets out of an interaction before it is written anywhere.

Pure functions over the model; the input is never changed. What is redacted:
- headers: Authorization-style credentials (scheme kept), Cookie and Set-Cookie values
  (names kept), API-key and token headers, and any detected secret in any header value
  (a URL in Location, a token in WWW-Authenticate);
- query and form parameters, JSON keys at any depth and in arrays, and multipart fields
  whose names say secret (password, token, api_key, client_secret, cvc, ssn, ...);
- values that are secrets whatever their key (recorder.redact.detectors): JWTs, cloud and
  SaaS keys, PEM private keys, bearer and basic credentials, URL passwords, card numbers,
  IBANs; emails and high-entropy strings behind options;
- inside JSON-in-a-string, base64 wrappers, server-sent events and free text.

Placeholders keep type and format (recorder.redact.placeholders). Every redacted location
is listed in `meta["redacted"]`, so replay matches them by kind and scan knows them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from recorder.errors import RecorderError, UsageError
from recorder.model import Headers, Interaction, media_type
from recorder.redact import placeholders
from recorder.redact.detectors import DETECTORS, OPTIONAL, Detector, Hit, scrub
from recorder.shape import string_kind

KEY_FILE = "redact.key"

SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "x-auth-token",
    "x-access-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token",
    "x-goog-api-key", "x-session-token", "x-refresh-token", "private-token",
    "x-vault-token", "x-shopify-access-token", "ocp-apim-subscription-key",
})
_SECRET_HEADER = re.compile(r"(api[-_]?key|[-_]token$|secret|password|signature)", re.I)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)(\s+)(\S.*)$", re.S)
_FORM = re.compile(r"[A-Za-z0-9_.\[\]-]+=[^&\s]*(?:&[A-Za-z0-9_.\[\]-]+=[^&\s]*)+")

# Keys (JSON, query, form, multipart) whose value is a secret. The first group gets a
# templated placeholder: scanners flag any word-like value under such keys.
_TEMPLATED_KEY = re.compile(
    r"(?i)^(?:.*[_-])?(?:password|passwd|pwd|passphrase|secret|(?:api|access|secret|private|"
    r"client|auth|signing|encryption|master|account|service)[_-]?key|apikey)$")
_SHAPED_KEY = re.compile(
    r"(?i)^(?:.*[_-])?(?:token|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|"
    r"session[_-]?token|bearer|signature|sig|cvc|cvv|cvv2|cvc2|ssn|otp|credentials?|"
    r"authorization|session[_-]?id|sessionid|card[_-]?number|pan|iban)$")


def load_key(home: Path) -> bytes:
    """The per-user HMAC key, created owner-only on first use. Never written to a cassette."""
    path = home / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 16:
            raise RecorderError(
                f"the redaction key {path} is damaged", f"delete {path} to make a new one"
            ) from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as file:
        file.write(key)
    return key


@dataclass(frozen=True)
class RedactConfig:
    """`[tool.recorder.redact]`: what to redact beyond the defaults, and what to leave."""

    headers: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # JSON paths: $.customer.tax_id, $.items[].serial
    patterns: tuple[str, ...] = ()  # regexes for values that are secrets
    allow: tuple[str, ...] = ()  # regexes for values never to redact
    emails: bool = False
    entropy: bool = False

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> RedactConfig:
        for name in ("patterns", "allow"):
            for pattern in data.get(name, ()):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise UsageError(f"{source}: redact.{name}: {pattern!r} is not a regex "
                                     f"({exc})", "fix the pattern (Python regex syntax)"
                                     ) from exc
        for path in data.get("paths", ()):
            if not path.startswith("$"):
                raise UsageError(f"{source}: redact.paths: {path!r} is not a JSON path",
                                 "write paths like $.customer.tax_id or $.items[].serial")
        lists = {k: tuple(data.get(k, ())) for k in ("headers", "keys", "paths", "patterns",
                                                       "allow")}
        return cls(**lists, emails=bool(data.get("emails", False)),
                   entropy=bool(data.get("entropy", False)))


@dataclass(frozen=True)
class Mark:
    """One redaction: where, what kind of secret, and the secret (for a masked hint only)."""

    location: str
    kind: str
    secret: str = ""

    def hint(self) -> str:
        """A masked hint: the first few characters and the length, never the secret."""
        shown = min(4, len(self.secret) // 4)
        return f"{self.secret[:shown]}… ({len(self.secret)} chars)" if self.secret else ""


@dataclass
class _Pass:
    """One interaction's redaction: what was marked, what was redacted already."""

    already: frozenset[str]
    marks: list[Mark] = field(default_factory=list)

    def mark(self, location: str, kind: str, secret: str = "") -> None:
        self.marks.append(Mark(location, kind, secret))


class Redactor:
    def __init__(self, key: bytes, config: RedactConfig | None = None) -> None:
        self.key = key
        self.config = config or RedactConfig()
        extra = tuple(Detector(f"pattern:{p}", re.compile(p)) for p in self.config.patterns)
        optional = tuple(d for name, d in OPTIONAL.items() if getattr(self.config, name))
        self.detectors: tuple[Detector, ...] = DETECTORS + optional + extra
        self._allow = [re.compile(p) for p in self.config.allow]
        self._extra_headers = frozenset(h.lower() for h in self.config.headers)
        self._extra_keys = frozenset(k.lower() for k in self.config.keys)
        self._paths = frozenset(self.config.paths)
        # Per-instance caches (the key and config are the instance's): key names and values
        # repeat across interactions, and both answers are pure.
        self._secret_key = functools.lru_cache(maxsize=4096)(self._key_rule)
        self._text = functools.lru_cache(maxsize=16384)(self._scrub)

    # -- placeholders --
    def placeholder(self, secret: str) -> str:
        return placeholders.shaped(self.key, secret)

    def allowed(self, value: str) -> bool:
        return any(p.fullmatch(value) for p in self._allow)

    def text(self, value: str) -> tuple[str, list[Hit]]:
        """Detected secrets in free text replaced; returns the text and what was found.
        Cached: APIs repeat values (currencies, statuses, timestamps) all the time."""
        return self._text(value)

    def _scrub(self, value: str) -> tuple[str, list[Hit]]:
        return scrub(value, self.key, self.detectors, self.allowed)

    # -- names --
    def is_secret_header(self, name: str) -> bool:
        lowered = name.lower()
        return (lowered in SECRET_HEADERS or lowered in self._extra_headers
                or bool(_SECRET_HEADER.search(lowered)))

    def secret_key(self, name: str) -> str | None:
        """'templated', 'shaped', or None: how a value under this key is redacted."""
        return self._secret_key(name)

    def _key_rule(self, name: str) -> str | None:
        if name.lower() in self._extra_keys or _TEMPLATED_KEY.match(name):
            return "templated"
        return "shaped" if _SHAPED_KEY.match(name) else None

    # -- values under a secret key --
    def secret_value(self, value: Any, how: str) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return placeholders.number(self.key, value)
        if isinstance(value, str):
            if not value or placeholders.is_placeholder(value) or self.allowed(value):
                return value
            if how == "templated" and string_kind(value) == "string":
                # numbers, dates and ids in strings keep their kind: shapes must not drift
                return placeholders.templated(self.key, value)
            return self.text(value)[0] if self.text(value)[1] else self.placeholder(value)
        if isinstance(value, list):
            return [self.secret_value(v, how) for v in value]
        if isinstance(value, dict):
            return {k: self.secret_value(v, how) for k, v in value.items()}
        return value

    # -- headers --
    def credential(self, value: str) -> str:
        """`Bearer abc` → `Bearer xyz`; `Basic base64(user:pw)` keeps the user."""
        match = _SCHEME.match(value)
        if match and match.group(1).lower() == "basic":
            scrubbed, kinds = self.text(value)
            if kinds:
                return scrubbed
        if match:
            return match.group(1) + match.group(2) + self.placeholder(match.group(3))
        return self.placeholder(value)

    def cookie_header(self, value: str) -> str:
        return "; ".join(self._cookie_pair(part) for part in value.split("; "))

    def set_cookie_header(self, value: str) -> str:
        first, sep, attributes = value.partition(";")
        return self._cookie_pair(first) + sep + attributes

    def _cookie_pair(self, pair: str) -> str:
        name, eq, val = pair.partition("=")
        if not eq or not val:
            return pair
        return f"{name}={self.placeholder(val)}"

    def headers(self, headers: Headers, where: str, state: _Pass) -> Headers:
        out = []
        for name, value in headers:
            lowered = name.lower()
            location = f"{where}.headers.{lowered}"
            new = value
            if location in state.already or not value:
                pass  # a placeholder already: redacting it again would change it
            elif lowered in ("cookie", "set-cookie"):
                new = (self.cookie_header if lowered == "cookie" else self.set_cookie_header)(
                    value)
                if new != value:
                    state.mark(location, "cookie", value)
            elif self.is_secret_header(lowered):
                new = self.credential(value)
                if new != value:
                    state.mark(location, "credential-header", value)
            else:
                new = self.string(value, location, state)  # a URL in Location, a token...
            out.append((name, new))
        return tuple(out)

    # -- query strings and forms --
    def pairs(self, pairs: list[tuple[str, str]], location: str, state: _Pass
              ) -> list[tuple[str, str]]:
        return [(name, self.named(name, value, f"{location}.{name}", state))
                for name, value in pairs]

    def named(self, name: str, value: str, where: str, state: _Pass) -> str:
        """A value that comes with a name (a query or form parameter, a multipart field):
        redacted whole if the name says secret, else searched like any string."""
        if where in state.already:
            return value
        how = self.secret_key(name)
        if how is None:
            return self.string(value, where, state)
        new = self.secret_value(value, how)
        if new != value:
            state.mark(where, "secret-key", value)
        return str(new)

    def query(self, query: str, location: str, state: _Pass) -> str:
        if not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        new = self.pairs(pairs, location, state)
        return query if new == pairs else urlencode(new, quote_via=quote, safe="/:@")

    # -- strings that may wrap other formats --
    def string(self, value: str, location: str, state: _Pass) -> str:
        """A string value: JSON inside it, a URL with a query, a base64 wrapper, free text."""
        if location in state.already or placeholders.is_placeholder(value) or self.allowed(
                value):
            return value
        stripped = value.strip()
        if _FORM.fullmatch(stripped):  # form-encoded data inside a string
            form = self.query(stripped, f"{location} form", state)
            if form != stripped:
                return form
        if stripped[:1] in ("{", "[") and len(stripped) > 1:
            walked = self._json_text(stripped, location, state)
            if walked is not None:
                return value if walked == stripped else walked
        new = value
        if stripped.startswith(("http://", "https://")) and "?" in stripped:
            parts = urlsplit(stripped)
            query = self.query(parts.query, f"{location}.query", state)
            if query != parts.query:
                new = urlunsplit(parts._replace(query=query))
        new, hits = self.text(new)
        for hit in hits:
            state.mark(location, hit.kind, hit.secret)
        if not hits and len(value) >= 16 and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
            new = self._base64(value, location, state)
        return new

    def _base64(self, value: str, location: str, state: _Pass) -> str:
        """A base64 wrapper around text with a secret in it (a token inside a token)."""
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return value
        if not decoded.isprintable():
            return value
        inner = self.string(decoded, f"{location} base64", state)
        return value if inner == decoded else base64.b64encode(inner.encode()).decode()

    def _json_text(self, text: str, location: str, state: _Pass) -> str | None:
        """JSON text with its secrets redacted (the same text when there were none), or
        None when it is not JSON."""
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
        walked = self.json(value, "$", location, state)
        return text if walked == value else json.dumps(walked)

    # -- JSON --
    def json(self, value: Any, path: str, location: str, state: _Pass) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, child in value.items():
                child_path = f"{path}.{key}"
                where = f"{location} {child_path}"
                how = "shaped" if child_path in self._paths else self.secret_key(str(key))
                if where in state.already:
                    out[key] = child
                elif how is not None:
                    out[key] = self.secret_value(child, how)
                    if out[key] != child:
                        state.mark(where, "secret-key", json.dumps(child))
                else:
                    out[key] = self.json(child, child_path, location, state)
            return out
        if isinstance(value, list):
            return [self.json(child, f"{path}[]", location, state) for child in value]
        if isinstance(value, str):
            where = f"{location} {path}"
            return value if where in state.already else self.string(value, where, state)
        return value

    # -- bodies --
    def body(self, body: bytes, headers: Headers, where: str, state: _Pass) -> bytes:
        if not body:
            return body
        media = media_type(headers)
        location = f"{where}.body"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # binary: nothing textual to redact
        if "json" in media or (not media and text.lstrip()[:1] in ("{", "[")):
            walked = self._json_text(text, location, state)
            if walked is not None:
                return body if walked == text else walked.encode()
        if media == "application/x-www-form-urlencoded":
            return self.query(text, f"{location} form", state).encode()
        if media.startswith("multipart/"):
            return self._multipart(body, headers, location, state)
        if media == "text/event-stream":
            return self._events(text, location, state).encode()
        if f"{location} text" in state.already:
            return body
        new, hits = self.text(text)
        for hit in hits:
            state.mark(f"{location} text", hit.kind, hit.secret)
        return new.encode()

    def _multipart(self, body: bytes, headers: Headers, location: str, state: _Pass) -> bytes:
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if match is None:
            return body
        delimiter = b"--" + match.group(1).encode()
        parts = body.split(delimiter)
        out = [parts[0]]
        for part in parts[1:]:
            head, sep, content = part.partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]*)"', head)
            field_name = name.group(1).decode("utf-8", "replace") if name else ""
            if sep and field_name and b"filename=" not in head:
                tail = b"\r\n" if content.endswith(b"\r\n") else b""
                value = content[: len(content) - len(tail)].decode("utf-8", "replace")
                new = self.named(field_name, value, f"{location} multipart.{field_name}", state)
                if new != value:
                    content = new.encode() + tail
            out.append(head + sep + content)
        return delimiter.join(out)

    def _events(self, text: str, location: str, state: _Pass) -> str:
        lines = []
        for line in text.split("\n"):
            if line.startswith("data:"):
                data = line[5:].lstrip()
                new = self.string(data, f"{location} event", state)
                line = f"data: {new}" if new != data else line
            lines.append(line)
        return "\n".join(lines)

    # -- whole interactions --
    def _redact(self, interaction: Interaction) -> tuple[Interaction, _Pass]:
        state = _Pass(frozenset(interaction.meta.get("redacted", ())))
        request = interaction.request
        path = request.path
        if "request.path" not in state.already:
            path, hits = self.text(request.path)  # some APIs put tokens in the path
            for hit in hits:
                state.mark("request.path", hit.kind, hit.secret)
        headers = self.headers(request.headers, "request", state)
        query = self.query(request.query, "request.query", state)
        body = self.body(request.body, request.headers, "request", state)
        response = interaction.response
        if response is not None:
            response_headers = self.headers(response.headers, "response", state)
            response_body = self.body(response.body, response.headers, "response", state)
        if not state.marks:
            return interaction, state  # nothing secret: no copies on the hot path
        new_request = replace(request, path=path, headers=headers, query=query, body=body)
        new_response = None if response is None else replace(
            response, headers=response_headers, body=response_body)
        meta = dict(interaction.meta)
        meta["redacted"] = sorted(set(meta.get("redacted", ())) |
                                  {m.location for m in state.marks})
        return interaction.evolve(request=new_request, response=new_response, meta=meta), state

    def interaction(self, interaction: Interaction) -> Interaction:
        """A copy of `interaction` with its secrets replaced; the input is not changed."""
        return self._redact(interaction)[0]

    def findings(self, interaction: Interaction) -> list[Mark]:
        """What redaction would still change: secrets left in an interaction (scan)."""
        return self._redact(interaction)[1].marks

