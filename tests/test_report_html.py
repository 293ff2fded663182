"""HTML reports: built from a real drift, escaped, and rendered in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from recorder.cassette.format import CassetteWriter
from recorder.cli import cli
from recorder.diff import compare, profile
from recorder.observe import Router
from recorder.report_html import cassette_page, diff_page
from tests import factories

OLD = [factories.interaction(factories.request("POST", "/v1/convert"),
                             factories.response(body={"amount": 9.2, "id": "cv_1"}))]
NEW = [factories.interaction(factories.request("POST", "/v1/convert"),
                             factories.response(body={"id": "cv_1", "amount": "9.20",
                                                      "fee": "<script>alert(1)</script>"}))]


def page() -> str:
    router = Router()
    new_profile = profile(NEW, router, "fx@2")
    return diff_page(compare(profile(OLD, router, "fx@1"), new_profile), "fx@1", "fx@2",
                     new_profile)


def test_the_diff_page_shows_endpoints_shapes_and_highlights_drift() -> None:
    html = page()
    assert "<code>POST /v1/convert</code>" in html
    assert "$.amount number → string(numeric)" in html
    assert "<li class='drifted'>amount: " in html  # the drifted field, highlighted
    assert "<span class='badge breaking'>1 breaking</span>" in html
    assert "<script>" not in html.replace("<style>", "")  # no scripts, and values escaped


def test_the_cassette_page_escapes_recorded_bytes() -> None:
    html = cassette_page("t", {"format": 1}, NEW)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_cli_writes_reports_and_never_overwrites(tmp_path: Path) -> None:
    for name, items in (("old", OLD), ("new", NEW)):
        with CassetteWriter.create(tmp_path / f"{name}.cassette", {}) as writer:
            for item in items:
                writer.append(item)
    report = tmp_path / "diff.html"
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "old.cassette"),
                                      str(tmp_path / "new.cassette"), "--html", str(report)])
    assert result.exit_code == 1 and report.read_text().startswith("<!doctype html>")
    again = CliRunner().invoke(cli, ["diff", str(tmp_path / "old.cassette"),
                                     str(tmp_path / "new.cassette"), "--html", str(report)])
    assert again.exit_code == 1 and "already exists" in again.stderr
    shown = CliRunner().invoke(cli, ["show", str(tmp_path / "new.cassette"), "--html",
                                     str(tmp_path / "show.html")])
    assert shown.exit_code == 0 and "POST https://api.example.com/v1/convert" in (
        tmp_path / "show.html").read_text()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed here "
                    "(scripts/test installs it when it can)")
def test_headless_chromium_renders_the_diff_page(tmp_path: Path) -> None:
    report = tmp_path / "diff.html"
    report.write_text(page())
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         report.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    dom = done.stdout
    assert "recorder diff: fx@1 → fx@2" in dom
    assert "$.amount number → string(numeric)" in dom
    assert 'class="drifted"' in dom
    assert json.dumps("<script>")[1:-1] not in dom.split("</style>", 1)[1]
