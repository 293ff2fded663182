"""Header redaction with keyed, format-keeping placeholders (pure logic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recorder.errors import RecorderError
from recorder.model import header_value
from recorder.redact import Redactor, load_key
from tests import factories

KEY = b"k" * 32


def redactor() -> Redactor:
    return Redactor(KEY)


def test_authorization_keeps_its_scheme_and_length() -> None:
    token = ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
             "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
    item = factories.interaction(factories.request(headers=(("Authorization", f"Bearer {token}"),)))
    out = redactor().interaction(item)
    value = header_value(out.request.headers, "authorization")
    assert value is not None and value.startswith("Bearer ")
    placeholder = value.removeprefix("Bearer ")
    assert placeholder != token and len(placeholder) == len(token)
    assert placeholder.count(".") == 2  # still JWT-shaped: three dot-separated parts
    assert out.meta["redacted"] == ["request.headers.authorization"]


def test_cookies_keep_names_and_set_cookie_keeps_attributes() -> None:
    item = factories.interaction(
        factories.request(headers=(("Cookie", "session=abc123; theme=dark"),)),
        factories.response(headers=(("Set-Cookie", "sid=s3cr3t; Path=/; HttpOnly"),)),
    )
    out = redactor().interaction(item)
    cookie = header_value(out.request.headers, "cookie") or ""
    assert [part.split("=")[0] for part in cookie.split("; ")] == ["session", "theme"]
    assert "abc123" not in cookie
    assert out.response is not None
    set_cookie = header_value(out.response.headers, "set-cookie") or ""
    assert set_cookie.startswith("sid=") and set_cookie.endswith("; Path=/; HttpOnly")
    assert "s3cr3t" not in set_cookie


@pytest.mark.parametrize("name", ["X-Api-Key", "x-auth-token", "Proxy-Authorization",
                                  "X-Stripe-Api-Key", "X-Custom-Token", "X-Client-Secret"])
def test_api_key_style_headers_are_redacted(name: str) -> None:
    item = factories.interaction(factories.request(headers=((name, "abcdef0123456789"),)))
    out = redactor().interaction(item)
    assert header_value(out.request.headers, name) != "abcdef0123456789"


def test_ordinary_headers_and_unredacted_interactions_are_left_alone() -> None:
    item = factories.interaction()
    assert redactor().interaction(item) is item


@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=60))
def test_placeholders_keep_length_and_character_classes(secret: str) -> None:
    out = redactor().placeholder(secret)
    assert len(out) == len(secret)
    for a, b in zip(secret, out, strict=True):
        assert a.isdigit() == b.isdigit()
        assert a.islower() == b.islower()
        assert a.isupper() == b.isupper()
        if not a.isalnum():
            assert a == b


@given(st.text(min_size=1, max_size=40))
def test_equal_secrets_give_equal_placeholders(secret: str) -> None:
    assert Redactor(KEY).placeholder(secret) == Redactor(KEY).placeholder(secret)


def test_another_key_gives_other_placeholders() -> None:
    token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    assert Redactor(KEY).placeholder(token) != Redactor(b"x" * 32).placeholder(token)


def test_redaction_is_idempotent_in_shape_and_does_not_touch_the_input() -> None:
    item = factories.interaction(factories.request(headers=(("Authorization", "Basic dTpw"),)))
    once = redactor().interaction(item)
    assert header_value(item.request.headers, "authorization") == "Basic dTpw"
    assert redactor().interaction(once) is once  # placeholders are not redacted again


def test_the_key_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    key = load_key(tmp_path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "redact.key").st_mode) == 0o600
    assert load_key(tmp_path) == key


def test_a_damaged_key_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "redact.key").write_bytes(b"short")
    with pytest.raises(RecorderError, match="damaged"):
        load_key(tmp_path)
