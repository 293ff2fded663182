"""Import and export with files made by the real tools: vcrpy, mitmdump, mitmproxy's HAR."""

from __future__ import annotations

import base64
import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import vcr
from click.testing import CliRunner

from recorder.cassette.format import read_interactions
from recorder.cassette.library import Library
from recorder.cli import cli
from recorder.model import Interaction, header_value
from tests.redact.corpus import CORPUS
from tests.upstream import RATE, Upstream

pytestmark = pytest.mark.slow


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--library", str(tmp_path / "lib"), *args])
    return result.exit_code, result.stdout, result.stderr


def imported(tmp_path: Path, name: str = "fx") -> list[Interaction]:
    return read_interactions(Library(tmp_path / "lib").resolve(name))


def record_with_vcrpy(path: Path, upstream: Upstream) -> list[requests.Response]:
    with vcr.use_cassette(str(path), record_mode="once"):
        return [requests.get(f"{upstream.http_url}/json", timeout=10),
                requests.post(f"{upstream.http_url}/echo", json={"amount": "9.20"}, timeout=10),
                requests.get(f"{upstream.http_url}/gzip", timeout=10),
                requests.get(f"{upstream.http_url}/large?size=2048", timeout=10)]


def test_vcrpy_yaml_in_and_vcrpy_replays_what_recorder_exports(
    tmp_path: Path, recorder_home: Path, upstream: Upstream
) -> None:
    original = record_with_vcrpy(tmp_path / "vcr.yaml", upstream)
    code, _, err = run(tmp_path, "import", str(tmp_path / "vcr.yaml"), "-o", "fx")
    assert code == 0, err
    items = imported(tmp_path)
    assert [(i.request.method, i.request.path) for i in items] == [
        ("GET", "/json"), ("POST", "/echo"), ("GET", "/gzip"), ("GET", "/large")]
    gz = items[2]
    assert gz.response is not None and json.loads(gz.response.body) == RATE  # decoded
    assert gz.meta["response_content_encoding"] == "gzip"
    assert items[3].response is not None and items[3].response.body == original[3].content

    code, _, err = run(tmp_path, "export", "fx", "--format", "vcr", "-o",
                       str(tmp_path / "out.yaml"))
    assert code == 0, err
    with vcr.use_cassette(str(tmp_path / "out.yaml"), record_mode="none"):
        replayed = [requests.get(f"{upstream.http_url}/json", timeout=10),
                    requests.post(f"{upstream.http_url}/echo", json={"amount": "9.20"},
                                  timeout=10),
                    requests.get(f"{upstream.http_url}/gzip", timeout=10),
                    requests.get(f"{upstream.http_url}/large?size=2048", timeout=10)]
    for before, after in zip(original, replayed, strict=True):
        assert after.status_code == before.status_code
        assert after.content == before.content


def test_mitmdump_flows_and_mitmproxy_har_export_in(tmp_path: Path, recorder_home: Path,
                                                    upstream: Upstream, free_port: int) -> None:
    flows, har = tmp_path / "flows.mitm", tmp_path / "dump.har"
    mitmdump = Path(sys.executable).with_name("mitmdump")
    process = subprocess.Popen(
        [str(mitmdump), "-q", "--mode", f"reverse:{upstream.http_url}", "--listen-host",
         "127.0.0.1", "--listen-port", str(free_port), "-w", str(flows), "--set",
         f"hardump={har}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                requests.get(f"http://127.0.0.1:{free_port}/v1/one", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        requests.post(f"http://127.0.0.1:{free_port}/echo", data=b"\x00\xff binary",
                      timeout=5)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    assert run(tmp_path, "import", str(flows), "-o", "flows")[0] == 0
    assert run(tmp_path, "import", str(har), "-o", "har")[0] == 0
    for name in ("flows", "har"):
        items = imported(tmp_path, name)
        assert [i.request.path for i in items] == ["/v1/one", "/echo"], name
        assert items[1].request.body == b"\x00\xff binary" or name == "har"
        assert all(i.response is not None and i.response.status == 200 for i in items)


HAR = {"log": {"version": "1.2", "creator": {"name": "browser", "version": "1"}, "entries": [
    {"startedDateTime": "2026-11-24T09:00:00.000Z", "time": 12.5,
     "request": {"method": "GET", "url": "https://api.example.com/v1/logo.png?size=2",
                 "httpVersion": "HTTP/2.0", "headers": [{"name": "accept", "value": "*/*"}]},
     "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2.0",
                  "headers": [{"name": "content-type", "value": "image/png"},
                              {"name": "content-encoding", "value": "gzip"}],
                  "content": {"size": 6, "mimeType": "image/png",
                              "text": base64.b64encode(b"\x89PNG\x00\xff").decode(),
                              "encoding": "base64"}},
     "timings": {"wait": 10, "receive": 2.5}}]}}

BETAMAX = {"http_interactions": [{
    "recorded_at": "2026-11-24T09:00:00",
    "request": {"method": "POST", "uri": "https://api.example.com/v1/upload",
                "headers": {"Content-Type": "application/octet-stream", "X-Dup": ["a", "b"]},
                "body": {"encoding": "utf-8", "base64_string": base64.b64encode(
                    b"\x01\x02\x03").decode()}},
    "response": {"status": {"code": 201, "message": "Created"},
                 "headers": {"Content-Encoding": ["gzip"],
                             "Content-Type": ["application/json"]},
                 "body": {"encoding": None, "base64_string": base64.b64encode(
                     gzip.compress(b'{"ok": true}')).decode(), "string": ""},
                 "url": "https://api.example.com/v1/upload"}}],
    "recorded_with": "betamax/0.8.1"}


def test_hand_checked_har_and_betamax_with_binary_and_gzip(tmp_path: Path,
                                                           recorder_home: Path) -> None:
    (tmp_path / "a.har").write_text(json.dumps(HAR))
    (tmp_path / "b.json").write_text(json.dumps(BETAMAX))
    assert run(tmp_path, "import", str(tmp_path / "a.har"), str(tmp_path / "b.json"),
               "-o", "fx")[0] == 0
    logo, upload = imported(tmp_path)
    assert logo.request.url == "https://api.example.com/v1/logo.png?size=2"
    assert logo.response is not None and logo.response.body == b"\x89PNG\x00\xff"
    assert logo.request.http_version == "HTTP/2.0" and logo.timing.first_byte == 0.01
    assert upload.request.body == b"\x01\x02\x03"
    assert upload.request.headers[-2:] == (("X-Dup", "a"), ("X-Dup", "b"))
    assert upload.response is not None and upload.response.body == b'{"ok": true}'
    assert upload.meta["response_content_encoding"] == "gzip"
    assert (logo.seq, upload.seq) == (0, 1)  # several files merge in order


@pytest.mark.parametrize("fmt", ["har", "vcr", "mitmproxy"])
def test_round_trips_keep_method_url_headers_status_and_body(tmp_path: Path,
                                                             recorder_home: Path,
                                                             fmt: str) -> None:
    (tmp_path / "b.json").write_text(json.dumps(BETAMAX))
    (tmp_path / "a.har").write_text(json.dumps(HAR))
    run(tmp_path, "import", str(tmp_path / "a.har"), str(tmp_path / "b.json"), "-o", "fx")
    code, _, err = run(tmp_path, "export", "fx", "--format", fmt, "-o", str(tmp_path / "out"))
    assert code == 0, err
    code, _, err = run(tmp_path, "import", str(tmp_path / "out"), "--format", fmt, "-o", "back")
    assert code == 0, err
    for a, b in zip(imported(tmp_path), imported(tmp_path, "back"), strict=True):
        assert (a.request.method, a.request.url) == (b.request.method, b.request.url)
        assert a.request.body == b.request.body
        assert a.response is not None and b.response is not None
        assert (a.response.status, a.response.body) == (b.response.status, b.response.body)
        assert header_value(a.response.headers, "content-type") == header_value(
            b.response.headers, "content-type")
        assert [v for k, v in a.request.headers if k == "X-Dup"] == [
            v for k, v in b.request.headers if k == "X-Dup"]


def test_exported_har_has_what_har_1_2_requires(tmp_path: Path, recorder_home: Path) -> None:
    (tmp_path / "a.har").write_text(json.dumps(HAR))
    run(tmp_path, "import", str(tmp_path / "a.har"), "-o", "fx")
    run(tmp_path, "export", "fx", "--format", "har", "-o", str(tmp_path / "out.har"))
    log = json.loads((tmp_path / "out.har").read_text())["log"]
    assert log["version"] == "1.2" and {"name", "version"} <= log["creator"].keys()
    for entry in log["entries"]:
        assert {"startedDateTime", "time", "request", "response", "cache",
                "timings"} <= entry.keys()
        assert {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                "headersSize", "bodySize"} <= entry["request"].keys()
        assert {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                "redirectURL", "headersSize", "bodySize"} <= entry["response"].keys()
        assert {"size", "mimeType"} <= entry["response"]["content"].keys()


@pytest.mark.parametrize(("content", "message"), [
    ('{"log": {"entries": [{"request": {"method": "GET"}, "response": {}}]}}',
     "log.entries[0].request.url: missing"),
    ('{"log": {"entries": [{"request": {"method": "GET"}}]}}', "entries[0].response: missing"),
    ('{"interactions": [{"request": {"method": "GET", "uri": "ftp://x"}, "response": {}}]}',
     "interactions[0].request.uri"),
    ("interactions: [oops", "not valid YAML"),
    ('{"log": [}', "not valid JSON"),
    ('{"what": 1}', "cannot tell the format"),
    ("!!python/object/apply:os.system ['echo owned']", "not valid YAML"),
])
def test_malformed_input_names_file_and_place_and_leaves_nothing(
    tmp_path: Path, recorder_home: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run(tmp_path, "import", str(bad), "-o", "fx")
    assert code in (1, 2) and message in err and "Traceback" not in err
    assert Library(tmp_path / "lib").versions("fx") == []


def test_import_redacts_the_secret_corpus_and_no_redact_warns(tmp_path: Path,
                                                              recorder_home: Path) -> None:
    interactions = [{
        "request": {"method": "POST" if p.body else "GET",
                    "uri": f"https://api.example.com{p.path}"
                           + (f"?{p.query}" if p.query else ""),
                    "headers": {"Content-Type": [p.content_type],
                                **{k: [v] for k, v in p.headers.items()}},
                    "body": p.body or None},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"Content-Type": [p.content_type]},
                     "body": {"string": p.body}}} for p in CORPUS]
    source = tmp_path / "leaky.yaml"
    import yaml

    source.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    assert run(tmp_path, "import", str(source), "-o", "fx")[0] == 0
    raw = Library(tmp_path / "lib").resolve("fx").read_bytes()
    assert [(p.kind, f) for p in CORPUS if p.check_bytes for f in p.forms() if f in raw] == []
    code, out, _ = run(tmp_path, "scan", "fx")
    assert code == 0, out  # what scan found, should this ever fail
    decoded = tmp_path / "decoded.json"
    decoded.write_text(run(tmp_path, "show", "fx", "--json")[1])
    scanner = Path(sys.executable).with_name("detect-secrets")
    found = json.loads(subprocess.run([str(scanner), "scan", str(decoded)], capture_output=True,
                                      text=True, check=True, timeout=120).stdout)["results"]
    assert found == {}  # an independent scanner agrees: nothing left after import
    code, _, err = run(tmp_path, "import", str(source), "--no-redact", "-o", "raw")
    assert code == 0 and "--no-redact" in err and "warning" in err
    assert run(tmp_path, "scan", "raw")[0] == 1


def test_a_flow_file_of_plain_text_is_still_recognised_as_mitmproxy(tmp_path: Path) -> None:
    """mitmproxy 12 writes text-only flows as valid UTF-8: the tnetstring start tells."""
    from mitmproxy import http
    from mitmproxy import io as mitm_io
    from mitmproxy.test import tflow

    from recorder.interop.formats import guess

    path = tmp_path / "flows"
    with path.open("wb") as file:
        mitm_io.FlowWriter(file).add(tflow.tflow(
            req=http.Request.make("GET", "http://api.example.com/v1/rates"),
            resp=http.Response.make(200, b'{"a": 1}', {"Content-Type": "application/json"})))
    assert guess(path) == "mitmproxy"
    path.write_text('{"log": {"entries": []}}')
    assert guess(path) == "har"
