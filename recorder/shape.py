"""Shapes: the type tree of a body, its key-order signature, and route templates.

Pure functions. A shape is hashable and canonical, so equal bodies-by-type give equal
shapes and a stable `shape_id`:

    scalar   "string" | "integer" | "number" | "boolean" | "null"
             | "string:numeric" | "string:date-time" | "string:date" | "string:uuid"
    Obj      keys → shapes (sorted by key), with the set of keys always present
    Arr      the merged shape of all elements (`NEVER` for an empty array)
    Union    alternatives that do not merge (number and string:numeric, object and null)

Non-JSON bodies get a coarse scalar: "empty", "text", "binary", "form:k1,k2", "xml:a,b".
Key order is not part of the shape; `key_orders()` gives it separately.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import parse_qsl

NEVER = "never"  # the element shape of an empty array; merges into anything

_NUMERIC = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Obj:
    fields: tuple[tuple[str, Shape], ...]  # sorted by key
    required: frozenset[str]

    def get(self, key: str) -> Shape | None:
        for name, shape in self.fields:
            if name == key:
                return shape
        return None


@dataclass(frozen=True, slots=True)
class Arr:
    items: Shape


@dataclass(frozen=True, slots=True)
class Union_:
    options: frozenset[Shape]


Shape = Union[str, Obj, Arr, Union_]  # noqa: UP007 - a recursive alias needs Union here


_MAYBE_SPECIAL = frozenset("-0123456789abcdefABCDEF")  # how numbers, dates and uuids start


def string_kind(value: str) -> str:
    if not value or value[0] not in _MAYBE_SPECIAL:
        return "string"  # fast path: most strings are words
    if _NUMERIC.fullmatch(value):
        return "string:numeric"
    if _DATE_TIME.fullmatch(value):
        return "string:date-time"
    if _DATE.fullmatch(value):
        return "string:date"
    if _UUID.fullmatch(value):
        return "string:uuid"
    return "string"


def value_shape(value: Any) -> Shape:
    """The shape of a parsed JSON value."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return string_kind(value)
    if isinstance(value, dict):
        return Obj(
            tuple(sorted((str(k), value_shape(v)) for k, v in value.items())),
            frozenset(str(k) for k in value),
        )
    if isinstance(value, list):
        items: Shape = NEVER
        for element in value:
            items = merge(items, value_shape(element))
        return Arr(items)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _options(shape: Shape) -> Iterator[Shape]:
    if isinstance(shape, Union_):
        yield from shape.options
    else:
        yield shape


def merge(a: Shape, b: Shape) -> Shape:
    """The least shape that covers both: objects merge key-wise (a key is required only if
    both require it), arrays merge their elements, different kinds become a union."""
    if a == b or b == NEVER:
        return a
    if a == NEVER:
        return b
    if isinstance(a, Obj) and isinstance(b, Obj):
        keys = sorted({k for k, _ in a.fields} | {k for k, _ in b.fields})
        fields = []
        for key in keys:
            left, right = a.get(key), b.get(key)
            fields.append((key, merge(left, right) if left is not None and right is not None
                           else left if left is not None else right))
        return Obj(tuple(fields), a.required & b.required)  # type: ignore[arg-type]
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(merge(a.items, b.items))
    # A union keeps one object and one array at most (they merge), and distinct scalars.
    options = list(_options(a))
    for option in _options(b):
        for index, existing in enumerate(options):
            if (isinstance(existing, Obj) and isinstance(option, Obj)) or (isinstance(
                existing, Arr
            ) and isinstance(option, Arr)):
                options[index] = merge(existing, option)
                break
        else:
            if option not in options:
                options.append(option)
    return options[0] if len(options) == 1 else Union_(frozenset(options))


def to_jsonable(shape: Shape) -> Any:
    """A canonical plain-JSON form (sorted), used for ids, cassette meta and --json."""
    if isinstance(shape, str):
        return shape
    if isinstance(shape, Obj):
        return {"object": {k: to_jsonable(v) for k, v in shape.fields},
                "required": sorted(shape.required)}
    if isinstance(shape, Arr):
        return {"array": to_jsonable(shape.items)}
    return {"union": sorted((to_jsonable(o) for o in shape.options), key=_canonical)}


def from_jsonable(data: Any) -> Shape:
    if isinstance(data, str):
        return data
    if "object" in data:
        return Obj(tuple(sorted((k, from_jsonable(v)) for k, v in data["object"].items())),
                   frozenset(data["required"]))
    if "array" in data:
        return Arr(from_jsonable(data["array"]))
    return Union_(frozenset(from_jsonable(o) for o in data["union"]))


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=4096)  # an API has few shapes and sees them again and again
def shape_id(shape: Shape) -> str:
    return hashlib.sha256(_canonical(to_jsonable(shape)).encode()).hexdigest()[:12]


def describe(shape: Shape) -> str:
    """Short human name: `number`, `string(numeric)`, `object`, `array`, `number | null`."""
    if isinstance(shape, str):
        base, _, refinement = shape.partition(":")
        return f"{base}({refinement})" if refinement else base
    if isinstance(shape, Obj):
        return "object"
    if isinstance(shape, Arr):
        return "array"
    return " | ".join(sorted(describe(o) for o in shape.options))


# -- bodies -------------------------------------------------------------------------------

_XML_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def parse_json(body: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(body)
    except (ValueError, RecursionError):
        return False, None


def body_shape(body: bytes, content_type: str) -> Shape:
    """The shape of a body given its media type; JSON gets the full type tree."""
    return parse_body(body, content_type)[0]


_NO_VALUE = object()


def parse_body(body: bytes, content_type: str) -> tuple[Shape, Any]:
    """The body's shape and, for JSON, its parsed value (else `_NO_VALUE`): one parse serves
    both the shape and the key orders."""
    if not body:
        return "empty", _NO_VALUE
    stripped = body.lstrip()[:1]
    if "json" in content_type or (not content_type and stripped in (b"{", b"[")):
        ok, value = parse_json(body)
        if ok:
            return value_shape(value), value
    if content_type == "application/x-www-form-urlencoded":
        try:
            keys = sorted({k for k, _ in parse_qsl(body.decode(), keep_blank_values=True)})
            return "form:" + ",".join(keys), _NO_VALUE
        except UnicodeDecodeError:
            return "binary", _NO_VALUE
    if "xml" in content_type:
        names = sorted({m.decode("ascii", "replace") for m in _XML_TAG.findall(body[:65536])})
        return "xml:" + ",".join(names), _NO_VALUE
    if content_type.startswith("text/") or "json" in content_type:
        return "text", _NO_VALUE
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", _NO_VALUE
    return "text", _NO_VALUE


def is_json_value(value: Any) -> bool:
    return value is not _NO_VALUE


def key_orders(value: Any, path: str = "$") -> Iterator[tuple[str, tuple[str, ...]]]:
    """(path, keys in order) for every object in a JSON value; array elements share `[]`."""
    if isinstance(value, dict):
        yield path, tuple(str(k) for k in value)
        for key, child in value.items():
            yield from key_orders(child, f"{path}.{key}")
    elif isinstance(value, list):
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for element in value:
            for entry in key_orders(element, f"{path}[]"):
                if entry not in seen:
                    seen.add(entry)
                    yield entry


@functools.lru_cache(maxsize=4096)
def order_id(orders: frozenset[tuple[str, tuple[str, ...]]]) -> str:
    data = _canonical(sorted(orders))
    return hashlib.sha256(data.encode()).hexdigest()[:12]


# -- routes -------------------------------------------------------------------------------

_ID_SEGMENT = (
    re.compile(r"\d+"),
    _UUID,
    re.compile(r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}"),  # hex ids and hashes, with a digit
    re.compile(r"[A-Za-z]{1,12}_[A-Za-z0-9]{3,}"),  # prefixed ids: tx_123, cus_9aB3x
    re.compile(r"[A-Za-z]{1,12}-\d+"),  # ticket-style: INV-2041
)


def segment_placeholder(segment: str) -> str | None:
    """`{id}` or `{date}` when a path segment is an identifier, else None."""
    if _DATE.fullmatch(segment):
        return "{date}"
    if any(p.fullmatch(segment) for p in _ID_SEGMENT):
        return "{id}"
    return None


def template_path(path: str) -> str:
    """`/v1/tx/123/events` → `/v1/tx/{id}/events`."""
    return "/".join(segment_placeholder(s) or s if s else s for s in path.split("/"))


def match_template(path: str, template: str) -> bool:
    """Does a concrete path fit a user template like `/v1/users/{name}`?"""
    have, want = path.split("/"), template.split("/")
    return len(have) == len(want) and all(
        (w.startswith("{") and w.endswith("}") and h) or h == w for h, w in zip(have, want,
                                                                              strict=True)
    )
