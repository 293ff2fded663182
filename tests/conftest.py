from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.tls import TestPKI, make_pki
from tests.upstream import Upstream, UpstreamServer


def pytest_configure(config: pytest.Config) -> None:
    """Warnings are errors, except pyparsing's deprecations: mitmproxy 12's filter grammar
    uses names that pyparsing 3.3 deprecates (the class does not exist in older pyparsing,
    so the filter is added only where it does)."""
    import pyparsing

    if hasattr(pyparsing, "PyparsingDeprecationWarning"):
        config.addinivalue_line("filterwarnings",
                                "ignore::pyparsing.PyparsingDeprecationWarning")

# The machine is shared and noisy: no per-example deadline. Tests that write files inside
# examples use their own tmp_path, reused across examples on purpose.
settings.register_profile(
    "recorder",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("recorder")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def upstream(pki: TestPKI) -> Iterator[Upstream]:
    server = UpstreamServer(pki)
    yield server.start()
    server.stop()


@pytest.fixture
def recorder_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                  ) -> Path:
    """A RECORDER_HOME of the test's own, shared with any recorder subprocess it starts."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("RECORDER_HOME", str(home))
    return home


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


pytest_plugins = ["pytester"]
