"""diff: typed shape drift per endpoint between two sets of interactions.

Each side is reduced to a profile (streaming, memory ∝ shapes): per endpoint and per
(status, media type), the merged shape of every response, the shape ids and key orders
seen, and one exemplar for each. Comparing profiles gives typed changes, each with a JSON
path, a severity and an exemplar interaction to look at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from recorder.model import Interaction
from recorder.observe import Router, observe
from recorder.shape import NEVER, Arr, Obj, Shape, Union_, describe, merge

BREAKING, ADDITIVE, COSMETIC = "breaking", "additive", "cosmetic"
SEVERITIES = (BREAKING, ADDITIVE, COSMETIC)

# --fail-on LEVEL → the severities that make `recorder diff` exit 1.
FAIL_ON = {
    "breaking": {BREAKING},
    "additive": {BREAKING, ADDITIVE},  # the default: any new shape or a breaking change
    "any": {BREAKING, ADDITIVE, COSMETIC},
    "never": set(),
}


@dataclass
class Variant:
    """Everything seen for one endpoint, status and media type."""

    shape: Shape = NEVER
    count: int = 0
    shapes: dict[str, str] = field(default_factory=dict)  # shape id → exemplar
    orders: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)  # path → …
    exemplar: str = ""


Profile = dict[str, dict[tuple[str, str], Variant]]  # endpoint → (status, media) → Variant


def profile(interactions: Iterable[Interaction], router: Router, label: str) -> Profile:
    result: Profile = {}
    for item in interactions:
        seen = observe(item, router)
        variants = result.setdefault(seen.endpoint, {})
        variant = variants.setdefault((seen.status, seen.media_type), Variant())
        ref = f"{label}#{item.seq}"
        variant.count += int(item.meta.get("count", 1))
        variant.exemplar = variant.exemplar or ref
        if seen.shape_id not in variant.shapes:
            variant.shapes[seen.shape_id] = ref
            variant.shape = merge(variant.shape, seen.shape)
        for path, keys in seen.orders:
            variant.orders.setdefault(path, {}).setdefault(keys, ref)
    return result


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """One profile covering several cassettes (for a schema of everything ever recorded)."""
    result: Profile = {}
    for each in profiles:
        for endpoint, variants in each.items():
            target = result.setdefault(endpoint, {})
            for key, variant in variants.items():
                into = target.setdefault(key, Variant())
                into.shape = merge(into.shape, variant.shape)
                into.count += variant.count
                into.exemplar = into.exemplar or variant.exemplar
                for sid, ref in variant.shapes.items():
                    into.shapes.setdefault(sid, ref)
                for path, orders in variant.orders.items():
                    for keys, ref in orders.items():
                        into.orders.setdefault(path, {}).setdefault(keys, ref)
    return result


@dataclass(frozen=True)
class Change:
    endpoint: str
    kind: str
    severity: str
    message: str
    status: str | None = None
    path: str | None = None
    old: str | None = None
    new: str | None = None
    exemplar: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def compare(old: Profile, new: Profile) -> list[Change]:
    changes: list[Change] = []
    for endpoint in sorted(old.keys() | new.keys()):
        if endpoint not in old:
            first = next(iter(new[endpoint].values()))
            changes.append(Change(endpoint, "endpoint_added", ADDITIVE, "new endpoint",
                                  exemplar=first.exemplar))
            continue
        if endpoint not in new:
            first = next(iter(old[endpoint].values()))
            changes.append(Change(endpoint, "endpoint_removed", BREAKING,
                                  "endpoint no longer seen", exemplar=first.exemplar))
            continue
        changes.extend(_compare_endpoint(endpoint, old[endpoint], new[endpoint]))
    return changes


def _compare_endpoint(endpoint: str, old: dict[tuple[str, str], Variant],
                      new: dict[tuple[str, str], Variant]) -> list[Change]:
    changes: list[Change] = []
    old_statuses = {status for status, _ in old}
    for key in sorted(new.keys() - old.keys()):
        status, media = key
        if status in old_statuses:
            was = sorted(m for s, m in old if s == status)
            changes.append(Change(endpoint, "content_type_changed", BREAKING,
                                  f"{status} now answers {media or 'no content type'}",
                                  status=status, old=", ".join(was), new=media,
                                  exemplar=new[key].exemplar))
        else:
            changes.append(Change(endpoint, "status_added", ADDITIVE, f"new status {status}",
                                  status=status, new=status, exemplar=new[key].exemplar))
    new_statuses = {status for status, _ in new}
    for key in sorted(old.keys() - new.keys()):
        if key[0] not in new_statuses:
            changes.append(Change(endpoint, "status_removed", COSMETIC,
                                  f"status {key[0]} no longer seen", status=key[0], old=key[0],
                                  exemplar=old[key].exemplar))
    for key in sorted(old.keys() & new.keys()):
        before, after = old[key], new[key]
        exemplar = next((ref for sid, ref in after.shapes.items() if sid not in before.shapes),
                        after.exemplar)
        found: list[Change] = []
        _compare_shapes(endpoint, key[0], "$", before.shape, after.shape, exemplar,
                        before.exemplar, found)
        new_shapes = [ref for sid, ref in after.shapes.items() if sid not in before.shapes]
        if new_shapes and not found:
            found.append(Change(endpoint, "shape_added", ADDITIVE,
                                f"{len(new_shapes)} new response shape(s)", status=key[0],
                                exemplar=new_shapes[0]))
        found.sort(key=lambda change: (change.path or "", change.kind))
        found.extend(_compare_orders(endpoint, key[0], before, after))
        changes.extend(found)
    return changes


def _kind(shape: Shape) -> str:
    if isinstance(shape, Obj):
        return "object"
    if isinstance(shape, Arr):
        return "array"
    return shape if isinstance(shape, str) else "union"


def _kinds(shape: Shape) -> dict[str, Shape]:
    """The alternatives of a shape by kind name: scalars by name, `object`, `array`."""
    options = shape.options if isinstance(shape, Union_) else (shape,)
    return {_kind(o): o for o in options if o != NEVER}


def _compare_shapes(endpoint: str, status: str, path: str, old: Shape, new: Shape,
                    exemplar: str, old_exemplar: str, out: list[Change]) -> None:
    if old in (new, NEVER) or new == NEVER:
        return
    before, after = _kinds(old), _kinds(new)

    def add(kind: str, severity: str, message: str, at: str = path, was: str | None = None,
            now: str | None = None, ref: str = exemplar) -> None:
        out.append(Change(endpoint, kind, severity, message, status=status, path=at, old=was,
                          new=now, exemplar=ref))

    added, removed = after.keys() - before.keys(), before.keys() - after.keys()
    if added == {"null"} and not removed:
        add("field_nullable", BREAKING, f"{path} is now sometimes null", was=describe(old),
            now=describe(new))
    elif removed == {"null"} and not added:
        add("type_narrowed", COSMETIC, f"{path} is no longer null", was=describe(old),
            now=describe(new))
    elif added and removed:
        add("type_changed", BREAKING, f"{path} {describe(old)} → {describe(new)}",
            was=describe(old), now=describe(new))
    elif added:
        add("type_widened", BREAKING, f"{path} {describe(old)} → {describe(new)}",
            was=describe(old), now=describe(new))
    elif removed:
        add("type_narrowed", COSMETIC, f"{path} {describe(old)} → {describe(new)}",
            was=describe(old), now=describe(new))
    # The same kind on both sides may still differ inside: objects key-wise, arrays by element.
    old_obj, new_obj = before.get("object"), after.get("object")
    if isinstance(old_obj, Obj) and isinstance(new_obj, Obj):
        old_keys, new_keys = dict(old_obj.fields), dict(new_obj.fields)
        for key in sorted(old_keys.keys() - new_keys.keys()):
            add("field_removed", BREAKING, f"{path}.{key} removed", at=f"{path}.{key}",
                was=describe(old_keys[key]), ref=old_exemplar)
        for key in sorted(new_keys.keys() - old_keys.keys()):
            add("field_added", ADDITIVE, f"{path}.{key} added ({describe(new_keys[key])})",
                at=f"{path}.{key}", now=describe(new_keys[key]))
        for key in sorted(old_keys.keys() & new_keys.keys()):
            if key in old_obj.required and key not in new_obj.required:
                add("field_optional", BREAKING, f"{path}.{key} is no longer always present",
                    at=f"{path}.{key}")
            _compare_shapes(endpoint, status, f"{path}.{key}", old_keys[key], new_keys[key],
                            exemplar, old_exemplar, out)
    old_arr, new_arr = before.get("array"), after.get("array")
    if isinstance(old_arr, Arr) and isinstance(new_arr, Arr):
        _compare_shapes(endpoint, status, f"{path}[]", old_arr.items, new_arr.items, exemplar,
                        old_exemplar, out)


def _reordered(keys: tuple[str, ...], known: Iterable[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The known order `keys` contradicts, if every known order with ≥ 2 keys in common puts
    the common keys in another order (added or removed keys alone are typed changes)."""
    contradicted = None
    for previous in known:
        ours = [k for k in keys if k in previous]
        theirs = [k for k in previous if k in keys]
        if len(ours) < 2:
            continue  # too little in common to say anything about order
        if ours == theirs:
            return None
        contradicted = contradicted or previous
    return contradicted


def _compare_orders(endpoint: str, status: str, old: Variant, new: Variant) -> list[Change]:
    changes = []
    for path in sorted(old.orders.keys() & new.orders.keys()):
        known = old.orders[path]
        for keys, ref in new.orders[path].items():
            was = None if keys in known else _reordered(keys, known)
            if was is not None:
                changes.append(Change(
                    endpoint, "order_changed", COSMETIC, f"key order changed at {path}",
                    status=status, path=path, old=", ".join(was), new=", ".join(keys),
                    exemplar=ref))
                break  # one report per object path is enough
    return changes


def summarize(changes: list[Change]) -> dict[str, int]:
    return {severity: sum(c.severity == severity for c in changes) for severity in SEVERITIES}


def fails(changes: list[Change], fail_on: str) -> bool:
    return any(change.severity in FAIL_ON[fail_on] for change in changes)


def markdown(changes: list[Change], old_label: str, new_label: str) -> str:
    counts = summarize(changes)
    lines = [f"### recorder diff: `{old_label}` → `{new_label}`", ""]
    if not changes:
        return "\n".join([*lines, "No shape changes."])
    lines.append(", ".join(f"**{n}** {s}" for s, n in counts.items()))
    endpoint = None
    for change in changes:
        if change.endpoint != endpoint:
            endpoint = change.endpoint
            lines += ["", f"#### `{endpoint}`", "", "| severity | change | exemplar |",
                      "|---|---|---|"]
        status = f"{change.status} " if change.status else ""
        lines.append(f"| {change.severity} | {status}{change.message} | "
                     f"`{change.exemplar or ''}` |")
    return "\n".join(lines)
