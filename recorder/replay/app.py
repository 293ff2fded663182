"""What the replay server does with one request, free of sockets: look it up, build the
reply (or a near-miss report), count it for the final report.

Used by the direct server (server.py) and the proxy addon (proxy.py) alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from recorder.errors import UsageError
from recorder.model import Headers, Interaction, Request, Response, header_value, media_type
from recorder.replay.chaos import Chaos, Layout, Plan
from recorder.replay.chaos import dumps as chaos_dumps
from recorder.replay.chaos import mutate as chaos_mutate
from recorder.replay.index import ReplayIndex
from recorder.replay.respond import WireCache, chosen_encoding, wire_bytes
from recorder.replay.upstream import Upstream
from recorder.shape import shape_id, template_path, value_shape

CONTROL_PREFIX = "/__recorder/"
MAX_LISTED = 100  # misses and unused interactions listed in a report, at most


def parse_latency(text: str) -> float | str:
    """`none`, `recorded`, or a fixed delay: `150ms`, `0.2s`, `0.2`."""
    if text in ("none", "recorded"):
        return text
    value = text.removesuffix("ms") if text.endswith("ms") else text.removesuffix("s")
    try:
        seconds = float(value) / (1000 if text.endswith("ms") else 1)
    except ValueError:
        raise UsageError(f"--latency {text!r} is not none, recorded or a duration",
                         "e.g. --latency recorded, --latency 150ms") from None
    if seconds < 0:
        raise UsageError("--latency cannot be negative", "e.g. --latency 150ms")
    return seconds


@dataclass(frozen=True)
class ReplaySettings:
    miss_status: int = 599
    latency: float | str = "none"
    host: str | None = None  # the recorded host to answer as (default: from Host header)
    on_miss: str = "respond"  # respond (near-miss report) | passthrough | record


@dataclass(slots=True)
class Reply:
    """What to do on the wire: send `data` (after `delay` s) or fail like the upstream did."""

    data: bytes = b""
    delay: float = 0.0
    action: str = "send"  # send | reset | close | hold | forward (to the real upstream)
    keep_alive: bool = True
    request: Request | None = None  # what to forward
    chunk_delay: float = 0.0  # chaos slow-body: seconds between 64-byte chunks of the body
    hold: bool = False  # chaos out-of-order: wait to be released in a shuffled batch


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to build, per request
class Decision:
    """What to answer: `response` (None: fail as `action` says), the recorded position and
    encoding for caching, and a delay in seconds."""

    response: Response | None
    position: int | None = None
    encoding: str | None = None
    delay: float = 0.0
    action: str = "send"
    chaos: Plan | None = None
    cache_key: Hashable = None  # what the wire bytes depend on besides encoding (None: no cache)


@dataclass
class ReplayStats:
    requests: int = 0
    matched: int = 0
    missed: int = 0
    forwarded: int = 0
    recorded: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)


def request_from_wire(method: str, target: str, headers: Headers, body: bytes,
                      http_version: str, settings: ReplaySettings, scheme: str = "http"
                      ) -> Request:
    """An incoming request in recorder's model. Absolute-form targets (proxies) carry their
    own scheme and host; origin-form takes the host from --host or the Host header, and the
    scheme from the connection (https inside a proxy tunnel)."""
    port = 443 if scheme == "https" else 80
    if target.startswith("/"):  # origin-form, nearly every request: no URL parsing needed
        path, _, query = target.partition("?")
        path = path.partition("#")[0]
        host = settings.host or _host_header(headers)
        return Request(method, scheme, host, port, path, query.partition("#")[0],
                       f"HTTP/{http_version}", headers, body)
    parts = urlsplit(target)
    host = settings.host or (parts.hostname or "") or _host_header(headers)
    scheme = parts.scheme or scheme
    port = parts.port or (443 if scheme == "https" else 80)
    return Request(method, scheme, host, port, parts.path or "/", parts.query,
                   f"HTTP/{http_version}", headers, body)


def _host_header(headers: Headers) -> str:
    host = header_value(headers, "host") or ""
    return host.rsplit(":", 1)[0].strip("[]") if not host.endswith("]") else host.strip("[]")


class ReplayApp:
    def __init__(self, index: ReplayIndex, settings: ReplaySettings,
                 log: Callable[[str], None] = lambda message: None,
                 upstream: Upstream | None = None,
                 record: Callable[[Interaction], Interaction] | None = None,
                 chaos: Chaos | None = None) -> None:
        """`upstream` answers misses when settings.on_miss is passthrough or record;
        `record` stores a forwarded interaction (redacted) and returns what it stored."""
        self.index = index
        self.settings = settings
        self.log = log
        self.upstream = upstream
        self.record = record
        self.stats = ReplayStats()
        self.cache = WireCache()
        self.chaos = chaos
        self._variants: dict[tuple[str, str], list[tuple[str, Any]]] | None = None
        self._facts: dict[int, tuple[Any, str, list[Any], Layout | None]] = {}
        self._chaos_responses: dict[tuple[int, int], tuple[Response, bool]] = {}

    def decide(self, request: Request) -> Decision:
        """Look a request up and count it: the recorded answer, a recorded failure, a
        near-miss report, or a control endpoint's answer."""
        if request.path.startswith(CONTROL_PREFIX):
            return Decision(self._control(request))
        self.stats.requests += 1
        found = self.index.lookup(request)
        if found.position is None:
            if self.settings.on_miss != "respond" and self.upstream is not None:
                self.stats.missed += 1
                self.stats.forwarded += 1
                self.log(f"MISS {_describe(request)}: forwarded to the upstream "
                         f"({self.settings.on_miss})")
                return Decision(None, action="forward")
            return Decision(self._miss(request, found.reason))
        self.stats.matched += 1
        interaction = self.index.interactions[found.position]
        delay = self._delay(interaction)
        if interaction.response is None:
            return Decision(None, delay=delay, action=_failure_action(interaction))
        encoding = interaction.meta.get("response_content_encoding")
        if self.chaos is not None:
            return self._chaos(request, interaction, found.position, encoding, delay)
        return Decision(interaction.response, found.position, encoding, delay,
                        cache_key=found.position)

    def _chaos(self, request: Request, interaction: Interaction, position: int,
               encoding: str | None, delay: float) -> Decision:
        """Production's weather on a recorded answer: the plan, then the response it makes."""
        assert self.chaos is not None and interaction.response is not None
        response = interaction.response
        body, route, others, layout = self._chaos_facts(position)
        plan = self.chaos.plan(request, route, body, interaction.timing.ended, len(others),
                               layout)
        if not plan.active:
            return Decision(response, position, encoding, delay, cache_key=position)
        if plan.fault in ("reset", "empty", "timeout"):
            action = {"reset": "reset", "empty": "close", "timeout": "hold"}[plan.fault]
            return Decision(None, delay=delay + plan.delay, action=action, chaos=plan)
        signature = (position, plan.key) if plan.key >= 0 else None
        cached = self._chaos_responses.get(signature) if signature is not None else None
        if cached is None:
            cached = self._chaos_response(response, body, plan, others)
            if signature is not None and len(self._chaos_responses) < 65_536:
                self._chaos_responses[signature] = cached
        response, mutated_encoding = cached
        return Decision(response, None, encoding if mutated_encoding else None,
                        delay + plan.delay, chaos=plan, cache_key=signature)

    def _chaos_response(self, response: Response, body: Any, plan: Plan,
                        others: list[Any]) -> tuple[Response, bool]:
        """The response a plan makes; and whether it keeps the recorded content-encoding."""
        keeps_encoding = True
        if plan.fault in ("status", "throttle"):
            extra = (("Retry-After", "1"),) if plan.fault == "throttle" else ()
            response = Response(plan.status, "", headers=(
                ("Content-Type", "application/json"), *extra),
                body=json.dumps({"error": "injected by recorder chaos",
                                 "status": plan.status}).encode())
            keeps_encoding = False
        elif plan.mutations and body is not None:
            mutated = chaos_mutate(json.loads(response.body), plan.mutations, others)
            response = replace(response, body=chaos_dumps(mutated))
        response = replace(response, headers=(*response.headers,
                                              ("X-Recorder-Chaos", plan.describe())))
        return response, keeps_encoding

    def _chaos_facts(self, position: int) -> tuple[Any, str, list[Any], Layout | None]:
        """What chaos needs about a recorded interaction (its JSON body, route, and the other
        recorded shapes of its endpoint, for drift), worked out once per interaction."""
        facts = self._facts.get(position)
        if facts is None:
            interaction = self.index.interactions[position]
            body = _json_body(interaction.response)
            route = template_path(interaction.request.path)
            own = shape_id(value_shape(body)) if body is not None else ""
            others = [b for sid, b in self._endpoint_variants(interaction.request.method, route)
                      if sid != own]
            layout = Layout.of(body) if body is not None else None
            facts = self._facts[position] = (body, route, others, layout)
        return facts

    def _endpoint_variants(self, method: str, route: str) -> list[tuple[str, Any]]:
        """Every recorded JSON response shape of an endpoint: reality's own variants."""
        if self._variants is None:
            self._variants = {}
            for recorded in self.index.interactions:
                body = _json_body(recorded.response)
                if body is None:
                    continue
                endpoint = (recorded.request.method, template_path(recorded.request.path))
                shapes = self._variants.setdefault(endpoint, [])
                sid = shape_id(value_shape(body))
                if all(existing != sid for existing, _ in shapes):
                    shapes.append((sid, body))
        return self._variants.get((method, route), [])

    def handle(self, request: Request, keep_alive: bool = True) -> Reply:
        """The direct server's path: a decision as cached wire bytes."""
        decision = self.decide(request)
        if decision.action == "forward":
            return Reply(action="forward", keep_alive=keep_alive, request=request)
        plan = decision.chaos
        hold = plan is not None and plan.hold
        if decision.response is None:
            return Reply(action=decision.action, delay=decision.delay, keep_alive=False,
                         hold=hold)
        # Accept-Encoding only matters when the recorded body had an encoding to restore
        accept = (header_value(request.headers, "accept-encoding") or "") \
            if decision.encoding else ""
        truncate = plan is not None and plan.fault == "truncate"
        if decision.cache_key is None or truncate:
            encoding = chosen_encoding(decision.encoding, accept)
            data = wire_bytes(decision.response, encoding, keep_alive=keep_alive)
        else:
            data = self.cache.get(decision.cache_key, decision.response, decision.encoding,
                                  accept, keep_alive)
        if truncate:
            cut = len(data) - max(1, len(decision.response.body) // 2)
            return Reply(data[:cut], decision.delay, keep_alive=False, hold=hold)
        chunk = plan.chunk_delay if plan is not None else 0.0
        return Reply(data, decision.delay, keep_alive=keep_alive, chunk_delay=chunk, hold=hold)

    async def forward(self, request: Request, keep_alive: bool = True) -> Reply:
        """A missed request answered by the real upstream (and, with record, kept)."""
        assert self.upstream is not None
        interaction = await self.upstream.fetch(request, len(self.index.interactions))
        if self.record is not None:
            interaction = self.record(interaction)
            self.index.add(interaction)  # the next identical request is served from it
            self.stats.recorded += 1
        if interaction.response is None:
            return Reply(action=_failure_action(interaction), keep_alive=False)
        accept = header_value(request.headers, "accept-encoding") or ""
        encoding = chosen_encoding(interaction.meta.get("response_content_encoding"), accept)
        return Reply(wire_bytes(interaction.response, encoding, keep_alive=keep_alive),
                     keep_alive=keep_alive)

    async def close(self) -> None:
        if self.upstream is not None:
            await self.upstream.close()

    def _delay(self, interaction: Interaction) -> float:
        latency = self.settings.latency
        if latency == "recorded":
            return interaction.timing.ended or 0.0
        return latency if isinstance(latency, float) else 0.0

    def _miss(self, request: Request, reason: str) -> Response:
        self.stats.missed += 1
        near = [n.to_json() for n in self.index.near_misses(request)]
        target = request.path + (f"?{request.query}" if request.query else "")
        report = {"error": "recorder: no recorded interaction matches this request",
                  "request": f"{request.method} {target}", "reason": reason,
                  "matched_on": list(self.index.match_on), "closest": near}
        if len(self.stats.misses) < MAX_LISTED:
            self.stats.misses.append(report)
        closest = near[0]["differs"] if near else {}
        self.log(f"MISS {request.method} {target}: {reason}"
                 + (f"; closest differs in {'; '.join(closest.values())}" if closest else ""))
        return Response(self.settings.miss_status, "Recorder Miss",
                        headers=(("Content-Type", "application/json"),),
                        body=json.dumps(report, indent=2).encode())

    def _control(self, request: Request) -> Response:
        if request.path == CONTROL_PREFIX + "report":
            return Response(200, "OK", headers=(("Content-Type", "application/json"),),
                            body=json.dumps(self.report(), indent=2).encode())
        return Response(404, "Not Found", headers=(("Content-Type", "text/plain"),),
                        body=b"recorder: known: /__recorder/report\n")

    def report(self) -> dict[str, Any]:
        unused = self.index.unused()
        return {
            "requests": self.stats.requests,
            "matched": self.stats.matched,
            "missed": self.stats.missed,
            "forwarded": self.stats.forwarded,
            "recorded_new": self.stats.recorded,
            "unused": len(unused),
            "recorded": len(self.index.interactions),
            "misses": self.stats.misses,
            "unused_interactions": [
                {"position": p, "seq": self.index.interactions[p].seq,
                 "request": _describe(self.index.interactions[p].request)}
                for p in unused[:MAX_LISTED]],
            "generated_at": time.time(),
        }


def _describe(request: Request) -> str:
    return f"{request.method} {request.path}" + (f"?{request.query}" if request.query else "")


def _json_body(response: Response | None) -> Any:
    """A response's JSON body, parsed, or None."""
    if response is None or "json" not in media_type(response.headers):
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _failure_action(interaction: Interaction) -> str:
    """A recorded upstream failure becomes the same kind of failure on the wire."""
    kind = interaction.error.kind if interaction.error else "other"
    return {"reset": "reset", "timeout": "hold"}.get(kind, "close")
