from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from recorder.cassette.library import Library
from recorder.cli import cli
from tests import factories


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "cassettes")
    _, writer = lib.create("fx", {"kind": "test"})
    with writer:
        writer.append(factories.interaction(seq=0))
        writer.append(factories.interaction(
            factories.request("POST", "/v1/convert", body=b'{"amount": "9.20"}'),
            factories.response(201, {"id": "tx_1", "amount": 9.2}),
            seq=1,
        ))
        writer.append(factories.interaction(
            factories.request(path="/logo.png"),
            factories.response(body=b"\x89PNG\x00\xff", headers=(("Content-Type", "image/png"),)),
            seq=2,
        ))
    return lib


def run(library: Library, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--library", str(library.root), *args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_show_lists_one_line_per_interaction(library: Library) -> None:
    code, out, _ = run(library, "show", "fx")
    assert code == 0
    assert "https://api.example.com/v1/convert" in out
    assert "201" in out and "image/png" in out
    assert len([line for line in out.splitlines() if "api.example.com" in line]) == 3


def test_show_verbose_has_headers_and_pretty_json(library: Library) -> None:
    code, out, _ = run(library, "show", "fx@1", "-v")
    assert code == 0
    assert "Accept: application/json" in out
    assert '"amount": 9.2' in out
    assert "binary data" in out


def test_show_json_is_machine_readable_with_text_and_base64_bodies(library: Library) -> None:
    code, out, _ = run(library, "show", "fx", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["format_version"] == 1
    items = doc["interactions"]
    assert [i["seq"] for i in items] == [0, 1, 2]
    assert items[1]["request"]["body"] == '{"amount": "9.20"}'
    assert items[1]["request"]["body_encoding"] == "text"
    assert items[2]["response"]["body_encoding"] == "base64"
    assert base64.b64decode(items[2]["response"]["body"]) == b"\x89PNG\x00\xff"
    assert items[0]["request"]["headers"] == [["Accept", "application/json"]]


def test_textconv_is_stable_and_has_no_timings(library: Library) -> None:
    first = run(library, "show", "fx", "--textconv")[1]
    assert first == run(library, "show", "fx", "--textconv")[1]
    assert "=== #1 POST https://api.example.com/v1/convert" in first
    assert "ms" not in first


def test_ls_lists_versions(library: Library) -> None:
    run_lib = Library(library.root)
    _, writer = run_lib.create("fx", {})
    writer.close()
    code, out, _ = run(library, "ls", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["name"], r["version"], r["interactions"]) for r in rows] == [
        ("fx", 1, 3), ("fx", 2, 0)]
    code, out, _ = run(library, "ls")
    assert "fx@1" in out and "fx@2" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "nope"], 1, "no cassette named 'nope'"),
        (["show", "fx@9"], 1, "has no version 9"),
        (["show", "../../no/such.cassette"], 1, "no cassette file"),
        (["show", "fx@x"], 2, "must be a number"),
        (["show", "a b"], 2, "not a valid cassette name"),
        (["show", "fx", "--json", "--textconv"], 2, "exclusive"),
        (["show", "--bogus", "fx"], 2, "No such option"),
    ],
)
def test_bad_input_gets_one_message_one_hint_and_exit_code(
    library: Library, args: list[str], code: int, message: str
) -> None:
    exit_code, out, err = run(library, *args)
    assert exit_code == code
    assert message in err
    assert "Traceback" not in err + out


def test_a_non_cassette_file_is_bad_data(library: Library, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.cassette"
    bogus.write_text("hello")
    code, _, err = run(library, "show", str(bogus))
    assert code == 1
    assert err.startswith("error: ") and "not a recorder cassette" in err
    assert "hint: " in err
    assert bogus.read_text() == "hello"


def test_torn_cassette_shows_what_it_has_and_warns(library: Library) -> None:
    path = library.resolve("fx")
    path.write_bytes(path.read_bytes()[:-4])
    code, out, err = run(library, "show", "fx", "--json")
    assert code == 0
    assert len(json.loads(out)["interactions"]) == 2
    assert "torn tail" in err and "the 2 records before it were read" in err


def test_library_from_environment(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORDER_LIBRARY", str(library.root))
    result = CliRunner().invoke(cli, ["show", "fx", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["interactions"]) == 3


def test_python_dash_m_and_console_script_work(library: Library) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recorder", "--library", str(library.root), "show", "nope"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: no cassette named 'nope' in " + str(library.root),
        "hint: known names: fx (set --library or RECORDER_LIBRARY to use another library)",
    ]


def test_ca_creates_an_owner_only_key_and_prints_the_certificate(
    recorder_home: Path,
) -> None:
    import os
    import stat

    result = CliRunner().invoke(cli, ["ca", "--path"])
    assert result.exit_code == 0
    cert = Path(result.stdout.strip())
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    key = cert.parent / "mitmproxy-ca.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    again = CliRunner().invoke(cli, ["ca"])
    assert str(cert) in again.stdout and "REQUESTS_CA_BUNDLE" in again.stdout
    assert cert.read_text() == Path(result.stdout.strip()).read_text()  # not regenerated


def test_addon_path_points_at_a_loadable_script() -> None:
    result = CliRunner().invoke(cli, ["addon-path"])
    path = Path(result.stdout.strip())
    assert path.is_file()
    assert "addons = [CaptureAddon()]" in path.read_text()
