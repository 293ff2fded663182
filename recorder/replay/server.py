"""The replay server: asyncio + httptools (uvloop when installed), built for speed.

Direct mode is the API's base URL. Proxy mode is the same server given an Interceptor: it
also answers CONNECT, terminates TLS with a certificate for the requested host signed by
recorder's CA, and serves the tunnelled requests on the same fast path (plain-HTTP proxy
requests, absolute-form, work in both modes).

Keep-alive, pipelining (replies leave in request order, even when some are delayed),
Content-Length and chunked request bodies (the parser decodes both), and limits so a bad
client gets a 4xx or a close while others keep being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import ssl
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

import httptools

from recorder.errors import RecorderError
from recorder.replay.app import ReplayApp, Reply, request_from_wire
from recorder.replay.tls import Interceptor

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
IDLE_TIMEOUT = 60.0  # seconds a connection may sit without a complete request
HOLD_SECONDS = 120.0  # how long a replayed upstream timeout keeps the client waiting


def _simple(status: int, reason: str) -> bytes:
    body = f"recorder: {reason}\n".encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: "
            f"{len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class _Connection(asyncio.Protocol):
    def __init__(self, server: ReplayServer) -> None:
        self.server = server
        self.app = server.app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.header_bytes = 0
        self.body: list[bytes] = []
        self.body_bytes = 0
        self.pending: asyncio.Future[None] | None = None  # the last delayed reply, for order
        self.closing = False
        self.idle: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()
        self.active_at = 0.0  # loop time of the last bytes received or sent
        self.scheme = "http"  # "https" inside a CONNECT tunnel
        self.connect_to: str | None = None  # the authority of a CONNECT request

    # -- transport events --
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self.transport = cast(asyncio.Transport, transport)
        self.server.connections.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.closing = True
        if self.idle is not None:
            self.idle.cancel()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.active_at = self.loop.time()  # the idle timer looks at this when it fires
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self.connect_to is not None and self.server.interceptor is not None:
                self._open_tunnel(self.connect_to)
            elif self.connect_to is not None:
                self._fail(405, "Method Not Allowed")  # CONNECT is for --mode proxy
            else:
                self._fail(400, "Bad Request")
        except httptools.HttpParserError:
            self._fail(400, "Bad Request")

    # -- parser callbacks --
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.header_bytes = 0
        self.body = []
        self.body_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.header_bytes += len(url)
        if self.header_bytes > MAX_HEADER_BYTES:
            self._fail(414, "URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            self._fail(431, "Request Header Fields Too Large")
            return
        self.headers.append((name.decode("latin-1"), value.decode("utf-8", "surrogateescape")))

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        if self.body_bytes > MAX_BODY_BYTES:
            self._fail(413, "Content Too Large")
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.closing:
            return
        method = self.parser.get_method().decode("ascii", "replace")
        if method == "CONNECT":
            self.connect_to = self.url.decode("ascii", "replace")  # the tunnel opens next
            return
        request = request_from_wire(
            method, self.url.decode("utf-8", "surrogateescape"), tuple(self.headers),
            b"".join(self.body), self.parser.get_http_version(), self.app.settings,
            self.scheme)
        keep_alive = self.parser.should_keep_alive()
        reply = self.app.handle(request, keep_alive)
        self._send(reply)
        self.server.after_request()

    # -- proxy mode: CONNECT, then TLS on the same connection --
    def _open_tunnel(self, authority: str) -> None:
        assert self.transport is not None and self.server.interceptor is not None
        host = authority.rsplit(":", 1)[0].strip("[]")
        context = self.server.interceptor.context(host)
        self.server.flush()  # whatever was answered before the CONNECT leaves first
        self.transport.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self.pending = asyncio.ensure_future(self._start_tls(context))

    async def _start_tls(self, context: ssl.SSLContext) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(self.transport, self, context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError):
            self.closing = True  # the client did not trust the CA, or went away
            self.transport.close()
            return
        if tls is None:
            return
        self.transport = tls
        self.parser = httptools.HttpRequestParser(self)
        self.scheme = "https"
        self.connect_to = None

    # -- replies, in order --
    def _send(self, reply: Reply) -> None:
        if reply.delay <= 0 and reply.action == "send" and not reply.hold and not (
                reply.chunk_delay) and (self.pending is None or self.pending.done()):
            self._write(reply)
            return
        previous = self.pending
        self.pending = asyncio.ensure_future(self._send_later(reply, previous))

    async def _send_later(self, reply: Reply, previous: asyncio.Future[None] | None) -> None:
        if reply.action == "forward" and reply.request is not None:
            # ask the upstream while earlier replies drain; answer in order all the same
            forwarded = asyncio.ensure_future(self.app.forward(reply.request, reply.keep_alive))
            if previous is not None:
                await previous
            reply = await forwarded
        elif previous is not None:
            await previous
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        if reply.hold and self.server.gate is not None:
            await self.server.gate.wait()  # released with others, in a shuffled order
        if reply.action == "hold":
            await asyncio.sleep(HOLD_SECONDS)
            reply = Reply(action="close")
        if reply.chunk_delay > 0 and self.transport is not None:
            await self._dribble(reply)
            return
        self._write(reply)

    async def _dribble(self, reply: Reply) -> None:
        """chaos slow-body: the head at once, then the body 64 bytes at a time."""
        head_end = reply.data.find(b"\r\n\r\n") + 4
        pieces = [reply.data[:head_end]] + [reply.data[i:i + 64] for i in
                                            range(head_end, len(reply.data), 64)]
        for index, piece in enumerate(pieces):
            if self.transport is None or self.closing:
                return
            if index:
                await asyncio.sleep(reply.chunk_delay)
            self.server.emit(self, piece, "")
        if not reply.keep_alive:
            self._write(Reply(action="close"))

    def _write(self, reply: Reply) -> None:
        if self.transport is None or self.closing:
            return
        if reply.action in ("reset", "close"):
            self.closing = True
            self.server.emit(self, b"", reply.action)
            return
        self.closing = not reply.keep_alive
        self.server.emit(self, reply.data, "" if reply.keep_alive else "close")

    def deliver(self, data: bytes, then: str) -> None:
        """From the server's outbox, in order: write, then close or reset if asked."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if data:
            transport.write(data)
        if then == "close":
            transport.close()
        elif then == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()

    def _fail(self, status: int, reason: str) -> None:
        if self.transport is not None and not self.closing:
            self.closing = True
            self.server.emit(self, _simple(status, reason), "close")

    def _arm_idle(self) -> None:
        """One timer per connection, re-armed when it fires rather than on every read:
        rescheduling a timer per request cost more than parsing the request."""
        self.active_at = self.loop.time()
        self.idle = self.loop.call_later(self.server.idle_timeout, self._idle_out)

    def _idle_out(self) -> None:
        quiet_for = self.loop.time() - self.active_at
        if quiet_for < self.server.idle_timeout:
            self.idle = self.loop.call_later(self.server.idle_timeout - quiet_for,
                                             self._idle_out)
            return
        if self.pending is not None and not self.pending.done():
            self._arm_idle()  # a delayed reply is on its way: not idle
            return
        if self.transport is not None and not self.closing:
            self.closing = True
            self.transport.close()


class _Collector:
    """A transport that keeps what is written: for `replies_to`."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def get_extra_info(self, name: str) -> None:
        return None


async def replies_to(app: ReplayApp, chunks: Iterable[bytes]) -> list[bytes]:
    """What the server writes back to a client that sends `chunks` on one connection, then
    hangs up: the request path without a socket, for fuzzing and debugging. Replies that
    are delayed (latency, chaos) are not waited for."""
    connection = _Connection(ReplayServer(app))
    collector = _Collector()
    connection.connection_made(cast(asyncio.Transport, collector))
    for chunk in chunks:
        connection.data_received(chunk)
    await asyncio.sleep(0)  # the outbox is sent on the loop's next turn
    connection.connection_lost(None)
    return collector.written


class ReorderGate:
    """chaos out-of-order: replies wait here and leave in a seeded shuffle, in batches of
    `count`, or whatever has gathered after `seconds` (so a lone request is never stuck)."""

    def __init__(self, count: int, seconds: float, seed: int) -> None:
        self.count = count if count >= 2 else 10**9
        self.seconds = seconds or 0.25
        self.seed = seed
        self.batches = 0
        self.waiting: list[asyncio.Future[None]] = []
        self.timer: asyncio.TimerHandle | None = None

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self.waiting.append(future)
        if len(self.waiting) >= self.count:
            self.release()
        elif self.timer is None:
            self.timer = loop.call_later(self.seconds, self.release)
        await future

    def release(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.waiting = self.waiting, []
        order = list(range(len(batch)))
        random.Random(self.seed * 1_000_003 + self.batches).shuffle(order)
        self.batches += 1
        for index in order:  # resumed in this order, so written in this order
            if not batch[index].done():
                batch[index].set_result(None)


class ReplayServer:
    def __init__(self, app: ReplayApp, interceptor: Interceptor | None = None,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.app = app
        self.interceptor = interceptor
        window = app.chaos.window if app.chaos is not None else None
        self.gate = None if window is None else ReorderGate(window[0], window[1],
                                                            app.chaos.config.seed
                                                            if app.chaos else 0)
        self.idle_timeout = idle_timeout
        self.connections: set[_Connection] = set()
        self.outbox: list[tuple[_Connection, bytes, str]] = []
        self.server: asyncio.Server | None = None
        self.on_request: Callable[[int], None] = lambda count: None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        try:
            self.server = await loop.create_server(lambda: _Connection(self), host, port,
                                                   backlog=1024, reuse_address=True)
        except OSError as exc:
            raise RecorderError(f"cannot listen on {host}:{port}: {exc.strerror}",
                                "choose another port with --listen (port 0 picks one)"
                                ) from exc
        address = self.server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    def emit(self, connection: _Connection, data: bytes, then: str) -> None:
        """Queue a reply; the queue leaves at the end of this turn of the event loop. Sent
        together, the answers to a burst of requests wake the client once rather than once
        each: on two cores that took a third off chaos's cost per request and sped plain
        replay up too. Per connection, order is kept."""
        if not self.outbox:
            asyncio.get_running_loop().call_soon(self.flush)
        self.outbox.append((connection, data, then))
        connection.active_at = connection.loop.time()  # idle counts from the last answer too

    def flush(self) -> None:
        outbox, self.outbox = self.outbox, []
        for connection, data, then in outbox:
            connection.deliver(data, then)

    def after_request(self) -> None:
        self.on_request(self.app.stats.requests)

    async def close(self) -> None:
        self.flush()
        if self.server is not None:
            self.server.close()
            for connection in list(self.connections):
                if connection.transport is not None:
                    connection.transport.close()
            await self.server.wait_closed()


@dataclass
class ServeHooks:
    ready: Callable[[tuple[str, int]], None] = lambda address: None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed (it is on Linux and macOS), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _allow_many_connections() -> None:
    """Raise this process's open-file limit to its hard limit (at most 65,536), so that
    thousands of idle test-suite connections do not starve the server of descriptors."""
    try:
        import resource  # Unix only
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve_until_stopped(app: ReplayApp, host: str, port: int, hooks: ServeHooks,
                        exit_after: int | None = None, proxy: bool = False) -> str:
    """Serve until Ctrl-C, SIGTERM or `exit_after` requests; returns what stopped it."""
    interceptor = Interceptor() if proxy else None
    _allow_many_connections()
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(_serve(app, host, port, hooks, exit_after, interceptor))
    finally:
        if interceptor is not None:
            interceptor.close()


async def _serve(app: ReplayApp, host: str, port: int, hooks: ServeHooks,
                 exit_after: int | None, interceptor: Interceptor | None) -> str:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reason = ""

    def request_stop(why: str) -> None:
        nonlocal reason
        reason = reason or why
        stop.set()

    server = ReplayServer(app, interceptor)
    if exit_after is not None:
        server.on_request = lambda count: request_stop("exit-after") if count >= exit_after \
            else None
    address = await server.start(host, port)
    for sig, why in ((signal.SIGINT, "interrupt"), (signal.SIGTERM, "sigterm")):
        loop.add_signal_handler(sig, request_stop, why)
    try:
        hooks.ready(address)
        await stop.wait()
        await asyncio.sleep(0.05)  # let the reply to the last request leave
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.close()
        await app.close()
    return reason
