"""The cassette file: a msgpack header map, then one checksummed frame per interaction.

On disk:   header-map  frame  frame  frame ...
           frame = [crc32(payload), payload]   payload = msgpack(record)

Each frame is written with one unbuffered write, so a crash or `kill -9` leaves at most
one incomplete frame at the end: the reader reports it as a torn tail and keeps every
record before it. The checksum turns a flipped bit into a reported, located damage
instead of a silently different interaction.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import msgpack

from recorder import __version__
from recorder.cassette.codec import decode_interaction, encode_interaction
from recorder.cassette.migrate import FORMAT_VERSION, migration_chain
from recorder.cassette.schema import HEADER_SCHEMA, MAGIC
from recorder.errors import CassetteError
from recorder.model import Interaction

# Header strings from the wire may hold bytes that are not UTF-8 (mitmproxy hands them to
# us surrogate-escaped); the same error handler on both sides keeps them byte-exact.
_UNICODE_ERRORS = "surrogateescape"
_UNPACK_ERRORS = (ValueError, TypeError, msgpack.UnpackException)

SUFFIX = ".cassette"


@dataclass(frozen=True)
class Damage:
    """Where reading stopped early, and why. Everything before `offset` was read."""

    kind: str  # "torn" (an incomplete last record) or "corrupt" (bad bytes, bad checksum)
    record: int  # index of the first record not read
    offset: int
    message: str

    def describe(self, path: Path) -> str:
        what = "torn tail" if self.kind == "torn" else "damaged record"
        return (
            f"{path}: {what} at byte {self.offset} (record {self.record}): {self.message}; "
            f"the {self.record} records before it were read"
        )


def new_header(source: Mapping[str, Any], created_at: str | None = None) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "magic": MAGIC,
        "format": FORMAT_VERSION,
        "created_at": created_at or now,
        "recorder_version": __version__,
        "source": dict(source),
    }


def _packer() -> msgpack.Packer:
    return msgpack.Packer(use_bin_type=True, unicode_errors=_UNICODE_ERRORS)


def _header_looks_valid(header: dict[str, Any]) -> bool:
    """The fast check HEADER_SCHEMA also makes; the schema words the error when this fails."""
    return (
        type(header.get("format")) is int
        and isinstance(header.get("created_at"), str)
        and isinstance(header.get("recorder_version"), str)
        and isinstance(header.get("source"), dict)
    )


class _ClosedOnExit:
    """`with` closes: for the reader and the writer, which each own one open file."""

    def close(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CassetteWriter(_ClosedOnExit):
    """Appends interactions to a new cassette file, one flushed write per record."""

    def __init__(self, file: BinaryIO, path: Path) -> None:
        self._file = file
        self._packer = _packer()
        self.path = path
        self.count = 0

    @classmethod
    def create(cls, path: Path, source: Mapping[str, Any],
               created_at: str | None = None) -> CassetteWriter:
        """Create `path` exclusively (an existing file is never overwritten). Derived
        cassettes pass their inputs' `created_at` so their bytes are reproducible."""
        try:
            file = open(path, "xb", buffering=0)  # noqa: SIM115 - owned by the writer
        except FileExistsError:
            raise
        except OSError as exc:
            raise CassetteError(
                f"cannot create {path}: {exc.strerror}",
                "check that the directory exists and is writable",
            ) from exc
        writer = cls(file, path)
        try:
            writer._write(writer._packer.pack(new_header(source, created_at)))
        except BaseException:
            file.close()
            path.unlink(missing_ok=True)
            raise
        return writer

    def append(self, interaction: Interaction) -> None:
        try:
            payload = self._packer.pack(encode_interaction(interaction))
        except (TypeError, ValueError, OverflowError) as exc:
            raise CassetteError(
                f"interaction #{interaction.seq} cannot be stored: {exc}",
                "meta values must be msgpack-able (str, bytes, numbers, lists, maps)",
            ) from exc
        self._write(self._packer.pack((zlib.crc32(payload), payload)))
        self.count += 1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = self._file.write(view)
                view = view[written or 0 :]
        except OSError as exc:
            raise CassetteError(
                f"cannot write to {self.path}: {exc.strerror}",
                "free disk space or fix permissions; every record written before this one "
                "is intact",
            ) from exc

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CassetteWriter:
        return self


class CassetteReader(_ClosedOnExit):
    """Streams the interactions of one cassette file in constant memory.

    Opening reads and validates the header (a bad or newer format raises at once).
    Iterating yields interactions; damage at the end stops iteration and is kept in
    `damage` for the caller to report.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except IsADirectoryError as exc:
            raise CassetteError(f"{self.path} is a directory, not a cassette") from exc
        except OSError as exc:
            raise CassetteError(
                f"cannot read {self.path}: {exc.strerror}",
                "check the path; `recorder ls` lists the cassettes in the library",
            ) from exc
        self.size = os.fstat(self._file.fileno()).st_size
        self._unpacker = msgpack.Unpacker(
            self._file, raw=False, use_list=False, unicode_errors=_UNICODE_ERRORS
        )
        self.damage: Damage | None = None
        try:
            self.header = self._read_header()
            self._migrations = migration_chain(self.header["format"])
            for migration in self._migrations:
                self.header = migration.header(self.header)
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> dict[str, Any]:
        not_a_cassette = CassetteError(
            f"{self.path} is not a recorder cassette",
            "cassettes are written by `recorder capture` or `recorder import`",
        )
        try:
            header = next(self._unpacker)
        except (StopIteration, *_UNPACK_ERRORS) as exc:
            raise not_a_cassette from exc
        if not isinstance(header, dict) or header.get("magic") != MAGIC:
            raise not_a_cassette
        version = header.get("format")
        if isinstance(version, int) and version > FORMAT_VERSION:
            return header  # migration_chain() raises the upgrade error
        if _header_looks_valid(header):
            return header  # the common case, without importing jsonschema (50 ms)
        import jsonschema

        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(HEADER_SCHEMA).iter_errors(header)
        )
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "header"
            raise CassetteError(
                f"{self.path} has a malformed header ({where}: {error.message})",
                "the file was not written by recorder, or was edited by hand",
            )
        return header

    @property
    def format_version(self) -> int:
        return int(self.header["format"])

    def _payloads(self) -> Iterator[bytes]:
        """The checksummed payloads in order; stops at (and records) any damage."""
        index = 0
        while True:
            start = self._unpacker.tell()
            try:
                frame = next(self._unpacker)
            except StopIteration:
                if start < self.size:
                    self.damage = Damage(
                        "torn", index, start, "the last record is incomplete (a crash mid-write?)"
                    )
                return
            except _UNPACK_ERRORS as exc:
                self.damage = Damage("corrupt", index, start, f"unreadable bytes ({exc})")
                return
            if (
                type(frame) is not tuple
                or len(frame) != 2
                or type(frame[1]) is not bytes
                or zlib.crc32(frame[1]) != frame[0]
            ):
                self.damage = Damage("corrupt", index, start, "checksum mismatch")
                return
            yield frame[1]
            index += 1

    def __iter__(self) -> Iterator[Interaction]:
        for index, payload in enumerate(self._payloads()):
            try:
                record = msgpack.unpackb(
                    payload, raw=False, use_list=False, unicode_errors=_UNICODE_ERRORS
                )
                for migration in self._migrations:
                    record = migration.record(record)
                yield decode_interaction(record)
            except (*_UNPACK_ERRORS, CassetteError) as exc:
                message = exc.message if isinstance(exc, CassetteError) else str(exc)
                self.damage = Damage("corrupt", index, -1, message)
                return

    def count(self) -> int:
        """Number of intact records, checking checksums but not decoding them."""
        return sum(1 for _ in self._payloads())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CassetteReader:
        return self


def read_interactions(path: Path) -> list[Interaction]:
    """All intact interactions of a small cassette, for tests and tools that need a list."""
    with CassetteReader(path) as reader:
        return list(reader)
