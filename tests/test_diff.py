from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.diff import Change, compare, fails, markdown, profile
from recorder.model import Interaction
from recorder.observe import Router
from tests import factories
from tests.strategies import json_objects


def item(body: Any, path: str = "/v1/tx/1", status: int = 200, seq: int = 0,
         method: str = "GET") -> Interaction:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return factories.interaction(factories.request(method, path), factories.response(
        status, raw, headers=(("Content-Type", "application/json"),)), seq=seq)


def diff(old: list[Interaction], new: list[Interaction]) -> list[Change]:
    router = Router.learn(i.request.path for i in [*old, *new])
    return compare(profile(old, router, "old"), profile(new, router, "new"))


def kinds(changes: list[Change]) -> list[tuple[str, str | None, str]]:
    return [(c.kind, c.path, c.severity) for c in changes]


@given(st.lists(json_objects, min_size=1, max_size=6))
def test_diff_of_a_cassette_with_itself_is_empty(bodies: list[object]) -> None:
    items = [item(b, seq=i) for i, b in enumerate(bodies)]
    assert diff(items, items) == []


def _numeric_paths(value: Any, path: str = "$") -> list[tuple[str, list[Any]]]:
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, int | float) and not isinstance(child, bool):
                found.append((f"{path}.{key}", [key]))
            found += [(p, [key, *keys]) for p, keys in _numeric_paths(child, f"{path}.{key}")]
    return found


@given(body=json_objects.filter(lambda b: bool(_numeric_paths(b))), data=st.data())
def test_one_injected_type_flip_is_found_and_named_with_its_path(body: Any,
                                                                 data: st.DataObject) -> None:
    path, keys = data.draw(st.sampled_from(_numeric_paths(body)))
    flipped = json.loads(json.dumps(body))
    target = flipped
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = f"{target[keys[-1]]:.2f}"  # a number sent as a string, as APIs do
    changes = diff([item(body)], [item(flipped)])
    assert [(c.kind, c.path) for c in changes] == [("type_changed", path)]
    assert changes[0].severity == "breaking"
    assert changes[0].message.endswith("→ string(numeric)")
    assert changes[0].exemplar == "new#0"


def test_the_typed_changes() -> None:
    old = [item({"id": "tx_1", "amount": 9.2, "count": 1, "note": "x", "items": [{"a": 1}]})]
    new = [item({"id": "tx_1", "amount": "9.20", "count": 1.5, "fee": 0.3, "note": None,
                 "items": [{"a": "1"}]})]
    assert kinds(diff(old, new)) == [
        ("type_changed", "$.amount", "breaking"),
        ("type_changed", "$.count", "breaking"),
        ("field_added", "$.fee", "additive"),
        ("type_changed", "$.items[].a", "breaking"),
        ("type_changed", "$.note", "breaking"),
    ]


def test_nullable_removed_optional_and_order() -> None:
    old = [item({"id": 1, "amount": 2.5, "gone": True}), item({"id": 2, "amount": 3.5,
                                                               "gone": False})]
    new = [item({"amount": 2.5, "id": 1}), item({"amount": None})]
    assert kinds(diff(old, new)) == [
        ("field_nullable", "$.amount", "breaking"),
        ("field_removed", "$.gone", "breaking"),
        ("field_optional", "$.id", "breaking"),
        ("order_changed", "$", "cosmetic"),
    ]


def test_endpoints_statuses_and_content_types() -> None:
    old = [item({"a": 1}), item({"a": 1}, path="/v1/old")]
    new = [item({"a": 1}), item({"error": "slow down"}, status=429),
           item({"a": 1}, path="/v1/new", method="POST")]
    assert kinds(diff(old, new)) == [
        ("endpoint_removed", None, "breaking"),
        ("status_added", None, "additive"),
        ("endpoint_added", None, "additive"),
    ]
    html = factories.interaction(factories.request(path="/v1/tx/1"), factories.response(
        200, b"<html>oops</html>", headers=(("Content-Type", "text/html"),)))
    assert kinds(diff([item({"a": 1})], [html])) == [("content_type_changed", None, "breaking")]


def test_a_new_shape_within_known_types_is_still_reported() -> None:
    old = [item({"a": 1}), item({"a": 1, "b": 2})]  # b is optional
    new = [item({"a": 1, "b": 2})]  # only the second shape: merged shapes equal up to b
    changes = diff(old, new)
    assert [c.kind for c in changes] == ["shape_added"] or changes == []


@pytest.mark.parametrize(("fail_on", "expected"), [("breaking", False), ("additive", True),
                                                   ("any", True), ("never", False)])
def test_fail_on_levels(fail_on: str, expected: bool) -> None:
    changes = diff([item({"a": 1})], [item({"a": 1, "b": 2})])  # additive only
    assert fails(changes, fail_on) is expected


def test_markdown_names_each_change() -> None:
    changes = diff([item({"amount": 9.2})], [item({"amount": "9.20"})])
    text = markdown(changes, "fx@1", "fx@2")
    assert "`GET /v1/tx/{id}`" in text and "$.amount number → string(numeric)" in text
    assert markdown([], "a", "b").endswith("No shape changes.")
