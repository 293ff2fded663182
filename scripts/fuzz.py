"""Coverage-guided fuzzing with atheris (libFuzzer): recorder's parsers get arbitrary bytes
and only recorder's own errors may escape.

    ./scripts/fuzz TARGET [-runs=N] [-max_total_time=S] [other libFuzzer flags]

Targets: cassette (the cassette reader), request (the replay server's HTTP request path,
bytes fed to a connection as a client would send them), har, vcr, betamax, mitmproxy (the
importers) and chaos-spec. A crash leaves its input in .fuzz/crash-*; run the same target
with that file as an argument to reproduce it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["recorder"]):
    from recorder.cassette.format import CassetteReader
    from recorder.errors import RecorderError
    from recorder.interop.formats import read
    from recorder.model import Interaction, Request, Response
    from recorder.replay.app import ReplayApp, ReplaySettings
    from recorder.replay.chaos import parse_spec
    from recorder.replay.index import MatchConfig, ReplayIndex
    from recorder.replay.server import replies_to

SCRATCH = Path(tempfile.mkdtemp(prefix="recorder-fuzz-")) / "input"


def cassette(data: bytes) -> None:
    SCRATCH.write_bytes(data)
    with contextlib.suppress(RecorderError), CassetteReader(SCRATCH) as reader:
        for _ in reader:
            pass


def importer(fmt: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        SCRATCH.write_bytes(data)
        with contextlib.suppress(RecorderError):
            for _ in read(SCRATCH, fmt):
                pass

    return target


def chaos_spec(data: bytes) -> None:
    with contextlib.suppress(RecorderError):
        parse_spec(data.decode("utf-8", "replace"))


_APP = ReplayApp(ReplayIndex([Interaction(
    Request("GET", "http", "api.example.com", 80, "/v1/rates", "base=EUR"),
    Response(200, "OK", headers=(("Content-Type", "application/json"),), body=b"{}"))],
    MatchConfig()), ReplaySettings())
_LOOP = asyncio.new_event_loop()


def request(data: bytes) -> None:
    """The bytes as a client's stream, cut in two where the first byte says (so requests
    also arrive split across reads); every reply must be HTTP."""
    cut = data[0] % (len(data) + 1) if data else 0
    replies = _LOOP.run_until_complete(replies_to(_APP, [data[1:cut + 1], data[cut + 1:]]))
    for reply in replies:
        if not reply.startswith(b"HTTP/1.1 "):
            raise AssertionError(f"not an HTTP reply: {reply[:60]!r}")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "cassette": cassette, "request": request, "chaos-spec": chaos_spec,
    **{fmt: importer(fmt) for fmt in ("har", "vcr", "betamax", "mitmproxy")},
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: scripts/fuzz TARGET [libFuzzer flags]; targets: {', '.join(TARGETS)}")
    target = TARGETS[sys.argv.pop(1)]
    artifacts = Path(__file__).resolve().parent.parent / ".fuzz"
    artifacts.mkdir(exist_ok=True)
    atheris.Setup([*sys.argv, f"-artifact_prefix={artifacts}/"], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
