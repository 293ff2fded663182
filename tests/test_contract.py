from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.contract import Contract, build_schema
from recorder.diff import profile
from recorder.errors import RecorderError
from recorder.model import Interaction
from recorder.observe import Router
from tests import factories
from tests.strategies import json_objects


def item(body: Any, path: str = "/v1/tx/1", status: int = 200, seq: int = 0) -> Interaction:
    return factories.interaction(factories.request(path=path), factories.response(
        status, json.dumps(body).encode(), headers=(("Content-Type", "application/json"),)),
        seq=seq)


def contract_from(items: list[Interaction], strict: bool = False) -> tuple[dict[str, Any],
                                                                            Contract]:
    router = Router.learn(i.request.path for i in items)
    document = build_schema(profile(items, router, "fx"), "test", strict)
    return document, Contract(document, "test")


@given(st.lists(json_objects, min_size=1, max_size=6))
def test_every_recorded_response_validates_against_its_inferred_schema(bodies: list[Any]
                                                                       ) -> None:
    items = [item(b, seq=i) for i, b in enumerate(bodies)]
    document, contract = contract_from(items)
    jsonschema.Draft202012Validator.check_schema(document)
    assert list(contract.check(items, "fx")) == []


def test_both_sides_of_a_type_conflict_are_kept_and_said() -> None:
    document, contract = contract_from([item({"amount": 9.2}), item({"amount": "9.20"})])
    amount = document["$defs"]["GET /v1/tx/{id} 200"]["properties"]["amount"]
    assert {"type": "number"} in amount["anyOf"]
    assert amount["description"] == "seen as number and as string(numeric)"
    assert list(contract.check([item({"amount": 1}), item({"amount": "1.00"})], "x")) == []
    [failure] = contract.check([item({"amount": "nine"})], "x")
    assert failure.path == "$.amount"


def test_required_formats_and_the_single_best_error() -> None:
    document, contract = contract_from([
        item({"id": "0b8f3ae3-6b7e-4c3e-9a64-8d4a1a4f6f3b", "at": "2026-11-24T09:00:00Z",
              "note": "a"}),
        item({"id": "0b8f3ae3-6b7e-4c3e-9a64-8d4a1a4f6f3c", "at": "2026-11-24T09:00:01Z"}),
    ])
    schema = document["$defs"]["GET /v1/tx/{id} 200"]
    assert schema["required"] == ["at", "id"]
    assert schema["properties"]["id"]["format"] == "uuid"
    assert schema["properties"]["at"]["format"] == "date-time"
    failures = list(contract.check([item({"id": 5, "at": None}, seq=7)], "fx@2"))
    assert len(failures) == 1  # one error per interaction, the best one
    assert failures[0].interaction == "fx@2#7"
    assert failures[0].path in ("$.id", "$.at")


def test_unknown_endpoints_and_statuses_fail_and_strict_forbids_new_fields() -> None:
    _, contract = contract_from([item({"a": 1})], strict=True)
    failures = list(contract.check([item({"a": 1}, status=500), item({"a": 1},
                                    path="/v2/other"), item({"a": 1, "b": 2})], "x"))
    assert [f.message for f in failures][:2] == [
        "no contract for GET /v1/tx/{id} answering 500",
        "no contract for GET /v2/other answering 200"]
    assert "Additional properties" in failures[2].message


@pytest.mark.parametrize("document", [{}, [], {"$defs": {"x": {"type": 5}}}])
def test_a_bad_schema_document_is_a_clear_error(document: Any) -> None:
    with pytest.raises(RecorderError):
        Contract(document, "bad.json")
