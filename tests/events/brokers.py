"""Connected brokers for the adapter tests, one case per adapter, each on its real server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from interlock.events.base import Broker
from interlock.events.config import BrokerConfig
from interlock.events.webhook import WebhookBroker, WebhookConfig


@dataclass(frozen=True)
class Case:
    """Channel names in the broker's own syntax."""

    type: str
    server: str | None  # the session fixture with the server, None for webhooks
    channel: str  # a plain channel
    sibling: str  # another channel under the same parent
    outside: str  # a channel no wildcard below covers
    one: str | None  # a one-word wildcard covering channel and sibling
    deep: str | None  # a many-words wildcard covering channel.sub as well
    deeper: str | None  # a channel only `deep` covers
    settings: tuple[tuple[str, Any], ...] = ()


CASES = {
    "nats": Case("nats", "nats_server", "orders.created", "orders.shipped", "payments.created",
                 "orders.*", "orders.>", "orders.eu.created"),
    "rabbitmq": Case("rabbitmq", "rabbit_server", "orders.created", "orders.shipped",
                     "payments.created", "orders.*", "orders.#", "orders.eu.created",
                     (("exchange", "interlock-test"),)),
    "redis": Case("redis", "redis_server", "orders", "orders-shipped", "payments",
                  None, None, None),
    "mqtt": Case("mqtt", "mosquitto_server", "orders/created", "orders/shipped",
                 "payments/created", "orders/+", "orders/#", "orders/eu/created"),
    "mqtt3": Case("mqtt", "mosquitto_server", "orders/created", "orders/shipped",
                  "payments/created", "orders/+", "orders/#", "orders/eu/created",
                  (("version", "3.1.1"),)),
    "kafka": Case("kafka", "kafka_server", "orders", "orders-shipped", "payments",
                  None, None, None),
    "webhook": Case("webhook", None, "orders/created", "orders/shipped", "payments/created",
                    "orders/*", None, None),
}


@dataclass
class Pair:
    """Where to listen and where to publish (the same broker, except for webhooks, where a
    second webhook broker POSTs to the first one's receiver)."""

    case: Case
    listener: Broker
    publisher: Broker


@contextmanager
def connected(case: Case, request: pytest.FixtureRequest, name: str = "b") -> Iterator[Pair]:
    if case.type == "webhook":
        hooks = WebhookBroker(name, WebhookConfig())
        sender = WebhookBroker(f"{name}-sender", WebhookConfig(target=hooks.url, mode="plain"))
        try:
            yield Pair(case, hooks, sender)
        finally:
            sender.close()
            hooks.close()
        return
    assert case.server is not None
    server = request.getfixturevalue(case.server)
    data = {"type": case.type, "url": server.url, **dict(case.settings)}
    broker = BrokerConfig.from_dict(name, data, f"brokers.{name}").connect()
    try:
        yield Pair(case, broker, broker)
    finally:
        broker.close()
