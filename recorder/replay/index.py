"""The matching engine: an index built once, so a lookup costs the same for 10 or 100,000
recorded interactions, and near-miss reports that say exactly why a request missed.

Matchers are small named functions `(incoming, recorded)` that raise AssertionError saying
what differs (vcrpy's style), kept in a registry. Each is built from a key function, and
the index hashes the tuple of keys, so the index and the explanations never disagree.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from recorder.errors import UsageError
from recorder.model import Interaction, Request, header_values, media_type
from recorder.redact import Redactor
from recorder.shape import body_shape, shape_id, template_path

Key = Callable[[Request, "MatchConfig"], Hashable]
DEFAULT_MATCH_ON = ("method", "path", "query", "body")
REPEAT_MODES = ("last", "cycle", "miss")


@dataclass(frozen=True)
class MatchConfig:
    match_on: tuple[str, ...] = DEFAULT_MATCH_ON
    headers: tuple[str, ...] = ()  # header names compared by the `headers` matcher
    ignore_query: tuple[str, ...] = ()  # parameter names; ("*",) ignores the whole query
    ignore_json: tuple[str, ...] = ()  # JSON paths like $.timestamp or $.items[].nonce
    repeat: str = "last"
    variants: bool = False  # rotate through an endpoint's recorded response shapes

    def __post_init__(self) -> None:
        unknown = [m for m in self.match_on if m not in MATCHERS]
        if unknown:
            raise UsageError(f"unknown matcher {unknown[0]!r}",
                             f"valid matchers: {', '.join(MATCHERS)}")
        if self.repeat not in REPEAT_MODES:
            raise UsageError(f"unknown repeat mode {self.repeat!r}",
                             f"valid modes: {', '.join(REPEAT_MODES)}")
        for path in self.ignore_json:
            if not path.startswith("$"):
                raise UsageError(f"--ignore-json {path!r} is not a JSON path",
                                 "write paths like $.timestamp or $.items[].nonce")


# -- key functions ------------------------------------------------------------------------

def _query_key(request: Request, config: MatchConfig) -> Hashable:
    if not request.query or "*" in config.ignore_query:
        return ()
    ignored = set(config.ignore_query)
    return tuple(sorted(p for p in request.query_pairs if p[0] not in ignored))


def _drop_path(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        name = head[:-2]
        if isinstance(value, dict) and isinstance(value.get(name), list):
            return {**value, name: [_drop_path(v, rest) for v in value[name]]}
        return value
    if isinstance(value, dict) and head in value:
        if not rest:
            return {k: v for k, v in value.items() if k != head}
        return {**value, head: _drop_path(value[head], rest)}
    return value


def _body_key(request: Request, config: MatchConfig) -> Hashable:
    body = request.body
    if not body:
        return b""
    media = media_type(request.headers)
    if "json" in media or body[:1] in (b"{", b"["):
        try:
            value = json.loads(body)
        except ValueError:
            return body
        for path in config.ignore_json:
            value = _drop_path(value, path.removeprefix("$").lstrip(".").split("."))
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if media == "application/x-www-form-urlencoded":
        try:
            return tuple(sorted(parse_qsl(body.decode(), keep_blank_values=True)))
        except UnicodeDecodeError:
            return body
    return body


_SECRET = Redactor(b"-" * 32)  # used only to ask which header names hold secrets


def _headers_key(request: Request, config: MatchConfig) -> Hashable:
    # Secret headers are redacted in cassettes: their presence is compared, not the value.
    return tuple(
        (name.lower(), bool(header_values(request.headers, name)))
        if _SECRET.is_secret_header(name)
        else (name.lower(), tuple(header_values(request.headers, name)))
        for name in config.headers
    )


KEYS: dict[str, Key] = {
    "method": lambda r, c: r.method.upper(),
    "scheme": lambda r, c: r.scheme,
    "host": lambda r, c: r.host.lower(),
    "port": lambda r, c: r.port,
    "path": lambda r, c: r.path,
    "route": lambda r, c: template_path(r.path),
    "query": _query_key,
    "body": _body_key,
    "headers": _headers_key,
}


def _matcher(name: str) -> Callable[[Request, Request, MatchConfig], None]:
    key = KEYS[name]

    def match(incoming: Request, recorded: Request, config: MatchConfig) -> None:
        have, want = key(incoming, config), key(recorded, config)
        if have != want:
            raise AssertionError(f"{name}: got {_show(have)}, recorded {_show(want)}")

    match.__name__ = name
    return match


def _show(value: Hashable) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= 120 else text[:117] + "..."


MATCHERS: dict[str, Callable[[Request, Request, MatchConfig], None]] = {
    name: _matcher(name) for name in KEYS
}


# -- the index ----------------------------------------------------------------------------

def _ignoring_redacted(config: MatchConfig, interactions: list[Interaction]) -> MatchConfig:
    """Redacted values match anything of their kind: a query parameter or JSON path that was
    redacted in any recorded request is left out of matching (both sides, so the index
    stays symmetric). Redacted headers already compare by presence only."""
    params, paths = set(config.ignore_query), set(config.ignore_json)
    for interaction in interactions:
        for location in interaction.meta.get("redacted", ()):
            if location.startswith("request.query."):
                params.add(location.removeprefix("request.query."))
            elif location.startswith("request.body $"):
                path = location.removeprefix("request.body ")
                if " " not in path:  # not a value nested inside a string
                    paths.add(re.sub(r"\[\d*\]", "[]", path))
    if params == set(config.ignore_query) and paths == set(config.ignore_json):
        return config
    return replace(config, ignore_query=tuple(sorted(params)), ignore_json=tuple(sorted(paths)))


def _endpoint(request: Request) -> tuple[str, str]:
    return request.method.upper(), template_path(request.path)


def _response_shape_id(interaction: Interaction) -> str:
    if interaction.response is None:
        return f"error:{interaction.error.kind if interaction.error else ''}"
    response = interaction.response
    shape = body_shape(response.body, media_type(response.headers))
    return f"{response.status}:{shape_id(shape)}"


@dataclass
class Slot:
    """The recorded interactions that answer one request key, in recorded order."""

    positions: list[int]
    served: int = 0


@dataclass(frozen=True)
class MatcherResult:
    name: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class NearMiss:
    position: int
    request: str
    passed: int
    results: tuple[MatcherResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "recorded": self.request,
            "position": self.position,
            "matched": [r.name for r in self.results if r.passed],
            "differs": {r.name: r.reason for r in self.results if not r.passed},
        }


@dataclass(slots=True)
class Lookup:
    position: int | None  # index into ReplayIndex.interactions, None on a miss
    reason: str = ""


@dataclass
class ReplayIndex:
    interactions: list[Interaction]
    config: MatchConfig = field(default_factory=MatchConfig)

    def __post_init__(self) -> None:
        self.config = _ignoring_redacted(self.config, self.interactions)
        self.hosts = sorted({i.request.host for i in self.interactions})
        self.match_on = self.config.match_on
        if len(self.hosts) > 1 and "host" not in self.match_on:
            # several recorded hosts: the incoming host (Host header or --host) chooses
            self.match_on = ("host", *self.match_on)
        self._keys = [KEYS[name] for name in self.match_on]
        self.slots: dict[tuple[Hashable, ...], Slot] = {}
        for position, interaction in enumerate(self.interactions):
            key = self.key(interaction.request)
            slot = self.slots.get(key)
            if slot is None:
                self.slots[key] = Slot([position])
            else:
                slot.positions.append(position)
        self.used = [0] * len(self.interactions)
        # --variants rotate: per endpoint (method, route), one interaction per response shape
        self.variants: dict[tuple[str, str], Slot] = {}
        if self.config.variants:
            seen: set[tuple[str, str, str]] = set()
            for position, interaction in enumerate(self.interactions):
                endpoint = _endpoint(interaction.request)
                shape = _response_shape_id(interaction)
                if (*endpoint, shape) not in seen:
                    seen.add((*endpoint, shape))
                    self.variants.setdefault(endpoint, Slot([])).positions.append(position)

    @classmethod
    def build(cls, interactions: Iterable[Interaction], config: MatchConfig) -> ReplayIndex:
        # Interactions are acyclic: the cyclic GC only slows a big load down (it rescans the
        # growing list again and again), and frozen afterwards they cost nothing per request.
        gc.disable()
        try:
            index = cls(list(interactions), config)
        finally:
            gc.enable()
        gc.freeze()
        return index

    def add(self, interaction: Interaction) -> None:
        """Append an interaction (recorded on a miss) so later requests can match it."""
        position = len(self.interactions)
        self.interactions.append(interaction)
        self.used.append(1)  # it answered the request that made it
        key = self.key(interaction.request)
        slot = self.slots.setdefault(key, Slot([]))
        if slot.served >= len(slot.positions):
            slot.served += 1  # this request already had its answer
        slot.positions.append(position)

    def key(self, request: Request) -> tuple[Hashable, ...]:
        config = self.config
        return tuple([key(request, config) for key in self._keys])

    def lookup(self, request: Request) -> Lookup:
        if self.variants:
            rotation = self.variants.get(_endpoint(request))
            if rotation is not None:
                position = rotation.positions[rotation.served % len(rotation.positions)]
                rotation.served += 1
                self.used[position] += 1
                return Lookup(position)
        slot = self.slots.get(self.key(request))
        if slot is None:
            return Lookup(None, "no recorded request matches")
        count = len(slot.positions)
        if slot.served < count:
            position = slot.positions[slot.served]
        elif self.config.repeat == "last":
            position = slot.positions[-1]
        elif self.config.repeat == "cycle":
            position = slot.positions[slot.served % count]
        else:
            return Lookup(None, f"all {count} recorded responses were already served "
                                "(--repeat miss)")
        slot.served += 1
        self.used[position] += 1
        return Lookup(position)

    def near_misses(self, request: Request, limit: int = 3) -> list[NearMiss]:
        """The closest recorded requests and, for each, which matchers passed and why not."""
        candidates = []
        for slot in self.slots.values():
            position = slot.positions[0]
            recorded = self.interactions[position].request
            results = []
            for name in self.match_on:
                try:
                    MATCHERS[name](request, recorded, self.config)
                    results.append(MatcherResult(name, True))
                except AssertionError as exc:
                    results.append(MatcherResult(name, False, str(exc)))
            passed = sum(r.passed for r in results)
            candidates.append(NearMiss(position, f"{recorded.method} {recorded.path}"
                                       + (f"?{recorded.query}" if recorded.query else ""),
                                       passed, tuple(results)))
        candidates.sort(key=lambda c: (-c.passed, c.position))
        return candidates[:limit]

    def unused(self) -> list[int]:
        return [position for position, count in enumerate(self.used) if count == 0]
