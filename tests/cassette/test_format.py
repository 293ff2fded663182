from __future__ import annotations

from pathlib import Path

import jsonschema
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.cassette import migrate
from recorder.cassette.codec import encode_interaction
from recorder.cassette.format import CassetteReader, CassetteWriter, read_interactions
from recorder.cassette.schema import RECORD_SCHEMA
from recorder.errors import CassetteError, UpgradeRequired
from recorder.model import Interaction
from tests import factories
from tests.strategies import interactions

SOURCE = {"kind": "test"}


def write(path: Path, items: list[Interaction]) -> Path:
    with CassetteWriter.create(path, SOURCE) as writer:
        for item in items:
            writer.append(item)
    return path


def some_interactions(n: int = 5) -> list[Interaction]:
    return [
        factories.interaction(factories.request(path=f"/v1/tx/{i}"), seq=i) for i in range(n)
    ]


@given(items=st.lists(interactions, max_size=6))
def test_round_trip_keeps_every_field(tmp_path: Path, items: list[Interaction]) -> None:
    path = tmp_path / f"rt-{len(list(tmp_path.iterdir()))}.cassette"
    write(path, items)
    with CassetteReader(path) as reader:
        assert list(reader) == items
        assert reader.damage is None


def test_duplicate_headers_binary_bodies_and_non_utf8_header_bytes(tmp_path: Path) -> None:
    odd_value = b"caf\xe9".decode("utf-8", "surrogateescape")
    item = factories.interaction(
        factories.request(
            "POST",
            headers=(("X-Dup", "1"), ("x-dup", "2"), ("X-Dup", "1"), ("X-Odd", odd_value)),
            body=bytes(range(256)),
        ),
        factories.response(body=b"\x89PNG\r\n\x1a\n\x00\xff", headers=(("Set-Cookie", "a=1"),
                                                                         ("Set-Cookie", "b=2"))),
    )
    [back] = read_interactions(write(tmp_path / "x.cassette", [item]))
    assert back.request.headers == item.request.headers
    assert back.request.headers[3][1].encode("utf-8", "surrogateescape") == b"caf\xe9"
    assert back.request.body == bytes(range(256))
    assert back.response == item.response


def _as_json(value: object) -> object:
    """msgpack arrays are lists in JSON; bodies (bin) have no JSON type, so stand in a string."""
    if isinstance(value, tuple | list):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return "<bin>" if isinstance(value, bytes) else value


@given(item=interactions)
def test_records_conform_to_the_published_schema(item: Interaction) -> None:
    jsonschema.validate(_as_json(encode_interaction(item)), RECORD_SCHEMA)


def test_torn_tail_at_every_offset_keeps_every_complete_record(tmp_path: Path) -> None:
    items = some_interactions(4)
    whole = write(tmp_path / "whole.cassette", items).read_bytes()
    last_record_start = len(write(tmp_path / "three.cassette", items[:3]).read_bytes())
    for cut in range(last_record_start + 1, len(whole)):
        torn = tmp_path / "torn.cassette"
        torn.write_bytes(whole[:cut])
        with CassetteReader(torn) as reader:
            assert list(reader) == items[:3], cut
            assert reader.damage is not None
            assert reader.damage.kind == "torn"
            assert reader.damage.record == 3
            assert reader.damage.offset == last_record_start


def test_a_flipped_bit_is_reported_and_records_before_it_survive(tmp_path: Path) -> None:
    items = some_interactions(3)
    data = bytearray(write(tmp_path / "a.cassette", items).read_bytes())
    second_record_start = len(write(tmp_path / "one.cassette", items[:1]).read_bytes())
    third_record_start = len(write(tmp_path / "two.cassette", items[:2]).read_bytes())
    for offset in range(second_record_start, third_record_start):
        for bit in (0, 7):
            damaged = bytearray(data)
            damaged[offset] ^= 1 << bit
            path = tmp_path / "flipped.cassette"
            path.write_bytes(bytes(damaged))
            with CassetteReader(path) as reader:
                read = list(reader)
            assert read[:1] == items[:1], offset
            assert read != items, f"a flip at byte {offset} went unnoticed"
            assert reader.damage is not None


def test_newer_format_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "future.cassette"
    path.write_bytes(msgpack.packb({"magic": "recorder-cassette", "format": 99}))
    with pytest.raises(UpgradeRequired) as info:
        CassetteReader(path)
    assert "format version 99" in info.value.message
    assert "upgrade recorder" in (info.value.hint or "")


def test_older_format_migrates_through_the_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend the current format is 3, with converters 1→2 and 2→3.
    monkeypatch.setattr(migrate, "FORMAT_VERSION", 3)
    steps: list[str] = []

    def header(n: int):  # type: ignore[no-untyped-def]
        return lambda h: steps.append(f"header {n}") or {**h, "format": n + 1}

    def record(n: int):  # type: ignore[no-untyped-def]
        return lambda r: (r[0] * 10 + n, *r[1:])  # records are positional; seq comes first

    monkeypatch.setattr(migrate, "MIGRATIONS", {
        1: migrate.Migration(header(1), record(1)),
        2: migrate.Migration(header(2), record(2)),
    })
    path = write(tmp_path / "old.cassette", [factories.interaction(seq=4)])
    with CassetteReader(path) as reader:
        [item] = list(reader)
        assert reader.format_version == 3
    assert steps == ["header 1", "header 2"]
    assert item.seq == 412  # 4 → 41 → 412: both converters ran, in order


def test_a_version_with_no_converter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zero.cassette"
    path.write_bytes(msgpack.packb({"magic": "recorder-cassette", "format": 0,
                                    "created_at": "", "recorder_version": "", "source": {}}))
    with pytest.raises(CassetteError, match="can migrate"):
        CassetteReader(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a recorder cassette"),
        (b"hello world", "not a recorder cassette"),
        (msgpack.packb({"magic": "something-else"}), "not a recorder cassette"),
        (msgpack.packb({"magic": "recorder-cassette", "format": 1}), "malformed header"),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.cassette"
    path.write_bytes(content)
    with pytest.raises(CassetteError, match=message):
        CassetteReader(path)


def test_a_missing_file_and_a_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="cannot read"):
        CassetteReader(tmp_path / "missing.cassette")
    with pytest.raises(CassetteError, match="is a directory"):
        CassetteReader(tmp_path)


def test_writer_never_overwrites(tmp_path: Path) -> None:
    path = write(tmp_path / "keep.cassette", some_interactions(2))
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        CassetteWriter.create(path, SOURCE)
    assert path.read_bytes() == before


def test_each_append_is_on_disk_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "live.cassette"
    items = some_interactions(3)
    with CassetteWriter.create(path, SOURCE) as writer:
        for n, item in enumerate(items, start=1):
            writer.append(item)
            # another process reading now sees every record appended so far
            assert read_interactions(path) == items[:n]


def test_unstorable_meta_is_a_clear_error(tmp_path: Path) -> None:
    with CassetteWriter.create(tmp_path / "m.cassette", SOURCE) as writer:
        writer.append(factories.interaction(seq=0))
        with pytest.raises(CassetteError, match="cannot be stored"):
            writer.append(factories.interaction(seq=1, huge=2**80))
    assert len(read_interactions(tmp_path / "m.cassette")) == 1


def test_count_matches_iteration(tmp_path: Path) -> None:
    path = write(tmp_path / "c.cassette", some_interactions(7))
    with CassetteReader(path) as reader:
        assert reader.count() == 7


# The reader is fuzzed: whatever the bytes, only recorder's own error escapes.
VALID_HEADER = msgpack.packb({"magic": "recorder-cassette", "format": 1, "created_at": "",
                              "recorder_version": "", "source": {}})


@settings(max_examples=300)
@given(data=st.binary(max_size=400) | st.binary(max_size=400).map(lambda b: VALID_HEADER + b))
def test_fuzzed_bytes_raise_only_cassette_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.cassette"
    path.write_bytes(data)
    try:
        with CassetteReader(path) as reader:
            for item in reader:
                assert isinstance(item, Interaction)
    except CassetteError:
        pass


@settings(max_examples=200)
@given(records=st.lists(st.recursive(
    st.none() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5) | st.binary(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
), max_size=3))
def test_well_framed_but_wrong_records_are_reported_not_raised(
    tmp_path: Path, records: list[object]
) -> None:
    """Checksummed frames whose payload is not an interaction: damage, not a crash."""
    import zlib

    path = tmp_path / "wrong.cassette"
    frames = b"".join(
        msgpack.packb([zlib.crc32(p), p]) for p in (msgpack.packb(r) for r in records)
    )
    path.write_bytes(VALID_HEADER + frames)
    with CassetteReader(path) as reader:
        assert list(reader) == []
        assert (reader.damage is not None) == bool(records)
