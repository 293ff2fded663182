"""An example client of the demo API, as a payments team might write it (stdlib only).

It carries the latent bugs of DESIGN.md's story, which its mocked unit tests never show:
- `convert()` treats an amount that is not a JSON number as a failed conversion
  (production sometimes sends "108.42");
- `pay()` treats `status == "succeeded"` as money received and builds a receipt from
  `settled_at`, without checking that the payment settled (production sends "succeeded"
  with `settled_at: null` before the money moves).
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

API_KEY = os.environ.get("FX_API_KEY", "demo-key-7Hq2mZ4xV9rT1wLp")


class ConversionFailed(Exception):
    pass


@dataclass(frozen=True)
class Receipt:
    payment_id: str
    amount: float
    settled_at: datetime


@dataclass
class FxClient:
    base_url: str
    proxy: str | None = None
    ca_file: str | None = None

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path, data=data, method=method,
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json",
                     "Accept": "application/json"},
        )
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.ProxyHandler({"http": self.proxy, "https": self.proxy}
                                        if self.proxy else {}),
        ]
        if self.ca_file:
            context = ssl.create_default_context(cafile=self.ca_file)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        with urllib.request.build_opener(*handlers).open(request, timeout=10) as response:
            return json.loads(response.read())

    def rates(self, base: str = "EUR") -> dict[str, float]:
        return self._call("GET", f"/v1/rates?base={base}")["rates"]  # type: ignore[no-any-return]

    def convert(self, amount: float, to: str, source: str = "EUR") -> float:
        result = self._call("POST", "/v1/convert", {"from": source, "to": to, "amount": amount})
        if not isinstance(result["amount"], int | float):  # the latent bug: "108.42" is valid
            raise ConversionFailed(f"conversion {result['id']} returned no amount")
        return float(result["amount"])

    def pay(self, amount: float, currency: str = "EUR") -> Receipt:
        """The receipt of a payment whose money is ours."""
        payment = self._call("POST", "/v1/payments", {"amount": amount, "currency": currency})
        status = self._call("GET", f"/v1/payments/{payment['id']}")
        if status["status"] not in ("settled", "succeeded"):  # the latent bug: succeeded ≠ settled
            raise RuntimeError(f"payment {payment['id']} failed: {status['status']}")
        settled = datetime.fromisoformat(status["settled_at"].replace("Z", "+00:00"))
        return Receipt(status["id"], float(status["amount"]), settled)


def typical_session(client: FxClient) -> list[str]:
    """What a checkout does: look at rates, convert twice, pay. Returns what happened."""
    log = [f"rates: {len(client.rates())} currencies"]
    for amount, currency in ((100, "USD"), (250, "GBP")):
        try:
            log.append(f"convert {amount} EUR → {client.convert(amount, currency)} {currency}")
        except ConversionFailed as failure:
            log.append(f"convert {amount} EUR → {currency}: FAILED ({failure})")
    try:
        receipt = client.pay(42.5)
        log.append(f"pay 42.50 EUR: paid, settled at {receipt.settled_at:%H:%M:%S}")
    except (TypeError, AttributeError, RuntimeError) as failure:
        log.append(f"pay 42.50 EUR: FAILED ({type(failure).__name__}: {failure})")
    return log
