from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from recorder.cassette.format import read_interactions
from recorder.cassette.library import Library, check_name, create_file
from recorder.errors import BadName, CassetteError, LibraryError
from tests import factories


def add_version(lib: Library, name: str, n: int = 1) -> Path:
    version, writer = lib.create(name, {"kind": "test"})
    with writer:
        for i in range(n):
            writer.append(factories.interaction(seq=i))
    return version.path


def test_versions_count_up_and_never_overwrite(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    first = add_version(lib, "fx", 1)
    first_bytes = first.read_bytes()
    second = add_version(lib, "fx", 2)
    assert [v.number for v in lib.versions("fx")] == [1, 2]
    assert first != second
    assert first.read_bytes() == first_bytes
    assert second.name == "0002.cassette"


def test_a_deleted_middle_version_is_not_reused(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    add_version(lib, "fx")
    add_version(lib, "fx")
    add_version(lib, "fx")
    lib.version_path("fx", 2).unlink()
    assert add_version(lib, "fx").name == "0004.cassette"


def test_resolve_name_version_and_path(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    v1 = add_version(lib, "fx", 1)
    v2 = add_version(lib, "fx", 2)
    assert lib.resolve("fx") == v2
    assert lib.resolve("fx@1") == v1
    assert lib.resolve(str(v1)) == v1
    with pytest.raises(LibraryError, match="no version 7") as info:
        lib.resolve("fx@7")
    assert info.value.hint == "its versions: 1, 2"
    with pytest.raises(LibraryError, match="no cassette named 'other'"):
        lib.resolve("other")
    with pytest.raises(BadName, match="must be a number"):
        lib.resolve("fx@latest")
    with pytest.raises(CassetteError, match="no cassette file"):
        lib.resolve(str(tmp_path / "missing.cassette"))


@pytest.mark.parametrize("name", ["..", ".hidden", "a..b", "", "-x", "a b", "x/y", "é", "a" * 101])
def test_names_that_could_escape_or_confuse_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadName):
        check_name(name)
    with pytest.raises(BadName):
        Library(tmp_path).create(name, {})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["fx", "stripe-v2", "a.b_c", "X1"])
def test_ordinary_names_are_accepted(name: str) -> None:
    assert check_name(name) == name


def test_explicit_output_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "out.cassette"
    path.write_bytes(b"precious")
    with pytest.raises(LibraryError, match="already exists"):
        create_file(path, {})
    assert path.read_bytes() == b"precious"


def _write_many(root: str, worker: int) -> None:
    lib = Library(Path(root))
    for i in range(10):
        _, writer = lib.create("race", {"worker": worker})
        with writer:
            writer.append(factories.interaction(seq=worker * 100 + i))


def test_racing_writers_get_separate_versions(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(str(tmp_path), w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    versions = Library(tmp_path).versions("race")
    assert [v.number for v in versions] == list(range(1, 41))
    seqs = sorted(read_interactions(v.path)[0].seq for v in versions)
    assert seqs == sorted(w * 100 + i for w in range(4) for i in range(10))


def test_info_counts_and_flags_damage(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    path = add_version(lib, "fx", 3)
    [version] = lib.versions("fx")
    info = lib.info(version)
    assert (info.interactions, info.damaged) == (3, False)
    path.write_bytes(path.read_bytes()[:-3])
    info = lib.info(version)
    assert (info.interactions, info.damaged) == (2, True)
