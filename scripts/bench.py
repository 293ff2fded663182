"""scripts/bench: every benchmark the issues ask for, medians of several runs, one table.

Each section is a module `bench_*.py` beside this file with `run(quick) -> list[Row]`.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import Row, markdown

SECTIONS = ["format", "capture", "redact", "shapes", "replay", "interop"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and runs")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only these sections (repeatable)")
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.perf_counter()
    for name in args.only or SECTIONS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench_{name}")
        rows.extend(module.run(args.quick))
    print(f"recorder benchmarks — Python {platform.python_version()}, {platform.machine()}, "
          f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - started:.0f} s; "
          "times are medians, ratios are recorder vs the peer measured in the same run\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
