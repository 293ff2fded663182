"""The errors a user can cause. Each carries one message and one hint; only recorder.cli
renders them."""

from __future__ import annotations

BAD_DATA = 1
BAD_USAGE = 2


class RecorderError(Exception):
    """Something the user can fix. `exit_code` is 1 for bad data, 2 for bad usage."""

    exit_code = BAD_DATA

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(RecorderError):
    """The command line asked for something that cannot be done as written."""

    exit_code = BAD_USAGE


class CassetteError(RecorderError):
    """A cassette file is unreadable, malformed or of an unknown format."""


class UpgradeRequired(CassetteError):
    """A cassette was written by a newer recorder than this one."""


class LibraryError(RecorderError):
    """A cassette name or version cannot be resolved, or the library cannot be written."""


class BadName(LibraryError, UsageError):
    """A cassette name that is not allowed (it would escape the library, or has odd characters)."""

    exit_code = BAD_USAGE
