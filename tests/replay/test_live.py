"""`recorder proxy`: chaos in front of a live API, with real clients and a real upstream."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest
import requests

from tests.harness import ProxyProcess, run_cli
from tests.upstream import Upstream

pytestmark = pytest.mark.slow


def test_reverse_mode_flips_types_of_live_answers(tmp_path: Path, recorder_home: Path,
                                                  upstream: Upstream) -> None:
    log = tmp_path / "chaos.jsonl"
    proxy = ProxyProcess(["--mode", "reverse", "--upstream", upstream.http_url, "--chaos",
                          "flip-types=$.amount@1.0", "--seed", "5", "--chaos-log", str(log)],
                         tmp_path)
    answers = [requests.get(f"{proxy.url}/json", timeout=10) for _ in range(6)]
    proxy.stop()
    amounts = {json.dumps(a.json()["amount"]) for a in answers}
    assert amounts <= {'"9.20"', "null"} and amounts  # never the live 9.2
    assert all(a.headers["X-Recorder-Chaos"] == "flip($.amount)" for a in answers)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["ordinal"] for e in entries] == list(range(6))


def test_forward_mode_https_and_faults(tmp_path: Path, recorder_home: Path,
                                       upstream: Upstream) -> None:
    proxy = ProxyProcess(["--upstream-ca", str(upstream.pki.ca_cert), "--chaos",
                          "throttle@1.0", "--seed", "1", "-q"], tmp_path)
    ca = ssl.create_default_context(cafile=str(recorder_home / "ca" / "mitmproxy-ca-cert.pem"))
    with httpx.Client(proxy=proxy.url, verify=ca) as client:
        answer = client.get(f"{upstream.https_url}/json")
    proxy.stop()
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"


@pytest.mark.parametrize(("args", "message"), [
    ([], "needs --chaos"),
    (["--chaos", "wobble"], "unknown chaos term 'wobble'"),
    (["--mode", "reverse", "--chaos", "reset"], "needs --upstream"),
    (["--seed", "3"], "needs --chaos"),
])
def test_bad_usage(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli("proxy", args, tmp_path)
    assert done.code == 2 and message in done.stderr and "Traceback" not in done.stderr
