"""`recorder capture` end to end: a real upstream, real clients, the real proxy."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests

from recorder.cassette.format import CassetteReader, read_interactions
from recorder.cassette.library import Library
from recorder.model import Interaction, header_value
from tests.harness import CaptureProcess, run_cli
from tests.upstream import RATE, Upstream

pytestmark = pytest.mark.slow


def recorder_ca(home: Path) -> Path:
    return home / "ca" / "mitmproxy-ca-cert.pem"


def by_path(items: list[Interaction]) -> dict[str, list[Interaction]]:
    out: dict[str, list[Interaction]] = {}
    for item in items:
        out.setdefault(item.request.path, []).append(item)
    return out


def newest(workdir: Path, name: str = "fx") -> list[Interaction]:
    return read_interactions(Library(workdir / "lib").resolve(name))


@pytest.fixture
def workdir(tmp_path: Path, recorder_home: Path) -> Path:
    return tmp_path


def test_reverse_mode_records_every_client_request_once(
    workdir: Path, upstream: Upstream
) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.https_url,
                              "--upstream-ca", str(upstream.pki.ca_cert), "--name", "fx"],
                             workdir)
    base = capture.url
    with httpx.Client(base_url=base) as client:
        assert client.get("/json").json()["rate"] == 1.0842
        assert client.get("/gzip").json() == RATE
        assert client.post("/echo", json={"amount": "9.20"}).json()["method"] == "POST"
    assert requests.get(f"{base}/chunked", timeout=10).text.count("chunk") == 5
    assert len(requests.get(f"{base}/large", params={"size": 300_000}, timeout=10).content
               ) == 300_000
    assert requests.get(f"{base}/status/503", timeout=10).status_code == 503
    curl = subprocess.run(["curl", "-sS", "-H", "X-Client: curl", f"{base}/v1/tx/42"],
                          capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(curl.stdout)["path"] == "/v1/tx/42"
    finished = capture.stop(signal.SIGINT)
    assert finished.code == 0, finished.stderr
    assert "captured 7 interactions" in finished.stdout

    items = newest(workdir)
    paths = by_path(items)
    assert sorted(paths) == ["/chunked", "/echo", "/gzip", "/json", "/large", "/status/503",
                             "/v1/tx/42"]
    assert all(len(recorded) == 1 for recorded in paths.values())
    assert [i.seq for i in items] == list(range(7))
    for item in items:
        assert item.request.host == "127.0.0.1"
        assert item.request.port == upstream.https_port
        assert item.request.scheme == "https"
        assert item.error is None and item.response is not None
        assert item.timing.ended is not None and item.timing.ended >= 0

    gz = paths["/gzip"][0]
    assert gz.response is not None
    assert json.loads(gz.response.body) == RATE  # stored decoded ...
    assert gz.meta["response_content_encoding"] == "gzip"  # ... with the encoding noted
    assert header_value(gz.response.headers, "content-encoding") == "gzip"
    assert paths["/chunked"][0].response.body == b"".join(  # type: ignore[union-attr]
        f"chunk {i}\n".encode() for i in range(5))
    assert len(paths["/large"][0].response.body) == 300_000  # type: ignore[union-attr]
    assert paths["/large"][0].request.query == "size=300000"
    assert paths["/status/503"][0].response.status == 503  # type: ignore[union-attr]
    echo = paths["/echo"][0]
    assert json.loads(echo.request.body) == {"amount": "9.20"}
    assert header_value(paths["/v1/tx/42"][0].request.headers, "X-Client") == "curl"


def test_forward_mode_https_through_the_ca_with_http2(
    workdir: Path, upstream: Upstream, recorder_home: Path
) -> None:
    capture = CaptureProcess(["--upstream-ca", str(upstream.pki.ca_cert), "-o",
                              str(workdir / "fwd.cassette")], workdir)
    proxy = capture.url
    trust = ssl.create_default_context(cafile=str(recorder_ca(recorder_home)))
    with httpx.Client(proxy=proxy, verify=trust, http2=True) as client:
        response = client.get(f"{upstream.https_url}/json")
        assert response.http_version == "HTTP/2"
        assert response.json()["rate"] == 1.0842
    with httpx.Client(proxy=proxy, verify=trust) as client:
        assert client.get(f"{upstream.http_url}/v1/plain").status_code == 200
    got = requests.get(f"{upstream.https_url}/v1/requests", timeout=10,
                       proxies={"https": proxy}, verify=str(recorder_ca(recorder_home)))
    assert got.json()["path"] == "/v1/requests"
    curl = subprocess.run(
        ["curl", "-sS", "--http2", "--proxy", proxy, "--cacert", str(recorder_ca(recorder_home)),
         f"{upstream.https_url}/v1/curl"],
        capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(curl.stdout)["path"] == "/v1/curl"
    assert capture.stop(signal.SIGTERM).code == 0

    items = read_interactions(workdir / "fwd.cassette")
    paths = by_path(items)
    assert sorted(paths) == ["/json", "/v1/curl", "/v1/plain", "/v1/requests"]
    assert paths["/json"][0].request.http_version == "HTTP/2.0"
    assert paths["/v1/curl"][0].request.http_version == "HTTP/2.0"
    assert paths["/v1/plain"][0].request.scheme == "http"
    assert paths["/v1/requests"][0].request.scheme == "https"
    assert paths["/v1/requests"][0].request.port == upstream.https_port


def test_upstream_tls_is_verified_by_default(workdir: Path, upstream: Upstream) -> None:
    """Without --upstream-ca the test CA is unknown: the failure is recorded, not hidden."""
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.https_url,
                              "--name", "fx"], workdir)
    assert requests.get(f"{capture.url}/json", timeout=10).status_code == 502
    assert capture.stop().code == 0
    [item] = newest(workdir)
    assert item.response is None
    assert item.error is not None and item.error.kind == "tls", item.error


@pytest.fixture
def resetting_port() -> Iterator[int]:
    """A server that reads a request and resets the connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            # linger on, timeout 0: close() sends RST instead of FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


def test_upstream_failures_are_recorded_as_errors(
    workdir: Path, free_port: int, resetting_port: int
) -> None:
    capture = CaptureProcess(["-o", str(workdir / "errors.cassette")], workdir)
    proxies = {"http": capture.url}
    refused = requests.get(f"http://127.0.0.1:{free_port}/nobody-home", proxies=proxies,
                           timeout=10)
    reset = requests.get(f"http://127.0.0.1:{resetting_port}/reset", proxies=proxies,
                         timeout=10)
    assert refused.status_code == reset.status_code == 502
    finished = capture.stop()
    assert "2 upstream errors" in finished.stdout
    kinds = {i.request.path: i.error.kind for i in read_interactions(workdir / "errors.cassette")
             if i.error is not None}
    assert kinds == {"/nobody-home": "refused", "/reset": "reset"}


def test_max_body_truncates_and_marks_but_the_client_gets_everything(
    workdir: Path, upstream: Upstream
) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--max-body", "1k", "--name", "fx"], workdir)
    assert len(requests.get(f"{capture.url}/large?size=5000", timeout=10).content) == 5000
    assert len(requests.get(f"{capture.url}/large?size=900", timeout=10).content) == 900
    capture.stop()
    big, small = newest(workdir)
    assert big.response is not None and small.response is not None
    assert big.response.body == bytes(i % 251 for i in range(1024))
    assert big.meta["response_body_truncated"] == 5000
    assert len(small.response.body) == 900 and "response_body_truncated" not in small.meta


def test_filter_keeps_only_matching_flows(workdir: Path, upstream: Upstream) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--filter", "!~u /status/", "--name", "fx"], workdir)
    requests.get(f"{capture.url}/status/200", timeout=10)
    requests.get(f"{capture.url}/json", timeout=10)
    capture.stop()
    assert [i.request.path for i in newest(workdir)] == ["/json"]


def test_secrets_in_headers_never_reach_disk(workdir: Path, upstream: Upstream) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--name", "fx"], workdir)
    token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    requests.get(f"{capture.url}/secret", timeout=10, headers={
        "Authorization": f"Bearer {token}", "X-Api-Key": "key-0123456789abcdef",
        "Cookie": "session=cookie-secret-value; theme=dark"})
    capture.stop()
    path = Library(workdir / "lib").resolve("fx")
    raw = path.read_bytes()
    for secret in (token, "key-0123456789abcdef", "cookie-secret-value", "abc123secret"):
        assert secret.encode() not in raw, secret
    [item] = read_interactions(path)
    auth = header_value(item.request.headers, "authorization")
    assert auth is not None and auth.startswith("Bearer ") and len(auth) == len(token) + 7
    assert header_value(item.request.headers, "cookie", ).startswith("session=")  # type: ignore[union-attr]
    assert "request.headers.authorization" in item.meta["redacted"]


def test_max_flows_and_duration_stop_by_themselves(workdir: Path, upstream: Upstream) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--max-flows", "2", "--name", "fx", "--json"], workdir)
    for _ in range(2):
        requests.get(f"{capture.url}/json", timeout=10)
    out, _ = capture.process.communicate(timeout=30)
    summary = json.loads(out)
    assert (summary["interactions"], summary["stopped_by"]) == (2, "max-flows")
    done = run_cli("capture", ["--mode", "reverse", "--upstream", upstream.http_url,
                            "--listen", "127.0.0.1:0", "--duration", "0.5", "--name", "idle",
                            "--json"], workdir)
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["stopped_by"] == "duration"


def test_sigterm_finalizes_a_readable_cassette(workdir: Path, upstream: Upstream) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--name", "fx"], workdir)
    for i in range(5):
        requests.get(f"{capture.url}/v1/tx/{i}", timeout=10)
    finished = capture.stop(signal.SIGTERM)
    assert finished.code == 0
    with CassetteReader(Library(workdir / "lib").resolve("fx")) as reader:
        assert [i.request.path for i in reader] == [f"/v1/tx/{i}" for i in range(5)]
        assert reader.damage is None


def test_port_in_use_is_a_clear_error_and_leaves_nothing(workdir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = run_cli("capture", ["--listen", f"127.0.0.1:{port}", "--name", "fx"], workdir)
    assert done.code == 1
    assert "cannot listen on 127.0.0.1:" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert Library(workdir / "lib").versions("fx") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "reverse", "--upstream", "ftp://example.com", "--name", "fx"],
         "is not an http(s) URL"),
        (["--mode", "reverse", "--name", "fx"], "needs --upstream"),
        (["--mode", "sideways", "--name", "fx"], "'sideways' is not one of"),
        (["--filter", "~q ((", "--name", "fx"], "invalid --filter"),
        (["--listen", "nonsense", "--name", "fx"], "is not HOST:PORT"),
        (["--max-body", "lots", "--name", "fx"], "is not a size"),
        (["--name", "../escape"], "not a valid cassette name"),
        ([], "exactly one of --name NAME or -o PATH"),
    ],
)
def test_bad_usage_exits_2_with_one_message(workdir: Path, args: list[str], message: str) -> None:
    done = run_cli("capture", args, workdir)
    assert done.code == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (workdir / "lib").exists() or not any((workdir / "lib").iterdir())


def test_the_addon_works_inside_plain_mitmdump(workdir: Path, upstream: Upstream,
                                                free_port: int) -> None:
    import sys

    addon = subprocess.run([sys.executable, "-m", "recorder", "addon-path"], capture_output=True,
                           text=True, check=True).stdout.strip()
    out = workdir / "mitmdump.cassette"
    mitmdump = Path(sys.executable).with_name("mitmdump")
    process = subprocess.Popen(
        [str(mitmdump), "-q", "-s", addon, "--mode", f"reverse:{upstream.http_url}",
         "--listen-host", "127.0.0.1", "--listen-port", str(free_port),
         "--set", f"recorder_out={out}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                response = requests.get(f"http://127.0.0.1:{free_port}/v1/from-mitmdump",
                                        timeout=5)
                break
            except requests.ConnectionError:
                threading.Event().wait(0.05)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    [item] = read_interactions(out)
    assert item.request.path == "/v1/from-mitmdump"
