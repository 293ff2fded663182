"""Cassettes: the versioned msgpack stream format and the library of named versions."""

from recorder.cassette.format import (
    CassetteReader,
    CassetteWriter,
    Damage,
    read_interactions,
)
from recorder.cassette.migrate import FORMAT_VERSION

__all__ = [
    "FORMAT_VERSION",
    "CassetteReader",
    "CassetteWriter",
    "Damage",
    "read_interactions",
]
