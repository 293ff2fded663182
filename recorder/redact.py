"""Redaction: secrets out of an interaction before it is written anywhere.

Pure functions over the model. Placeholders keep type and format: each character is
replaced by one of the same class (digit, lower, upper; punctuation kept), chosen by an
HMAC of the whole secret under a per-user key. So equal secrets map to equal placeholders
(matching and shapes are stable), a bearer token stays token-shaped, a JWT keeps its three
dot-separated parts, and nothing in the cassette lets anyone recover the secret.
Every redacted location is listed in `meta["redacted"]` so replay and scan know them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from recorder.errors import RecorderError
from recorder.model import Headers, Interaction

KEY_FILE = "redact.key"

# Headers whose whole credential is secret. Matched case-insensitively.
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "x-auth-token",
    "x-access-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token",
    "x-goog-api-key", "x-session-token", "x-refresh-token", "private-token",
    "x-vault-token", "x-shopify-access-token", "ocp-apim-subscription-key",
})
# Names that say "secret" even when we have not listed them: x-foo-api-key, x-bar-token.
_SECRET_HEADER_PATTERN = re.compile(r"(api[-_]?key|[-_]token$|secret|password|signature)", re.I)
# Authorization-style values keep their scheme word: "Bearer <placeholder>".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)(\s+)(.+)$", re.S)

_CLASSES = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


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


def _is_placeholder_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class Redactor:
    key: bytes
    header_names: frozenset[str] = SECRET_HEADERS
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def placeholder(self, secret: str) -> str:
        """A keyed, format-keeping stand-in: same length, same character classes."""
        cached = self._cache.get(secret)
        if cached is not None:
            return cached
        stream = _keystream(self.key, secret, len(secret))
        out = []
        for char, byte in zip(secret, stream, strict=True):
            for alphabet in _CLASSES:
                if char in alphabet:
                    out.append(alphabet[byte % len(alphabet)])
                    break
            else:
                out.append(char)
        result = "".join(out)
        if len(self._cache) < 10_000:
            self._cache[secret] = result
        return result

    def is_secret_header(self, name: str) -> bool:
        lowered = name.lower()
        return lowered in self.header_names or bool(_SECRET_HEADER_PATTERN.search(lowered))

    def credential(self, value: str) -> str:
        """`Bearer abc` → `Bearer xyz`: keep the scheme word, replace the credential."""
        match = _SCHEME.match(value)
        if match and any(_is_placeholder_char(c) for c in match.group(3)):
            return match.group(1) + match.group(2) + self.placeholder(match.group(3))
        return self.placeholder(value)

    def cookie_header(self, value: str) -> str:
        """`a=1; b=2` → names kept, values replaced."""
        return "; ".join(self._cookie_pair(part) for part in value.split("; "))

    def set_cookie_header(self, value: str) -> str:
        """`sid=abc; Path=/; HttpOnly` → only the cookie's own value is replaced."""
        first, sep, attributes = value.partition(";")
        return self._cookie_pair(first) + sep + attributes

    def _cookie_pair(self, pair: str) -> str:
        name, eq, val = pair.partition("=")
        if not eq:
            return pair
        return f"{name}={self.placeholder(val)}" if val else pair

    def headers(self, headers: Headers, where: str, redacted: list[str],
                already: frozenset[str] = frozenset()) -> Headers:
        out = []
        for name, value in headers:
            lowered = name.lower()
            rewrite: Callable[[str], str] | None = None
            if f"{where}.headers.{lowered}" in already:
                pass  # a placeholder already: redacting it again would change it
            elif lowered == "cookie":
                rewrite = self.cookie_header
            elif lowered == "set-cookie":
                rewrite = self.set_cookie_header
            elif self.is_secret_header(lowered):
                rewrite = self.credential
            if rewrite is not None and value:
                new = rewrite(value)
                if new != value:
                    redacted.append(f"{where}.headers.{lowered}")
                    value = new
            out.append((name, value))
        return tuple(out)

    def interaction(self, interaction: Interaction) -> Interaction:
        """A copy of `interaction` with its secrets replaced; the input is not changed."""
        redacted: list[str] = []
        already = frozenset(interaction.meta.get("redacted", ()))
        request_headers = self.headers(interaction.request.headers, "request", redacted, already)
        response = interaction.response
        response_headers = None if response is None else self.headers(
            response.headers, "response", redacted, already)
        if not redacted:
            return interaction  # nothing secret: no copies on the hot path
        request = replace(interaction.request, headers=request_headers)
        if response is not None and response_headers is not None:
            response = replace(response, headers=response_headers)
        meta = dict(interaction.meta)
        meta["redacted"] = sorted(set(meta.get("redacted", ())) | set(redacted))
        return interaction.evolve(request=request, response=response, meta=meta)


def _keystream(key: bytes, secret: str, length: int) -> bytes:
    data = secret.encode("utf-8", "surrogateescape")
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, counter.to_bytes(4, "big") + data, hashlib.sha256).digest()
        counter += 1
    return out[:length]
