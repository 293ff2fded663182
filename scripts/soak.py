"""scripts/soak: replay under load and abuse, capture under repeated kill -9. Prints figures.

Everything runs on 127.0.0.1, every loop is bounded in count and time, and it stops by
itself. `--quick` runs a short form (the test suite runs shorter forms still).
"""

from __future__ import annotations

import argparse
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_replay import write_cassette
from benchlib import fast_upstream, free_port, need_wrk, process

RECORDER = [sys.executable, "-m", "recorder"]


IDLE = 5_000  # idle connections held open during the abuse round


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def wrk(url: str, seconds: int, connections: int, threads: int = 2) -> tuple[int, int, float]:
    """(requests, errors, requests/s) as wrk saw them."""
    out = subprocess.run([need_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--timeout", "10s", url], capture_output=True, text=True,
                         check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return total, errors, rate


def replay_soak(seconds: int, tmp: Path) -> list[str]:
    cassette = tmp / "soak.cassette"
    write_cassette(cassette, 10)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/rates"
    lines = []
    with process([*RECORDER, "replay", str(cassette), "--listen", f"127.0.0.1:{port}", "-q"],
                 port) as server:
        wrk(url, 2, 256)  # warm up
        before = rss_kib(server.pid)
        total, errors, rate = wrk(url, seconds, 256)
        after = rss_kib(server.pid)
        lines.append(f"replay soak: {total:,} requests at 256 connections in {seconds} s "
                     f"({rate:,.0f} req/s), {errors} errors; server RSS {before / 1024:.1f} → "
                     f"{after / 1024:.1f} MiB")
        lines.append(abuse(port, url))
    return lines


def abuse(port: int, url: str) -> str:
    """Idle connections, slow clients and garbage, while a well-behaved client is served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    idle, slow = [], []
    for _ in range(IDLE):
        idle.append(socket.create_connection(("127.0.0.1", port)))
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /v1/rates HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
        slow.append(sock)
    garbage_answers = []
    for junk in (b"\x00\xff" * 500 + b"\r\n\r\n", b"GET / HTTP/1.1\r\nX: " + b"a" * 1_048_576,
                 b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            try:
                sock.sendall(junk)
                first = sock.recv(100).split(b"\r\n")[0].decode()
                garbage_answers.append(first or "closed by the server")
            except OSError as exc:
                garbage_answers.append(f"closed ({exc.__class__.__name__})")
    total, errors, _ = wrk(url, 3, 16, 1)
    for sock in idle + slow:
        sock.close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return (f"abuse: {IDLE:,} idle and 50 never-finished connections held open, garbage → "
            f"{'; '.join(garbage_answers)}; meanwhile a well-behaved client made {total:,} "
            f"requests with {errors} errors")


def kill_rounds(rounds: int, tmp: Path) -> str:
    survived = 0
    received_total = 0
    with fast_upstream() as upstream:
        for round_number in range(rounds):
            ready = tmp / f"ready-{round_number}"
            lib = tmp / f"lib-{round_number}"
            proc = subprocess.Popen([*RECORDER, "--library", str(lib), "capture", "--mode",
                                     "reverse", "--upstream", upstream, "--listen",
                                     "127.0.0.1:0", "--ready-file", str(ready), "--name", "fx"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while not (ready.exists() and ready.read_text().endswith("\n")):
                if time.monotonic() > deadline:
                    raise SystemExit("capture did not start")
                time.sleep(0.02)
            url = ready.read_text().strip()
            received: list[str] = []
            stop = threading.Event()

            def client(worker: int, url: str = url, received: list[str] = received,
                       stop: threading.Event = stop) -> None:
                import urllib.request

                for i in range(100_000):
                    if stop.is_set():
                        return
                    path = f"/v1/tx/{worker}-{i}"
                    try:
                        with urllib.request.urlopen(url + path, timeout=5) as answer:
                            answer.read()
                        received.append(path)
                    except OSError:
                        return

            threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
            for thread in threads:
                thread.start()
            time.sleep(0.2 + (round_number % 7) * 0.15)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            for thread in threads:
                thread.join(10)
            done = subprocess.run([*RECORDER, "--library", str(lib), "show", "fx", "--json"],
                                  capture_output=True, text=True, check=True)
            on_disk = set(re.findall(r'"path": "(/v1/tx/[^"]+)"', done.stdout))
            received_total += len(received)
            survived += set(received) <= on_disk
    return (f"capture kill -9: {rounds} kills at varied moments under 4 clients; "
            f"{received_total:,} responses received, all on disk in {survived} of {rounds} "
            "rounds; every cassette read")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        lines = replay_soak(8 if args.quick else 40, tmp)
        lines.append(kill_rounds(3 if args.quick else 20, tmp))
    for line in lines:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
