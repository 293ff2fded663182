"""Small helpers for scripts/bench: medians of repeated runs, child-process memory, tables."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls of fn (the machine is noisy: never a single run)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_peak_kib(code: str) -> int:
    """Peak Python heap (KiB, tracemalloc) of a fresh child while it runs `code`.

    Measured in a child so nothing the benchmark itself holds is counted; imports happen
    before tracing starts, so the figure is what `code` allocated at its peak.
    """
    script = (
        "import tracemalloc, recorder.cassette.format, recorder.cassette.library\n"
        "tracemalloc.start()\n"
        f"{code}\n"
        "print(tracemalloc.get_traced_memory()[1] // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    benchmark: str
    recorder: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def ratio_row(benchmark: str, ours: float, theirs: float, unit: str, peer: str,
              target: float | None, higher_is_better: bool, digits: int = 3) -> Row:
    """A row comparing two medians; the ratio always reads 'recorder is N× better'."""
    ratio = theirs / ours if not higher_is_better else ours / theirs
    verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
    return Row(
        benchmark,
        f"{ours:,.{digits}f} {unit}",
        f"{theirs:,.{digits}f} {unit} ({peer})",
        f"{ratio:,.2f}×" if ratio < 10 else f"{ratio:,.1f}×",
        "" if target is None else f"≥ {target:g}×",
        verdict,
    )


def markdown(rows: list[Row]) -> str:
    header = "| benchmark | recorder | peer | ratio | target | |\n|---|---:|---:|---:|---:|---|"
    lines = [
        f"| {r.benchmark} | {r.recorder} | {r.peer} | {r.ratio} | {r.target} | {r.verdict} |"
        for r in rows
    ]
    return "\n".join([header, *lines])


import contextlib  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent


def need_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("installing wrk (Debian package) ...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("scripts/bench needs wrk: apt-get install wrk")
    return wrk


def wrk_rps(url: str, seconds: float, connections: int = 32, threads: int = 1,
            script: Path | None = None) -> float:
    """Requests per second that wrk measured; non-2xx/3xx answers are a failed benchmark."""
    extra = ["-s", str(script)] if script is not None else []
    done = subprocess.run(
        [need_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", *extra, url],
        capture_output=True, text=True, check=True,
    )
    if "Non-2xx or 3xx responses" in done.stdout or "Socket errors" in done.stdout:
        raise SystemExit(f"wrk saw errors against {url}:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if match is None:
        raise SystemExit(f"cannot read wrk's output:\n{done.stdout}")
    return float(match.group(1))


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def process(args: list[str], port: int | None = None) -> Iterator[subprocess.Popen[str]]:
    """A background process for the length of a benchmark, stopped with SIGINT."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if port is not None:
            wait_for_port(port)
        yield proc
    finally:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def fast_upstream() -> Iterator[str]:
    with process([sys.executable, str(HERE / "bench_upstream.py")]) as proc:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"


_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def run_measured(args: list[str]) -> tuple[float, int]:
    """Run a command; return its wall time (s) and peak RSS (KiB).

    The command runs under a small wrapper process: a child forked straight from this
    (large) benchmark process would have this process's pages counted in its peak RSS.
    """
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    code, peak = (int(x) for x in done.stdout.split())
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({code}): {done.stderr}")
    return elapsed, peak
