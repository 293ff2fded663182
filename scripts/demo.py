"""scripts/demo: recorder's story end to end on the bundled demo API, on loopback.

Capture (reverse and forward mode) → show (redacted) → normalize → capture again while the
API drifts like production → diff → schema and check → replay to the example client's own
test suite: green on the friendly recording, red on what production really sends, red
under seeded chaos (the silent-settlement bug) and red again from the chaos log.
Everything runs in a scratch directory; nothing leaves the machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from fxclient import FxClient, typical_session  # noqa: E402

from recorder.demo.api import make_server, serve_in_thread  # noqa: E402

console = Console(highlight=False)


def step(title: str) -> None:
    console.print()
    console.print(Rule(f"[bold]{title}", align="left"))


def recorder(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "recorder", *args]
    console.print(f"$ recorder {' '.join(args)}", style="cyan")
    done = subprocess.run(command, env=env, text=True, capture_output=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode not in (0, 1):
        raise SystemExit(f"demo: `recorder {args[0]}` failed with exit {done.returncode}")
    return done


def start_capture(args: list[str], workdir: Path, env: dict[str, str]
                  ) -> tuple[subprocess.Popen[str], str]:
    ready = workdir / f"ready-{time.monotonic_ns()}"
    console.print(f"$ recorder capture {' '.join(args)} &", style="cyan")
    process = subprocess.Popen(
        [sys.executable, "-m", "recorder", "capture", "--listen", "127.0.0.1:0",
         "--ready-file", str(ready), *args],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (ready.exists() and ready.read_text().endswith("\n")):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("demo: recorder capture did not start")
        time.sleep(0.05)
    return process, ready.read_text().strip()


def stop_capture(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    sys.stdout.write(out)


def run_capture(mode_args: list[str], api_url: str | None, workdir: Path,
                env: dict[str, str], proxied: bool = False) -> None:
    process, proxy_url = start_capture(mode_args, workdir, env)
    client = FxClient(api_url, proxy=proxy_url) if proxied and api_url else FxClient(proxy_url)
    for line in typical_session(client):
        console.print(f"  client: {line}")
    stop_capture(process)


def client_tests(replay_args: list[str], workdir: Path, env: dict[str, str]) -> int:
    """Run examples/test_fxclient.py against `recorder replay`; returns pytest's exit code."""
    ready = workdir / f"replay-{time.monotonic_ns()}"
    console.print(f"$ recorder replay {' '.join(replay_args)} &", style="cyan")
    replay = subprocess.Popen(
        [sys.executable, "-m", "recorder", "replay", *replay_args, "--listen", "127.0.0.1:0",
         "--ready-file", str(ready), "-q"], env=env, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (ready.exists() and ready.read_text().endswith("\n")):
        if replay.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("demo: recorder replay did not start")
        time.sleep(0.05)
    url = ready.read_text().strip()
    console.print(f"$ FX_BASE_URL={url} pytest examples/test_fxclient.py", style="cyan")
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
         "-o", "addopts=", str(ROOT / "examples" / "test_fxclient.py")],
        env={**env, "FX_BASE_URL": url}, text=True, capture_output=True, check=False)
    for line in tests.stdout.splitlines():
        if line.startswith("FAILED") or re.match(r"\d+ (passed|failed)", line):
            console.print(f"  {line[:110]}")
    replay.send_signal(signal.SIGINT)
    out, _ = replay.communicate(timeout=30)
    sys.stdout.write(out)
    return tests.returncode


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="recorder-demo-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "RECORDER_HOME": str(workdir / "home"),
               "RECORDER_LIBRARY": str(workdir / "cassettes")}
        api = make_server()
        serve_in_thread(api)
        console.print(f"[bold]recorder demo[/bold]: a currency-conversion API at {api.url} "
                      f"(bundled, local); scratch library in {workdir / 'cassettes'}")

        step("1. capture, reverse mode: the client uses the proxy as its base URL")
        run_capture(["--mode", "reverse", "--upstream", api.url, "--name", "fx"], None,
                    workdir, env)

        step("2. capture, forward mode: the client sets HTTP_PROXY")
        run_capture(["--name", "fx-forward"], api.url, workdir, env, proxied=True)

        step("3. what was recorded: the API key was redacted before it touched disk")
        recorder("show", "fx", env=env)
        shown = recorder("show", "fx", "--json", env=env).stdout
        key_safe = "demo-key-7Hq2mZ4xV9rT1wLp" not in shown
        console.print(f"  API key in the cassette: {'no' if key_safe else 'YES'}",
                      style="green" if key_safe else "bold red")

        step("4. normalize: many interactions, few shapes")
        recorder("normalize", "fx", "fx-forward", "-o", "fx-shapes", env=env)

        step("5. the API drifts like production: numbers as strings, reordered, null")
        api.shutdown()
        api.server_close()
        drifting = make_server(drift=True)
        serve_in_thread(drifting)
        run_capture(["--mode", "reverse", "--upstream", drifting.url, "--name", "fx"], None,
                    workdir, env)
        drifting.shutdown()
        drifting.server_close()

        step("6. diff: what changed, typed, per endpoint (exit 1: a CI gate)")
        drift_found = recorder("diff", "fx", env=env).returncode == 1

        step("7. the contract test: schema from the friendly recording, check the new one")
        schema = workdir / "fx.schema.json"
        recorder("schema", "fx@1", "-o", str(schema), env=env)
        check = recorder("check", "fx@2", "--schema", str(schema), env=env)
        contract_broken = check.returncode == 1

        step("8. replay to the client's own tests: the friendly recording, then reality")
        green = client_tests(["fx@1", "--strict"], workdir, env) == 0
        red = client_tests(["fx@2"], workdir, env) != 0

        step("9. chaos on the friendly recording: production's weather, seeded")
        log = workdir / "chaos.jsonl"
        chaos = ["--chaos", "flip-types=$.amount@1.0,flip-types=$.settled_at@1.0,reorder=0.5",
                 "--seed", "7", "--chaos-log", str(log)]
        chaos_red = client_tests(["fx@1", *chaos], workdir, env) != 0
        console.print(f"  {len(log.read_text().splitlines())} injections logged to {log}")

        step("10. reproduce that failure exactly from its log")
        reproduced = client_tests(["fx@1", "--chaos-replay", str(log)], workdir, env) != 0

        step("done")
        checks = [("secrets redacted before disk", key_safe),
                  ("diff named the drift (exit 1)", drift_found),
                  ("check failed the drifting capture", contract_broken),
                  ("client tests green on the friendly recording", green),
                  ("client tests red on what production sends", red),
                  ("client tests red under chaos: the silent-settlement bug", chaos_red),
                  ("the chaos failure reproduced from its log", reproduced)]
        for what, ok in checks:
            console.print(f"  {'✓' if ok else '✗'} {what}", style="green" if ok else "bold red")
        console.print(
            f"\nShown in {time.monotonic() - started:.0f} s. The client's mocked tests would "
            "have stayed green; recorded reality turned them red before production did.\n"
            "Next, on your own API:\n"
            "  recorder capture --mode reverse --upstream https://sandbox.example.com --name "
            "myapi\n  recorder replay myapi --listen 127.0.0.1:8000 --strict")
        return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
