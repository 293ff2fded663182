"""JSON Schemas of the cassette header and of one interaction record (format version 1).

The header is validated on every open (once per file, so it is cheap). Records are
checked structurally by the codec on the hot path; this schema documents them and the
test suite holds the writer to it.
"""

from __future__ import annotations

from typing import Any

MAGIC = "recorder-cassette"

HEADER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "recorder cassette header",
    "type": "object",
    "required": ["magic", "format", "created_at", "recorder_version", "source"],
    "properties": {
        "magic": {"const": MAGIC},
        "format": {"type": "integer"},
        "created_at": {"type": "string"},
        "recorder_version": {"type": "string"},
        "source": {"type": "object"},
    },
}

_HEADERS = {
    "type": "array",
    "items": {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "string"}],
        "minItems": 2,
        "maxItems": 2,
    },
}
_OPTIONAL_NUMBER = {"type": ["number", "null"]}


def _fields(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "prefixItems": list(items), "minItems": len(items),
            "maxItems": len(items)}


_STRING: dict[str, Any] = {"type": "string"}
_BODY: dict[str, Any] = {}  # msgpack bin; JSON Schema has no bytes type

# Records are positional arrays (see recorder/cassette/codec.py for the field names).
RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "recorder interaction record",
    **_fields(
        {"title": "seq", "type": "integer", "minimum": 0},
        {"title": "request", **_fields(
            {"title": "method", **_STRING},
            {"title": "scheme", **_STRING},
            {"title": "host", **_STRING},
            {"title": "port", "type": "integer", "minimum": 0, "maximum": 65535},
            {"title": "path", **_STRING},
            {"title": "query", **_STRING},
            {"title": "http_version", **_STRING},
            {"title": "headers", **_HEADERS},
            {"title": "body", **_BODY},
        )},
        {"title": "response", "oneOf": [{"type": "null"}, _fields(
            {"title": "status", "type": "integer", "minimum": 100, "maximum": 999},
            {"title": "reason", **_STRING},
            {"title": "http_version", **_STRING},
            {"title": "headers", **_HEADERS},
            {"title": "body", **_BODY},
        )]},
        {"title": "timing", **_fields(
            {"title": "started_at", "type": "number"},
            {"title": "first_byte", **_OPTIONAL_NUMBER},
            {"title": "ended", **_OPTIONAL_NUMBER},
        )},
        {"title": "error", "oneOf": [{"type": "null"}, _fields(_STRING, _STRING)]},
        {"title": "meta", "type": "object"},
    ),
}
