"""Contracts: recorded shapes → JSON Schema (draft 2020-12), and checking responses against it.

One schema per endpoint and status lives under `$defs`, keyed `"METHOD /route STATUS"`.
Both sides of a type conflict are kept (`anyOf`) and said so in a description; `required`
lists the fields present in every recorded response; formats are marked where evident.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from recorder.diff import Profile
from recorder.errors import RecorderError
from recorder.model import Interaction
from recorder.observe import Router, observe
from recorder.shape import NEVER, Arr, Obj, Shape, Union_, describe, parse_json

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NUMERIC_PATTERN = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"
_COARSE = ("empty", "text", "binary", "none")

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "string:numeric": {"type": "string", "pattern": NUMERIC_PATTERN,
                       "description": "a number sent as a string (decimal)"},
    "string:date-time": {"type": "string", "format": "date-time"},
    "string:date": {"type": "string", "format": "date"},
    "string:uuid": {"type": "string", "format": "uuid"},
}


def shape_schema(shape: Shape, strict: bool = False) -> dict[str, Any]:
    if isinstance(shape, Obj):
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: shape_schema(value, strict) for key, value in shape.fields},
            "required": sorted(shape.required),
        }
        if strict:
            schema["additionalProperties"] = False
        return schema
    if isinstance(shape, Arr):
        return {"type": "array"} if shape.items == NEVER else {
            "type": "array", "items": shape_schema(shape.items, strict)}
    if isinstance(shape, Union_):
        options = sorted(shape.options, key=describe)
        return {
            "anyOf": [shape_schema(o, strict) for o in options],
            "description": "seen as " + " and as ".join(describe(o) for o in options),
        }
    if shape in _SCALARS:
        return dict(_SCALARS[shape])
    return {}  # non-JSON bodies (text, binary, form:…, xml:…): not validated by content


def definition_key(endpoint: str, status: str) -> str:
    return f"{endpoint} {status}"


def build_schema(profiles: Profile, title: str, strict: bool = False) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for endpoint in sorted(profiles):
        for (status, media), variant in sorted(profiles[endpoint].items()):
            key = definition_key(endpoint, status)
            schema = shape_schema(variant.shape, strict)
            schema.update({
                "title": key,
                "x-recorder-content-type": media,
                "x-recorder-responses": variant.count,
                "x-recorder-shapes": len(variant.shapes),
                "x-recorder-exemplar": variant.exemplar,
            })
            if key in defs:  # one status answered with several media types
                defs[key] = {"title": key, "anyOf": [defs[key], schema]}
            else:
                defs[key] = schema
    return {
        "$schema": DRAFT,
        "title": title,
        "description": "Response contracts inferred by recorder from recorded traffic, one "
                       "per endpoint and status under $defs.",
        "$defs": defs,
    }


@dataclass(frozen=True)
class Failure:
    interaction: str
    endpoint: str
    status: str
    path: str
    message: str


class Contract:
    """A schema document from `build_schema`, ready to check interactions against."""

    def __init__(self, document: Any, source: str) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("$defs"), dict):
            raise RecorderError(f"{source} is not a recorder schema (no $defs)",
                                "make one with `recorder schema CASSETTE -o FILE`")
        try:
            jsonschema.Draft202012Validator.check_schema(document)
        except jsonschema.SchemaError as exc:
            raise RecorderError(f"{source} is not a valid JSON Schema: {exc.message}",
                                "make one with `recorder schema CASSETTE -o FILE`") from exc
        self.validators = {key: jsonschema.Draft202012Validator(schema)
                           for key, schema in document["$defs"].items()}
        routes = {key.split(" ")[1] for key in self.validators}
        # Literal routes first, so /v1/payments/search wins over /v1/payments/{id}.
        self.router = Router(sorted(routes, key=lambda r: (r.count("{"), r)))

    def check(self, interactions: Iterable[Interaction], label: str) -> Iterator[Failure]:
        for item in interactions:
            seen = observe(item, self.router)
            ref = f"{label}#{item.seq}"
            validator = self.validators.get(definition_key(seen.endpoint, seen.status))
            if validator is None:
                yield Failure(ref, seen.endpoint, seen.status, "$",
                              f"no contract for {seen.endpoint} answering {seen.status}")
                continue
            if item.response is None or (isinstance(seen.shape, str) and seen.shape in _COARSE):
                continue
            ok, value = parse_json(item.response.body)
            if not ok:
                continue
            error = best_match(validator.iter_errors(value))
            if error is not None:
                yield Failure(ref, seen.endpoint, seen.status, _json_path(error.absolute_path),
                              error.message)


def _json_path(parts: Iterable[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
