"""Configuration: recorder.toml or [tool.recorder]; a bad rule is an error, never a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recorder.cassette.format import CassetteWriter
from recorder.cli import cli
from recorder.config import load_config
from recorder.errors import UsageError
from tests import factories


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.routes == () and config.source is None


def test_pyproject_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.recorder]\nroutes = ["/v1/users/{name}"]\n'
        '[tool.recorder.redact]\nkeys = ["tax_id"]\nallow = ["pk_test_.*"]\n')
    config = load_config(tmp_path)
    assert config.routes == ("/v1/users/{name}",)
    assert config.redact.keys == ("tax_id",) and config.redact.allow == ("pk_test_.*",)


def test_recorder_toml_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.recorder]\nroutes = ["/a/{x}"]\n')
    (tmp_path / "recorder.toml").write_text('routes = ["/b/{y}"]\n')
    assert load_config(tmp_path).routes == ("/b/{y}",)


@pytest.mark.parametrize(("text", "message"), [
    ("[redact]\npatterns = ['(unclosed']\n", "is not a regex"),
    ("[redact]\npaths = ['customer.dob']\n", "is not a JSON path"),
    ("[redact]\ncolour = ['blue']\n", "Additional properties"),
    ("routes = 'not-a-list'\n", "is not of type 'array'"),
    ("routes = [\n", "cannot read"),
])
def test_bad_configuration_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "recorder.toml").write_text(text)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_config(tmp_path)


def test_config_command_and_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recorder.toml").write_text("[redact]\nkeys = ['tax_id']\nemails = true\n")
    shown = json.loads(CliRunner().invoke(cli, ["config"]).stdout)
    assert shown["redact"]["keys"] == ["tax_id"] and shown["redact"]["emails"] is True
    (tmp_path / "recorder.toml").write_text("[redact]\nallow = ['(']\n")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 2 and "is not a regex" in result.stderr


def test_configured_rules_apply_in_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        recorder_home: Path) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "c.cassette"
    with CassetteWriter.create(path, {}) as writer:
        writer.append(factories.interaction(resp=factories.response(body={"tax_id": "DE123456789",
                                                                     "acct": "acct_12345678"})))
    assert CliRunner().invoke(cli, ["scan", str(path)]).exit_code == 0
    (tmp_path / "recorder.toml").write_text(
        "[redact]\nkeys = ['tax_id']\npatterns = ['acct_[0-9]{8}']\n")
    result = CliRunner().invoke(cli, ["scan", str(path), "--json"])
    assert result.exit_code == 1
    kinds = {f["location"]: f["kind"] for f in json.loads(result.stdout)["findings"]}
    assert kinds == {"response.body $.tax_id": "secret-key",
                     "response.body $.acct": "pattern:acct_[0-9]{8}"}


def test_scan_walks_directories(tmp_path: Path, recorder_home: Path) -> None:
    (tmp_path / "lib" / "a").mkdir(parents=True)
    for name, secret in (("clean", "nothing to see"), ("leaky", "AKIAIOSFODNN7EXAMPLE")):
        with CassetteWriter.create(tmp_path / "lib" / "a" / f"{name}.cassette", {}) as writer:
            writer.append(factories.interaction(resp=factories.response(body={"v": secret})))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "lib")])
    assert result.exit_code == 1
    assert "leaky.cassette#0 response.body $.v: aws-access-key-id" in result.stdout
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout
    assert "scanned 2 interactions: 1 secret(s) found" in result.stdout
