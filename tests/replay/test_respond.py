from __future__ import annotations

import gzip

import pytest

from recorder.model import Response
from recorder.replay.respond import accepts, chosen_encoding, prepare, wire_bytes


@pytest.mark.parametrize(("header", "encoding", "expected"), [
    ("gzip, deflate, br", "gzip", True), ("deflate", "gzip", False), ("*", "br", True),
    ("gzip;q=0, deflate", "gzip", False), ("gzip;q=0.5", "gzip", True), ("", "gzip", False)])
def test_accept_encoding(header: str, encoding: str, expected: bool) -> None:
    assert accepts(header, encoding) is expected


def test_framing_is_recomputed_and_encoding_applied_only_when_accepted() -> None:
    recorded = Response(200, "OK", headers=(("Content-Type", "application/json"),
                                            ("Content-Encoding", "gzip"),
                                            ("Transfer-Encoding", "chunked"),
                                            ("Content-Length", "999"), ("Set-Cookie", "a=1"),
                                            ("Set-Cookie", "b=2")), body=b'{"a": 1}')
    plain = prepare(recorded, chosen_encoding("gzip", "identity"))
    assert plain.body == b'{"a": 1}'
    assert dict(plain.headers)["Content-Length"] == "8"
    names = [k.lower() for k, _ in plain.headers]
    assert "transfer-encoding" not in names and "content-encoding" not in names
    assert names.count("set-cookie") == 2
    zipped = prepare(recorded, chosen_encoding("gzip", "gzip"))
    assert gzip.decompress(zipped.body) == b'{"a": 1}'
    assert dict(zipped.headers)["Content-Encoding"] == "gzip"
    assert dict(zipped.headers)["Content-Length"] == str(len(zipped.body))


def test_wire_bytes_and_bodyless_statuses() -> None:
    data = wire_bytes(Response(204, "", body=b"ignored"), None, keep_alive=False)
    assert data.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"Content-Length" not in data and data.endswith(b"Connection: close\r\n\r\n")


def test_a_recorded_answer_is_built_once_and_then_served_from_the_cache() -> None:
    from recorder.replay.app import ReplayApp, ReplaySettings
    from recorder.replay.index import ReplayIndex
    from tests import factories

    app = ReplayApp(ReplayIndex([factories.interaction(factories.request(path="/v1/rates"),
                                                       factories.response(body={"a": 1}))]),
                    ReplaySettings())
    first = app.handle(factories.request(path="/v1/rates")).data
    again = app.handle(factories.request(path="/v1/rates")).data
    assert again is first  # the same bytes object: no per-request serialising
    closing = app.handle(factories.request(path="/v1/rates"), keep_alive=False).data
    assert closing.endswith(first.partition(b"\r\n\r\n")[2]) and b"Connection: close" in closing
