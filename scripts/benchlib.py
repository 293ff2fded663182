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
              target: float | None, higher_is_better: bool) -> Row:
    """A row comparing two medians; the ratio always reads 'recorder is N× better'."""
    ratio = theirs / ours if not higher_is_better else ours / theirs
    verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
    return Row(
        benchmark,
        f"{ours:,.3f} {unit}",
        f"{theirs:,.3f} {unit} ({peer})",
        f"{ratio:,.1f}×",
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
