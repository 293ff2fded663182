"""Replay throughput with wrk (32 connections, small JSON), all in one run: recorder direct
mode, recorder proxy mode, mitmproxy's server replay and WireMock 3 standalone (the npm
package `wiremock` bundles its jar; Java runs it). Plus how fast a 100,000-interaction
cassette is ready to serve, and whether it serves as fast as a 10-interaction one."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import HERE, Row, free_port, process, ratio_row, wrk_rps

from recorder.cassette.format import CassetteWriter
from recorder.model import Interaction, Request, Response, Timing

HOST = "api.example.com"
BODY = json.dumps({"id": "tx_1", "amount": 9.2, "currency": "EUR", "status": "settled"})
RECORDER = [sys.executable, "-m", "recorder"]


def interaction(path: str, seq: int) -> Interaction:
    return Interaction(
        Request("GET", "http", HOST, 80, path, "", headers=(("Host", HOST),)),
        Response(200, "OK", headers=(("Content-Type", "application/json"),),
                 body=BODY.encode()), seq=seq, timing=Timing(1_700_000_000.0 + seq, 0.01, 0.02))


def write_cassette(path: Path, n: int) -> None:
    with CassetteWriter.create(path, {"kind": "bench"}) as writer:
        writer.append(interaction("/v1/rates", 0))
        for i in range(1, n):
            writer.append(interaction(f"/v1/tx/{i}", i))


def write_mitm_flows(path: Path) -> None:
    from mitmproxy import http, io
    from mitmproxy.test import tflow

    flow = tflow.tflow(req=http.Request.make("GET", f"http://{HOST}/v1/rates"),
                       resp=http.Response.make(200, BODY, {"Content-Type": "application/json"}))
    with path.open("wb") as file:
        io.FlowWriter(file).add(flow)


def wiremock_jar() -> Path | None:
    """Install the npm `wiremock` package into .bench/ once; None if npm or java is missing."""
    if shutil.which("npm") is None or shutil.which("java") is None:
        return None
    folder = HERE.parent / ".bench" / "wiremock"
    jars = list(folder.glob("node_modules/wiremock/build/wiremock-standalone-*.jar"))
    if not jars:
        folder.mkdir(parents=True, exist_ok=True)
        print("installing wiremock@3 from npm into .bench/ ...", file=sys.stderr)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(folder), "wiremock@3"], check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        jars = list(folder.glob("node_modules/wiremock/build/wiremock-standalone-*.jar"))
    return jars[0] if jars else None


def measure(args: list[str], url: str, seconds: float, port: int,
            script: Path | None = None) -> float:
    with process(args, port):
        wrk_rps(url, 1, 32, script=script)  # connections open, caches filled
        return wrk_rps(url, seconds, 32, script=script)


def replay_rps(cassette: Path, seconds: float, *extra: str, script: Path | None = None
               ) -> float:
    """`recorder replay` on a free port under wrk; a script means proxy requests (the
    script sets absolute-form targets), else the base URL's /v1/rates."""
    port = free_port()
    return measure([*RECORDER, "replay", str(cassette), "--listen", f"127.0.0.1:{port}", "-q",
                    *extra], f"http://127.0.0.1:{port}" + ("/" if script else "/v1/rates"),
                   seconds, port, script=script)


def wiremock_cold_and_warm(args: list[str], url: str, seconds: float, port: int
                           ) -> tuple[float, float]:
    """WireMock is a JVM: it starts slow and its JIT makes it several times faster over the
    first ~20 s under load. Cold: its first `seconds` after start (what a short CI job
    meets). Warm: after at least 20 s of load, once two 2 s rounds in a row agree within
    10 % (at most 60 s), the figure a long-running mock server reaches."""
    with process(args, port):
        cold = wrk_rps(url, seconds, 32)
        previous, started = 0.0, time.monotonic()
        while time.monotonic() - started < 60:
            current = wrk_rps(url, 2, 32)
            if time.monotonic() - started >= 20 and abs(current - previous) <= 0.1 * previous:
                break
            previous = current
        return cold, wrk_rps(url, seconds, 32)


def ready_seconds(cassette: Path, tmp: Path) -> float:
    """Seconds from `recorder replay` starting to its ready file appearing."""
    ready = tmp / f"ready-{time.monotonic_ns()}"
    started = time.perf_counter()
    proc = subprocess.Popen([*RECORDER, "replay", str(cassette), "--listen", "127.0.0.1:0",
                             "--ready-file", str(ready), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready.exists():
            if proc.poll() is not None:
                raise SystemExit("recorder replay exited before it was ready")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        proc.send_signal(2)
        proc.wait(30)


def run(quick: bool) -> list[Row]:
    seconds, rounds = (3, 1) if quick else (6, 3)
    results: dict[str, list[float]] = {k: [] for k in ("direct", "direct100k", "proxy", "mitm",
                                                       "wiremock", "wiremock_cold", "chaos")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small, big = tmp / "small.cassette", tmp / "big.cassette"
        write_cassette(small, 10)
        write_cassette(big, 100_000)
        flows = tmp / "flows.mitm"
        write_mitm_flows(flows)
        absolute = tmp / "absolute.lua"  # proxies need absolute-form request targets
        absolute.write_text(f'wrk.path = "http://{HOST}/v1/rates"\nwrk.headers["Host"] = '
                            f'"{HOST}"\n')
        jar = wiremock_jar()
        mappings = tmp / "wiremock" / "mappings"
        mappings.mkdir(parents=True)
        (mappings / "rates.json").write_text(json.dumps({
            "request": {"method": "GET", "url": "/v1/rates"},
            "response": {"status": 200, "body": BODY,
                         "headers": {"Content-Type": "application/json"}}}))
        mitmdump = str(Path(sys.executable).with_name("mitmdump"))
        for _ in range(rounds):  # interleaved, so drift in machine load hits every subject
            results["direct"].append(replay_rps(small, seconds))
            results["chaos"].append(replay_rps(
                small, seconds, "--chaos", "flip-types=0.5,reorder=0.5", "--seed", "1",
                "--chaos-log", str(tmp / "chaos.jsonl")))
            results["direct100k"].append(replay_rps(big, seconds))
            results["proxy"].append(replay_rps(small, seconds, "--mode", "proxy",
                                               script=absolute))
            port = free_port()
            results["mitm"].append(measure(
                [mitmdump, "-q", "--mode", f"reverse:http://{HOST}", "--listen-host",
                 "127.0.0.1", "--listen-port", str(port), "--server-replay", str(flows),
                 "--set", "server_replay_reuse=true", "--set", "connection_strategy=lazy",
                 "--set", "server_replay_extra=kill"],
                f"http://127.0.0.1:{port}/v1/rates", seconds, port))
            if jar is not None:
                port = free_port()
                cold, warm = wiremock_cold_and_warm(
                    ["java", "-jar", str(jar), "--port", str(port), "--root-dir",
                     str(tmp / "wiremock"), "--disable-banner", "--no-request-journal"],
                    f"http://127.0.0.1:{port}/v1/rates", seconds, port)
                results["wiremock_cold"].append(cold)
                results["wiremock"].append(warm)
        ready = statistics.median(ready_seconds(big, tmp) for _ in range(rounds))
    med = {k: statistics.median(v) for k, v in results.items() if v}
    rows = [Row("replay direct mode (req/s, wrk 32 conns)", f"{med['direct']:,.0f} req/s",
                target="≥ 10,000 req/s",
                verdict="met" if med["direct"] >= 10_000 else "MISSED")]
    if "wiremock" in med:
        rows.append(ratio_row("replay direct vs WireMock 3 standalone, JIT warmed up",
                              med["direct"], med["wiremock"], "req/s", "WireMock", 10, True,
                              digits=0))
        rows.append(ratio_row(f"replay direct vs WireMock 3 standalone, its first {seconds} s",
                              med["direct"], med["wiremock_cold"], "req/s", "WireMock", None,
                              True, digits=0))
    else:
        rows.append(Row("replay direct vs WireMock", "not measured: npm or java missing"))
    rows.append(ratio_row("replay direct vs mitmdump --server-replay", med["direct"],
                          med["mitm"], "req/s", "mitmproxy", 30, True, digits=0))
    rows.append(Row("replay with chaos on (flip-types and reorder at 0.5) vs chaos off",
                    f"{med['chaos']:,.0f} req/s ({med['chaos'] / med['direct']:.2f}×)",
                    target="≥ 0.5×",
                    verdict="met" if med["chaos"] >= 0.5 * med["direct"] else "MISSED"))
    rows.append(ratio_row("replay proxy mode vs mitmdump --server-replay", med["proxy"],
                          med["mitm"], "req/s", "mitmproxy", 3, True, digits=0))
    rows.append(Row("100,000-interaction cassette: ready to serve (process start → ready)",
                    f"{ready:.2f} s", target="< 2 s", verdict="met" if ready < 2 else "MISSED"))
    share = med["direct100k"] / med["direct"]
    rows.append(Row("100,000-interaction cassette: throughput vs a 10-interaction one",
                    f"{med['direct100k']:,.0f} req/s ({share:.0%})", target="≥ 90 %",
                    verdict="met" if share >= 0.9 else "MISSED"))
    return rows


