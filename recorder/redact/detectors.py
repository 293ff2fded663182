"""Values that are secrets whatever their key: one small detector per kind.

Each detector is a pattern, an optional validator (Luhn for cards, mod-97 for IBANs,
entropy for AWS secret keys) and a placeholder maker that keeps the format. `scrub()`
replaces every match in a text and reports what it found (scan uses the report).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from recorder.redact.placeholders import card, iban, luhn_valid, shaped, templated

Replace = Callable[[bytes, str], str]


@dataclass(frozen=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    validate: Callable[[str], bool] | None = None
    replace: Replace = shaped
    group: int = 0  # the part of the match that is secret (e.g. the token after "Bearer")


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _card_ok(text: str) -> bool:
    digits = "".join(c for c in text if c.isdigit())
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits) and len(
        set(digits)) > 1


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _aws_secret_ok(text: str) -> bool:
    return (any(c.isupper() for c in text) and any(c.islower() for c in text)
            and any(c.isdigit() for c in text) and entropy(text) >= 4.2)


def _high_entropy_ok(text: str) -> bool:
    classes = sum((any(c.isupper() for c in text), any(c.islower() for c in text),
                   any(c.isdigit() for c in text)))
    return classes >= 2 and entropy(text) >= 4.5


def _pem(key: bytes, text: str) -> str:
    return (f"-----BEGIN REDACTED PRIVATE KEY-----\n{templated(key, text)}\n"
            "-----END REDACTED PRIVATE KEY-----")


def _basic(key: bytes, encoded: str) -> str:
    """`Basic base64(user:password)` keeps the user and replaces the password."""
    user, _, password = base64.b64decode(encoded).decode("utf-8", "replace").partition(":")
    return base64.b64encode(f"{user}:{shaped(key, password)}".encode()).decode()


def _basic_ok(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def _email(key: bytes, text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{shaped(key, local)}@{domain}"


_B = r"(?<![A-Za-z0-9_-])"  # a token starts at a boundary
_E = r"(?![A-Za-z0-9_-])"

DETECTORS: tuple[Detector, ...] = (
    Detector("pem-private-key", re.compile(  # not our own "BEGIN REDACTED PRIVATE KEY"
        r"-----BEGIN (?!REDACTED )(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), replace=_pem),
    Detector("jwt", re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
                               + _E)),
    Detector("aws-access-key-id", re.compile(
        r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")),
    Detector("aws-secret-access-key", re.compile(
        r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), _aws_secret_ok),
    Detector("github-token", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_"
                                        r"[A-Za-z0-9_]{40,})" + _E)),
    Detector("gitlab-token", re.compile(_B + r"glpat-[A-Za-z0-9_-]{20,}" + _E)),
    Detector("stripe-key", re.compile(_B + r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}" + _E)),
    Detector("stripe-webhook-secret", re.compile(_B + r"whsec_[A-Za-z0-9]{24,}" + _E)),
    Detector("slack-token", re.compile(_B + r"xox[abposr]-[A-Za-z0-9-]{10,}" + _E)),
    Detector("slack-webhook", re.compile(
        r"https://hooks\.slack\.com/services/(T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+)"), group=1),
    Detector("google-api-key", re.compile(_B + r"AIza[0-9A-Za-z_-]{35}" + _E)),
    Detector("google-oauth-token", re.compile(_B + r"ya29\.[0-9A-Za-z_-]{20,}" + _E)),
    Detector("sendgrid-key", re.compile(_B + r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}" + _E)),
    Detector("twilio-key", re.compile(_B + r"SK[0-9a-fA-F]{32}" + _E)),
    Detector("npm-token", re.compile(_B + r"npm_[A-Za-z0-9]{36}" + _E)),
    Detector("openai-key", re.compile(_B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
                                      + _E)),
    Detector("anthropic-key", re.compile(_B + r"sk-ant-[A-Za-z0-9_-]{20,}" + _E)),
    Detector("shopify-token", re.compile(_B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E)),
    Detector("digitalocean-token", re.compile(_B + r"do[oprt]_v1_[a-f0-9]{64}" + _E)),
    Detector("mailgun-key", re.compile(_B + r"key-[0-9a-zA-Z]{32}" + _E)),
    Detector("mailchimp-key", re.compile(_B + r"[0-9a-f]{32}-us[0-9]{1,2}" + _E)),
    Detector("telegram-bot-token", re.compile(r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{33}" + _E)),
    Detector("square-token", re.compile(_B + r"(?:sq0atp|sq0csp|EAAA)[A-Za-z0-9_-]{22,}" + _E)),
    Detector("facebook-token", re.compile(_B + r"EAA[A-Za-z0-9]{30,}" + _E)),
    Detector("azure-storage-key", re.compile(r"AccountKey=([A-Za-z0-9+/]{86}==)"), group=1),
    Detector("url-password", re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"']+:([^/\s@\"']+)@"),
             group=1),
    Detector("basic-auth", re.compile(r"\b(?i:basic)\s+([A-Za-z0-9+/]{8,}={0,2})"), _basic_ok,
             _basic, group=1),
    Detector("bearer-token", re.compile(r"\b(?i:bearer)\s+([A-Za-z0-9._~+/-]{12,}=*)"), group=1),
    Detector("card-number", re.compile(r"(?<![\d.])(?:\d[ -]?){12,18}\d(?![\d.])"), _card_ok,
             card),
    Detector("iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
             _iban_ok, iban),
)

OPTIONAL: dict[str, Detector] = {
    "emails": Detector("email", re.compile(
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), replace=_email),
    "entropy": Detector("high-entropy-string", re.compile(
        r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{24,}(?![A-Za-z0-9+/_=-])"), _high_entropy_ok),
}


@dataclass(frozen=True)
class Hit:
    kind: str
    secret: str


# No detector matches fewer characters; most values in API bodies (ids, codes, statuses)
# are shorter, and skipping them is the cheapest redaction there is.
MIN_SECRET_LENGTH = 10


def scrub(text: str, key: bytes, detectors: tuple[Detector, ...],
          allowed: Callable[[str], bool]) -> tuple[str, list[Hit]]:
    """Replace every detected secret in `text`; returns the new text and what was found.
    Detectors run one after another on the updated text; placeholders never match again."""
    hits: list[Hit] = []
    if len(text) < MIN_SECRET_LENGTH:
        return text, hits
    for detector in detectors:
        if not detector.pattern.search(text):
            continue

        def replace(match: re.Match[str], detector: Detector = detector) -> str:
            secret = match.group(detector.group)
            if allowed(secret) or (detector.validate is not None and not detector.validate(
                    secret)):
                return match.group(0)
            hits.append(Hit(detector.kind, secret))
            start, end = match.span(detector.group)
            whole = match.group(0)
            offset = match.start(0)
            return (whole[: start - offset] + detector.replace(key, secret)
                    + whole[end - offset:])

        text = detector.pattern.sub(replace, text)
    return text, hits
