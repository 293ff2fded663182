"""Failures with nothing lost: a disk that fills up, a library that cannot be written,
repeated `kill -9` of a capture under load."""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import yaml

from recorder.cassette.format import CassetteReader
from recorder.cassette.library import Library
from tests import factories
from tests.harness import CaptureProcess
from tests.upstream import Upstream

pytestmark = pytest.mark.slow


def big_vcr(path: Path, count: int) -> None:
    interactions = [{"request": {"method": "GET", "uri": f"https://api.example.com/v1/tx/{i}",
                                 "headers": {}, "body": None},
                     "response": {"status": {"code": 200, "message": "OK"},
                                  "headers": {"Content-Type": ["application/json"]},
                                  "body": {"string": '{"amount": 9.2, "pad": "' + "x" * 500
                                           + '"}'}}} for i in range(count)]
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))


def library_with_one_version(tmp_path: Path) -> tuple[Library, bytes]:
    """A library holding fx@1, and fx@1's bytes, to check later that it is untouched."""
    lib = Library(tmp_path / "lib")
    _, writer = lib.create("fx", {"kind": "test"})
    with writer:
        writer.append(factories.interaction())
    return lib, lib.resolve("fx@1").read_bytes()


def limited(max_bytes: int) -> None:
    """In the child: files may not grow past max_bytes (a full disk, as far as it can tell)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_a_full_disk_is_a_clear_error_and_existing_versions_are_untouched(
    tmp_path: Path, recorder_home: Path
) -> None:
    lib, before = library_with_one_version(tmp_path)
    source = tmp_path / "big.yaml"
    big_vcr(source, 400)
    done = subprocess.run(
        [sys.executable, "-m", "recorder", "--library", str(tmp_path / "lib"), "import",
         str(source), "-o", "fx"], capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: limited(64 * 1024), check=False)
    assert done.returncode == 1, done.stderr
    assert "cannot write" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert [v.number for v in lib.versions("fx")] == [1]  # the partial version is gone
    assert lib.resolve("fx@1").read_bytes() == before


def test_a_library_that_is_not_a_directory_is_a_clear_error(tmp_path: Path,
                                                             recorder_home: Path) -> None:
    (tmp_path / "lib").write_text("not a directory")
    source = tmp_path / "small.yaml"
    big_vcr(source, 2)
    done = subprocess.run([sys.executable, "-m", "recorder", "--library", str(tmp_path / "lib"),
                           "import", str(source), "-o", "fx"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "is a file" in done.stderr  # bad usage, said at once
    assert "Traceback" not in done.stderr
    assert (tmp_path / "lib").read_text() == "not a directory"


@pytest.mark.parametrize("round_number", range(4))
def test_kill_dash_9_at_a_random_moment_loses_nothing_received(
    tmp_path: Path, recorder_home: Path, upstream: Upstream, round_number: int
) -> None:
    capture = CaptureProcess(["--mode", "reverse", "--upstream", upstream.http_url,
                              "--name", "fx"], tmp_path)
    received: list[str] = []
    stop = threading.Event()

    def client(worker: int) -> None:
        with requests.Session() as session:
            for i in range(2000):
                if stop.is_set():
                    return
                path = f"/v1/tx/{worker}-{i}"
                try:
                    if session.get(capture.url + path, timeout=5).status_code == 200:
                        received.append(path)
                except requests.RequestException:
                    return

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    threading.Event().wait(random.Random(round_number).uniform(0.3, 1.5))
    capture.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    with CassetteReader(Library(tmp_path / "lib").resolve("fx")) as reader:
        on_disk = {i.request.path for i in reader}
        assert reader.damage is None or reader.damage.kind == "torn"
    assert received and set(received) <= on_disk


def _without_root_powers() -> list[str]:
    """A prefix that runs a command without the capabilities that let root ignore file
    modes, so a read-only directory is read-only for it too; [] when not root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be made")
    caps = "-dac_override,-dac_read_search,-fowner"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


def test_a_read_only_library_is_a_clear_error_and_existing_versions_are_untouched(
    tmp_path: Path, recorder_home: Path
) -> None:
    lib, before = library_with_one_version(tmp_path)
    source = tmp_path / "small.yaml"
    big_vcr(source, 2)
    folders = [tmp_path / "lib", lib.resolve("fx@1").parent]
    for folder in folders:
        folder.chmod(0o555)
    try:
        done = subprocess.run(
            [*_without_root_powers(), sys.executable, "-m", "recorder", "--library",
             str(tmp_path / "lib"), "import", str(source), "-o", "fx"],
            capture_output=True, text=True, timeout=60, check=False)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert "error:" in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert [v.number for v in lib.versions("fx")] == [1]
    assert lib.resolve("fx@1").read_bytes() == before
