"""Hypothesis strategies for the model: binary bodies, duplicate and odd headers."""

from __future__ import annotations

from hypothesis import strategies as st

from recorder.model import Interaction, InteractionError, Request, Response, Timing

token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
                min_size=1, max_size=20)
# Header values as mitmproxy hands them over: any bytes, surrogate-escaped when not UTF-8.
header_value = st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape"))
headers = st.lists(
    st.tuples(st.sampled_from(["Accept", "Set-Cookie", "X-Dup", "x-dup", "Content-Type"]) | token,
              header_value),
    max_size=8,
).map(tuple)
bodies = st.binary(max_size=300) | st.text(max_size=200).map(str.encode)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e10)

requests = st.builds(
    Request,
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    scheme=st.sampled_from(["http", "https"]),
    host=st.sampled_from(["api.example.com", "127.0.0.1", "::1"]),
    port=st.integers(1, 65535),
    path=st.text(max_size=40).map(lambda p: "/" + p),
    query=st.text(max_size=30),
    http_version=st.sampled_from(["HTTP/1.1", "HTTP/2.0"]),
    headers=headers,
    body=bodies,
)
responses = st.builds(
    Response,
    status=st.integers(100, 599),
    reason=st.text(max_size=20),
    http_version=st.sampled_from(["HTTP/1.1", "HTTP/2.0"]),
    headers=headers,
    body=bodies,
)
interactions = st.builds(
    Interaction,
    request=requests,
    response=st.none() | responses,
    seq=st.integers(0, 2**31),
    timing=st.builds(Timing, finite, st.none() | finite, st.none() | finite),
    error=st.none() | st.builds(InteractionError, st.sampled_from(["reset", "timeout"]),
                                st.text(max_size=30)),
    meta=st.dictionaries(token, st.integers(-(2**63), 2**63 - 1) | token, max_size=3),
)


# -- JSON values and the shapes they have -------------------------------------------------

from recorder.shape import Arr, Obj, Shape, string_kind  # noqa: E402

SCALAR_SHAPES = ["string", "integer", "number", "boolean", "null", "string:numeric",
                 "string:date-time", "string:date", "string:uuid"]
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


def _obj(fields: dict[str, Shape]) -> Shape:
    return Obj(tuple(sorted(fields.items())), frozenset(fields))


# Shapes that a single value can have: every key present, arrays of one element shape.
shapes: st.SearchStrategy[Shape] = st.recursive(
    st.sampled_from(SCALAR_SHAPES),
    lambda inner: st.dictionaries(keys, inner, max_size=5).map(_obj) | inner.map(Arr),
    max_leaves=15,
)


def values_of(shape: Shape) -> st.SearchStrategy[object]:
    """JSON values whose shape is exactly `shape`."""
    if isinstance(shape, Obj):
        return st.fixed_dictionaries({k: values_of(v) for k, v in shape.fields})
    if isinstance(shape, Arr):
        return st.lists(values_of(shape.items), min_size=1, max_size=3)
    return {
        "string": st.text(max_size=12).filter(lambda s: string_kind(s) == "string"),
        "integer": st.integers(-(10**12), 10**12),
        "number": st.floats(allow_nan=False, allow_infinity=False, width=32),
        "boolean": st.booleans(),
        "null": st.none(),
        "string:numeric": st.decimals(allow_nan=False, allow_infinity=False, places=2,
                                      min_value=-10**6, max_value=10**6).map(str),
        "string:date-time": st.datetimes().map(lambda d: d.isoformat(timespec="seconds") + "Z"),
        "string:date": st.dates().map(lambda d: d.isoformat()),
        "string:uuid": st.uuids().map(str),
    }[str(shape)]


object_shapes = st.dictionaries(keys, shapes, min_size=1, max_size=6).map(_obj)
json_objects = object_shapes.flatmap(values_of)
