"""No secret in a cassette, ever: a corpus of realistic fake secrets through a real capture,
an independent scanner over the result, and scan on an unredacted copy."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from recorder.cassette.format import CassetteWriter, read_interactions
from recorder.cassette.library import Library
from recorder.cli import cli
from recorder.model import Interaction
from recorder.redact import Redactor
from recorder.shape import value_shape
from tests import factories
from tests.harness import CaptureProcess
from tests.redact.corpus import BENIGN, CORPUS, RESPONSE_HEADERS, Placed
from tests.strategies import json_objects
from tests.upstream import Upstream

KEY = b"k" * 32


def test_the_corpus_has_at_least_30_kinds() -> None:
    assert len({p.kind for p in CORPUS}) >= 30


def send(client: httpx.Client, placed: Placed) -> None:
    headers = {"Content-Type": placed.content_type, **placed.headers}
    target = placed.path + (f"?{placed.query}" if placed.query else "")
    method = "POST" if placed.body else "GET"
    response = client.request(method, target, headers=headers, content=placed.body.encode())
    assert response.status_code == 200, placed.kind


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Path:
    workdir = tmp_path_factory.mktemp("corpus")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECORDER_HOME", str(workdir / "home"))
        capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                                  "--name", "corpus"], workdir)
        with httpx.Client(base_url=capture.url) as client:
            for placed in CORPUS:
                send(client, placed)
        assert capture.stop(signal.SIGINT).code == 0
    return Library(workdir / "lib").resolve("corpus")


@pytest.mark.slow
def test_after_capture_no_secret_is_in_the_raw_bytes(captured: Path) -> None:
    raw = captured.read_bytes()
    assert len(read_interactions(captured)) == len(CORPUS)
    leaks = [(p.kind, form) for p in CORPUS if p.check_bytes for form in p.forms()
             if form in raw]
    assert leaks == []


@pytest.mark.slow
def test_short_secrets_are_replaced_too(captured: Path) -> None:
    cvc = next(i for i in read_interactions(captured) if b'"cvc"' in i.request.body)
    assert json.loads(cvc.request.body)["card"]["cvc"] != "987"


@pytest.mark.slow
def test_scan_finds_nothing_after_capture(captured: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(captured), "--json"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["findings"] == []


@pytest.mark.slow
def test_an_independent_scanner_finds_nothing_in_the_decoded_cassette(captured: Path,
                                                                      tmp_path: Path) -> None:
    shown = CliRunner().invoke(cli, ["show", str(captured), "--json"])
    assert shown.exit_code == 0
    decoded = tmp_path / "decoded.json"
    # one interaction per line, as `show --json` streams it: readable findings if any
    decoded.write_text(shown.stdout)
    scanner = Path(sys.executable).with_name("detect-secrets")
    done = subprocess.run([str(scanner), "scan", str(decoded)], capture_output=True, text=True,
                          check=True, timeout=120)
    results = json.loads(done.stdout)["results"]
    found = [(r["type"], r["line_number"]) for rs in results.values() for r in rs]
    assert found == [], found


def unredacted(placed: Placed, seq: int) -> Interaction:
    request = factories.request(
        "POST" if placed.body else "GET", placed.path, query=placed.query,
        headers=(("Content-Type", placed.content_type), *placed.headers.items()),
        body=placed.body.encode())
    extra = RESPONSE_HEADERS.get(placed.path.removeprefix("/mirror/"))
    response = factories.response(body=placed.body.encode(), headers=(
        ("Content-Type", placed.content_type), *((extra,) if extra else ())))
    return factories.interaction(request, response, seq=seq)


def test_scan_finds_every_kind_in_an_unredacted_copy_and_never_prints_one(tmp_path: Path,
                                                                         recorder_home: Path
                                                                         ) -> None:
    path = tmp_path / "leaky.cassette"
    with CassetteWriter.create(path, {"kind": "test"}) as writer:
        for seq, placed in enumerate(CORPUS):
            writer.append(unredacted(placed, seq))
    result = CliRunner().invoke(cli, ["scan", str(path), "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    found = {f["interaction"] for f in findings}
    missed = [p.kind for seq, p in enumerate(CORPUS) if seq not in found]
    assert missed == []
    printed = CliRunner().invoke(cli, ["scan", str(path)]).stdout
    assert [p.kind for p in CORPUS if p.check_bytes and p.secret in printed] == []


def benign_interaction(value: str) -> Interaction:
    return factories.interaction(
        factories.request(query=f"v={value}", headers=(("X-Value", value),)),
        factories.response(body={"value": value, "note": f"ref {value} ok"}))


def test_the_benign_corpus_is_left_alone() -> None:
    redactor = Redactor(KEY)
    false_positives = [(kind, value) for kind, value in BENIGN
                       if redactor.findings(benign_interaction(value))]
    assert false_positives == []  # false-positive rate 0 / len(BENIGN); scripts/bench reports


def with_secrets(body: dict[str, Any], secret: str) -> dict[str, Any]:
    return {**body, "password": secret, "token": secret, "nested": [{"api_key": secret,
                                                                     "n": 42}],
            "note": f"see {secret}", "pin_code": 1234}


@given(body=json_objects, secret=st.sampled_from([p.secret for p in CORPUS]))
def test_redaction_keeps_json_types_and_shapes_and_is_idempotent(body: dict[str, Any],
                                                                  secret: str) -> None:
    redactor = Redactor(KEY)
    original = with_secrets(body, secret)
    item = factories.interaction(factories.request(), factories.response(body=original))
    once = redactor.interaction(item)
    assert once.response is not None
    redacted = json.loads(once.response.body)
    assert value_shape(redacted) == value_shape(original)  # types and shape unchanged
    assert redactor.interaction(once) == once  # idempotent
    assert redactor.interaction(item) == once  # equal inputs, equal placeholders
    for key in ("password", "token"):
        assert secret not in json.dumps(redacted[key])
    assert secret not in json.dumps(redacted["nested"])
    if redactor.text(secret)[1]:  # in free text only what a detector recognizes is found
        assert secret not in redacted["note"]
