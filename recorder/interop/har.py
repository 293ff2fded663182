"""HAR 1.2 (browsers' devtools, Charles, Proxyman, mitmproxy's HAR export) in and out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from recorder import __version__
from recorder.interop.common import (
    InteropError,
    Located,
    b64,
    export_headers,
    iso,
    parse_time,
    request_from_url,
)
from recorder.model import Interaction, Response, Timing, media_type


def read_har(data: Any, path: str) -> Iterator[Interaction]:
    located = Located(path)
    log = located.get(data, "log", "$", dict)
    entries = located.get(log, "entries", "log", list)
    for index, entry in enumerate(entries):
        where = f"log.entries[{index}]"
        yield _entry(located, entry, where, index)


def _headers(located: Located, message: Any, where: str) -> tuple[tuple[str, str], ...]:
    items = located.get(message, "headers", where, list, [])
    out = []
    for number, item in enumerate(items):
        out.append((str(located.get(item, "name", f"{where}.headers[{number}]", str)),
                    str(located.get(item, "value", f"{where}.headers[{number}]", str))))
    return tuple(out)


def _entry(located: Located, entry: Any, where: str, seq: int) -> Interaction:
    request = located.get(entry, "request", where, dict)
    response = located.get(entry, "response", where, dict)
    meta: dict[str, Any] = {}
    req_headers = _headers(located, request, f"{where}.request")
    post = located.get(request, "postData", f"{where}.request", dict, {})
    body = str(located.get(post, "text", f"{where}.request.postData", str, "")).encode()
    try:
        req = request_from_url(
            str(located.get(request, "method", f"{where}.request", str)),
            str(located.get(request, "url", f"{where}.request", str)),
            str(located.get(request, "httpVersion", f"{where}.request", str, "HTTP/1.1")),
            req_headers, body)
    except ValueError as exc:
        raise InteropError(located.path, f"{where}.request.url", str(exc)) from exc
    status = int(located.get(response, "status", f"{where}.response", int))
    resp_headers = _headers(located, response, f"{where}.response")
    content = located.get(response, "content", f"{where}.response", dict, {})
    text = str(located.get(content, "text", f"{where}.response.content", str, ""))
    if content.get("encoding") == "base64":
        raw = b64(text, located.path, f"{where}.response.content.text")
    else:
        raw = text.encode()
    # HAR content is already decoded by the browser: keep it, note the wire encoding.
    encoding = next((v for k, v in resp_headers if k.lower() == "content-encoding"), None)
    if encoding and encoding.lower() != "identity":
        meta["response_content_encoding"] = encoding
    started = parse_time(entry.get("startedDateTime"))
    total = float(entry.get("time") or 0) / 1000
    timings = entry.get("timings") or {}
    wait = timings.get("wait")
    first_byte = float(wait) / 1000 if isinstance(wait, int | float) and wait >= 0 else None
    error = None
    if status == 0:  # browsers write status 0 for a request that got no response
        return Interaction(req, None, seq, Timing(started, None, total or None), error, meta)
    return Interaction(req, Response(status, str(response.get("statusText", "")),
                                     str(response.get("httpVersion", "HTTP/1.1")),
                                     resp_headers, raw),
                       seq, Timing(started, first_byte, total or None), None, meta)


def to_har(interactions: Iterable[Interaction]) -> dict[str, Any]:
    entries = []
    for item in interactions:
        req, resp = item.request, item.response
        entry: dict[str, Any] = {
            "startedDateTime": iso(item.timing.started_at),
            "time": round((item.timing.ended or 0) * 1000, 3),
            "request": {
                "method": req.method, "url": req.url, "httpVersion": req.http_version,
                "cookies": [], "headers": [{"name": k, "value": v} for k, v in req.headers],
                "queryString": [{"name": k, "value": v} for k, v in req.query_pairs],
                "headersSize": -1, "bodySize": len(req.body),
            },
            "response": _har_response(resp),
            "cache": {},
            "timings": {"send": 0, "wait": round((item.timing.first_byte or 0) * 1000, 3),
                        "receive": 0},
        }
        if req.body:
            entry["request"]["postData"] = {"mimeType": media_type(req.headers),
                                            "text": req.body.decode("utf-8", "replace")}
        entries.append(entry)
    return {"log": {"version": "1.2", "creator": {"name": "recorder", "version": __version__},
                    "entries": entries}}


def _har_response(resp: Response | None) -> dict[str, Any]:
    if resp is None:
        return {"status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                "headers": [], "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                "headersSize": -1, "bodySize": -1, "_error": "no response"}
    try:
        content = {"size": len(resp.body), "mimeType": media_type(resp.headers),
                   "text": resp.body.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        content = {"size": len(resp.body), "mimeType": media_type(resp.headers),
                   "text": base64.b64encode(resp.body).decode(), "encoding": "base64"}
    headers = export_headers(resp.headers, resp.body)
    location = next((v for k, v in resp.headers if k.lower() == "location"), "")
    return {"status": resp.status, "statusText": resp.reason, "httpVersion": resp.http_version,
            "cookies": [], "headers": [{"name": k, "value": v} for k, v in headers],
            "content": content, "redirectURL": location, "headersSize": -1,
            "bodySize": len(resp.body)}


def dump_har(interactions: Iterable[Interaction]) -> str:
    return json.dumps(to_har(interactions), indent=2, ensure_ascii=False)

