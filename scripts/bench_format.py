"""Cassette format: write and streaming read of N small-JSON interactions, read memory,
and the same interactions loaded by vcrpy from its own YAML cassette."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchlib import Row, child_peak_kib, median_seconds, ratio_row

from recorder.cassette.format import CassetteReader, CassetteWriter
from recorder.model import Interaction, Request, Response, Timing


def sample(i: int) -> Interaction:
    body = json.dumps({"id": f"tx_{i}", "amount": 9.2 + i % 100, "currency": "EUR",
                       "status": "settled", "created": "2026-11-24T01:00:00Z"}).encode()
    return Interaction(
        request=Request("GET", "https", "api.example.com", 443, f"/v1/transactions/{i}",
                        "expand=fees", headers=(("Host", "api.example.com"),
                                                ("Accept", "application/json"),
                                                ("User-Agent", "bench/1.0"))),
        response=Response(200, "OK", headers=(("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body))),
                                              ("Date", "Tue, 24 Nov 2026 01:00:00 GMT")),
                          body=body),
        seq=i,
        timing=Timing(1_700_000_000.0 + i, 0.01, 0.012),
    )


def write_recorder(path: Path, n: int) -> None:
    path.unlink(missing_ok=True)
    with CassetteWriter.create(path, {"kind": "bench"}) as writer:
        for i in range(n):
            writer.append(sample(i))


def read_recorder(path: Path) -> int:
    with CassetteReader(path) as reader:
        return sum(1 for _ in reader)


def write_vcrpy(path: Path, n: int) -> None:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.request import Request as VcrRequest
    from vcr.serializers import yamlserializer

    requests, responses = [], []
    for i in range(n):
        item = sample(i)
        assert item.response is not None
        requests.append(VcrRequest(item.request.method, item.request.url, None,
                                   dict(item.request.headers)))
        responses.append({
            "status": {"code": item.response.status, "message": item.response.reason},
            "headers": {k: [v] for k, v in item.response.headers},
            "body": {"string": item.response.body},
        })
    FilesystemPersister.save_cassette(path, {"requests": requests, "responses": responses},
                                      yamlserializer)


def read_vcrpy(path: Path) -> int:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    requests, _responses = FilesystemPersister.load_cassette(path, yamlserializer)
    return len(requests)


def run(quick: bool) -> list[Row]:
    rows = []
    sizes = [10_000] if quick else [10_000, 100_000]
    runs = 3 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            ours, theirs = Path(tmp) / f"{n}.cassette", Path(tmp) / f"{n}.yaml"
            write_s = median_seconds(lambda: write_recorder(ours, n), runs)  # noqa: B023
            write_vcrpy(theirs, n)
            assert read_recorder(ours) == n == read_vcrpy(theirs)
            read_s = median_seconds(lambda: read_recorder(ours), runs)  # noqa: B023
            vcr_runs = runs if n <= 10_000 else 3
            vcr_s = median_seconds(lambda: read_vcrpy(theirs), vcr_runs)  # noqa: B023
            size_mib = ours.stat().st_size / 2**20
            rows.append(Row(f"write {n:,} interactions", f"{write_s:.3f} s "
                            f"({n / write_s:,.0f}/s, {size_mib:.1f} MiB)"))
            rows.append(ratio_row(f"read {n:,} interactions (vs vcrpy YAML load)", read_s,
                                  vcr_s, "s", "vcrpy", 50, higher_is_better=False))
            peak = child_peak_kib(
                "from recorder.cassette.format import CassetteReader\n"
                f"with CassetteReader({str(ours)!r}) as r:\n    n = sum(1 for _ in r)"
            )
            rows.append(Row(f"read {n:,}: peak Python heap", f"{peak / 1024:.2f} MiB"))
    return rows
