"""Interaction <-> the plain dict stored in one cassette record (format version 1).

Arrays come back from msgpack as tuples (`use_list=False`), so headers decode straight
into the model's tuple-of-pairs without a copy. Decoding is strict about structure: a
record of the wrong shape raises `CassetteError`, never a bare KeyError or TypeError.
"""

from __future__ import annotations

from typing import Any

from recorder.errors import CassetteError
from recorder.model import Interaction, InteractionError, Request, Response, Timing


def encode_interaction(interaction: Interaction) -> dict[str, Any]:
    req = interaction.request
    resp = interaction.response
    timing = interaction.timing
    record: dict[str, Any] = {
        "seq": interaction.seq,
        "request": {
            "method": req.method,
            "scheme": req.scheme,
            "host": req.host,
            "port": req.port,
            "path": req.path,
            "query": req.query,
            "http_version": req.http_version,
            "headers": req.headers,
            "body": req.body,
        },
        "response": None
        if resp is None
        else {
            "status": resp.status,
            "reason": resp.reason,
            "http_version": resp.http_version,
            "headers": resp.headers,
            "body": resp.body,
        },
        "timing": (timing.started_at, timing.first_byte, timing.ended),
        "error": None
        if interaction.error is None
        else {"kind": interaction.error.kind, "message": interaction.error.message},
    }
    if interaction.meta:
        record["meta"] = dict(interaction.meta)
    return record


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if type(value) is not tuple:
        raise TypeError("headers must be an array")
    for pair in value:
        if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str or type(
            pair[1]
        ) is not str:
            raise TypeError("each header must be a [name, value] pair of strings")
    return value


def _check(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def decode_interaction(record: Any) -> Interaction:
    try:
        req = record["request"]
        resp = record["response"]
        error = record["error"]
        started, first_byte, ended = record["timing"]
        return Interaction(
            request=Request(
                method=_check(req["method"], str),
                scheme=_check(req["scheme"], str),
                host=_check(req["host"], str),
                port=_check(req["port"], int),
                path=_check(req["path"], str),
                query=_check(req["query"], str),
                http_version=_check(req["http_version"], str),
                headers=_headers(req["headers"]),
                body=_check(req["body"], bytes),
            ),
            response=None
            if resp is None
            else Response(
                status=_check(resp["status"], int),
                reason=_check(resp["reason"], str),
                http_version=_check(resp["http_version"], str),
                headers=_headers(resp["headers"]),
                body=_check(resp["body"], bytes),
            ),
            seq=_check(record["seq"], int),
            timing=Timing(
                float(started),
                None if first_byte is None else float(first_byte),
                None if ended is None else float(ended),
            ),
            error=None
            if error is None
            else InteractionError(_check(error["kind"], str), _check(error["message"], str)),
            meta=_check(record.get("meta", {}), dict),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CassetteError(
            f"malformed interaction record: {exc!s}",
            "the file was not written by recorder, or was edited by hand",
        ) from exc
