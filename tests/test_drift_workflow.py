"""The drift workflow end to end: capture a well-behaved and a drifting API for real, then
diff, schema and check through the command line as a user would."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from recorder.cli import cli
from recorder.demo.api import make_server, serve_in_thread
from tests.harness import CaptureProcess

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
