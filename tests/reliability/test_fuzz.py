"""Hostile input: importers, the chaos spec and the redaction config get arbitrary input;
only recorder's own errors may escape."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.errors import RecorderError
from recorder.interop.formats import read
from recorder.redact import RedactConfig, Redactor
from recorder.replay.app import ReplayApp, ReplaySettings
from recorder.replay.background import BackgroundReplay
from recorder.replay.chaos import parse_spec
from recorder.replay.index import MatchConfig, ReplayIndex
from recorder.replay.server import replies_to
from tests import factories

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def _import(path: Path, fmt: str | None) -> None:
    try:
        for _ in read(path, fmt):
            pass
    except RecorderError:
        pass


@settings(max_examples=150)
@given(data=st.binary(max_size=300), fmt=st.sampled_from([None, "har", "vcr", "betamax",
                                                          "mitmproxy"]))
def test_importers_survive_arbitrary_bytes(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    path = tmp_path / "fuzz.input"
    path.write_bytes(data)
    _import(path, fmt)


def _shaped(value: Any, top: str) -> Any:
    return {top: value}


@settings(max_examples=200)
@given(value=json_values, top=st.sampled_from(["log", "interactions", "http_interactions"]),
       fmt=st.sampled_from([None, "har", "vcr", "betamax"]), as_yaml=st.booleans())
def test_importers_survive_wrong_structures(tmp_path: Path, value: Any, top: str,
                                            fmt: str | None, as_yaml: bool) -> None:
    path = tmp_path / "fuzz.json"
    document = _shaped(value, top)
    path.write_text(yaml.safe_dump(document) if as_yaml else json.dumps(document))
    _import(path, fmt)


@settings(max_examples=300)
@given(spec=st.text(alphabet="latency=flip-types@0.5,reorder..ms$[]statusthrottle/x 9",
                    max_size=60))
def test_the_chaos_spec_parser_raises_only_usage_errors(spec: str) -> None:
    with contextlib.suppress(RecorderError):
        parse_spec(spec)


@settings(max_examples=200)
@given(config=st.dictionaries(
    st.sampled_from(["headers", "keys", "paths", "patterns", "allow", "emails", "entropy"]),
    st.lists(st.text(max_size=12), max_size=3) | st.booleans(), max_size=5))
def test_redaction_config_is_validated_or_refused(config: dict[str, Any]) -> None:
    try:
        redact_config = RedactConfig.from_mapping(config, "fuzz.toml")
    except (RecorderError, TypeError):
        return  # wrong types are caught by the config file's JSON Schema before this point
    redactor = Redactor(b"k" * 32, redact_config)
    redactor.interaction(factories.interaction(factories.request(query="a=1&token=x")))


@settings(max_examples=200)
@given(body=st.binary(max_size=200), media=st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
    "text/event-stream", "text/plain", "", "application/octet-stream"]))
def test_redaction_survives_arbitrary_bodies(body: bytes, media: str) -> None:
    item = factories.interaction(
        factories.request("POST", body=body, headers=(("Content-Type", media),)),
        factories.response(body=body, headers=(("Content-Type", media),)))
    Redactor(b"k" * 32).interaction(item)


# -- the replay server's HTTP request path -----------------------------------------------

_TOKENS = st.sampled_from([b"GET", b"POST", b"CONNECT", b"HEAD", b"G\x00T", b"", b"PRI"])
_TARGETS = st.sampled_from([b"/v1/rates?base=EUR", b"/__recorder/report", b"*", b"/%zz",
                            b"http://api.example.com/v1/rates", b"//x", b"/" + b"a" * 9000])
_VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9", b"xyz", b""])
_HEADERS = st.lists(st.tuples(
    st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding", b"Accept-Encoding",
                     b"Connection", b"Expect", b"X\x00", b""]),
    st.sampled_from([b"x", b"0", b"5", b"-1", b"99999999999999999999", b"chunked",
                     b"gzip, br", b"close", b"100-continue", b"\xff\xfe", b""])), max_size=6)


@st.composite
def http_ish(draw: st.DrawFn) -> bytes:
    """Requests that are nearly right, which reach deeper than random bytes do."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=400))
    line = b" ".join([draw(_TOKENS), draw(_TARGETS), draw(_VERSIONS)])
    headers = b"".join(name + b": " + value + b"\r\n" for name, value in draw(_HEADERS))
    ending = draw(st.sampled_from([b"\r\n", b"\n", b""]))
    return line + b"\r\n" + headers + ending + draw(st.binary(max_size=60))


def _exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send, say we are done, read the answer until the server closes."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


_CONNECT = b"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n"


@pytest.mark.parametrize("proxy", [False, True], ids=["direct", "proxy"])
def test_the_replay_server_survives_arbitrary_requests_and_keeps_serving(
    proxy: bool, recorder_home: Path
) -> None:
    """Over a real socket: every answer is HTTP or a close, never a hang; the loop catches
    no exception; a well-behaved client on its own keep-alive connection is served
    throughout. In proxy mode, half the inputs follow a CONNECT, where TLS is expected."""
    interaction = factories.interaction(
        factories.request(path="/v1/rates", query="base=EUR", host="api.example.com"),
        factories.response(body={"base": "EUR"}))
    app = ReplayApp(ReplayIndex([interaction], MatchConfig()), ReplaySettings())
    inputs = st.one_of(http_ish(), st.builds(lambda d: _CONNECT + d, http_ish())) if proxy \
        else http_ish()
    with BackgroundReplay(app, proxy=proxy) as server, requests.Session() as client:
        if proxy:
            client.proxies = {"http": server.url}
        url = "http://api.example.com/v1/rates?base=EUR" if proxy else \
            f"{server.url}/v1/rates?base=EUR"

        ran: list[bytes] = []

        @settings(max_examples=100, deadline=None)
        @given(data=inputs)
        def check(data: bytes) -> None:
            ran.append(data)
            answer = _exchange(server.address, data)
            assert answer == b"" or re.match(rb"HTTP/1\.1 [1-5]\d\d ", answer), answer[:80]
            assert client.get(url, timeout=10).status_code == 200

        check()
        assert server.errors == []
        assert len(ran) >= 50 and (not proxy or any(d.startswith(_CONNECT) for d in ran))


@settings(max_examples=400)
@given(chunks=st.lists(http_ish(), min_size=1, max_size=3))
def test_the_request_path_raises_nothing_on_any_bytes(chunks: list[bytes]) -> None:
    """In process, many more inputs: bytes fed to a connection, possibly several requests
    in one stream, never raise; what is written back is HTTP responses only."""
    interaction = factories.interaction(
        factories.request(path="/v1/rates", query="base=EUR"),
        factories.response(body={"base": "EUR"}))
    app = ReplayApp(ReplayIndex([interaction], MatchConfig()), ReplaySettings())
    for data in asyncio.run(replies_to(app, chunks)):
        assert re.match(rb"HTTP/1\.1 (200 Connection Established|[1-5]\d\d )", data), data[:80]
