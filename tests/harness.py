"""Run long-running `recorder` commands (capture, replay) as a user would: a subprocess,
a ready file, a signal to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


class RecorderProcess:
    command = "capture"

    def __init__(self, args: list[str], workdir: Path) -> None:
        self.ready_file = workdir / f"ready-{time.monotonic_ns()}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "recorder", "--library", str(workdir / "lib"), self.command,
             "--listen", "127.0.0.1:0", "--ready-file", str(self.ready_file), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.url = self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists() and self.ready_file.read_text().endswith("\n"):
                return self.ready_file.read_text().strip()
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise AssertionError(f"{self.command} exited early "
                                     f"({self.process.returncode}): {err}")
            time.sleep(0.05)
        self.process.kill()
        raise AssertionError(f"{self.command} did not become ready")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 30) -> Finished:
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=timeout)
        return Finished(self.process.returncode, out, err)

    def kill9(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=30)


class CaptureProcess(RecorderProcess):
    command = "capture"


class ReplayProcess(RecorderProcess):
    command = "replay"

    def wait(self, timeout: float = 30) -> Finished:
        out, err = self.process.communicate(timeout=timeout)
        return Finished(self.process.returncode, out, err)


class ProxyProcess(RecorderProcess):
    command = "proxy"


def run_cli(command: str, args: list[str], workdir: Path, timeout: float = 60) -> Finished:
    done = subprocess.run(
        [sys.executable, "-m", "recorder", "--library", str(workdir / "lib"), command, *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    return Finished(done.returncode, done.stdout, done.stderr)
