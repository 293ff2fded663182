"""Run mitmproxy in-process with the capture addon until Ctrl-C, SIGTERM, a duration or a
flow count says stop. Reports through callbacks; never prints."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mitmproxy import exceptions, flowfilter, options
from mitmproxy.addons import default_addons
from mitmproxy.master import Master

from recorder.capture.addon import DEFAULT_MAX_BODY, CaptureAddon, CaptureStats
from recorder.capture.ca import ca_dir, ensure_ca, upstream_trust_bundle
from recorder.cassette.format import CassetteWriter
from recorder.errors import RecorderError, UsageError
from recorder.redact import Redactor


@dataclass
class ProxySettings:
    """How the mitmproxy in front of the API is set up (shared by capture and, later, proxy)."""

    mode: str = "forward"  # or "reverse"
    upstream: str | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    upstream_ca: Path | None = None
    insecure: bool = False

    def mitmproxy_mode(self) -> str:
        if self.mode == "forward":
            if self.upstream:
                raise UsageError("--upstream is for --mode reverse",
                                 "in forward mode clients choose the host; drop --upstream")
            return "regular"
        if not self.upstream:
            raise UsageError("--mode reverse needs --upstream URL",
                             "e.g. --upstream https://api.example.com")
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--upstream {self.upstream!r} is not an http(s) URL",
                             "e.g. --upstream https://api.example.com")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise UsageError(f"--upstream {self.upstream!r}: {exc}",
                             "e.g. --upstream https://api.example.com:8443") from exc
        return f"reverse:{self.upstream}"

    def options(self) -> options.Options:
        ensure_ca()
        opts = options.Options(
            mode=[self.mitmproxy_mode()],
            listen_host=self.listen_host,
            listen_port=self.listen_port,
            confdir=str(ca_dir()),
            ssl_insecure=self.insecure,
        )
        if self.upstream_ca is not None:
            opts.update(ssl_verify_upstream_trusted_ca=str(upstream_trust_bundle(self.upstream_ca)))
        return opts


@dataclass
class CaptureResult:
    stats: CaptureStats
    seconds: float
    stopped_by: str
    address: tuple[str, int]


@dataclass
class CaptureHooks:
    """What the caller (the CLI) wants to hear about while the capture runs."""

    ready: Callable[[tuple[str, int]], None] = lambda address: None
    tick: Callable[[CaptureStats], None] = lambda stats: None
    log: Callable[[str, str], None] = lambda level, message: None
    tick_seconds: float = 0.5


def check_filter(expression: str | None) -> None:
    if expression:
        try:
            flowfilter.parse(expression)
        except ValueError as exc:
            raise UsageError(
                f"invalid --filter {expression!r}: {exc}",
                "use mitmproxy filter expressions, e.g. '~d api.example.com & !~u /health'",
            ) from exc


class _LogRelay(logging.Handler):
    def __init__(self, relay: Callable[[str, str], None]) -> None:
        super().__init__(logging.WARNING)
        self.relay = relay

    def emit(self, record: logging.LogRecord) -> None:
        self.relay(record.levelname.lower(), record.getMessage())


@dataclass
class StopSignal:
    """Why and when a running proxy should stop; the first reason wins."""

    reason: str = ""
    fatal: RecorderError | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason
            self.event.set()

    def fail(self, error: RecorderError) -> None:
        self.fatal = error
        self.request("error")


def run_capture(
    settings: ProxySettings,
    writer: CassetteWriter,
    redactor: Redactor,
    *,
    filter_expression: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    duration: float | None = None,
    max_flows: int | None = None,
    hooks: CaptureHooks | None = None,
) -> CaptureResult:
    check_filter(filter_expression)
    hooks = hooks or CaptureHooks()
    opts = settings.options()
    return asyncio.run(_capture(opts, settings, writer, redactor, filter_expression, max_body,
                                duration, max_flows, hooks))


async def _capture(
    opts: options.Options, settings: ProxySettings, writer: CassetteWriter,
    redactor: Redactor, filter_expression: str | None, max_body: int,
    duration: float | None, max_flows: int | None, hooks: CaptureHooks,
) -> CaptureResult:
    stop = StopSignal()

    def on_record(stats: CaptureStats) -> None:
        if max_flows is not None and stats.flows >= max_flows:
            stop.request("max-flows")

    addon = CaptureAddon(writer, redactor, on_record=on_record, on_fatal=stop.fail)
    started = time.monotonic()
    address = await run_mitmproxy(
        opts, [addon], settings, stop, hooks, duration,
        {"recorder_filter": filter_expression or "", "recorder_max_body": max_body},
        tick=lambda: hooks.tick(addon.stats),
    )
    if stop.fatal is not None:
        raise stop.fatal
    return CaptureResult(addon.stats, time.monotonic() - started, stop.reason, address)


async def run_mitmproxy(
    opts: options.Options,
    addons: list[object],
    settings: ProxySettings,
    stop: StopSignal,
    hooks: CaptureHooks,
    duration: float | None = None,
    addon_options: dict[str, object] | None = None,
    tick: Callable[[], None] = lambda: None,
) -> tuple[str, int]:
    """Run mitmproxy with `addons` until `stop` is requested (Ctrl-C, SIGTERM, `duration`
    or the addons themselves); returns the address it listened on."""
    loop = asyncio.get_running_loop()
    master = Master(opts, event_loop=loop)
    master.addons.add(*default_addons())
    master.addons.add(*addons)
    if addon_options:
        master.options.update(**addon_options)
    relay = _LogRelay(hooks.log)
    watched = [logging.getLogger("mitmproxy"), logging.getLogger("recorder")]
    for logger in watched:
        logger.addHandler(relay)
        logger.propagate = False
    run = asyncio.create_task(master.run())
    try:
        address = await _wait_until_listening(master, run, settings)
        hooks.ready(address)
        for sig, reason in ((signal.SIGINT, "interrupt"), (signal.SIGTERM, "sigterm")):
            loop.add_signal_handler(sig, stop.request, reason)
        if duration is not None:
            loop.call_later(duration, stop.request, "duration")
        while not stop.event.is_set():
            try:
                await asyncio.wait_for(stop.event.wait(), hooks.tick_seconds)
            except TimeoutError:
                tick()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        master.shutdown()
        await run
        for logger in watched:
            logger.removeHandler(relay)
            logger.propagate = True
    return address


async def _wait_until_listening(
    master: Master, run: asyncio.Task[None], settings: ProxySettings
) -> tuple[str, int]:
    """Wait for mitmproxy's servers; a port in use or a bad address is a RecorderError."""
    proxyserver = master.addons.get("proxyserver")
    for _ in range(200):
        if run.done():
            break
        servers = list(proxyserver.servers)
        failed = [s for s in servers if s.last_exception is not None]
        if failed:
            raise RecorderError(
                f"cannot listen on {settings.listen_host}:{settings.listen_port}: "
                f"{failed[0].last_exception}",
                "choose another port with --listen HOST:PORT (port 0 picks a free one)",
            )
        addresses = proxyserver.listen_addrs()
        if servers and all(s.is_running for s in servers) and addresses:
            host, port, *_ = addresses[0]
            return str(host), int(port)
        await asyncio.sleep(0.025)
    if run.done() and run.exception() is not None:
        exc = run.exception()
        if isinstance(exc, exceptions.OptionsError):
            raise UsageError(str(exc), "check the capture options") from exc
    raise RecorderError("the proxy did not start listening",
                        "run again with -v to see mitmproxy's messages")
