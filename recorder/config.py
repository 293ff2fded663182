"""Project configuration: `recorder.toml`, or `[tool.recorder]` in `pyproject.toml`.

    [tool.recorder]
    routes = ["/v1/users/{name}"]          # route templates the learner would miss

    [tool.recorder.redact]
    headers = ["X-Partner-Signature"]      # more secret headers
    keys = ["tax_id"]                      # more secret JSON / query / form keys
    paths = ["$.customer.dob"]             # JSON paths to redact
    patterns = ["acct_[0-9]{8}"]           # regexes for secret values
    allow = ["pk_test_[A-Za-z0-9]+"]       # values never to redact
    emails = false                         # redact email addresses
    entropy = false                        # redact high-entropy strings

Validated with a JSON Schema: an invalid setting is a clear error, never a silent no-op.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from recorder.errors import UsageError
from recorder.redact import RedactConfig

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "routes": {
            "type": "array",
            "items": {"type": "string", "pattern": "^/"},
            "description": "route templates, e.g. /v1/users/{name}",
        },
        "redact": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{name: {"type": "array", "items": {"type": "string"}}
                   for name in ("headers", "keys", "paths", "patterns", "allow")},
                "emails": {"type": "boolean"},
                "entropy": {"type": "boolean"},
            },
        },
    },
}


@dataclass(frozen=True)
class Config:
    routes: tuple[str, ...] = ()
    redact: RedactConfig = field(default_factory=RedactConfig)
    source: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": str(self.source) if self.source else None,
                "routes": list(self.routes), "redact": asdict(self.redact)}


def load_config(folder: Path | None = None) -> Config:
    """The first of recorder.toml and pyproject.toml [tool.recorder] found in `folder`."""
    folder = folder or Path.cwd()
    own, pyproject = folder / "recorder.toml", folder / "pyproject.toml"
    if own.is_file():
        data, path = _read(own), own
    elif pyproject.is_file():
        data, path = _read(pyproject).get("tool", {}).get("recorder", {}), pyproject
    else:
        return Config()
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "settings"
        raise UsageError(f"{path}: {where}: {error.message}",
                         "see the configuration reference in the README")
    return Config(routes=tuple(data.get("routes", ())),
                  redact=RedactConfig.from_mapping(data.get("redact", {}), str(path)),
                  source=path)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", "fix the TOML syntax") from exc
