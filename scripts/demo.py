"""scripts/demo: capture real traffic from the bundled demo API and look at it.

Everything runs on loopback in a scratch directory: the demo API, `recorder capture` in
reverse and forward mode, the example client of examples/fxclient.py, `recorder show`.
"""

from __future__ import annotations

import os
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
        process, proxy_url = start_capture(["--mode", "reverse", "--upstream", api.url,
                                            "--name", "fx"], workdir, env)
        for line in typical_session(FxClient(proxy_url)):
            console.print(f"  client: {line}")
        stop_capture(process)

        step("2. capture, forward mode: the client sets HTTP_PROXY")
        process, proxy_url = start_capture(["--name", "fx"], workdir, env)
        for line in typical_session(FxClient(api.url, proxy=proxy_url)):
            console.print(f"  client: {line}")
        stop_capture(process)

        step("3. what was recorded (the API key is redacted before it touched disk)")
        recorder("ls", env=env)
        recorder("show", "fx", env=env)
        shown = recorder("show", "fx@1", "-v", env=env).stdout
        key_safe = "demo-key-7Hq2mZ4xV9rT1wLp" not in shown
        console.print(f"  API key in the cassette: {'no' if key_safe else 'YES'}",
                      style="green" if key_safe else "bold red")

        api.shutdown()
        api.server_close()
        step("done")
        console.print(
            f"Shown in {time.monotonic() - started:.0f} s: capture in reverse and forward "
            "mode into versioned, redacted cassettes, and `recorder show`.\n"
            "Next, on your own API:  recorder capture --mode reverse --upstream "
            "https://api.example.com --name myapi"
        )
        return 0 if key_safe else 1


if __name__ == "__main__":
    sys.exit(main())
