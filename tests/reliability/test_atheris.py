"""Coverage-guided fuzzing in short form: scripts/fuzz (atheris) on each target, a few
thousand inputs each. Longer runs: ./scripts/fuzz TARGET -max_total_time=600."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris has wheels for Linux x86_64 only")
pytestmark = pytest.mark.slow

FUZZ = Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"
RUNS = 3000


@pytest.mark.parametrize("target", ["cassette", "request", "har", "vcr", "betamax",
                                    "mitmproxy", "chaos-spec"])
def test_a_short_atheris_run_finds_no_crash(target: str) -> None:
    done = subprocess.run([sys.executable, str(FUZZ), target, f"-runs={RUNS}", "-seed=1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {RUNS} runs" in done.stderr
