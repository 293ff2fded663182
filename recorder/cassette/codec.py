"""Interaction <-> one cassette record (format version 1).

A record is positional, for read speed (the reader's hot path is this module):

    [seq, request, response|None, [started_at, first_byte|None, ended|None], error|None, meta]
    request  = [method, scheme, host, port, path, query, http_version, headers, body]
    response = [status, reason, http_version, headers, body]
    headers  = [[name, value], ...]      error = [kind, message]      meta = {} (a map)

Arrays come back from msgpack as tuples (`use_list=False`), so headers decode straight
into the model's tuple-of-pairs without a copy. Decoding is strict about structure: a
record of the wrong shape raises `CassetteError`, never a bare KeyError or TypeError.
"""

from __future__ import annotations

from typing import Any

from recorder.errors import CassetteError
from recorder.model import Headers, Interaction, InteractionError, Request, Response, Timing

_REQUEST_TYPES = (str, str, str, int, str, str, str, tuple, bytes)
_RESPONSE_TYPES = (int, str, str, tuple, bytes)
_NUMBER = (int, float)


def encode_interaction(interaction: Interaction) -> tuple[Any, ...]:
    req = interaction.request
    resp = interaction.response
    timing = interaction.timing
    error = interaction.error
    return (
        interaction.seq,
        (req.method, req.scheme, req.host, req.port, req.path, req.query, req.http_version,
         req.headers, req.body),
        None if resp is None else (resp.status, resp.reason, resp.http_version, resp.headers,
                                   resp.body),
        (timing.started_at, timing.first_byte, timing.ended),
        None if error is None else (error.kind, error.message),
        dict(interaction.meta),
    )


def _check_headers(headers: Headers) -> None:
    for pair in headers:
        if type(pair) is not tuple or len(pair) != 2:
            raise TypeError("a header must be a [name, value] pair")
        name, value = pair
        if type(name) is not str or type(value) is not str:
            raise TypeError("header names and values must be strings")


def _malformed(reason: str) -> CassetteError:
    return CassetteError(
        f"malformed interaction record: {reason}",
        "the file was not written by recorder, or was edited by hand",
    )


def decode_interaction(record: Any) -> Interaction:
    try:
        seq, req, resp, timing, error, meta = record
        if tuple(map(type, req)) != _REQUEST_TYPES:
            raise TypeError("request fields have the wrong types")
        _check_headers(req[7])
        if resp is not None:
            if tuple(map(type, resp)) != _RESPONSE_TYPES:
                raise TypeError("response fields have the wrong types")
            _check_headers(resp[3])
            resp = Response(*resp)
        if error is not None:
            kind, message = error
            if type(kind) is not str or type(message) is not str:
                raise TypeError("error kind and message must be strings")
            error = InteractionError(kind, message)
        started, first_byte, ended = timing
        if (
            type(seq) is not int
            or type(meta) is not dict
            or type(started) not in _NUMBER
            or (first_byte is not None and type(first_byte) not in _NUMBER)
            or (ended is not None and type(ended) not in _NUMBER)
        ):
            raise TypeError("seq, timing or meta have the wrong types")
        return Interaction(Request(*req), resp, seq, Timing(started, first_byte, ended),
                           error, meta)
    except (TypeError, ValueError) as exc:
        raise _malformed(str(exc)) from exc
