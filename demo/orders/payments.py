"""Charging the payment provider before an order is confirmed (``PAYMENTS_URL``).

The provider is a service the demo's team does not run (the reference suite stands it in
with an Interlock stub, demo/contracts/payments.openapi.yaml). Every unit costs 10.00 EUR.

* 201 ``succeeded``: the order is placed;
* 402: declined, the order is not placed (the customer is told why);
* 5xx or unreachable: tried once more, then "payment provider unavailable";
* no answer within ``ORDERS_PAYMENT_TIMEOUT`` seconds: "payment provider timed out" (no
  second try: the charge may have gone through, and the customer should not wait twice).

    >>> amount_of([{"productId": "p", "quantity": 2}, {"productId": "q", "quantity": 1}])
    3000
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from demo.service import ApiError
from demo.tracing import passed_on

UNIT_PRICE_CENTS = 1000
CURRENCY = "EUR"
TRIES = 2  # a provider error is tried once more


def amount_of(items: list[dict[str, Any]]) -> int:
    """What an order costs, in cents."""
    return sum(int(item["quantity"]) for item in items) * UNIT_PRICE_CENTS


@dataclass
class Payments:
    """The provider's ``POST /charges``, with the retry and the timeout above."""

    url: str
    timeout: float
    log: logging.Logger
    # One client for the service's life: a new one per charge built a TLS context each time
    # (loading the CA certificates), about half of the service's CPU under the test suite.
    client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def charge(self, customer: str, reference: str, items: list[dict[str, Any]],
                     trace: str | None = None) -> str:
        """Charge the order; the charge's id, or an ``ApiError`` the customer can act on.
        ``trace``: the W3C ``traceparent`` of the request being served, passed on."""
        body = {"amount": amount_of(items), "currency": CURRENCY, "reference": reference,
                "customerId": customer}
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout))
        client = self.client
        for attempt in range(1, TRIES + 1):
            try:
                answer = await client.post(self.url.rstrip("/") + "/charges", json=body,
                                           headers=passed_on(trace))
            except httpx.TimeoutException:
                self.log.warning("payment provider timed out after %.2f s", self.timeout)
                raise ApiError(504, "payment provider timed out") from None
            except httpx.TransportError as error:
                self.log.warning("payment provider unreachable (%s), attempt %d",
                                 type(error).__name__, attempt)
                continue
            if answer.status_code == 402:
                reason = _field(answer, "reason") or "declined"
                self.log.info("charge for %s declined: %s", reference, reason)
                raise ApiError(402, "payment declined", body={
                    "error": "payment declined", "reason": reason})
            if answer.status_code >= 500:
                self.log.warning("payment provider answered %d, attempt %d",
                                 answer.status_code, attempt)
                continue
            if answer.status_code in (200, 201) and _field(answer, "status") == "succeeded":
                return _field(answer, "id") or ""
            self.log.warning("payment provider answered %d unexpectedly", answer.status_code)
            break
        raise ApiError(503, "payment provider unavailable")


def _field(answer: httpx.Response, name: str) -> str | None:
    try:
        value = answer.json().get(name)
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None
