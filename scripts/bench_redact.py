"""Redaction: throughput on JSON bodies, the false-positive rate on the benign corpus, and
detection on the secret corpus (tests/redact/corpus.py). Its share of capture time is
measured in the capture section, on the very interactions that run captured."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from benchlib import Row

from recorder.model import Interaction, Request, Response
from recorder.redact import Redactor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.redact.corpus import BENIGN, CORPUS


def body(i: int) -> bytes:
    """A realistic ~4 KB API response: nested objects, lists, ids, dates, one token."""
    items = [{"sku": f"SKU-{i}-{n}", "qty": n, "price": 9.99 + n, "name": f"Widget {n}",
              "updated": "2026-11-24T09:00:00Z", "tags": ["blue", "large"]} for n in range(15)]
    return json.dumps({"id": f"ord_{i:08d}", "status": "settled", "currency": "EUR",
                       "customer": {"id": f"cus_{i % 977}", "email": "jane@example.com"},
                       "items": items, "access_token": f"tok_{i:032d}",
                       "note": "thanks for your order"}).encode()


def interaction(i: int) -> Interaction:
    return Interaction(
        Request("GET", "https", "api.example.com", 443, f"/v1/orders/{i}", "expand=items",
                headers=(("Authorization", f"Bearer tok-{i:030d}"),
                         ("Accept", "application/json"))),
        Response(200, "OK", headers=(("Content-Type", "application/json"),), body=body(i)))


def run(quick: bool) -> list[Row]:
    count = 2_000 if quick else 10_000
    items = [interaction(i) for i in range(count)]
    megabytes = sum(len(i.response.body) for i in items if i.response) / 1e6
    times = []
    for _ in range(3 if quick else 5):
        redactor = Redactor(b"k" * 32)  # a fresh one: its caches start cold every run
        started = time.perf_counter()
        for item in items:
            redactor.interaction(item)
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    benign = Redactor(b"k" * 32)
    false_positives = sum(
        bool(benign.findings(Interaction(
            Request("GET", "https", "h", 443, "/", f"v={value}", headers=(("X-Value", value),)),
            Response(200, "OK", headers=(("Content-Type", "application/json"),),
                     body=json.dumps({"value": value}).encode()))))
        for _, value in BENIGN)
    return [
        Row(f"redaction throughput ({count:,} JSON bodies of ~{megabytes / count * 1e3:.1f} KB)",
            f"{megabytes / seconds:.1f} MB/s ({count / seconds:,.0f} interactions/s)"),
        Row("redaction false positives on the benign corpus",
            f"{false_positives} of {len(BENIGN)} ({false_positives / len(BENIGN):.0%})",
            target="0", verdict="met" if false_positives == 0 else "MISSED"),
        Row("secret corpus kinds (each found by `recorder scan` unredacted, none left after "
            "capture: tests/redact)", f"{len({p.kind for p in CORPUS})} kinds",
            target="≥ 30", verdict="met" if len({p.kind for p in CORPUS}) >= 30 else "MISSED"),
    ]
