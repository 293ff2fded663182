"""Renderings of interactions for people and machines: JSON form, rich views, textconv.

Pure: these build dicts, strings and rich renderables; recorder.cli decides where they go.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from recorder.model import Headers, Interaction, media_type


def body_json(body: bytes) -> dict[str, Any]:
    """Text bodies as text, anything that is not UTF-8 as base64."""
    try:
        return {"body": body.decode("utf-8"), "body_encoding": "text"}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "body_encoding": "base64"}


def _headers_json(headers: Headers) -> list[list[str]]:
    # Header values may carry surrogate-escaped bytes, which json cannot encode as UTF-8.
    return [[_printable(k), _printable(v)] for k, v in headers]


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def interaction_json(interaction: Interaction) -> dict[str, Any]:
    req, resp = interaction.request, interaction.response
    out: dict[str, Any] = {
        "seq": interaction.seq,
        "request": {
            "method": req.method,
            "url": req.url,
            "scheme": req.scheme,
            "host": req.host,
            "port": req.port,
            "path": req.path,
            "query": req.query,
            "http_version": req.http_version,
            "headers": _headers_json(req.headers),
            **body_json(req.body),
        },
        "response": None
        if resp is None
        else {
            "status": resp.status,
            "reason": resp.reason,
            "http_version": resp.http_version,
            "headers": _headers_json(resp.headers),
            **body_json(resp.body),
        },
        "timing": {
            "started_at": interaction.timing.started_at,
            "first_byte": interaction.timing.first_byte,
            "ended": interaction.timing.ended,
        },
        "error": None
        if interaction.error is None
        else {"kind": interaction.error.kind, "message": interaction.error.message},
    }
    if interaction.meta:
        out["meta"] = json.loads(json.dumps(interaction.meta, default=_jsonable))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def _duration(interaction: Interaction) -> str:
    ended = interaction.timing.ended
    return "" if ended is None else f"{ended * 1000:.0f} ms"


def _status_text(interaction: Interaction) -> Text:
    if interaction.response is None:
        kind = interaction.error.kind if interaction.error else "none"
        return Text(f"ERR {kind}", style="bold red")
    status = interaction.response.status
    style = "green" if status < 300 else "yellow" if status < 400 else "red"
    return Text(str(status), style=style)


def interaction_table(interactions: Iterable[Interaction], title: str | None = None) -> Table:
    table = Table(title=title, box=None, pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("method")
    table.add_column("url", overflow="fold")
    table.add_column("status", justify="right")
    table.add_column("type")
    table.add_column("size", justify="right")
    table.add_column("time", justify="right")
    for interaction in interactions:
        resp = interaction.response
        table.add_row(
            str(interaction.seq),
            interaction.request.method,
            _printable(interaction.request.url),
            _status_text(interaction),
            media_type(resp.headers) if resp else "",
            human_size(len(resp.body)) if resp else "",
            _duration(interaction),
        )
    return table


def _pretty_body(body: bytes, content_type: str) -> str | None:
    """A body as readable text: JSON indented in its own key order, text as is, else None."""
    if not body:
        return ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "json" in content_type:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


def body_summary(body: bytes, content_type: str) -> str:
    """A body for people: pretty JSON, text, or a line saying how much binary data."""
    pretty = _pretty_body(body, content_type)
    if pretty is not None:
        return pretty
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"<{len(body)} bytes of binary data, sha256 {digest}…>"


def interaction_detail(interaction: Interaction) -> RenderableType:
    """The `show -v` view of one interaction: headers and pretty bodies."""
    parts: list[RenderableType] = []
    req, resp = interaction.request, interaction.response
    parts.append(Text(f"#{interaction.seq} {req.method} {_printable(req.url)} {req.http_version}",
                      style="bold"))
    parts.extend(Text(f"  {_printable(k)}: {_printable(v)}", style="cyan") for k, v in req.headers)
    parts.extend(_body_renderable(req.body, media_type(req.headers)))
    if resp is None:
        error = interaction.error
        parts.append(Text(f"  ✗ {error.kind}: {error.message}" if error else "  no response",
                          style="bold red"))
    else:
        parts.append(Text(f"← {resp.status} {resp.reason} {resp.http_version}", style="bold"))
        parts.extend(
            Text(f"  {_printable(k)}: {_printable(v)}", style="magenta") for k, v in resp.headers
        )
        parts.extend(_body_renderable(resp.body, media_type(resp.headers)))
    parts.append(Text(""))
    return Group(*parts)


def _body_renderable(body: bytes, content_type: str) -> list[RenderableType]:
    if not body:
        return []
    text = body_summary(body, content_type)
    if "json" in content_type and not text.startswith("<"):
        return [Syntax(text, "json", theme="ansi_dark", background_color="default")]
    return [Text(text)]


def textconv(header: dict[str, Any], interactions: Iterable[Interaction]) -> Iterator[str]:
    """A stable plain-text rendering for `git diff` (no timings: they change every capture)."""
    yield f"# recorder cassette, format {header.get('format')}"
    for interaction in interactions:
        req, resp = interaction.request, interaction.response
        yield ""
        yield f"=== #{interaction.seq} {req.method} {_printable(req.url)}"
        yield from (f"> {_printable(k)}: {_printable(v)}" for k, v in req.headers)
        if req.body:
            yield from body_summary(req.body, media_type(req.headers)).splitlines()
        if resp is None:
            error = interaction.error
            yield f"< ERROR {error.kind}: {error.message}" if error else "< no response"
            continue
        yield f"< {resp.status} {resp.reason}"
        yield from (f"< {_printable(k)}: {_printable(v)}" for k, v in resp.headers)
        if resp.body:
            yield from body_summary(resp.body, media_type(resp.headers)).splitlines()
