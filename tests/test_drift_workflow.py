"""The drift workflow end to end: capture a well-behaved and a drifting API for real, then
diff, schema and check through the command line as a user would; then the example client's
own tests against replay, plain and under chaos."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from recorder.cassette.format import read_interactions
from recorder.cassette.library import Library
from recorder.cli import cli
from recorder.demo.api import make_server, serve_in_thread
from recorder.replay.app import ReplayApp, ReplaySettings
from recorder.replay.background import BackgroundReplay
from recorder.replay.chaos import Chaos, ChaosConfig, parse_spec
from recorder.replay.index import MatchConfig, ReplayIndex
from tests.harness import CaptureProcess, ReplayProcess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from fxclient import FxClient, typical_session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drifted_library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("drift")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECORDER_HOME", str(workdir / "home"))
        for drift in (False, True):
            api = make_server(drift=drift)
            serve_in_thread(api)
            capture = CaptureProcess(["--mode", "reverse", "--upstream", api.url, "--name",
                                      "fx"], workdir)
            for _ in range(2):
                typical_session(FxClient(capture.url))
            assert capture.stop(signal.SIGINT).code == 0
            api.shutdown()
            api.server_close()
        yield workdir / "lib"


def run(library: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--library", str(library), *args])
    return result.exit_code, result.stdout, result.stderr


def test_diff_names_amount_number_to_string_and_exits_1(drifted_library: Path) -> None:
    code, out, _ = run(drifted_library, "diff", "fx", "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["old"], report["new"]) == ("fx@1", "fx@2")
    changes = {(c["endpoint"], c["path"], c["kind"]): c for c in report["changes"]
               if "path" in c}
    amount = changes[("POST /v1/convert", "$.amount", "type_changed")]
    assert (amount["old"], amount["new"]) == ("number", "string(numeric)")
    assert amount["exemplar"].startswith("fx@2#")
    assert ("POST /v1/convert", "$.fee", "field_added") in changes
    assert ("GET /v1/payments/{id}", "$.settled_at", "type_changed") in changes
    assert any(c["kind"] == "order_changed" for c in report["changes"])


def test_diff_of_a_version_with_itself_is_clean(drifted_library: Path) -> None:
    code, out, _ = run(drifted_library, "diff", "fx@1", "fx@1")
    assert code == 0 and "no changes" in out


def test_fail_on_never_reports_but_passes(drifted_library: Path) -> None:
    code, out, _ = run(drifted_library, "diff", "fx", "--fail-on", "never", "--markdown")
    assert code == 0
    assert "$.amount number → string(numeric)" in out


def test_check_is_the_contract_test(drifted_library: Path, tmp_path: Path) -> None:
    schema = tmp_path / "fx.schema.json"
    code, _, err = run(drifted_library, "schema", "fx@1", "-o", str(schema))
    assert code == 0 and "response contracts" in err
    assert run(drifted_library, "check", "fx@1", "--schema", str(schema))[0] == 0
    code, out, _ = run(drifted_library, "check", "fx@2", "--schema", str(schema), "--json")
    assert code == 1
    failures = json.loads(out)["failures"]
    assert {f["endpoint"] for f in failures} >= {"POST /v1/convert", "GET /v1/rates"}
    assert all(f["interaction"].startswith("fx@2#") for f in failures)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["diff", "nope"], 1, "has 0 version(s)"),
        (["diff", "fx", "--json", "--markdown"], 2, "exclusive"),
        (["diff", "fx", "--fail-on", "sometimes"], 2, "'sometimes' is not one of"),
        (["diff", "fx@1"], 2, "give a cassette NAME"),
    ],
)
def test_diff_usage_errors(drifted_library: Path, args: list[str], code: int, message: str
                           ) -> None:
    exit_code, _, err = run(drifted_library, *args)
    assert exit_code == code and message in err


def test_check_and_schema_refuse_bad_files(drifted_library: Path, tmp_path: Path) -> None:
    not_json = tmp_path / "x.json"
    not_json.write_text("{oops")
    code, _, err = run(drifted_library, "check", "fx", "--schema", str(not_json))
    assert code == 1 and "is not JSON" in err
    not_ours = tmp_path / "y.json"
    not_ours.write_text('{"type": "object"}')
    code, _, err = run(drifted_library, "check", "fx", "--schema", str(not_ours))
    assert code == 1 and "not a recorder schema" in err
    code, _, err = run(drifted_library, "schema", "fx", "-o", str(not_ours))
    assert code == 1 and "already exists" in err
    assert not_ours.read_text() == '{"type": "object"}'


def example_suite(url: str) -> subprocess.CompletedProcess[str]:
    """examples/test_fxclient.py, the example client's own tests, against `url`."""
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         str(root / "examples" / "test_fxclient.py")],
        env={**os.environ, "FX_BASE_URL": url}, capture_output=True, text=True, timeout=120,
        check=False)


@pytest.mark.parametrize(("spec", "failing"), [
    (None, set()),
    ("flip-types=$.amount@1.0", {"test_convert_100_eur_to_usd"}),  # "108.42" as a string
    ("flip-types=$.settled_at@1.0", {"test_payment_is_settled"}),  # succeeded, not settled
])
def test_the_example_suite_is_green_on_replay_and_red_under_chaos(
    drifted_library: Path, spec: str | None, failing: set[str]
) -> None:
    items = read_interactions(Library(drifted_library).resolve("fx@1"))
    chaos = None if spec is None else Chaos(ChaosConfig(parse_spec(spec), seed=7),
                                            lambda entry: None)
    app = ReplayApp(ReplayIndex(items, MatchConfig()), ReplaySettings(), chaos=chaos)
    with BackgroundReplay(app) as server:
        done = example_suite(server.url)
    failed = {line.split("::")[1].split(" ")[0] for line in done.stdout.splitlines()
              if line.startswith("FAILED")}
    if spec is None:
        assert done.returncode == 0 and failed == set(), done.stdout  # green on plain replay
    else:
        assert done.returncode == 1 and failing <= failed, done.stdout  # red under chaos
    assert app.report()["missed"] == 0


def test_a_chaos_failure_reproduces_from_its_log(drifted_library: Path, tmp_path: Path) -> None:
    log = tmp_path / "chaos.jsonl"
    bodies = []
    for args in (["--chaos", "flip-types=0.5,reorder=0.5", "--seed", "42", "--chaos-log",
                  str(log)], ["--chaos-replay", str(log)]):
        replay = ReplayProcess(["fx@1", *args], drifted_library.parent)
        got = requests.post(f"{replay.url}/v1/convert", json={"from": "EUR", "to": "USD",
                                                             "amount": 100}, timeout=10)
        bodies.append((got.headers.get("X-Recorder-Chaos"), got.content))
        replay.stop()
    assert bodies[0] == bodies[1]
    assert bodies[0][0]  # chaos happened, and the response says so
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["request"].startswith("POST /v1/convert") and entry["plan"]["mutations"]
