"""The cassette library: named cassettes with numbered versions that are never overwritten.

Layout:  <library>/<name>/0001.cassette, 0002.cassette, ...

Wherever a cassette is expected the user may write a path (anything with a `/` or the
`.cassette` suffix), a name (`fx`: its newest version) or a name and version (`fx@3`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder.cassette.format import SUFFIX, CassetteReader, CassetteWriter
from recorder.errors import BadName, CassetteError, LibraryError

DEFAULT_LIBRARY = "cassettes"
LIBRARY_ENV = "RECORDER_LIBRARY"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VERSION_FILE = re.compile(r"(\d{4,9})" + re.escape(SUFFIX))
_NAME_HINT = "a name is letters, digits, '.', '_' and '-', starting with a letter or digit"


def check_name(name: str) -> str:
    """Return `name` if it is a safe cassette name; refuse anything that could escape."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise BadName(f"{name!r} is not a valid cassette name", _NAME_HINT)
    return name


def looks_like_path(ref: str) -> bool:
    return "/" in ref or os.sep in ref or ref.endswith(SUFFIX)


@dataclass(frozen=True)
class Version:
    name: str
    number: int
    path: Path

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"


@dataclass(frozen=True)
class VersionInfo:
    version: Version
    interactions: int
    created_at: str
    size: int
    damaged: bool


class Library:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> Library:
        return cls(Path(root or os.environ.get(LIBRARY_ENV) or DEFAULT_LIBRARY))

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name)
        )

    def versions(self, name: str) -> list[Version]:
        folder = self.root / check_name(name)
        if not folder.is_dir():
            return []
        found = []
        for entry in folder.iterdir():
            match = _VERSION_FILE.fullmatch(entry.name)
            if match and entry.is_file():
                found.append(Version(name, int(match.group(1)), entry))
        return sorted(found, key=lambda v: v.number)

    def version_path(self, name: str, number: int) -> Path:
        return self.root / check_name(name) / f"{number:04d}{SUFFIX}"

    def resolve(self, ref: str) -> Path:
        """The file a cassette reference means: a path, `name` (newest) or `name@N`."""
        if looks_like_path(ref):
            path = Path(ref)
            if not path.is_file():
                raise CassetteError(
                    f"no cassette file at {ref}", "check the path, or give a library name"
                )
            return path
        name, _, number = ref.partition("@")
        versions = self.versions(check_name(name))
        if not versions:
            raise LibraryError(
                f"no cassette named {name!r} in {self.root}",
                f"known names: {', '.join(self.names()) or 'none yet'} "
                "(set --library or RECORDER_LIBRARY to use another library)",
            )
        if not number:
            return versions[-1].path
        if not number.isdigit():
            raise BadName(f"{ref!r}: the version after '@' must be a number", "e.g. fx@3")
        for version in versions:
            if version.number == int(number):
                return version.path
        raise LibraryError(
            f"{name!r} has no version {number}",
            f"its versions: {', '.join(str(v.number) for v in versions)}",
        )

    def create(self, name: str, source: Mapping[str, Any],
               created_at: str | None = None) -> tuple[Version, CassetteWriter]:
        """Start the next version of `name`. Exclusive creation means two writers racing for
        one number never share a file: the loser takes the next number."""
        folder = self.root / check_name(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(
                f"cannot create {folder}: {exc.strerror}", "check the library directory"
            ) from exc
        existing = self.versions(name)
        number = existing[-1].number + 1 if existing else 1
        while True:
            path = self.version_path(name, number)
            try:
                return Version(name, number, path), CassetteWriter.create(path, source,
                                                                          created_at)
            except FileExistsError:
                number += 1

    def info(self, version: Version) -> VersionInfo:
        stat = version.path.stat()
        try:
            with CassetteReader(version.path) as reader:
                count = reader.count()
                created = str(reader.header.get("created_at", ""))
                damaged = reader.damage is not None
        except CassetteError:
            mtime = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            return VersionInfo(version, 0, mtime.isoformat(timespec="seconds"), stat.st_size, True)
        return VersionInfo(version, count, created, stat.st_size, damaged)


def create_file(path: Path, source: Mapping[str, Any],
                created_at: str | None = None) -> CassetteWriter:
    """A writer for an explicit `-o PATH`, refusing to overwrite an existing file."""
    try:
        return CassetteWriter.create(path, source, created_at)
    except FileExistsError:
        raise LibraryError(
            f"{path} already exists", "recorder never overwrites a cassette: choose a new path"
        ) from None
