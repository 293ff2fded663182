"""Chaos, as pure logic: the spec, determinism, flips, probabilities, replay from a log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.errors import UsageError
from recorder.model import Interaction
from recorder.replay.app import ReplayApp, ReplaySettings
from recorder.replay.chaos import Chaos, ChaosConfig, apply, load_log, make_plan, parse_spec
from recorder.replay.index import ReplayIndex
from recorder.replay.server import ReorderGate
from tests import factories
from tests.strategies import json_objects

BODY = {"id": "cv_1", "amount": 108.42, "rate": 1.0842, "count": 3, "ok": True,
        "items": [{"sku": "A", "qty": 2}], "customer": {"name": "Jane", "vip": False}}


def app(spec: str, seed: int, log: list[str] | None = None,
        items: list[Interaction] | None = None) -> ReplayApp:
    entries = log if log is not None else []
    chaos = Chaos(ChaosConfig(parse_spec(spec), seed=seed), entries.append)
    recorded = items or [factories.interaction(factories.request(path=f"/v1/tx/{i}"),
                                               factories.response(body={**BODY, "n": i}))
                         for i in range(20)]
    return ReplayApp(ReplayIndex(recorded), ReplaySettings(), chaos=chaos)


def run(target: ReplayApp, paths: list[str]) -> list[bytes]:
    return [target.handle(factories.request(path=p)).data for p in paths]


PATHS = [f"/v1/tx/{i % 20}" for i in range(60)]
SPEC = "flip-types=0.3,reorder=0.5,drop-field=0.2,null-field=0.2,extra-field=0.2"


@pytest.mark.parametrize(("spec", "message"), [
    ("wobble=0.5", "unknown chaos term 'wobble'"),
    ("latency", "needs a value"),
    ("latency=fast", "is not a duration"),
    ("latency=800..50ms", "runs backwards"),
    ("reorder@1.5", "not within 0..1"),
    ("status=999", "is not an HTTP status"),
    ("reset=3", "takes no value"),
    ("drop-field=$.amount", "only flip-types takes a JSON path"),
    ("out-of-order=1", "the window is a count"),
    ("", "is empty"),
])
def test_bad_specs_are_one_clear_error_listing_valid_terms(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_spec(spec)
    assert info.value.hint


def test_a_full_spec_parses() -> None:
    terms = parse_spec("latency=50..800ms@0.3,slow-body=10ms,flip-types=$.amount@1.0,"
                       "reorder=0.2,drift=0.1,out-of-order=4,status=503@0.01,throttle@0.02,"
                       "timeout@0.001,reset@0.01,empty@0.01,truncate@0.01,latency=recordedx2")
    assert [t.name for t in terms][:3] == ["latency", "slow-body", "flip-types"]
    assert terms[0].low == 0.05 and terms[0].high == 0.8 and terms[0].probability == 0.3
    assert terms[2].path == "$.amount" and terms[-1].scale == 2


def test_same_seed_same_bytes_and_log_another_seed_differs() -> None:
    first_log: list[str] = []
    second_log: list[str] = []
    first = run(app(SPEC, 7, first_log), PATHS)
    second = run(app(SPEC, 7, second_log), PATHS)
    assert first == second and first_log == second_log and first_log
    assert run(app(SPEC, 8), PATHS) != first


def test_every_mutated_body_is_valid_json_and_marked() -> None:
    for data in run(app(SPEC, 3), PATHS):
        head, _, body = data.partition(b"\r\n\r\n")
        json.loads(body)
        if b"X-Recorder-Chaos" in head:
            assert int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) == len(body)


@given(body=json_objects, seed=st.integers(0, 2**31))
def test_flips_keep_json_valid_and_change_what_they_say(body: dict[str, Any], seed: int
                                                        ) -> None:
    plan = make_plan(parse_spec("flip-types=1.0"), seed, "GET /x", 0, body, None, 0)
    mutated = apply(body, plan.mutations)
    assert json.loads(json.dumps(mutated)) == mutated
    for mutation in plan.mutations:
        target = mutated
        for part in mutation["path"]:
            target = target[part]
        assert target == mutation["to"]


def test_numbers_become_formatted_strings_as_real_apis_send_them() -> None:
    plan = make_plan(parse_spec("flip-types=$.amount@1.0"), 1, "k", 0, BODY, None, 0)
    tos = {json.dumps(apply(BODY, plan.mutations)["amount"])}
    for seed in range(2, 40):
        plan = make_plan(parse_spec("flip-types=$.amount@1.0"), seed, "k", 0, BODY, None, 0)
        tos.add(json.dumps(apply(BODY, plan.mutations)["amount"]))
    assert tos == {'"108.42"', "null"}


def test_probabilities_land_within_tolerance() -> None:
    # 2,000 distinct requests (the query differs): each gets its own roll
    counted = app("status=503@0.2", 11, items=[factories.interaction(
        factories.request(path="/v1/tx", query=f"n={i}"), factories.response(body=BODY))
        for i in range(2000)])
    hits = sum(counted.handle(factories.request(path="/v1/tx", query=f"n={i}")).data.startswith(
        b"HTTP/1.1 503") for i in range(2000))
    assert abs(hits - 400) < 70  # binomial(2000, 0.2): sd ≈ 18, so ±70 is under 4 sd


def test_a_log_reapplies_exactly(tmp_path: Path) -> None:
    log: list[str] = []
    original = run(app(SPEC + ",status=503@0.1", 5, log), PATHS)
    path = tmp_path / "chaos.jsonl"
    path.write_text("".join(line + "\n" for line in log))
    replayed = ReplayApp(ReplayIndex([factories.interaction(
        factories.request(path=f"/v1/tx/{i}"), factories.response(body={**BODY, "n": i}))
        for i in range(20)]), ReplaySettings(),
        chaos=Chaos(ChaosConfig(seed=999), lambda e: None, load_log(path)))
    assert run(replayed, PATHS) == original


def test_a_bad_log_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"request": "GET /", "ordinal": 0, "plan": {}}\nnot json\n')
    with pytest.raises(UsageError, match=r"bad\.jsonl:2 is not a chaos log entry"):
        load_log(path)


def test_route_rules_from_a_profile(tmp_path: Path) -> None:
    profile = tmp_path / "chaos.toml"
    profile.write_text('default = "latency=10ms"\n[routes]\n"GET /v1/tx/{id}" = '
                       '"flip-types=$.amount@1.0"\n')
    config = ChaosConfig.load(None, profile, 1)
    assert [t.name for t in config.terms_for("GET", "/v1/tx/{id}")] == ["flip-types"]
    assert [t.name for t in config.terms_for("POST", "/v1/other")] == ["latency"]
    profile.write_text('[routes]\n"/v1/tx" = "reset"\n')
    with pytest.raises(UsageError, match="is not 'METHOD /route'"):
        ChaosConfig.load(None, profile, 1)


def test_drift_serves_another_recorded_shape_of_the_endpoint() -> None:
    items = [factories.interaction(factories.request(path="/v1/pay/1"), factories.response(
                 body={"status": "settled", "settled_at": "2026-11-24T09:00:01Z"})),
             factories.interaction(factories.request(path="/v1/pay/2"), factories.response(
                 body={"status": "succeeded", "settled_at": None}))]
    target = app("drift=1.0", 4, items=items)
    body = target.handle(factories.request(path="/v1/pay/1")).data.partition(b"\r\n\r\n")[2]
    assert json.loads(body) == {"status": "succeeded", "settled_at": None}


def test_faults() -> None:
    assert app("reset", 1).handle(factories.request(path="/v1/tx/1")).action == "reset"
    assert app("timeout", 1).handle(factories.request(path="/v1/tx/1")).action == "hold"
    throttled = app("throttle", 1).handle(factories.request(path="/v1/tx/1")).data
    assert throttled.startswith(b"HTTP/1.1 429") and b"Retry-After: 1" in throttled
    truncated = app("truncate", 1).handle(factories.request(path="/v1/tx/1"))
    head, _, body = truncated.data.partition(b"\r\n\r\n")
    assert int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) > len(body)
    assert truncated.keep_alive is False


def test_the_reorder_gate_releases_a_seeded_shuffle() -> None:
    async def main(seed: int) -> list[int]:
        gate, released = ReorderGate(4, 5.0, seed), []

        async def one(n: int) -> None:
            await gate.wait()
            released.append(n)

        await asyncio.gather(*(one(n) for n in range(4)))
        return released

    orders = {tuple(asyncio.run(main(seed))) for seed in range(6)}
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert len(orders) > 1  # the seed decides the order ...
    assert asyncio.run(main(3)) == asyncio.run(main(3))  # ... and the same seed, the same


def test_the_chaos_header_names_each_responses_own_delay() -> None:
    target = app("latency=10..500ms,flip-types=$.amount@1.0", 2)
    headers = set()
    for _ in range(6):
        reply = target.handle(factories.request(path="/v1/tx/1"))
        head = reply.data.split(b"\r\n\r\n")[0]
        header = [line for line in head.split(b"\r\n") if line.startswith(b"X-Recorder-Chaos")]
        assert header and f"latency={reply.delay * 1000:.0f}ms".encode() in header[0]
        headers.add(header[0])
    assert len(headers) > 1
