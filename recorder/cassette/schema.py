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

RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "recorder interaction record (bodies are msgpack bin, shown here as strings)",
    "type": "object",
    "required": ["seq", "request", "response", "timing", "error"],
    "additionalProperties": False,
    "properties": {
        "seq": {"type": "integer", "minimum": 0},
        "request": {
            "type": "object",
            "required": [
                "method", "scheme", "host", "port", "path", "query", "http_version",
                "headers", "body",
            ],
            "additionalProperties": False,
            "properties": {
                "method": {"type": "string"},
                "scheme": {"type": "string"},
                "host": {"type": "string"},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "path": {"type": "string"},
                "query": {"type": "string"},
                "http_version": {"type": "string"},
                "headers": _HEADERS,
                "body": {},
            },
        },
        "response": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["status", "reason", "http_version", "headers", "body"],
                    "additionalProperties": False,
                    "properties": {
                        "status": {"type": "integer", "minimum": 100, "maximum": 999},
                        "reason": {"type": "string"},
                        "http_version": {"type": "string"},
                        "headers": _HEADERS,
                        "body": {},
                    },
                },
            ]
        },
        "timing": {
            "type": "array",
            "prefixItems": [
                {"type": "number"},
                {"type": ["number", "null"]},
                {"type": ["number", "null"]},
            ],
            "minItems": 3,
            "maxItems": 3,
        },
        "error": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["kind", "message"],
                    "properties": {"kind": {"type": "string"}, "message": {"type": "string"}},
                },
            ]
        },
        "meta": {"type": "object"},
    },
}
