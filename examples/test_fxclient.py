"""The example client's own test suite, pointed at whatever FX_BASE_URL says: the demo API,
or `recorder replay` of a recorded cassette. Green against the friendly fiction; red once
the recording holds what production really sends."""

from __future__ import annotations

import os

import pytest
from fxclient import FxClient

BASE_URL = os.environ.get("FX_BASE_URL")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="set FX_BASE_URL (see scripts/demo)")


@pytest.fixture
def client() -> FxClient:
    assert BASE_URL is not None
    return FxClient(BASE_URL)


def test_rates_has_usd(client: FxClient) -> None:
    assert client.rates()["USD"] > 0


def test_convert_100_eur_to_usd(client: FxClient) -> None:
    assert client.convert(100, "USD") == pytest.approx(108.42)


def test_payment_is_settled(client: FxClient) -> None:
    receipt = client.pay(42.5)
    assert receipt.amount == pytest.approx(42.5)
    assert receipt.settled_at.year >= 2026
