"""`recorder replay` as users run it: a subprocess on a real port, direct and proxy mode."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import requests

from recorder.cassette.format import read_interactions
from recorder.cassette.library import Library
from tests import factories
from tests.harness import ReplayProcess, run_cli
from tests.upstream import Upstream

pytestmark = pytest.mark.slow

HOST = "api.example.invalid"  # cannot resolve: proxy mode must never try to reach it


@pytest.fixture
def workdir(tmp_path: Path, recorder_home: Path) -> Path:
    _, writer = Library(tmp_path / "lib").create("fx", {"kind": "test"})
    with writer:
        writer.append(factories.interaction(
            factories.request(path="/v1/rates", query="base=EUR", host=HOST),
            factories.response(body={"base": "EUR", "rate": 1.0842}), seq=0))
        writer.append(factories.interaction(
            factories.request(path="/v1/unused", host=HOST), factories.response(body={}),
            seq=1))
    return tmp_path


def test_strict_exits_1_on_a_miss_and_writes_the_report(workdir: Path) -> None:
    report = workdir / "report.json"
    replay = ReplayProcess(["fx", "--strict", "--exit-after", "2", "--report", str(report),
                            "-q"], workdir)
    assert requests.get(f"{replay.url}/v1/rates?base=EUR", timeout=10).status_code == 200
    assert requests.get(f"{replay.url}/v1/nope", timeout=10).status_code == 599
    finished = replay.wait()
    assert finished.code == 1
    assert "2 requests: 1 matched, 1 missed" in finished.stdout
    written = json.loads(report.read_text())
    assert (written["matched"], written["missed"], written["unused"]) == (1, 1, 1)
    assert written["stopped_by"] == "exit-after"


def test_strict_passes_when_everything_matched_and_strict_unused_does_not(workdir: Path
                                                                          ) -> None:
    replay = ReplayProcess(["fx", "--strict", "--exit-after", "1"], workdir)
    requests.get(f"{replay.url}/v1/rates?base=EUR", timeout=10)
    assert replay.wait().code == 0
    replay = ReplayProcess(["fx", "--strict", "--strict-unused", "--json"], workdir)
    requests.get(f"{replay.url}/v1/rates?base=EUR", timeout=10)
    finished = replay.stop(signal.SIGTERM)
    assert finished.code == 1
    assert json.loads(finished.stdout)["unused_interactions"][0]["request"] == "GET /v1/unused"


def test_misses_are_logged_with_the_closest_difference(workdir: Path) -> None:
    replay = ReplayProcess(["fx"], workdir)
    requests.get(f"{replay.url}/v1/rates?base=USD", timeout=10)
    finished = replay.stop()
    assert "MISS GET /v1/rates" in finished.stderr and "query: got" in finished.stderr


def test_proxy_mode_serves_https_through_the_ca_and_never_goes_upstream(
    workdir: Path, recorder_home: Path
) -> None:
    replay = ReplayProcess(["fx", "--mode", "proxy", "--strict"], workdir)
    ca = recorder_home / "ca" / "mitmproxy-ca-cert.pem"
    url = f"https://{HOST}/v1/rates?base=EUR"
    with httpx.Client(proxy=replay.url, verify=ssl.create_default_context(cafile=str(ca))
                      ) as client:
        assert client.get(url).json()["rate"] == 1.0842
    curl = subprocess.run(["curl", "-sS", "--proxy", replay.url, "--cacert", str(ca), url],
                          capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(curl.stdout)["rate"] == 1.0842
    node = subprocess.run(["node", str(Path(__file__).with_name("node_client.mjs")),
                           replay.url, HOST, "/v1/rates?base=EUR"], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={"NODE_EXTRA_CA_CERTS": str(ca), "PATH": "/usr/bin:/bin"})
    assert node.returncode == 0, node.stderr
    assert json.loads(node.stdout)["rate"] == 1.0842
    finished = replay.stop()
    assert finished.code == 0, finished.stderr  # --strict: nothing missed
    assert "3 requests: 3 matched, 0 missed" in finished.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["fx", "--match-on", "method,colour"], 2, "unknown matcher 'colour'"),
    (["fx", "--latency", "soon"], 2, "is not none, recorded or a duration"),
    (["fx", "--host", "elsewhere.example"], 2, "is not a recorded host"),
    (["fx", "--strict-unused"], 2, "--strict-unused goes with --strict"),
    (["fx", "--repeat", "forever"], 2, "'forever' is not one of"),
    (["missing"], 1, "no cassette named 'missing'"),
    (["fx", "--seed", "3"], 2, "--seed and --chaos-log go with --chaos"),
    (["fx", "--chaos", "reorder=2"], 2, "is not within 0..1"),
    (["fx", "--chaos", "wobble"], 2, "unknown chaos term 'wobble'"),
])
def test_bad_usage(workdir: Path, args: list[str], code: int, message: str) -> None:
    done = run_cli("replay", args, workdir)
    assert done.code == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_port_in_use_is_a_clear_error(workdir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        done = run_cli("replay", ["fx", "--listen", f"127.0.0.1:{busy.getsockname()[1]}"],
                       workdir)
    assert done.code == 1 and "cannot listen" in done.stderr and "hint:" in done.stderr


def test_on_miss_record_forwards_appends_redacted_and_serves_it_next_time(
    workdir: Path, upstream: Upstream
) -> None:
    replay = ReplayProcess(["fx", "--on-miss", "record", "--upstream", upstream.http_url,
                            "--exit-after", "3"], workdir)
    headers = {"Authorization": "Bearer live-secret-token-123"}
    first = requests.get(f"{replay.url}/v1/fresh", headers=headers, timeout=10)
    assert first.status_code == 200 and first.json()["path"] == "/v1/fresh"  # the upstream
    again = requests.get(f"{replay.url}/v1/fresh", headers=headers, timeout=10)
    assert again.json() == first.json()  # now from the new recording
    assert requests.get(f"{replay.url}/v1/rates?base=EUR", timeout=10).ok
    finished = replay.wait()
    assert finished.code == 0, finished.stderr
    assert "recorded 1 new interaction(s)" in finished.stderr
    library = Library(workdir / "lib")
    assert [v.number for v in library.versions("fx")] == [1, 2]
    new_version = library.resolve("fx@2")
    assert b"live-secret-token-123" not in new_version.read_bytes()
    [item] = read_interactions(new_version)
    assert item.request.path == "/v1/fresh" and item.response is not None
    assert item.request.host == "127.0.0.1" and item.request.port == upstream.http_port


def test_on_miss_passthrough_forwards_without_recording(workdir: Path, upstream: Upstream
                                                        ) -> None:
    replay = ReplayProcess(["fx", "--on-miss", "passthrough", "--upstream", upstream.http_url,
                            "--json"], workdir)
    assert requests.get(f"{replay.url}/status/418", timeout=10).status_code == 418
    finished = replay.stop()
    assert json.loads(finished.stdout)["forwarded"] == 1
    assert [v.number for v in Library(workdir / "lib").versions("fx")] == [1]


def test_on_miss_needs_a_clear_upstream(workdir: Path) -> None:
    done = run_cli("replay", ["fx", "--record-to", "x"], workdir)
    assert done.code == 2 and "go with --on-miss" in done.stderr
    done = run_cli("replay", ["fx", "--on-miss", "passthrough", "--upstream", "ftp://x"],
                   workdir)
    assert done.code == 2 and "is not an http(s) URL" in done.stderr


def test_the_chaos_log_is_readable_while_the_server_runs_and_complete_after(workdir: Path
                                                                            ) -> None:
    log = workdir / "chaos.jsonl"
    replay = ReplayProcess(["fx", "--chaos", "flip-types=1.0", "--seed", "5", "--chaos-log",
                            str(log), "-q"], workdir)
    try:
        assert "X-Recorder-Chaos" in requests.get(f"{replay.url}/v1/rates?base=EUR",
                                                  timeout=10).headers
        waited = 0
        while not log.read_text() and waited < 100:  # flushed within 0.1 s, not at exit
            time.sleep(0.05)
            waited += 1
        assert log.read_text().count("\n") == 1, "the line sat in the buffer"
        for _ in range(50):
            requests.get(f"{replay.url}/v1/rates?base=EUR", timeout=10)
    finally:
        replay.stop()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["ordinal"] for e in entries] == list(range(51))
