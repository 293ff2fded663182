"""Self-contained HTML pages people look at: a diff (endpoints, shapes, what drifted,
highlighted) and a cassette. No scripts, no external assets; every value is escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from recorder.diff import Change, Profile, summarize
from recorder.model import Interaction, media_type
from recorder.shape import NEVER, Arr, Obj, Shape, Union_, describe
from recorder.views import body_summary

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{padding:.3rem .5rem;
text-align:left;border-bottom:1px solid #eee;vertical-align:top}code,pre{font:12px/1.4
ui-monospace,monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;margin-right:.4rem;
font-weight:600}.breaking{background:#ffe0e0;color:#a40000}.additive{background:#fff3c4;
color:#7a5a00}.cosmetic{background:#eef;color:#334}.drifted{background:#ffe0e0}
ul.shape{list-style:none;padding-left:1.2rem;margin:0}ul.shape li{font:12px ui-monospace,
monospace}.type{color:#555}.ok{color:#1a7f37}.err{color:#a40000;font-weight:600}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
            f"{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>")


def _shape_tree(shape: Shape, path: str, drifted: set[str]) -> str:
    """A shape as nested lists; fields a change points at are highlighted."""
    if isinstance(shape, Union_):
        return escape(describe(shape))
    if isinstance(shape, Arr):
        inner = "" if shape.items == NEVER else _shape_tree(shape.items, f"{path}[]", drifted)
        return f"<span class='type'>array of</span> {inner}"
    if not isinstance(shape, Obj):
        return f"<span class='type'>{escape(describe(shape))}</span>"
    rows = []
    for key, child in shape.fields:
        child_path = f"{path}.{key}"
        mark = " class='drifted'" if child_path in drifted else ""
        optional = "" if key in shape.required else "?"
        rows.append(f"<li{mark}>{escape(key)}{optional}: "
                    f"{_shape_tree(child, child_path, drifted)}</li>")
    return "<span class='type'>object</span><ul class='shape'>" + "".join(rows) + "</ul>"


def diff_page(changes: list[Change], old_label: str, new_label: str, new_profile: Profile
              ) -> str:
    counts = summarize(changes)
    badges = "".join(f"<span class='badge {severity}'>{count} {severity}</span>"
                     for severity, count in counts.items())
    parts = [f"<h1>recorder diff: {escape(old_label)} → {escape(new_label)}</h1>",
             f"<p>{badges}</p>" if changes else "<p class='ok'>No shape changes.</p>"]
    by_endpoint: dict[str, list[Change]] = {}
    for change in changes:
        by_endpoint.setdefault(change.endpoint, []).append(change)
    for endpoint in sorted(set(by_endpoint) | set(new_profile)):
        found = by_endpoint.get(endpoint, [])
        parts.append(f"<h2><code>{escape(endpoint)}</code></h2>")
        if found:
            rows = "".join(
                f"<tr class='{c.severity}'><td><span class='badge {c.severity}'>{c.severity}"
                f"</span></td><td>{escape(c.status or '')}</td><td>{escape(c.message)}</td>"
                f"<td><code>{escape(c.exemplar or '')}</code></td></tr>" for c in found)
            parts.append("<table><tr><th>severity</th><th>status</th><th>change</th>"
                         f"<th>exemplar</th></tr>{rows}</table>")
        drifted = {c.path for c in found if c.path}
        for (status, media), variant in sorted(new_profile.get(endpoint, {}).items()):
            parts.append(f"<p><b>{escape(status)}</b> <code>{escape(media)}</code> — "
                         f"{variant.count} response(s), {len(variant.shapes)} shape(s)</p>"
                         f"{_shape_tree(variant.shape, '$', drifted)}")
    return _page(f"recorder diff {old_label} → {new_label}", "".join(parts))


def cassette_page(title: str, header: dict[str, Any], interactions: Iterable[Interaction]
                  ) -> str:
    parts = [f"<h1>{escape(title)}</h1><p>format {escape(str(header.get('format')))}, "
             f"created {escape(str(header.get('created_at', '')))}</p>"]
    for item in interactions:
        req, resp = item.request, item.response
        status = (f"<span class='err'>ERROR {escape(item.error.kind)}</span>" if resp is None
                  and item.error else escape(str(resp.status)) if resp else "")
        headers = "\n".join(f"> {k}: {v}" for k, v in req.headers)
        answer = "" if resp is None else "\n".join(f"< {k}: {v}" for k, v in resp.headers)
        parts.append(
            f"<details><summary><code>#{item.seq} {escape(req.method)} {escape(req.url)}"
            f"</code> → {status}</summary><pre>{escape(headers)}\n\n"
            f"{escape(body_summary(req.body, media_type(req.headers)))}</pre>"
            + ("" if resp is None else f"<pre>{escape(answer)}\n\n"
               f"{escape(body_summary(resp.body, media_type(resp.headers)))}</pre>")
            + "</details>")
    return _page(title, "".join(parts))
