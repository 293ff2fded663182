"""Chaos: production's weather, seeded and reproducible (pure: no sockets, no clock).

A spec is terms `name[=value][@probability]`, e.g.
    latency=50..800ms@0.3,flip-types=0.05,reorder=0.2,status=503@0.01
Each decision comes from a generator derived from the seed, the request's key and its
ordinal (how many identical requests came before), so the same seed and the same requests
give the same mutations, whatever the concurrency. Every mutation is recorded precisely
(the value it wrote, the key order it chose) so a logged plan re-applies exactly.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import struct
import tomllib
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recorder.errors import UsageError
from recorder.model import Request

BODY_TERMS = ("flip-types", "reorder", "drop-field", "null-field", "extra-field", "drift")
FAULT_TERMS = ("reset", "empty", "truncate", "status", "throttle", "timeout")
TIMING_TERMS = ("latency", "slow-body", "out-of-order")
TERMS = TIMING_TERMS + BODY_TERMS + FAULT_TERMS
_HINT = "valid terms: " + ", ".join(TERMS) + " (e.g. latency=50..800ms@0.3,flip-types=0.05)"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")


@dataclass(frozen=True)
class Term:
    name: str
    probability: float = 1.0
    low: float = 0.0  # latency / slow-body range in seconds; status code; window
    high: float = 0.0
    path: str | None = None  # flip-types aimed at a JSON path
    scale: float | None = None  # latency=recordedx2


def _seconds(text: str, term: str) -> float:
    match = _DURATION.fullmatch(text)
    if not match:
        raise UsageError(f"chaos term {term!r}: {text!r} is not a duration",
                         "write 200ms or 1.5s")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


def _probability(text: str, term: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"chaos term {term!r}: {text!r} is not a probability",
                         "write a number from 0 to 1, e.g. @0.05") from None
    if not 0 <= value <= 1:
        raise UsageError(f"chaos term {term!r}: probability {value} is not within 0..1",
                         "write a number from 0 to 1, e.g. @0.05")
    return value


def parse_term(text: str) -> Term:
    text = text.strip()
    body, at, chance = text.partition("@")
    name, eq, value = body.partition("=")
    name = name.strip()
    if name not in TERMS:
        raise UsageError(f"unknown chaos term {name!r}", _HINT)
    probability = _probability(chance, text) if at else 1.0
    if name in ("latency", "slow-body"):
        if not eq:
            raise UsageError(f"chaos term {text!r} needs a value", "e.g. latency=50..800ms")
        if value.startswith("recorded"):
            scale = float(value.removeprefix("recorded").removeprefix("x") or 1)
            return Term(name, probability, scale=scale)
        unit = "ms" if value.endswith("ms") else "s"
        low_text, dots, high_text = value.partition("..")
        low = _seconds(low_text if low_text.endswith(("ms", "s")) else low_text + unit, text)
        high = _seconds(high_text, text) if dots else low
        if high < low:
            raise UsageError(f"chaos term {text!r}: the range runs backwards", "e.g. 50..800ms")
        return Term(name, probability, low, high)
    if name == "out-of-order":
        if not eq:
            return Term(name, 1.0, 4)
        if value.endswith(("ms", "s")) and not value.isdigit():
            return Term(name, 1.0, 0, _seconds(value, text))  # a time window
        if not value.isdigit() or int(value) < 2:
            raise UsageError(f"chaos term {text!r}: the window is a count ≥ 2 or a duration",
                             "e.g. out-of-order=4 or out-of-order=50ms")
        return Term(name, 1.0, int(value))
    if name in ("status", "throttle"):
        code = value or ("429" if name == "throttle" else "503")
        if not code.isdigit() or not 100 <= int(code) <= 599:
            raise UsageError(f"chaos term {text!r}: {code!r} is not an HTTP status",
                             "e.g. status=503@0.01")
        return Term(name, probability, int(code))
    if name in BODY_TERMS and eq:
        if value.startswith("$"):
            if name != "flip-types":
                raise UsageError(f"chaos term {text!r}: only flip-types takes a JSON path",
                                 "e.g. flip-types=$.amount@1.0")
            return Term(name, probability, path=value)
        return Term(name, _probability(value, text))  # reorder=0.2 is reorder@0.2
    if eq:
        raise UsageError(f"chaos term {name!r} takes no value", _HINT)
    return Term(name, probability)


def parse_spec(spec: str) -> tuple[Term, ...]:
    terms = tuple(parse_term(part) for part in spec.split(",") if part.strip())
    if not terms:
        raise UsageError("the chaos spec is empty", _HINT)
    return terms


@dataclass(frozen=True)
class ChaosConfig:
    default: tuple[Term, ...] = ()
    routes: tuple[tuple[str, tuple[Term, ...]], ...] = ()  # ("POST /v1/convert", terms)
    seed: int = 0

    def terms_for(self, method: str, route: str) -> tuple[Term, ...]:
        for endpoint, terms in self.routes:
            want_method, _, want_route = endpoint.partition(" ")
            if want_method.upper() == method.upper() and want_route == route:
                return terms
        return self.default

    @classmethod
    def load(cls, spec: str | None, file: Path | None, seed: int) -> ChaosConfig:
        default = parse_spec(spec) if spec else ()
        routes: list[tuple[str, tuple[Term, ...]]] = []
        if file is not None:
            try:
                data = tomllib.loads(file.read_text())
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise UsageError(f"cannot read --chaos-file {file}: {exc}",
                                 "see the chaos profile format in the README") from exc
            if "default" in data and not default:
                default = parse_spec(str(data["default"]))
            for endpoint, terms in dict(data.get("routes", {})).items():
                if " " not in endpoint:
                    raise UsageError(f"--chaos-file route {endpoint!r} is not 'METHOD /route'",
                                     'e.g. [routes] "POST /v1/convert" = "flip-types=$.amount"')
                routes.append((endpoint, parse_spec(str(terms))))
            unknown = set(data) - {"default", "routes"}
            if unknown:
                raise UsageError(f"--chaos-file: unknown section(s) {sorted(unknown)}",
                                 "a profile has `default` and `[routes]`")
        return cls(default, tuple(routes), seed)


# -- plans --------------------------------------------------------------------------------

# A body edit, compact and hashable so that plans can key caches without building anything:
#   ("flip", path, option, value)   ("reorder", path, keys)   ("drop" | "null", path)
#   ("extra", path, name, option)   ("drift", variant)
# Paths are tuples of keys and indices. Options index FLIP options and EXTRA_VALUES.
Edit = tuple[Any, ...]
EXTRA_VALUES = ("name", 0, 1.5, True, None, "[]", "{}")  # "name": the new key's own name


def _extra_value(option: int, name: str) -> Any:
    value = EXTRA_VALUES[option]
    return name if value == "name" else [] if value == "[]" else {} if value == "{}" else value


def _as_mutation(edit: Edit) -> dict[str, Any]:
    """An edit as the log writes it (and `--chaos-replay` reads it back)."""
    op = edit[0]
    if op == "flip":
        return {"op": "flip", "path": list(edit[1]), "to": edit[3]}
    if op == "reorder":
        return {"op": "reorder", "path": list(edit[1]), "keys": list(edit[2])}
    if op == "extra":
        return {"op": "extra", "path": list(edit[1]), "key": edit[2],
                "value": _extra_value(edit[3], edit[2])}
    if op == "drift":
        return {"op": "drift", "variant": edit[1]}
    return {"op": op, "path": list(edit[1])}


@dataclass(slots=True)
class Plan:
    """What chaos does to one response: delays, a fault, body edits, reordering. Plans made
    here carry compact `edits`; plans read back from a log carry `logged` mutations."""

    delay: float = 0.0
    chunk_delay: float = 0.0
    fault: str | None = None  # reset | empty | truncate | timeout | status | throttle
    status: int = 0
    edits: list[Edit] = field(default_factory=list)
    hold: bool = False  # out-of-order: wait to be released in a shuffled batch
    logged: list[dict[str, Any]] | None = None
    key: int = -1  # names this plan's content among the run's distinct plans (-1: unnamed)

    @property
    def active(self) -> bool:
        return bool(self.delay or self.chunk_delay or self.fault or self.edits or self.logged
                    or self.hold)

    @property
    def mutations(self) -> list[dict[str, Any]]:
        """The body mutations in the log's form: what `mutate` applies."""
        if self.logged is None:
            self.logged = [_as_mutation(edit) for edit in self.edits]
        return self.logged

    def describe(self) -> str:
        """For the X-Recorder-Chaos header: what was done, briefly."""
        parts = [f"{m['op']}({_path_text(m.get('path', []))})" if "path" in m else m["op"]
                 for m in self.mutations]
        if self.fault:
            parts.append(f"{self.fault}={self.status}" if self.status else self.fault)
        if self.delay:
            parts.append(f"latency={self.delay * 1000:.0f}ms")
        if self.chunk_delay:
            parts.append(f"slow-body={self.chunk_delay * 1000:.0f}ms")
        if self.hold:
            parts.append("out-of-order")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"delay": self.delay, "chunk_delay": self.chunk_delay, "fault": self.fault,
                "status": self.status, "mutations": self.mutations, "hold": self.hold}

    def signature(self) -> Hashable:
        """What the response bytes and the log's text of this plan depend on, for caching
        them: a tuple of the compact edits, no JSON built (that is the hot path of chaos).
        The delays are in it too: the log holds them exactly, the header names them."""
        edits: Hashable = tuple(self.edits) if self.edits or not self.logged \
            else json.dumps(self.logged)
        return (self.fault, self.status, self.delay, self.chunk_delay, self.hold, edits)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(float(data.get("delay", 0)), float(data.get("chunk_delay", 0)),
                   data.get("fault"), int(data.get("status", 0)),
                   hold=bool(data.get("hold", False)),
                   logged=list(data.get("mutations", [])))


_NO_BODY = hashlib.sha256(b"").hexdigest()[:12]


def request_key(request: Request) -> str:
    digest = hashlib.sha256(request.body).hexdigest()[:12] if request.body else _NO_BODY
    query = f"?{request.query}" if request.query else ""
    return f"{request.method} {request.path}{query} #{digest}"


_SIXTEEN_WORDS = struct.Struct(">16I")  # a BLAKE2b digest as sixteen 32-bit draws
_TO_UNIT = 1 / 4_294_967_296


def _stream(material: bytes) -> Iterator[float]:
    """Floats in [0, 1) read straight off a BLAKE2b chain of `material` (half the cost of
    SHA-256 here, and twice the draws per block: most plans need one block)."""
    block = hashlib.blake2b(material).digest()
    while True:
        for word in _SIXTEEN_WORDS.unpack(block):
            yield word * _TO_UNIT
        block = hashlib.blake2b(block).digest()


class Draws:
    """Deterministic random draws for one request, from (seed, request key, ordinal): same
    inputs, same draws, in any process. Cheaper than seeding a `random.Random` per request
    (the hot path of chaos): `random` is a generator's own __next__, a call into C."""

    __slots__ = ("random",)

    def __init__(self, material: bytes) -> None:
        self.random: Callable[[], float] = _stream(material).__next__

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def randrange(self, stop: int) -> int:
        return int(self.random() * stop)

    def getrandbits(self, bits: int) -> int:
        return int(self.random() * (1 << bits))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[int(self.random() * len(options))]

    def shuffle(self, items: list[Any]) -> None:
        draw = self.random
        for index in range(len(items) - 1, 0, -1):
            other = int(draw() * (index + 1))
            items[index], items[other] = items[other], items[index]


def _rng(seed: int, key: str, ordinal: int) -> Draws:
    return Draws(f"{seed}|{key}|{ordinal}".encode())


def _path_text(path: Sequence[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _fields(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) below the root, objects' members and arrays' elements."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            out.append(((*path, key), child))
            out.extend(_fields(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out.append(((*path, index), child))
            out.extend(_fields(child, (*path, index)))
    return out


def _objects(value: Any, path: tuple[Any, ...] = ()
             ) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    found = [(path, value)] if isinstance(value, dict) else []
    for child_path, child in _fields(value, path):
        if isinstance(child, dict):
            found.append((child_path, child))
    return found


def _matches(path: tuple[Any, ...], pattern: str) -> bool:
    """`$.items[].amount` matches ("items", 3, "amount")."""
    text = "$" + "".join("[]" if isinstance(p, int) else f".{p}" for p in path)
    return text == pattern.replace("[*]", "[]")


def flip_options(value: Any) -> tuple[Any, ...]:
    """How real APIs get a value's type wrong: a number as a formatted string, an integer as
    a float, a numeric string as a number, a boolean as a string, or null."""
    if isinstance(value, bool):
        return None, "true" if value else "false"
    if isinstance(value, int):
        return None, str(value), float(value)
    if isinstance(value, float):
        return None, f"{value:.2f}"
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        return None, float(value) if "." in value else int(value)
    return (None,)


_NUMERIC = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Layout:
    """Where a body can be mutated: its scalar fields (with the flips each allows), its
    objects, its named members. Worked out once per recorded body, not once per request."""

    scalars: tuple[tuple[tuple[Any, ...], tuple[Any, ...]], ...]
    objects: tuple[tuple[tuple[Any, ...], tuple[str, ...]], ...]
    members: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, body: Any) -> Layout:
        fields = _fields(body)
        return cls(tuple((p, flip_options(v)) for p, v in fields
                         if not isinstance(v, dict | list)),
                   tuple((p, tuple(o)) for p, o in _objects(body)),
                   tuple(p for p, _ in fields if p and isinstance(p[-1], str)))


def make_plan(terms: Sequence[Term], seed: int, key: str, ordinal: int, body: Any,
              recorded_seconds: float | None, variants: int,
              layout: Layout | None = None) -> Plan:
    """Decide what chaos does to one response. `body` is the parsed JSON body (None if not
    JSON); `variants` is how many other recorded shapes the endpoint has (for drift)."""
    rng = _rng(seed, key, ordinal)
    if body is not None and layout is None:
        layout = Layout.of(body)
    plan = Plan()
    for term in terms:
        roll = rng.random()  # one roll per term, always: decisions stay independent
        name = term.name
        if name in ("flip-types", "out-of-order"):
            pass  # per-field chance, or no chance at all
        elif roll >= term.probability:
            continue
        if name == "latency":
            plan.delay += (recorded_seconds or 0.0) * (term.scale or 1) if term.scale else \
                rng.uniform(term.low, term.high)
        elif name == "slow-body":
            plan.chunk_delay = rng.uniform(term.low, term.high)
        elif name == "out-of-order":
            plan.hold = True
        elif name in FAULT_TERMS and plan.fault is None:
            plan.fault = name
            plan.status = int(term.low) if name in ("status", "throttle") else 0
        elif layout is not None and name in BODY_TERMS:
            _add_edits(plan.edits, term, layout, rng, variants, roll)
    return plan


def _add_edits(edits: list[Edit], term: Term, layout: Layout, rng: Draws, variants: int,
               roll: float) -> None:
    name = term.name
    if name == "flip-types":
        if term.path is None:
            chance, draw = term.probability, rng.random
            chosen = [f for f in layout.scalars if draw() < chance]
        elif roll < term.probability:
            chosen = [f for f in layout.scalars if _matches(f[0], term.path)]
        else:
            chosen = []
        for path, options in chosen:
            option = rng.randrange(len(options))
            edits.append(("flip", path, option, options[option]))
    elif name == "reorder":
        for path, names in layout.objects:
            keys = list(names)
            rng.shuffle(keys)
            if keys != list(names):
                edits.append(("reorder", path, tuple(keys)))
    elif name == "drift":
        if variants:
            edits.append(("drift", rng.randrange(variants)))
    elif name in ("drop-field", "null-field"):
        if layout.members:
            edits.append(("drop" if name == "drop-field" else "null", rng.choice(layout.members)))
    elif layout.objects:  # extra-field
        path, _ = rng.choice(layout.objects)
        edits.append(("extra", path, f"x_{rng.getrandbits(24):06x}",
                      rng.randrange(len(EXTRA_VALUES))))


def _parent(value: Any, path: Sequence[Any]) -> Any:
    for part in path[:-1]:
        value = value[part]
    return value


def apply(body: Any, mutations: Sequence[dict[str, Any]], variants: Sequence[Any] = ()) -> Any:
    """The body with the mutations applied (a copy; the input is not changed)."""
    return mutate(copy.deepcopy(body), mutations, variants)


def mutate(result: Any, mutations: Sequence[dict[str, Any]], variants: Sequence[Any] = ()
           ) -> Any:
    """Apply the mutations to `result` in place (and return it: drift replaces it)."""
    for mutation in mutations:
        op, path = mutation["op"], mutation.get("path", [])
        try:
            if op == "drift":
                if variants:
                    result = copy.deepcopy(variants[mutation["variant"] % len(variants)])
            elif op == "reorder":
                target = _parent(result, [*path, None]) if path else result
                if isinstance(target, dict):
                    keys = [k for k in mutation["keys"] if k in target]
                    reordered = {k: target[k] for k in keys}
                    reordered.update({k: v for k, v in target.items() if k not in reordered})
                    if path:
                        _parent(result, path)[path[-1]] = reordered
                    else:
                        result = reordered
            elif op == "extra":
                target = _parent(result, [*path, None]) if path else result
                if isinstance(target, dict):
                    target[mutation["key"]] = mutation["value"]
            elif op in ("flip", "null"):
                _parent(result, path)[path[-1]] = mutation.get("to") if op == "flip" else None
            elif op == "drop":
                _parent(result, path).pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue  # the body differs from the one the log was made for: skip, do not crash
    return result


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


class Chaos:
    """Plans for a stream of requests: ordinals per request key, a log of every injection
    (one JSON line each, handed to `log`), or, given a log, exactly the logged plans again
    (`--chaos-replay`)."""

    def __init__(self, config: ChaosConfig, log: Callable[[str], None],
                 replay: dict[tuple[str, int], Plan] | None = None) -> None:
        self.config = config
        self.log = log
        self.replay = replay
        self.ordinals: dict[str, int] = {}
        # each distinct plan's name (Plan.key) and JSON text for the log, built once
        self._known: dict[Hashable, tuple[int, str]] = {}
        window = next((t for t in config.default if t.name == "out-of-order"), None)
        for _, terms in config.routes:
            window = window or next((t for t in terms if t.name == "out-of-order"), None)
        self.window: tuple[int, float] | None = None if window is None else (
            int(window.low), window.high)  # (count, seconds): release at whichever first

    def plan(self, request: Request, route: str, body: Any, recorded_seconds: float | None,
             variants: int, layout: Layout | None = None) -> Plan:
        key = request_key(request)
        ordinal = self.ordinals.get(key, 0)
        self.ordinals[key] = ordinal + 1
        if self.replay is not None:
            plan = self.replay.get((key, ordinal), Plan())
        else:
            plan = make_plan(self.config.terms_for(request.method, route), self.config.seed,
                             key, ordinal, body, recorded_seconds, variants, layout)
        if plan.active:
            self.log(f'{{"request":{_json_text(key)},"ordinal":{ordinal},'
                     f'"plan":{self._learn(plan)}}}')
        return plan

    def _learn(self, plan: Plan) -> str:
        """Name the plan (its key, for the caller's caches) and return its JSON text."""
        signature = plan.signature()
        known = self._known.get(signature)
        if known is None:
            known = (len(self._known), json.dumps(plan.to_json(), separators=(",", ":")))
            if len(self._known) >= 4096:
                known = (-1, known[1])  # so many distinct plans that caching does not pay
            else:
                self._known[signature] = known
        plan.key = known[0]
        return known[1]


_json_text = json.encoder.encode_basestring_ascii  # a JSON string literal, in C


def load_log(path: Path) -> dict[tuple[str, int], Plan]:
    """A chaos log (JSON lines) as plans by (request key, ordinal), for --chaos-replay."""
    plans: dict[tuple[str, int], Plan] = {}
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --chaos-replay {path}: {exc}",
                         "give the log a chaos run wrote with --chaos-log") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            plans[(str(entry["request"]), int(entry["ordinal"]))] = Plan.from_json(entry["plan"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path}:{number} is not a chaos log entry ({exc})",
                             "give the log a chaos run wrote with --chaos-log") from exc
    return plans
