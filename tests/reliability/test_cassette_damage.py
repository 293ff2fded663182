"""Damage anywhere in a cassette: every complete record before it survives."""

from __future__ import annotations

from pathlib import Path

from recorder.cassette.format import CassetteReader, CassetteWriter
from recorder.errors import CassetteError
from tests import factories


def cassette(path: Path, count: int) -> tuple[bytes, list[int]]:
    """The file's bytes and the offset where each record ends."""
    ends = []
    with CassetteWriter.create(path, {"kind": "test"}) as writer:
        ends.append(path.stat().st_size)
        for i in range(count):
            writer.append(factories.interaction(factories.request(path=f"/v1/tx/{i}"), seq=i))
            ends.append(path.stat().st_size)
    return path.read_bytes(), ends


def survivors(path: Path) -> list[int] | None:
    """The seqs read, or None when the header itself is unreadable."""
    try:
        with CassetteReader(path) as reader:
            return [i.seq for i in reader]
    except CassetteError:
        return None


def test_truncation_at_every_byte_offset(tmp_path: Path) -> None:
    data, ends = cassette(tmp_path / "whole.cassette", 5)
    cut = tmp_path / "cut.cassette"
    for offset in range(len(data) + 1):
        cut.write_bytes(data[:offset])
        complete = sum(1 for end in ends[1:] if end <= offset)
        expected = None if offset < ends[0] else list(range(complete))
        assert survivors(cut) == expected, offset


def test_a_single_bit_flip_anywhere_keeps_every_record_before_it(tmp_path: Path) -> None:
    data, ends = cassette(tmp_path / "whole.cassette", 4)
    flipped = tmp_path / "flipped.cassette"
    for offset in range(ends[0], len(data)):  # past the header: it is checked on its own
        intact = sum(1 for end in ends[1:] if end <= offset)
        for bit in (0, 3, 7):
            damaged = bytearray(data)
            damaged[offset] ^= 1 << bit
            flipped.write_bytes(bytes(damaged))
            read = survivors(flipped)
            assert read is not None and read[:intact] == list(range(intact)), (offset, bit)
            assert len(read) < 4, (offset, bit)  # the damaged record itself is never passed on
