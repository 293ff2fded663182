"""normalize throughput and peak memory for 100,000 interactions; diff time for two such
cassettes (the second drifted like production)."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

from benchlib import Row, run_measured

from recorder.cassette.format import CassetteWriter
from recorder.model import Interaction, Request, Response, Timing

ENDPOINTS = 25


def sample(i: int, drift: bool) -> Interaction:
    endpoint = i % ENDPOINTS
    amount: object = round(9.2 + i % 1000, 2)
    if drift and i % 7 == 0:
        amount = f"{amount:.2f}"
    body = {"id": f"tx_{i}", "amount": amount, "currency": "EUR", "status": "settled",
            "created": "2026-11-24T01:00:00Z", "items": [{"sku": f"S{i % 50}", "qty": i % 5}],
            "customer": {"id": f"cus_{i % 977}", "email": None if i % 11 else "a@b.c"}}
    if i % 13 == 0:
        body["note"] = "odd one"
    raw = json.dumps(body).encode()
    return Interaction(
        Request("GET", "https", "api.example.com", 443, f"/v1/e{endpoint}/tx/{i}", "",
                headers=(("Accept", "application/json"),)),
        Response(200, "OK", headers=(("Content-Type", "application/json"),), body=raw),
        seq=i, timing=Timing(1_700_000_000.0 + i, 0.01, 0.012),
    )


def write(path: Path, n: int, drift: bool) -> int:
    size = 0
    with CassetteWriter.create(path, {"kind": "bench"}) as writer:
        for i in range(n):
            item = sample(i, drift)
            assert item.response is not None
            size += len(item.response.body)
            writer.append(item)
    return size


def run(quick: bool) -> list[Row]:
    n = 20_000 if quick else 100_000
    runs = 1 if quick else 3
    recorder = [sys.executable, "-m", "recorder"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old.cassette", Path(tmp) / "new.cassette"
        body_bytes = write(old, n, drift=False)
        write(new, n, drift=True)
        times, peaks = [], []
        for attempt in range(runs):
            out = Path(tmp) / f"norm-{attempt}.cassette"
            elapsed, peak = run_measured([*recorder, "normalize", str(old), "-o", str(out)])
            times.append(elapsed)
            peaks.append(peak)
        median = statistics.median(times)
        rows.append(Row(f"normalize {n:,} interactions (whole command)",
                        f"{median:.2f} s ({n / median:,.0f}/s, "
                        f"{body_bytes / median / 2**20:.1f} MB/s of bodies)"))
        peak_mib = max(peaks) / 1024
        rows.append(Row(f"normalize {n:,}: peak memory (RSS)", f"{peak_mib:.0f} MiB",
                        target="< 300 MB", verdict="met" if peak_mib < 286 else "MISSED"))
        diff_times = [run_measured([*recorder, "diff", str(old), str(new), "--json"])[0]
                      for _ in range(runs)]
        rows.append(Row(f"diff two {n:,}-interaction cassettes (whole command)",
                        f"{statistics.median(diff_times):.2f} s"))
    return rows
