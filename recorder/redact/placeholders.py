"""Keyed placeholders that keep type and format, and look like nothing secret.

A placeholder is a keyed hash (HMAC under a per-user key): equal secrets give equal
placeholders, and nothing in it lets anyone recover the secret. Format is kept: same length
and, position by position, the same character class (digit, lower, upper; punctuation
kept), so a JWT keeps three dot-separated base64url parts and `Bearer <token>` stays
token-shaped. Only the first six letters and digits carry the hash; the rest is a constant
fill (x, X, 0), so placeholders have low entropy and trip no secret scanner: a placeholder
is what a scanner must not find.
"""

from __future__ import annotations

import hashlib
import hmac
import string

from recorder.shape import string_kind

KEYED_CHARS = 6
_FILL = {"digit": "0", "lower": "x", "upper": "X"}
TEMPLATE_PREFIX = "<redacted:"


def _digest(key: bytes, secret: str, label: str = "") -> bytes:
    data = (label + "\0" + secret).encode("utf-8", "surrogateescape")
    return hmac.new(key, data, hashlib.sha256).digest()


def _class(char: str) -> str | None:
    if char in string.digits:
        return "digit"
    if char in string.ascii_lowercase:
        return "lower"
    if char in string.ascii_uppercase:
        return "upper"
    return None


_ALPHABETS = {"digit": string.digits, "lower": string.ascii_lowercase,
              "upper": string.ascii_uppercase}


_HEX = {"digit": string.digits, "lower": "abcdef", "upper": "ABCDEF"}


def shaped(key: bytes, secret: str) -> str:
    """Same length and character classes; keyed head, constant tail; punctuation kept.
    Non-ASCII characters count as lowercase letters. Strings that are numbers, dates or
    UUIDs stay so (only digits change; hex stays hex), so a body's shape never drifts."""
    digest = _digest(key, secret)
    kind_of_string = string_kind(secret)
    digits_only = kind_of_string in ("string:numeric", "string:date", "string:date-time")
    alphabets = _HEX if kind_of_string == "string:uuid" else _ALPHABETS
    fill = {"digit": "0", "lower": "a", "upper": "A"} if alphabets is _HEX else _FILL
    out = []
    keyed = 0
    for char in secret:
        kind = _class(char) or ("lower" if char.isalnum() else None)
        if digits_only and kind != "digit":
            kind = None
        if kind is None:
            out.append(char)
        elif keyed < KEYED_CHARS:
            alphabet = alphabets[kind]
            out.append(alphabet[digest[keyed] % len(alphabet)])
            keyed += 1
        else:
            out.append(fill[kind])
    if out == list(secret):  # the hash chose the secret's own characters: move the first one
        for index, char in enumerate(out):
            kind = _class(char)
            if kind is not None:
                alphabet = alphabets[kind]
                out[index] = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
                break
    return "".join(out)


def templated(key: bytes, secret: str) -> str:
    """`<redacted:3f9a2b>`: for values whose only format is 'a secret string' (passwords)."""
    return f"{TEMPLATE_PREFIX}{_digest(key, secret, 'template').hex()[:6]}>"


def is_placeholder(value: str) -> bool:
    return value.startswith(TEMPLATE_PREFIX) and value.endswith(">")


def number(key: bytes, value: int | float) -> int | float:
    """A number stays a number of the same kind and magnitude (digit count)."""
    digest = int.from_bytes(_digest(key, repr(value), "number")[:8], "big")
    if isinstance(value, int):
        digits = max(1, len(str(abs(value))))
        low = int(10 ** (digits - 1)) if digits > 1 else 0
        result: int = low + digest % (int(10**digits) - low)
        return -result if value < 0 else result
    scale = max(1.0, abs(value))
    magnitude: float = round((digest % 10_000) / 10_000 * scale, 2)
    return -magnitude if value < 0 else magnitude


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card(key: bytes, text: str) -> str:
    """A card number keeps its separators and digit count and stays Luhn-valid."""
    digits = [c for c in text if c.isdigit()]
    digest = _digest(key, "".join(digits), "card")
    new = [str(digest[i % len(digest)] % 10) for i in range(len(digits) - 1)]
    for check in "0123456789":
        if luhn_valid("".join(new) + check):
            new.append(check)
            break
    replaced = iter(new)
    return "".join(next(replaced) if c.isdigit() else c for c in text)


def iban(key: bytes, text: str) -> str:
    """An IBAN keeps its country and length, with valid check digits."""
    compact = text.replace(" ", "")
    country, bban = compact[:2], compact[4:]
    digest = _digest(key, compact, "iban")
    new_bban = "".join(
        str(digest[i % len(digest)] % 10) if c.isdigit() else
        string.ascii_uppercase[digest[i % len(digest)] % 26] for i, c in enumerate(bban))
    numeric = "".join(str(int(c, 36)) for c in new_bban + country + "00")
    check = f"{98 - int(numeric) % 97:02d}"
    result = country + check + new_bban
    if " " in text:
        result = " ".join(result[i:i + 4] for i in range(0, len(result), 4))
    return result
