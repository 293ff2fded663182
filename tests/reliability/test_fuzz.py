"""Hostile input: importers, the chaos spec and the redaction config get arbitrary input;
only recorder's own errors may escape."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder.errors import RecorderError
from recorder.interop.formats import read
from recorder.redact import RedactConfig, Redactor
from recorder.replay.chaos import parse_spec
from tests import factories

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def _import(path: Path, fmt: str | None) -> None:
    try:
        for _ in read(path, fmt):
            pass
    except RecorderError:
        pass


@settings(max_examples=150)
@given(data=st.binary(max_size=300), fmt=st.sampled_from([None, "har", "vcr", "betamax",
                                                          "mitmproxy"]))
def test_importers_survive_arbitrary_bytes(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    path = tmp_path / "fuzz.input"
    path.write_bytes(data)
    _import(path, fmt)


def _shaped(value: Any, top: str) -> Any:
    return {top: value}


@settings(max_examples=200)
@given(value=json_values, top=st.sampled_from(["log", "interactions", "http_interactions"]),
       fmt=st.sampled_from([None, "har", "vcr", "betamax"]), as_yaml=st.booleans())
def test_importers_survive_wrong_structures(tmp_path: Path, value: Any, top: str,
                                            fmt: str | None, as_yaml: bool) -> None:
    path = tmp_path / "fuzz.json"
    document = _shaped(value, top)
    path.write_text(yaml.safe_dump(document) if as_yaml else json.dumps(document))
    _import(path, fmt)


@settings(max_examples=300)
@given(spec=st.text(alphabet="latency=flip-types@0.5,reorder..ms$[]statusthrottle/x 9",
                    max_size=60))
def test_the_chaos_spec_parser_raises_only_usage_errors(spec: str) -> None:
    with contextlib.suppress(RecorderError):
        parse_spec(spec)


@settings(max_examples=200)
@given(config=st.dictionaries(
    st.sampled_from(["headers", "keys", "paths", "patterns", "allow", "emails", "entropy"]),
    st.lists(st.text(max_size=12), max_size=3) | st.booleans(), max_size=5))
def test_redaction_config_is_validated_or_refused(config: dict[str, Any]) -> None:
    try:
        redact_config = RedactConfig.from_mapping(config, "fuzz.toml")
    except (RecorderError, TypeError):
        return  # wrong types are caught by the config file's JSON Schema before this point
    redactor = Redactor(b"k" * 32, redact_config)
    redactor.interaction(factories.interaction(factories.request(query="a=1&token=x")))


@settings(max_examples=200)
@given(body=st.binary(max_size=200), media=st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
    "text/event-stream", "text/plain", "", "application/octet-stream"]))
def test_redaction_survives_arbitrary_bodies(body: bytes, media: str) -> None:
    item = factories.interaction(
        factories.request("POST", body=body, headers=(("Content-Type", media),)),
        factories.response(body=body, headers=(("Content-Type", media),)))
    Redactor(b"k" * 32).interaction(item)
