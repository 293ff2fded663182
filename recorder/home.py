"""RECORDER_HOME (default ~/.recorder): per-user state such as the CA and redaction keys."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "RECORDER_HOME"


def recorder_home() -> Path:
    """The per-user directory, created owner-only (it will hold private keys)."""
    home = Path(os.environ.get(HOME_ENV) or Path.home() / ".recorder")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home
