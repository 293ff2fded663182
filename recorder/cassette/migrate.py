"""Older cassette formats migrate forward through a chain of converters, one per version.

`MIGRATIONS[n]` turns a version-n header and records into version n+1; the reader applies
them in a loop up to `FORMAT_VERSION` (the pattern of mitmproxy's `io/compat.py`).
Version 1 is the first format, so the chain is empty until version 2 exists; the
mechanism is exercised by the tests with a converter of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recorder.errors import CassetteError, UpgradeRequired

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Migration:
    header: Callable[[dict[str, Any]], dict[str, Any]]
    record: Callable[[Any], Any]  # one positional record, as msgpack decoded it


MIGRATIONS: dict[int, Migration] = {}


def migration_chain(version: int) -> list[Migration]:
    """The converters that take a version-`version` file to the current format."""
    if version > FORMAT_VERSION:
        raise UpgradeRequired(
            f"this cassette uses format version {version}, but this recorder reads up to "
            f"version {FORMAT_VERSION}",
            "upgrade recorder: pip install --upgrade recorder",
        )
    missing = [v for v in range(version, FORMAT_VERSION) if v not in MIGRATIONS]
    if version < 1 or missing:
        raise CassetteError(
            f"cassette format version {version} is not one this recorder can migrate",
            "re-record the cassette, or convert it with the recorder version that wrote it",
        )
    return [MIGRATIONS[v] for v in range(version, FORMAT_VERSION)]
