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
