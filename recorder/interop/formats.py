"""Which format a file is, and reading or writing any of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from recorder.errors import UsageError
from recorder.interop.common import InteropError
from recorder.model import Interaction

IMPORT_FORMATS = ("har", "vcr", "betamax", "mitmproxy")
EXPORT_FORMATS = ("har", "vcr", "mitmproxy")


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # binary: mitmproxy flows
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", "check the path") from exc


def _parsed(path: Path, text: str) -> Any:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InteropError(str(path), f"line {getattr(exc, 'lineno', '?')}",
                               f"not valid JSON ({exc})") from exc
    from recorder.interop.vcr import load_yaml

    return load_yaml(text, str(path))


_TNETSTRING = re.compile(rb"\d{1,12}:")  # how every mitmproxy flow file begins


def guess(path: Path) -> str:
    """The format of a file, from its content."""
    text = _text(path)
    if text is None or _TNETSTRING.match(text[:13].encode()):
        return "mitmproxy"  # binary, or tnetstrings that happen to be valid UTF-8
    data = _parsed(path, text)
    if isinstance(data, dict):
        if "log" in data:
            return "har"
        if "http_interactions" in data:
            return "betamax"
        if "interactions" in data:
            return "vcr"
    raise UsageError(f"cannot tell the format of {path}",
                     f"give --format ({', '.join(IMPORT_FORMATS)})")


def read(path: Path, fmt: str | None) -> Iterator[Interaction]:
    fmt = fmt or guess(path)
    if fmt == "mitmproxy":
        from recorder.interop.mitm import read_flows

        yield from read_flows(path)
        return
    text = _text(path)
    if text is None:
        raise InteropError(str(path), "$", f"binary data is not {fmt}")
    data = _parsed(path, text)
    if fmt == "har":
        from recorder.interop.har import read_har

        yield from read_har(data, str(path))
    elif fmt == "vcr":
        from recorder.interop.vcr import read_vcr

        yield from read_vcr(data, str(path))
    else:
        from recorder.interop.vcr import read_betamax

        yield from read_betamax(data, str(path))


def write(interactions: Iterable[Interaction], fmt: str) -> bytes:
    if fmt == "har":
        from recorder.interop.har import dump_har

        return dump_har(interactions).encode()
    if fmt == "vcr":
        from recorder.interop.vcr import dump_vcr

        return dump_vcr(interactions).encode()
    from recorder.interop.mitm import write_flows

    return write_flows(interactions)
