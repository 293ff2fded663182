from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.observe import Router
from recorder.shape import (
    NEVER,
    Arr,
    Obj,
    Shape,
    Union_,
    body_shape,
    describe,
    from_jsonable,
    key_orders,
    merge,
    shape_id,
    string_kind,
    template_path,
    to_jsonable,
    value_shape,
)
from tests.strategies import shapes, values_of


@given(shape=shapes, data=st.data())
def test_a_value_generated_from_a_shape_has_that_shape(shape: Shape, data: st.DataObject
                                                       ) -> None:
    value = data.draw(values_of(shape))
    assert value_shape(json.loads(json.dumps(value))) == shape


@given(shape=shapes)
def test_shapes_survive_their_jsonable_form_and_ids_are_stable(shape: Shape) -> None:
    assert from_jsonable(json.loads(json.dumps(to_jsonable(shape)))) == shape
    assert shape_id(shape) == shape_id(from_jsonable(to_jsonable(shape)))


@given(a=shapes, b=shapes)
def test_merge_is_commutative_and_idempotent(a: Shape, b: Shape) -> None:
    assert merge(a, b) == merge(b, a)
    assert merge(merge(a, b), b) == merge(a, b)
    assert merge(a, a) == a


@pytest.mark.parametrize(
    ("text", "kind"),
    [("9.20", "string:numeric"), ("-3", "string:numeric"), ("1e5", "string:numeric"),
     ("2026-11-24T09:00:00Z", "string:date-time"), ("2026-11-24 09:00:00.123+01:00",
                                                    "string:date-time"),
     ("2026-11-24", "string:date"), ("0b8f3ae3-6b7e-4c3e-9a64-8d4a1a4f6f3b", "string:uuid"),
     ("hello", "string"), ("", "string"), ("9.20 EUR", "string")],
)
def test_strings_that_hold_numbers_dates_and_ids_are_told_apart(text: str, kind: str) -> None:
    assert string_kind(text) == kind


def test_integers_numbers_and_booleans_are_distinct() -> None:
    assert [value_shape(v) for v in (1, 1.0, True, None)] == [
        "integer", "number", "boolean", "null"]


def test_array_elements_merge_and_keys_seen_in_some_are_optional() -> None:
    shape = value_shape([{"id": 1, "note": "a"}, {"id": 2}])
    assert isinstance(shape, Arr) and isinstance(shape.items, Obj)
    assert shape.items.required == frozenset({"id"})
    assert value_shape([]) == Arr(NEVER)
    mixed = value_shape([1, "9.20"])
    assert isinstance(mixed, Arr) and mixed.items == Union_(frozenset({"integer",
                                                                        "string:numeric"}))
    assert describe(mixed.items) == "integer | string(numeric)"


def test_key_order_is_kept_apart_from_the_shape() -> None:
    a, b = {"id": 1, "amount": 2}, {"amount": 2, "id": 1}
    assert value_shape(a) == value_shape(b)
    assert list(key_orders(a)) != list(key_orders(b))
    assert list(key_orders({"items": [{"b": 1, "a": 2}, {"b": 3, "a": 4}]})) == [
        ("$", ("items",)), ("$.items[]", ("b", "a"))]


@pytest.mark.parametrize(
    ("body", "media", "shape"),
    [(b"", "application/json", "empty"), (b"a=1&b=2&a=3", "application/x-www-form-urlencoded",
                                          "form:a,b"),
     (b"<r><item/><name>x</name></r>", "application/xml", "xml:item,name,r"),
     (b"hello", "text/plain", "text"), (b"\x89PNG\x00\xff", "image/png", "binary"),
     (b"{not json", "application/json", "text"), (b'{"a": 1}', "", Obj((("a", "integer"),),
                                                                        frozenset({"a"})))],
)
def test_non_json_bodies_get_a_coarse_shape(body: bytes, media: str, shape: Shape) -> None:
    assert body_shape(body, media) == shape


@pytest.mark.parametrize(
    ("path", "route"),
    [("/v1/transactions/123", "/v1/transactions/{id}"),
     ("/v1/tx/0b8f3ae3-6b7e-4c3e-9a64-8d4a1a4f6f3b/events", "/v1/tx/{id}/events"),
     ("/v1/payments/pay_000003", "/v1/payments/{id}"),
     ("/v1/customers/cus_9aB3xQ", "/v1/customers/{id}"),
     ("/reports/2026-11-24", "/reports/{date}"), ("/commits/4f2a9c1e7b", "/commits/{id}"),
     ("/v1/rates", "/v1/rates"), ("/", "/"), ("/invoices/INV-2041", "/invoices/{id}"),
     ("/v1/settings/deadbeef", "/v1/settings/deadbeef")],
)
def test_id_segments_become_templates(path: str, route: str) -> None:
    assert template_path(path) == route


def test_routes_are_learned_from_many_distinct_values_and_user_templates_win() -> None:
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    router = Router.learn([f"/v1/users/{n}" for n in names] + ["/v1/rates", "/v1/rates"])
    assert router.route("/v1/users/zoe") == "/v1/users/{id}"
    assert router.route("/v1/rates") == "/v1/rates"
    few = Router.learn(["/v1/users/alice", "/v1/users/bob"])
    assert few.route("/v1/users/alice") == "/v1/users/alice"
    assert Router(["/v1/users/{name}"]).route("/v1/users/alice") == "/v1/users/{name}"
