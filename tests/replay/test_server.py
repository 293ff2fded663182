"""The direct replay server on a real port, with real clients."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
import requests

from recorder.model import Interaction, InteractionError
from recorder.replay.app import ReplayApp, ReplaySettings
from recorder.replay.background import BackgroundReplay
from recorder.replay.index import MatchConfig, ReplayIndex
from tests import factories

RATES = {"base": "EUR", "rates": {"USD": 1.0842}}


def cassette() -> list[Interaction]:
    def convert(amount: int, answer: float, seq: int) -> Interaction:
        return factories.interaction(
            factories.request("POST", "/v1/convert", body=json.dumps(
                {"amount": amount, "to": "USD"}).encode(),
                headers=(("Content-Type", "application/json"),)),
            factories.response(body={"amount": answer, "seq": seq}), seq=seq)

    return [
        factories.interaction(factories.request(path="/v1/rates", query="base=EUR"),
                              factories.response(body=RATES), seq=0),
        convert(100, 108.42, 1),
        convert(100, 108.43, 2),  # the same request recorded twice: served in order
        convert(250, 271.05, 3),
        factories.interaction(
            factories.request(path="/v1/zipped"),
            factories.response(body={"zipped": True}), seq=4, response_content_encoding="gzip"),
        factories.interaction(factories.request(path="/v1/broken"), None, seq=5,
                              error=InteractionError("reset", "server closed connection")),
    ]


@pytest.fixture
def server() -> Iterator[BackgroundReplay]:
    app = ReplayApp(ReplayIndex(cassette(), MatchConfig()), ReplaySettings())
    with BackgroundReplay(app) as running:
        yield running


def test_httpx_sync_and_ordered_repeats(server: BackgroundReplay) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/rates", params={"base": "EUR"}).json() == RATES
        answers = [client.post("/v1/convert", json={"to": "USD", "amount": 100}).json()["seq"]
                   for _ in range(3)]
    assert answers == [1, 2, 2]


def test_httpx_async_and_aiohttp(server: BackgroundReplay) -> None:
    async def main() -> tuple[dict[str, object], dict[str, object]]:
        async with httpx.AsyncClient(base_url=server.url) as client:
            first = (await client.get("/v1/rates?base=EUR")).json()
        async with aiohttp.ClientSession() as session, session.post(
            f"{server.url}/v1/convert", json={"amount": 250, "to": "USD"}
        ) as response:
            second = await response.json()
        return first, second

    first, second = asyncio.run(main())
    assert first == RATES and second["amount"] == 271.05


def test_requests_urllib_and_curl(server: BackgroundReplay) -> None:
    assert requests.get(f"{server.url}/v1/rates?base=EUR", timeout=10).json() == RATES
    with urllib.request.urlopen(f"{server.url}/v1/rates?base=EUR", timeout=10) as response:
        assert json.loads(response.read()) == RATES
    curl = subprocess.run(["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json",
                           "-d", '{"to":"USD","amount":250}', f"{server.url}/v1/convert"],
                          capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(curl.stdout)["amount"] == 271.05


def test_a_miss_is_a_599_with_a_near_miss_report(server: BackgroundReplay) -> None:
    response = requests.post(f"{server.url}/v1/convert", json={"to": "USD", "amount": 101},
                             timeout=10)
    assert response.status_code == 599
    report = response.json()
    assert report["request"] == "POST /v1/convert"
    assert report["closest"][0]["matched"] == ["method", "path", "query"]
    assert "recorded {\"amount\":100" in report["closest"][0]["differs"]["body"]
    live = requests.get(f"{server.url}/__recorder/report", timeout=10).json()
    assert (live["requests"], live["missed"]) == (1, 1)
    assert live["misses"][0]["request"] == "POST /v1/convert"


def test_content_encoding_follows_what_the_client_accepts(server: BackgroundReplay) -> None:
    zipped = requests.get(f"{server.url}/v1/zipped", timeout=10)  # sends gzip, deflate
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.json() == {"zipped": True}
    plain = requests.get(f"{server.url}/v1/zipped", headers={"Accept-Encoding": "identity"},
                         timeout=10)
    assert "Content-Encoding" not in plain.headers and plain.json() == {"zipped": True}


def test_a_recorded_reset_is_replayed_as_a_reset(server: BackgroundReplay) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/v1/broken", timeout=10)
    assert requests.get(f"{server.url}/v1/rates?base=EUR", timeout=10).status_code == 200


def raw(server: BackgroundReplay, data: bytes, expect_responses: int) -> bytes:
    host, port = server.address
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while received.count(b"HTTP/1.1 ") < expect_responses or not received.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def test_pipelined_requests_are_answered_in_order(server: BackgroundReplay) -> None:
    body = b'{"amount": 250, "to": "USD"}'
    data = (b"GET /v1/rates?base=EUR HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /v1/convert HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body +
            b"GET /v1/rates?base=EUR HTTP/1.1\r\nHost: x\r\n\r\n")
    received = raw(server, data, 3)
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert received.index(b'"USD": 1.0842') < received.index(b"271.05") < received.rindex(
        b'"USD": 1.0842')


def test_a_chunked_request_body_is_reassembled(server: BackgroundReplay) -> None:
    body = b'{"amount": 250, "to": "USD"}'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
    data = (b"POST /v1/convert HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n")
    assert b"271.05" in raw(server, data, 1)


GARBAGE = [
    b"\x00\x01\x02 nonsense\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",  # a 70 KB header
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk size
]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_bad_requests_get_a_4xx_and_others_keep_being_served(server: BackgroundReplay,
                                                             garbage: bytes) -> None:
    host, port = server.address
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(garbage)
        answer = sock.recv(65536)
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    assert requests.get(f"{server.url}/v1/rates?base=EUR", timeout=10).status_code == 200


def test_concurrent_clients_are_all_served(server: BackgroundReplay) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            for _ in range(50):
                status = session.get(f"{server.url}/v1/rates?base=EUR", timeout=10).status_code
                with lock:
                    results.append(status)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [200] * 400
    assert server.app.report()["matched"] == 400


def test_fixed_latency_delays_the_answer() -> None:
    app = ReplayApp(ReplayIndex(cassette(), MatchConfig()), ReplaySettings(latency=0.2))
    with BackgroundReplay(app) as running:
        started = time.monotonic()
        assert requests.get(f"{running.url}/v1/rates?base=EUR", timeout=10).status_code == 200
        assert time.monotonic() - started >= 0.19  # a lower bound: the delay happened


def test_idle_timeouts_close_stalled_clients_but_not_busy_or_waiting_ones() -> None:
    app = ReplayApp(ReplayIndex(cassette(), MatchConfig()), ReplaySettings(latency=0.6))
    request = b"GET /v1/rates?base=EUR HTTP/1.1\r\nHost: x\r\n\r\n"
    with BackgroundReplay(app, idle_timeout=0.3) as running:
        with socket.create_connection(running.address, timeout=10) as stalled:
            stalled.sendall(b"GET /v1/rates HTTP/1.1\r\nHost: x\r\n")  # never finished
            assert stalled.recv(100) == b""  # closed by the server, not by our timeout
        with socket.create_connection(running.address, timeout=10) as busy:
            for _ in range(3):  # each waits 0.6 s for its answer: longer than the timeout
                busy.sendall(request)
                assert busy.recv(65536).startswith(b"HTTP/1.1 200 OK")
        with socket.create_connection(running.address, timeout=10) as chatty:
            chatty.sendall(request)
            assert chatty.recv(65536).startswith(b"HTTP/1.1 200 OK")
            time.sleep(0.2)  # idle, but for less than the timeout: still open
            chatty.sendall(request)
            assert chatty.recv(65536).startswith(b"HTTP/1.1 200 OK")
