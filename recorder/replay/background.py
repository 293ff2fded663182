"""An in-process replay server on a background thread: for the pytest plugin and for
tests in Python that want a real server on a real port without a subprocess."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from recorder.replay.app import ReplayApp
from recorder.replay.server import IDLE_TIMEOUT, ReplayServer, new_event_loop
from recorder.replay.tls import Interceptor


class BackgroundReplay:
    """`proxy=True` is proxy mode: CONNECT and TLS with recorder's CA."""

    def __init__(self, app: ReplayApp, host: str = "127.0.0.1", port: int = 0,
                 proxy: bool = False, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.app = app
        self._host, self._port = host, port
        self._loop = new_event_loop()
        self._interceptor = Interceptor() if proxy else None
        self._server = ReplayServer(app, self._interceptor, idle_timeout)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recorder-replay", daemon=True)
        self.address: tuple[str, int] = ("", 0)
        self.errors: list[dict[str, Any]] = []  # what the loop caught: a bug if not empty

    def _caught(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)
        loop.default_exception_handler(context)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(self._caught)
        try:
            self.address = self._loop.run_until_complete(
                self._server.start(self._host, self._port))
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._server.close())
        self._loop.run_until_complete(self.app.close())
        self._loop.close()

    def start(self) -> BackgroundReplay:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        if self._interceptor is not None:
            self._interceptor.close()

    def __enter__(self) -> BackgroundReplay:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
