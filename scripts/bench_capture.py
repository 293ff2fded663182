"""Capture overhead: requests/s through `recorder capture` vs the same mitmproxy with no
addon (`mitmdump`), both in reverse mode, same upstream, same client (wrk), same run."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Row, fast_upstream, free_port, process, ratio_row, wrk_rps

from recorder.cassette.format import CassetteReader
from recorder.redact import Redactor


def run(quick: bool) -> list[Row]:
    seconds = 3 if quick else 8
    rounds = 2 if quick else 3
    mitmdump = str(Path(sys.executable).with_name("mitmdump"))
    ours: list[float] = []
    theirs: list[float] = []
    redact_seconds: list[float] = []  # redaction time per captured interaction
    recorded = 0
    with fast_upstream() as upstream, tempfile.TemporaryDirectory() as tmp:
        for round_number in range(rounds):  # interleaved, so drift in machine load hits both
            port = free_port()
            with process([mitmdump, "-q", "--mode", f"reverse:{upstream}", "--listen-host",
                          "127.0.0.1", "--listen-port", str(port)], port):
                wrk_rps(f"http://127.0.0.1:{port}/warmup", 1, connections=8)
                theirs.append(wrk_rps(f"http://127.0.0.1:{port}/v1/tx", seconds, 8))
            port = free_port()
            out = Path(tmp) / f"capture-{round_number}.cassette"
            with process([sys.executable, "-m", "recorder", "capture", "--mode", "reverse",
                          "--upstream", upstream, "--listen", f"127.0.0.1:{port}", "-o",
                          str(out)], port):
                wrk_rps(f"http://127.0.0.1:{port}/warmup", 1, connections=8)
                ours.append(wrk_rps(f"http://127.0.0.1:{port}/v1/tx", seconds, 8))
            with CassetteReader(out) as reader:
                captured = list(reader)
                recorded += len(captured)
            redactor = Redactor(b"k" * 32)
            started = time.perf_counter()
            for item in captured:
                redactor.interaction(item)
            redact_seconds.append((time.perf_counter() - started) / max(1, len(captured)))
    row = ratio_row("capture throughput (req/s, wrk 8 conns, reverse mode)",
                    statistics.median(ours), statistics.median(theirs), "req/s",
                    "mitmdump, no addon", 0.9, higher_is_better=True, digits=0)
    share = statistics.median(redact_seconds) * statistics.median(ours)
    return [row, Row("capture: interactions written during the capture runs", f"{recorded:,}"),
            Row("capture: redaction's share of capture time (per interaction)",
                f"{share:.1%} ({statistics.median(redact_seconds) * 1e6:.0f} µs)")]
