"""Proxy mode: an HTTP/HTTPS forward proxy (mitmproxy, TLS intercepted with recorder's CA)
that answers every request from the cassette and never contacts the real upstream.

mitmproxy runs with a lazy connection strategy and without upstream-certificate sniffing,
so no byte leaves the machine; the addon only adapts flows to `ReplayApp.decide`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from mitmproxy import http

from recorder.capture.convert import flow_to_interaction
from recorder.capture.runner import CaptureHooks, ProxySettings, StopSignal, run_mitmproxy
from recorder.model import header_value
from recorder.replay.app import ReplayApp
from recorder.replay.respond import chosen_encoding, prepare
from recorder.replay.server import HOLD_SECONDS


class ReplayAddon:
    def __init__(self, app: ReplayApp, on_request: Callable[[int], None]) -> None:
        self.app = app
        self.on_request = on_request

    async def request(self, flow: http.HTTPFlow) -> None:
        request = flow_to_interaction(flow, 0).request
        decision = self.app.decide(request)
        self.on_request(self.app.stats.requests)
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        if decision.response is None:
            if decision.action == "hold":
                await asyncio.sleep(HOLD_SECONDS)
            flow.kill()  # the recorded upstream failed: so does the replay
            return
        accept = header_value(request.headers, "accept-encoding") or ""
        ready = prepare(decision.response, chosen_encoding(decision.encoding, accept))
        flow.response = http.Response.make(
            ready.status, ready.body,
            [(k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
             for k, v in ready.headers])
        flow.response.reason = ready.reason


def _proxy_parts(app: ReplayApp, host: str, port: int, exit_after: int | None
                 ) -> tuple[ProxySettings, StopSignal, ReplayAddon]:
    settings = ProxySettings("forward", None, host, port)
    stop = StopSignal()

    def counted(count: int) -> None:
        if exit_after is not None and count >= exit_after:
            stop.request("exit-after")

    return settings, stop, ReplayAddon(app, counted)


async def _run_proxy(settings: ProxySettings, stop: StopSignal, addon: ReplayAddon,
                     ready: Callable[[tuple[str, int]], None]) -> str:
    # lazy: connect upstream only when a request needs it, which never happens here
    await run_mitmproxy(settings.options(), [addon], settings, stop, CaptureHooks(ready=ready),
                        addon_options={"connection_strategy": "lazy", "upstream_cert": False})
    return stop.reason


def serve_proxy(app: ReplayApp, host: str, port: int,
                ready: Callable[[tuple[str, int]], None], exit_after: int | None) -> str:
    settings, stop, addon = _proxy_parts(app, host, port, exit_after)
    return asyncio.run(_run_proxy(settings, stop, addon, ready))


class BackgroundProxy:
    """Proxy-mode replay on a background thread (the pytest plugin's `mode="proxy"`)."""

    def __init__(self, app: ReplayApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.settings, self._stop, self._addon = _proxy_parts(app, host, port, None)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self.address: tuple[str, int] = ("", 0)
        self._thread = threading.Thread(target=self._run, name="recorder-proxy", daemon=True)

    def _run(self) -> None:
        def ready(address: tuple[str, int]) -> None:
            self.address = address
            self._loop = asyncio.get_running_loop()
            self._ready.set()

        try:
            asyncio.run(_run_proxy(self.settings, self._stop, self._addon, ready))
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    def start(self) -> BackgroundProxy:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.request, "stopped")
            self._thread.join(30)
