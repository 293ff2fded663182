"""recorder for pytest: a replay server per test, and tests parametrized over every
recorded response shape of an endpoint. Registered through the `pytest11` entry point.

    @pytest.mark.recorder("fx")                      # or --recorder-cassette fx
    def test_rates(recorder_replay):
        client = MyClient(base_url=recorder_replay.url)
        ...                                          # a miss fails the test, with the report

    @recorder_variants("GET /v1/rates", cassette="fx")
    def test_every_shape(recorder_variant):          # one test per recorded response shape
        parse_rates(recorder_variant.response.body)
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from recorder.capture.ca import ensure_ca
from recorder.cassette.format import CassetteReader
from recorder.cassette.library import Library
from recorder.errors import RecorderError
from recorder.model import Interaction, media_type
from recorder.replay.app import ReplayApp, ReplaySettings, parse_latency
from recorder.replay.background import BackgroundReplay
from recorder.replay.chaos import Chaos, ChaosConfig, parse_spec
from recorder.replay.index import MatchConfig, ReplayIndex
from recorder.shape import body_shape, shape_id, template_path

_OPTIONS = ("match_on", "headers", "ignore_query", "ignore_json", "repeat", "variants",
            "latency", "mode", "strict", "host", "miss_status", "chaos", "seed")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("recorder")
    group.addoption("--recorder-cassette", metavar="CASSETTE",
                    help="cassette for recorder_replay when a test names none")
    group.addoption("--recorder-library", metavar="DIR",
                    help="cassette library (default: $RECORDER_LIBRARY or cassettes/)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "recorder(cassette, **options): the cassette (and replay options: "
        + ", ".join(_OPTIONS) + ") for the recorder_replay fixture")


@dataclass
class RecorderReplay:
    """What a test gets: the server's URL, proxy settings for other processes, the report."""

    url: str
    app: ReplayApp
    mode: str
    strict: bool
    ca: Path | None = None
    chaos_log: list[str] = field(default_factory=list)  # one JSON line per injection

    def proxy_env(self) -> dict[str, str]:
        env = {"HTTP_PROXY": self.url, "HTTPS_PROXY": self.url, "http_proxy": self.url,
               "https_proxy": self.url, "NO_PROXY": "", "no_proxy": ""}
        if self.ca is not None:
            env.update(SSL_CERT_FILE=str(self.ca), REQUESTS_CA_BUNDLE=str(self.ca),
                       NODE_EXTRA_CA_CERTS=str(self.ca), CURL_CA_BUNDLE=str(self.ca))
        return env

    def report(self) -> dict[str, Any]:
        return self.app.report()


def _library(config: pytest.Config) -> Library:
    return Library.from_env(config.getoption("--recorder-library"))


def _read(path: Path) -> list[Interaction]:
    with CassetteReader(path) as reader:
        return list(reader)


@pytest.fixture
def recorder_replay(request: pytest.FixtureRequest) -> Iterator[RecorderReplay]:
    marker = request.node.get_closest_marker("recorder")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        pytest.fail(f"@pytest.mark.recorder: unknown option(s) {sorted(unknown)}; "
                    f"valid: {', '.join(_OPTIONS)}", pytrace=False)
    cassette = (marker.args[0] if marker and marker.args
                else request.config.getoption("--recorder-cassette"))
    if not cassette:
        pytest.fail("recorder_replay needs a cassette: @pytest.mark.recorder('fx') or "
                    "--recorder-cassette fx", pytrace=False)
    try:
        path = _library(request.config).resolve(cassette)
        config = MatchConfig(
            match_on=tuple(options.get("match_on", MatchConfig.match_on)),
            headers=tuple(options.get("headers", ())),
            ignore_query=("*",) if options.get("ignore_query") is True
            else tuple(options.get("ignore_query") or ()),
            ignore_json=tuple(options.get("ignore_json", ())),
            repeat=options.get("repeat", "last"),
            variants=options.get("variants") == "rotate",
        )
        settings = ReplaySettings(miss_status=options.get("miss_status", 599),
                                  latency=parse_latency(str(options.get("latency", "none"))),
                                  host=options.get("host"))
        chaos = None
        chaos_log: list[str] = []
        if options.get("chaos"):
            chaos = Chaos(ChaosConfig(parse_spec(str(options["chaos"])),
                                      seed=int(options.get("seed", 0))), chaos_log.append)
        app = ReplayApp(ReplayIndex(_read(path), config), settings, chaos=chaos)
    except RecorderError as error:
        pytest.fail(f"recorder: {error.message} ({error.hint})", pytrace=False)
    mode = options.get("mode", "direct")
    if mode not in ("direct", "proxy"):
        pytest.fail(f"@pytest.mark.recorder: mode must be direct or proxy, not {mode!r}",
                    pytrace=False)
    server = BackgroundReplay(app, proxy=mode == "proxy").start()
    ca = ensure_ca() if mode == "proxy" else None
    handle = RecorderReplay(server.url, app, mode, bool(options.get("strict", True)), ca,
                            chaos_log)
    try:
        yield handle
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A miss fails the test itself, with the near-miss report."""
    result = yield
    handle = getattr(item, "funcargs", {}).get("recorder_replay")
    if isinstance(handle, RecorderReplay) and handle.strict and handle.app.stats.missed:
        misses = handle.app.stats.misses
        raise AssertionError(
            f"recorder: {handle.app.stats.missed} request(s) matched no recorded interaction"
            "\n" + "\n".join(json.dumps(miss, indent=2) for miss in misses[:3]))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test under chaos shows what chaos did, as the log `--chaos-replay` reads."""
    report = yield
    handle = getattr(item, "funcargs", {}).get("recorder_replay")
    if report.when == "call" and report.failed and isinstance(handle, RecorderReplay) \
            and handle.chaos_log:
        report.sections.append(("recorder chaos log", "\n".join(handle.chaos_log) + (
            "\n\nto reproduce outside pytest: save these lines as chaos.jsonl and run "
            "recorder replay CASSETTE --chaos-replay chaos.jsonl")))
    return report


def recorder_variants(endpoint: str, cassette: str, library: str | None = None
                      ) -> pytest.MarkDecorator:
    """Parametrize a test over every recorded response shape of `endpoint`
    ("GET /v1/rates"): the test receives each exemplar as `recorder_variant`."""
    method, _, route = endpoint.partition(" ")
    path = Library.from_env(library).resolve(cassette)
    variants: dict[str, Interaction] = {}
    for interaction in _read(path):
        request, response = interaction.request, interaction.response
        if request.method != method or template_path(request.path) != template_path(route):
            continue
        if response is None:
            key = f"error-{interaction.error.kind if interaction.error else ''}"
        else:
            shape = body_shape(response.body, media_type(response.headers))
            key = f"{response.status}-{shape_id(shape)}"
        variants.setdefault(key, interaction)
    if not variants:
        raise RecorderError(f"{cassette} has no recorded {endpoint}",
                            "check the endpoint: METHOD and a path or route")
    return pytest.mark.parametrize("recorder_variant", list(variants.values()),
                                   ids=list(variants))
