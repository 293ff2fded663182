from __future__ import annotations

import json

import pytest

from recorder.errors import UsageError
from recorder.model import Interaction, Request
from recorder.replay.index import MATCHERS, MatchConfig, ReplayIndex
from tests import factories


def rec(path: str = "/v1/rates", *, method: str = "GET", query: str = "", body: bytes = b"",
        answer: object = None, seq: int = 0, host: str = "api.example.com",
        headers: tuple[tuple[str, str], ...] = (), content_type: str = "application/json"
        ) -> Interaction:
    return factories.interaction(
        factories.request(method, path, query=query, body=body, host=host,
                          headers=(("Content-Type", content_type), *headers)),
        factories.response(body=answer if answer is not None else {"seq": seq}), seq=seq)


def incoming(path: str = "/v1/rates", **kwargs: object) -> Request:
    return rec(path, **kwargs).request  # type: ignore[arg-type]


def served(index: ReplayIndex, request: Request) -> int | None:
    found = index.lookup(request)
    if found.position is None:
        return None
    interaction = index.interactions[found.position]
    assert interaction.response is not None
    return int(json.loads(interaction.response.body)["seq"])


def test_identical_requests_get_recorded_responses_in_order_then_the_last() -> None:
    index = ReplayIndex([rec(seq=0), rec(seq=1), rec(seq=2)])
    assert [served(index, incoming()) for _ in range(5)] == [0, 1, 2, 2, 2]


@pytest.mark.parametrize(("repeat", "expected"), [("cycle", [0, 1, 0, 1]),
                                                  ("miss", [0, 1, None, None])])
def test_repeat_modes(repeat: str, expected: list[int | None]) -> None:
    index = ReplayIndex([rec(seq=0), rec(seq=1)], MatchConfig(repeat=repeat))
    assert [served(index, incoming()) for _ in range(4)] == expected


def test_query_is_a_multiset_and_can_be_ignored() -> None:
    index = ReplayIndex([rec(query="a=1&b=2&a=3", seq=7)])
    assert served(index, incoming(query="b=2&a=1&a=3")) == 7
    assert served(index, incoming(query="a=1&b=2")) is None
    ignoring = ReplayIndex([rec(query="a=1&_=123", seq=7)], MatchConfig(ignore_query=("_",)))
    assert served(ignoring, incoming(query="_=999&a=1")) == 7
    everything = ReplayIndex([rec(query="a=1", seq=7)], MatchConfig(ignore_query=("*",)))
    assert served(everything, incoming(query="zzz=1")) == 7


def test_json_bodies_match_by_value_and_volatile_paths_can_be_ignored() -> None:
    body = json.dumps({"amount": 100, "ts": 1, "items": [{"nonce": "a", "sku": "x"}]}).encode()
    config = MatchConfig(ignore_json=("$.ts", "$.items[].nonce"))
    index = ReplayIndex([rec("/v1/convert", method="POST", body=body, seq=3)], config)
    other = json.dumps({"items": [{"sku": "x", "nonce": "zz"}], "ts": 99, "amount": 100})
    assert served(index, incoming("/v1/convert", method="POST", body=other.encode())) == 3
    changed = json.dumps({"items": [{"sku": "y"}], "ts": 99, "amount": 100}).encode()
    assert served(index, incoming("/v1/convert", method="POST", body=changed)) is None


def test_form_bodies_match_as_pairs() -> None:
    form = "application/x-www-form-urlencoded"
    index = ReplayIndex([rec("/login", method="POST", body=b"a=1&b=2", content_type=form,
                             seq=4)])
    assert served(index, incoming("/login", method="POST", body=b"b=2&a=1",
                                  content_type=form)) == 4


def test_redacted_headers_match_by_presence_other_headers_by_value() -> None:
    recorded = rec(headers=(("Authorization", "Bearer placeholder"), ("X-Tenant", "acme")),
                   seq=5)
    config = MatchConfig(match_on=("method", "path", "headers"),
                         headers=("Authorization", "X-Tenant"))
    index = ReplayIndex([recorded], config)
    assert served(index, incoming(headers=(("Authorization", "Bearer real-test-token"),
                                           ("X-Tenant", "acme")))) == 5
    assert served(index, incoming(headers=(("Authorization", "Bearer t"),
                                           ("X-Tenant", "other")))) is None
    assert served(index, incoming(headers=(("X-Tenant", "acme"),))) is None


def test_several_hosts_are_told_apart_by_the_incoming_host() -> None:
    index = ReplayIndex([rec(host="a.example.com", seq=1), rec(host="b.example.com", seq=2)])
    assert index.match_on[0] == "host"
    assert served(index, incoming(host="b.example.com")) == 2
    assert served(index, incoming(host="127.0.0.1")) is None


def test_a_miss_explains_itself() -> None:
    index = ReplayIndex([rec("/v1/convert", method="POST", body=b'{"amount": 100}', seq=1),
                         rec("/v1/rates", seq=2)])
    request = incoming("/v1/convert", method="POST", body=b'{"amount": 101}')
    assert index.lookup(request).position is None
    closest = index.near_misses(request)
    assert closest[0].request == "POST /v1/convert"
    report = closest[0].to_json()
    assert report["matched"] == ["method", "path", "query"]
    assert report["differs"] == {"body": 'body: got {"amount":101}, recorded {"amount":100}'}
    assert closest[1].passed < closest[0].passed


def test_variants_rotate_through_an_endpoints_recorded_shapes() -> None:
    shapes = [rec("/v1/tx/1", answer={"amount": 9.2, "seq": 0}),
              rec("/v1/tx/2", answer={"amount": "9.20", "seq": 1}),
              rec("/v1/tx/3", answer={"amount": 9.3, "seq": 2})]  # same shape as the first
    index = ReplayIndex(shapes, MatchConfig(variants=True))
    assert [served(index, incoming("/v1/tx/99")) for _ in range(4)] == [0, 1, 0, 1]


def test_unused_interactions_are_reported() -> None:
    index = ReplayIndex([rec(seq=0), rec("/other", seq=1)])
    served(index, incoming())
    assert index.unused() == [1]


@pytest.mark.parametrize("config", [{"match_on": ("method", "nonsense")}, {"repeat": "twice"},
                                    {"ignore_json": ("amount",)}])
def test_bad_configuration_is_a_usage_error(config: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        MatchConfig(**config)  # type: ignore[arg-type]


def test_every_matcher_raises_assertion_error_naming_itself() -> None:
    a, b = incoming("/a", method="GET", query="x=1"), incoming("/b", method="POST", body=b"x")
    b = Request("POST", "http", "other", 81, "/b", "", "HTTP/1.1", (("Content-Type", "x"),),
                b"x")
    config = MatchConfig(headers=("Content-Type",))
    for name, matcher in MATCHERS.items():
        with pytest.raises(AssertionError, match=f"^{name}: "):
            matcher(a, b, config)


def test_redacted_query_and_body_values_match_anything() -> None:
    recorded = factories.interaction(
        factories.request("POST", "/oauth/token", query="api_key=xx_placeholder",
                          body=b'{"password": "<redacted:3f9a2b>", "user": "jane"}'),
        factories.response(body={"seq": 9}), seq=9,
        redacted=["request.body $.password", "request.query.api_key"])
    index = ReplayIndex([recorded])
    real = incoming("/oauth/token", method="POST", query="api_key=real-key-123",
                    body=b'{"user": "jane", "password": "hunter2"}')
    assert served(index, real) == 9
    other_user = incoming("/oauth/token", method="POST", query="api_key=real-key-123",
                          body=b'{"user": "bob", "password": "hunter2"}')
    assert served(index, other_user) is None  # what was not redacted still counts


@pytest.mark.parametrize("target", ["/", "/v1/tx/1", "/v1/tx?a=1&b=2", "/a?b=c?d", "/x#frag",
                                    "/x?y=1#frag", "/%7Euser?q=%20", "/v1?"])
def test_origin_form_targets_parse_as_urlsplit_would(target: str) -> None:
    from urllib.parse import urlsplit

    from recorder.replay.app import ReplaySettings, request_from_wire

    request = request_from_wire("GET", target, (("Host", "api.example.com:8080"),), b"", "1.1",
                                ReplaySettings())
    parts = urlsplit(target)
    assert (request.path, request.query) == (parts.path or "/", parts.query)
    assert (request.host, request.scheme, request.port) == ("api.example.com", "http", 80)
