"""flow → Interaction, with mitmproxy's own test flows (pure logic, no sockets)."""

from __future__ import annotations

import gzip

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from recorder.capture.convert import classify_error, flow_to_interaction


def test_a_plain_flow_converts_field_by_field() -> None:
    flow = tflow.tflow(resp=True)
    flow.request.path = "/v1/tx/7?expand=fees&x=1"
    flow.request.headers.add("X-Dup", "a")
    flow.request.headers.add("X-Dup", "b")
    item = flow_to_interaction(flow, seq=3)
    assert item.seq == 3
    assert (item.request.method, item.request.path, item.request.query) == (
        "GET", "/v1/tx/7", "expand=fees&x=1")
    assert (item.request.host, item.request.port, item.request.scheme) == (
        flow.request.host, flow.request.port, flow.request.scheme)
    assert item.request.headers[-2:] == (("X-Dup", "a"), ("X-Dup", "b"))
    assert item.response is not None
    assert item.response.status == flow.response.status_code  # type: ignore[union-attr]
    assert item.response.body == flow.response.content  # type: ignore[union-attr]


def test_compressed_bodies_are_stored_decoded_with_the_encoding_noted() -> None:
    flow = tflow.tflow(resp=True)
    assert flow.response is not None
    flow.response.headers["content-encoding"] = "gzip"
    flow.response.raw_content = gzip.compress(b'{"amount": 9.2}')
    item = flow_to_interaction(flow, seq=0)
    assert item.response is not None and item.response.body == b'{"amount": 9.2}'
    assert item.meta["response_content_encoding"] == "gzip"


def test_an_undecodable_body_is_kept_raw_and_marked() -> None:
    flow = tflow.tflow(resp=True)
    assert flow.response is not None
    flow.response.headers["content-encoding"] = "gzip"
    flow.response.raw_content = b"not gzip at all"
    item = flow_to_interaction(flow, seq=0)
    assert item.response is not None and item.response.body == b"not gzip at all"
    assert item.meta["response_body_encoded"] is True


def test_a_streamed_body_replaces_the_empty_one_and_truncation_is_marked() -> None:
    flow = tflow.tflow(resp=True)
    item = flow_to_interaction(flow, seq=0, response_body=b"x" * 10, response_size=99)
    assert item.response is not None and item.response.body == b"x" * 10
    assert item.meta["response_body_truncated"] == 99


def test_an_error_flow_becomes_an_error_interaction() -> None:
    flow = tflow.tflow(err=True)
    item = flow_to_interaction(flow, seq=0)
    assert item.response is None
    assert item.error is not None and item.error.message == flow.error.msg  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("[Errno 111] Connect call failed ('127.0.0.1', 9)", "refused"),
        ("server closed connection", "reset"),
        ("Connection reset by peer", "reset"),
        ("TLS handshake failed: certificate verify failed", "tls"),
        ("Connection timed out", "timeout"),
        ("[Errno -2] Name or service not known", "dns"),
        ("something unusual", "other"),
    ],
)
def test_error_messages_are_classified(message: str, kind: str) -> None:
    assert classify_error(message) == kind


def test_headers_are_not_shared_with_the_live_flow() -> None:
    flow = tflow.tflow(resp=True)
    item = flow_to_interaction(flow, seq=0)
    flow.request.headers["X-Later"] = "1"
    assert ("X-Later", "1") not in item.request.headers
    assert isinstance(flow, http.HTTPFlow)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_every_encoding_decodes(encoding: str) -> None:
    import zlib

    import brotli
    import zstandard

    from recorder.capture.convert import bounded_decode

    body = b'{"amount": 9.2}' * 100
    encoded = {"gzip": gzip.compress(body), "deflate": zlib.compress(body),
               "br": brotli.compress(body), "zstd": zstandard.ZstdCompressor().compress(body)}
    assert bounded_decode(encoded[encoding], encoding) == body


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_decompression_bombs_are_kept_encoded_not_expanded(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import brotli
    import zstandard

    from recorder.capture.convert import bounded_decode

    bomb = b"\0" * (8 * 1024 * 1024)  # 8 MiB of zeros: a few KiB compressed
    packed = {"gzip": gzip.compress(bomb), "br": brotli.compress(bomb),
              "zstd": zstandard.ZstdCompressor().compress(bomb)}[encoding]
    assert len(packed) < 100_000
    assert bounded_decode(packed, encoding, limit=1024 * 1024) is None
    monkeypatch.setattr("recorder.capture.convert.MAX_DECODED", 1024 * 1024)
    flow = tflow.tflow(resp=True)
    assert flow.response is not None
    flow.response.headers["content-encoding"] = encoding
    flow.response.raw_content = packed
    item = flow_to_interaction(flow, seq=0)
    assert item.response is not None and item.response.body == packed  # as it arrived
