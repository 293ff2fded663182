from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from recorder.cassette.format import CassetteWriter, read_interactions
from recorder.cli import cli
from recorder.model import Interaction
from recorder.normalize import NormalizeStats, normalize
from recorder.observe import Router
from recorder.redact import Redactor
from tests import factories
from tests.strategies import json_objects

REDACTOR = Redactor(b"k" * 32)


def tx(i: int, amount: object = 9.2, status: int = 200) -> Interaction:
    return factories.interaction(
        factories.request(path=f"/v1/tx/{i}"),
        factories.response(status, {"id": f"tx_{i}", "amount": amount}),
        seq=i,
    )


def run(items: list[Interaction], keep: int = 1) -> tuple[list[Interaction], NormalizeStats]:
    stats = NormalizeStats()
    router = Router.learn(i.request.path for i in items)
    return list(normalize(items, router, REDACTOR, keep, stats)), stats


def test_groups_by_route_status_and_shape_with_counts() -> None:
    items = [tx(i) for i in range(5)] + [tx(5, "9.20"), tx(6, "9.20"), tx(7, status=404)]
    out, stats = run(items)
    assert (stats.interactions, stats.groups, stats.endpoints, stats.kept) == (8, 3, 1, 3)
    assert [(i.meta["route"], i.meta["count"]) for i in out] == [
        ("/v1/tx/{id}", 5), ("/v1/tx/{id}", 2), ("/v1/tx/{id}", 1)]
    assert [i.seq for i in out] == [0, 1, 2]
    assert out[0].request.path == "/v1/tx/0"  # the first seen is the exemplar
    assert out[0].meta["first_seen"] < out[0].meta["last_seen"]
    assert len({i.meta["shape"] for i in out}) == 2  # the 404 body has the 200's first shape


def test_keep_n_exemplars_per_shape() -> None:
    out, _ = run([tx(i) for i in range(5)], keep=3)
    assert [i.request.path for i in out] == ["/v1/tx/0", "/v1/tx/1", "/v1/tx/2"]
    assert {i.meta["count"] for i in out} == {5}


def test_reordered_keys_are_their_own_group() -> None:
    reordered = factories.interaction(factories.request(path="/v1/tx/9"), factories.response(
        body=b'{"amount": 9.2, "id": "tx_9"}', headers=(("Content-Type", "application/json"),)))
    out, _ = run([tx(1), reordered])
    assert len(out) == 2 and out[0].meta["shape"] == out[1].meta["shape"]
    assert out[0].meta["order"] != out[1].meta["order"]


def test_secrets_are_redacted_on_the_way() -> None:
    item = factories.interaction(factories.request(headers=(("Authorization", "Bearer abc123"),)))
    [out], _ = run([item])
    assert "abc123" not in dict(out.request.headers)["Authorization"]


@given(st.lists(st.tuples(st.integers(0, 3), json_objects), min_size=1, max_size=12))
def test_normalize_is_idempotent(bodies: list[tuple[int, object]]) -> None:
    items = [
        factories.interaction(factories.request(path=f"/v1/things/{n}"),
                              factories.response(body=body), seq=i)
        for i, (n, body) in enumerate(bodies)
    ]
    once, _ = run(items, keep=2)
    twice, _ = run(once, keep=2)
    assert twice == once


def write(path: Path, items: list[Interaction]) -> None:
    with CassetteWriter.create(path, {"kind": "test"}, "2026-11-24T00:00:00Z") as writer:
        for item in items:
            writer.append(item)


def test_cli_output_is_byte_identical_for_the_same_input(tmp_path: Path, recorder_home: Path
                                                         ) -> None:
    source = tmp_path / "in.cassette"
    write(source, [tx(i, 9.2 if i % 3 else "9.20") for i in range(30)])
    runner = CliRunner()
    outputs = []
    for name in ("a", "b"):
        result = runner.invoke(cli, ["normalize", str(source), "-o",
                                     str(tmp_path / f"{name}.cassette"), "--json"])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / f"{name}.cassette").read_bytes())
        summary = json.loads(result.stdout)
        assert (summary["interactions"], summary["shapes"]) == (30, 2)
    assert outputs[0] == outputs[1]


def test_cli_writes_a_library_version_and_show_json_carries_route_shape_count(
    tmp_path: Path, recorder_home: Path
) -> None:
    source = tmp_path / "in.cassette"
    write(source, [tx(i) for i in range(4)])
    runner = CliRunner()
    lib = ["--library", str(tmp_path / "lib")]
    assert runner.invoke(cli, [*lib, "normalize", str(source), "-o", "fx"]).exit_code == 0
    shown = json.loads(runner.invoke(cli, [*lib, "show", "fx", "--json"]).stdout)
    [item] = shown["interactions"]
    assert item["meta"]["route"] == "/v1/tx/{id}" and item["meta"]["count"] == 4
    assert len(item["meta"]["shape"]) == 12
    assert read_interactions(tmp_path / "lib" / "fx" / "0001.cassette")[0].meta["count"] == 4


def test_cli_refuses_to_overwrite_and_reports_missing_inputs(tmp_path: Path,
                                                             recorder_home: Path) -> None:
    source = tmp_path / "in.cassette"
    write(source, [tx(0)])
    existing = tmp_path / "out.cassette"
    existing.write_bytes(b"keep me")
    result = CliRunner().invoke(cli, ["normalize", str(source), "-o", str(existing)])
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert existing.read_bytes() == b"keep me"
    result = CliRunner().invoke(cli, ["normalize", str(tmp_path / "nope.cassette"), "-o", "x"])
    assert result.exit_code == 1 and "no cassette file" in result.stderr
