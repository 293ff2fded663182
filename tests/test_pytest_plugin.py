"""The pytest plugin, exercised by running real test files with pytester."""

from __future__ import annotations

from pathlib import Path

import pytest

from recorder.cassette.library import Library
from tests import factories

HOST = "api.example.invalid"  # one host, and one that cannot resolve: nothing goes out


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A real pytest in a subprocess: the plugin loads through its entry point, as for users.
    (In-process runs re-import modules between runs, which confuses requests' cookie jar.)"""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.fixture
def library(pytester: pytest.Pytester, recorder_home: Path) -> Path:
    root = pytester.path / "cassettes"
    _, writer = Library(root).create("fx", {"kind": "test"})
    with writer:
        writer.append(factories.interaction(
            factories.request(path="/v1/rates", query="base=EUR", host=HOST),
            factories.response(body={"rate": 1.0842}), seq=0))
        writer.append(factories.interaction(
            factories.request(path="/v1/tx/1", host=HOST), factories.response(body={"amount": 9.2}),
            seq=1))
        writer.append(factories.interaction(
            factories.request(path="/v1/tx/2", host=HOST),
            factories.response(body={"amount": "9.20"}),
            seq=2))
        writer.append(factories.interaction(
            factories.request(path="/v1/tx/3", host=HOST), factories.response(body={"amount": 9.3}),
            seq=3))
    return root


def test_the_fixture_serves_the_marked_cassette(pytester: pytest.Pytester, library: Path
                                                ) -> None:
    pytester.makepyfile("""
        import pytest, requests

        @pytest.mark.recorder("fx")
        def test_rates(recorder_replay):
            got = requests.get(recorder_replay.url + "/v1/rates?base=EUR", timeout=10)
            assert got.json() == {"rate": 1.0842}
            assert recorder_replay.report()["matched"] == 1

        def test_from_the_command_line(recorder_replay):
            assert requests.get(recorder_replay.url + "/v1/tx/1", timeout=10).ok
    """)
    result = run(pytester, "--recorder-cassette", "fx",
                                "--recorder-library", str(library))
    result.assert_outcomes(passed=2)


def test_a_miss_fails_the_test_with_the_near_miss_report(pytester: pytest.Pytester,
                                                         library: Path) -> None:
    pytester.makepyfile("""
        import pytest, requests

        @pytest.mark.recorder("fx")
        def test_wrong_query(recorder_replay):
            requests.get(recorder_replay.url + "/v1/rates?base=USD", timeout=10)
    """)
    result = run(pytester, "--recorder-library", str(library))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 request(s) matched no recorded interaction*",
                                 "*query: got*"])


def test_proxy_mode_offers_proxy_env_for_https(pytester: pytest.Pytester, library: Path
                                               ) -> None:
    pytester.makepyfile("""
        import pytest, requests

        @pytest.mark.recorder("fx", mode="proxy")
        def test_https_through_the_proxy(recorder_replay):
            env = recorder_replay.proxy_env()
            got = requests.get("https://api.example.invalid/v1/rates?base=EUR", timeout=30,
                               proxies={"https": env["HTTPS_PROXY"]},
                               verify=env["REQUESTS_CA_BUNDLE"])
            assert got.json() == {"rate": 1.0842}
    """)
    result = run(pytester, "--recorder-library", str(library))
    result.assert_outcomes(passed=1)


def test_recorder_variants_parametrizes_over_every_shape(pytester: pytest.Pytester,
                                                         library: Path) -> None:
    pytester.makepyfile(f"""
        import json
        from recorder.pytest_plugin import recorder_variants

        @recorder_variants("GET /v1/tx/{{id}}", cassette="fx", library={str(library)!r})
        def test_amount_parses(recorder_variant):
            amount = json.loads(recorder_variant.response.body)["amount"]
            assert isinstance(amount, float)   # the numeric-string shape breaks this
    """)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=1)  # two shapes recorded: 9.2 and "9.20"


def test_bad_markers_and_missing_cassettes_fail_clearly(pytester: pytest.Pytester,
                                                        library: Path) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.recorder("fx", colour="blue")
        def test_bad_option(recorder_replay):
            pass

        @pytest.mark.recorder("nope")
        def test_missing(recorder_replay):
            pass

        def test_unnamed(recorder_replay):
            pass
    """)
    result = run(pytester, "--recorder-library", str(library))
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*unknown option(s)*colour*",
                                 "*no cassette named 'nope'*", "*needs a cassette*"])


def test_a_failure_under_chaos_shows_the_chaos_log_that_reproduces_it(
    pytester: pytest.Pytester, library: Path
) -> None:
    pytester.makepyfile("""
        import pytest, requests

        @pytest.mark.recorder("fx", chaos="flip-types=$.amount@1.0", seed=3)
        def test_amount_is_a_number(recorder_replay):
            amount = requests.get(recorder_replay.url + "/v1/tx/1", timeout=10).json()["amount"]
            assert isinstance(amount, float)

        @pytest.mark.recorder("fx", chaos="flip-types=$.amount@1.0", seed=3)
        def test_passing_shows_nothing(recorder_replay):
            assert requests.get(recorder_replay.url + "/v1/tx/1", timeout=10).ok
    """)
    result = run(pytester, "--recorder-library", str(library), "-rA")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert output.count("recorder chaos log") == 1  # the failing test only
    assert '"request":"GET /v1/tx/1' in output and '"op":"flip","path":["amount"]' in output
    assert "--chaos-replay chaos.jsonl" in output
