"""The command line: turns arguments into calls and errors into exit codes.

The only package that prints or exits. Every RecorderError is rendered once (recorder.cli.app)
as one message and one hint, with exit 1 (bad data) or 2 (bad usage).
"""

from recorder.cli import cassettes, replay, shapes, traffic  # noqa: F401 - registers commands
from recorder.cli.app import cli, main, read_many

__all__ = ["cli", "main", "read_many"]
