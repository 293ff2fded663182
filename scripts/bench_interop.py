"""A large import: 10,000 interactions of VCR.py YAML (written by vcrpy itself) through the
whole `recorder import` command, next to vcrpy loading the same file."""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench_format import read_vcrpy, write_vcrpy
from benchlib import Row, median_seconds, ratio_row, run_measured


def run(quick: bool) -> list[Row]:
    n = 2_000 if quick else 10_000
    runs = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "vcr.yaml"
        write_vcrpy(source, n)
        times = []
        for attempt in range(runs):
            out = Path(tmp) / f"imported-{attempt}.cassette"
            seconds, _ = run_measured([sys.executable, "-m", "recorder", "import", str(source),
                                       "-o", str(out)])
            times.append(seconds)
        vcrpy = median_seconds(lambda: read_vcrpy(source), runs)
    ours = statistics.median(times)
    return [ratio_row(f"import {n:,} VCR.py YAML interactions (whole command, redacted) vs "
                      "vcrpy loading the file", ours, vcrpy, "s", "vcrpy load", None,
                      higher_is_better=False)]
