"""VCR.py cassettes (its version-1 format, YAML or JSON) and Betamax JSON cassettes, in;
VCR.py YAML out, as vcrpy itself writes and replays it.

YAML is read with the safe loader only (no arbitrary objects); `!!binary` bodies are YAML's
own standard tag, which the safe loader supports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from recorder.interop.common import (
    InteropError,
    Located,
    b64,
    decoded,
    export_headers,
    parse_time,
    request_from_url,
)
from recorder.model import Headers, Interaction, Response, Timing


def _headers(located: Located, data: Any, where: str) -> Headers:
    raw = located.get(data, "headers", where, dict, {})
    out = []
    for name, values in raw.items():
        for value in values if isinstance(values, list) else [values]:
            out.append((str(name), str(value)))
    return tuple(out)


def _body(located: Located, data: Any, where: str) -> bytes:
    body = data.get("body") if isinstance(data, dict) else None
    if body is None:
        return b""
    if isinstance(body, dict):
        if body.get("base64_string"):
            return b64(str(body["base64_string"]), located.path, f"{where}.body.base64_string")
        body = body.get("string", "")
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise InteropError(located.path, f"{where}.body", f"unexpected {type(body).__name__}")


def _interaction(located: Located, item: Any, where: str, seq: int) -> Interaction:
    request = located.get(item, "request", where, dict)
    response = located.get(item, "response", where, dict)
    meta: dict[str, Any] = {}
    req_headers = _headers(located, request, f"{where}.request")
    req_body = decoded(_body(located, request, f"{where}.request"), req_headers, meta,
                       "request")
    try:
        req = request_from_url(str(located.get(request, "method", f"{where}.request", str)),
                               str(located.get(request, "uri", f"{where}.request", str)),
                               "HTTP/1.1", req_headers, req_body)
    except ValueError as exc:
        raise InteropError(located.path, f"{where}.request.uri", str(exc)) from exc
    status = located.get(response, "status", f"{where}.response", dict)
    code = located.get(status, "code", f"{where}.response.status", int)
    resp_headers = _headers(located, response, f"{where}.response")
    body = decoded(_body(located, response, f"{where}.response"), resp_headers, meta,
                   "response")
    started = parse_time(item.get("recorded_at")) if isinstance(item, dict) else 0.0
    return Interaction(req, Response(code, str(status.get("message") or ""), "HTTP/1.1",
                                     resp_headers, body), seq, Timing(started), None, meta)


def read_vcr(data: Any, path: str) -> Iterator[Interaction]:
    located = Located(path)
    items = located.get(data, "interactions", "$", list)
    for index, item in enumerate(items):
        yield _interaction(located, item, f"interactions[{index}]", index)


def read_betamax(data: Any, path: str) -> Iterator[Interaction]:
    located = Located(path)
    items = located.get(data, "http_interactions", "$", list)
    for index, item in enumerate(items):
        yield _interaction(located, item, f"http_interactions[{index}]", index)


# libyaml's safe loader when PyYAML has it (as vcrpy uses libyaml): as safe, many times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}" if where is not None else "YAML"
        raise InteropError(path, line, f"not valid YAML ({getattr(exc, 'problem', exc)})"
                           ) from exc


def _vcr_body(body: bytes) -> dict[str, Any]:
    try:
        return {"string": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"string": body}  # dumped as YAML !!binary, as vcrpy does


def dump_vcr(interactions: Iterable[Interaction]) -> str:
    """A vcrpy version-1 cassette. Bodies go out decoded, so Content-Encoding is dropped
    and Content-Length recomputed: vcrpy replays them as they are."""
    out = []
    for item in interactions:
        if item.response is None:
            continue  # vcrpy has no way to say "the connection failed"
        req, resp = item.request, item.response
        headers: dict[str, list[str]] = {}
        for name, value in export_headers(resp.headers, resp.body):
            headers.setdefault(name, []).append(value)
        request_headers: dict[str, list[str]] = {}
        for name, value in req.headers:
            if name.lower() not in ("content-length", "content-encoding"):
                request_headers.setdefault(name, []).append(value)
        out.append({
            "request": {"body": req.body.decode("utf-8", "replace") if req.body else None,
                        "headers": request_headers, "method": req.method, "uri": req.url},
            "response": {"body": _vcr_body(resp.body), "headers": headers,
                         "status": {"code": resp.status, "message": resp.reason}},
        })
    return str(yaml.dump({"interactions": out, "version": 1}, Dumper=_DUMPER, sort_keys=False,
                         allow_unicode=True))

