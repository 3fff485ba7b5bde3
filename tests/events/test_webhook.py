"""The webhook receiver with real HTTP requests: CloudEvents binary and structured, plain JSON."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent

from interlock._core.errors import InterlockError
from interlock.events.base import EventBuffer
from interlock.events.webhook import WebhookBroker, WebhookConfig


@pytest.fixture
def hooks() -> Iterator[WebhookBroker]:
    broker = WebhookBroker("hooks", WebhookConfig())
    yield broker
    broker.close()


def _cloud_event(kind: str = "com.example.order.created") -> CloudEvent:
    return CloudEvent({"type": kind, "source": "/orders", "id": "evt-1"}, {"orderId": "o-1"})


def test_binary_cloud_event_on_a_path(hooks: WebhookBroker) -> None:
    buffer = EventBuffer()
    hooks.subscribe("orders/*", buffer.push)
    message = to_binary_event(_cloud_event())
    answer = requests.post(f"{hooks.url}/orders/created", data=message.body,
                           headers=message.headers, timeout=5)
    assert answer.status_code == 202
    event = buffer.wait_for(lambda e: True, timeout=5)
    assert event is not None
    assert event.channel == "orders/created"
    assert event.json() == {"orderId": "o-1"}
    assert event.headers["ce-type"] == "com.example.order.created"
    assert event.headers["ce-id"] == "evt-1"


def test_structured_cloud_event_channel_is_the_type_when_the_path_is_empty(
    hooks: WebhookBroker,
) -> None:
    buffer = EventBuffer()
    hooks.subscribe("com.example.order.*", buffer.push)
    message = to_structured_event(_cloud_event())
    answer = requests.post(hooks.url, data=message.body, headers=message.headers, timeout=5)
    assert answer.status_code == 202
    event = buffer.wait_for(lambda e: True, timeout=5)
    assert event is not None
    assert event.channel == "com.example.order.created"
    assert event.json() == {"orderId": "o-1"}
    assert event.headers["ce-source"] == "/orders"


def test_channel_type_mode_uses_the_type_even_with_a_path() -> None:
    broker = WebhookBroker("hooks", WebhookConfig(channel="type"))
    try:
        buffer = EventBuffer()
        broker.subscribe("com.example.order.created", buffer.push)
        message = to_binary_event(_cloud_event())
        requests.post(f"{broker.url}/any/path", data=message.body, headers=message.headers,
                      timeout=5)
        event = buffer.wait_for(lambda e: True, timeout=5)
    finally:
        broker.close()
    assert event is not None and event.channel == "com.example.order.created"


def test_plain_json_post(hooks: WebhookBroker) -> None:
    buffer = EventBuffer()
    hooks.subscribe("notifications", buffer.push)
    requests.post(f"{hooks.url}/notifications", json={"to": "a@example.com"},
                  headers={"x-trace": "t-9"}, timeout=5)
    event = buffer.wait_for(lambda e: True, timeout=5)
    assert event is not None
    assert event.json() == {"to": "a@example.com"}
    assert event.headers["x-trace"] == "t-9"


def test_a_malformed_cloud_event_is_refused(hooks: WebhookBroker) -> None:
    buffer = EventBuffer()
    hooks.subscribe("*", buffer.push)
    answer = requests.post(f"{hooks.url}/orders", data=b"{}",
                           headers={"ce-specversion": "1.0", "content-type": "application/json"},
                           timeout=5)
    assert answer.status_code == 400
    assert "not a valid CloudEvent" in answer.text
    assert hooks.rejected and buffer.snapshot() == []


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_publish_sends_a_cloud_event_to_the_target(hooks: WebhookBroker, mode: str) -> None:
    buffer = EventBuffer()
    hooks.subscribe("payments.received", buffer.push)
    sender = WebhookBroker("sender", WebhookConfig(target=hooks.url, mode=mode))
    try:
        sender.publish("payments.received", b'{"amount": 120}')
    finally:
        sender.close()
    event = buffer.wait_for(lambda e: True, timeout=5)
    assert event is not None
    assert event.json() == {"amount": 120}
    assert event.headers["ce-type"] == "payments.received"
    assert event.headers["ce-source"] == "interlock"


def test_publish_without_a_target_says_what_to_configure(hooks: WebhookBroker) -> None:
    with pytest.raises(InterlockError) as caught:
        hooks.publish("x", b"{}")
    assert "has no target" in str(caught.value)
    assert "target:" in str(caught.value)


def test_a_refusing_target_is_reported(hooks: WebhookBroker) -> None:
    sender = WebhookBroker("sender", WebhookConfig(target=hooks.url, mode="plain"))
    try:
        # A ce-specversion header without the other attributes: the receiver answers 400.
        with pytest.raises(InterlockError) as caught:
            sender.publish("orders", b'{"a": 1}', {"ce-specversion": "1.0"})
    finally:
        sender.close()
    assert "answered 400" in str(caught.value)


def test_an_empty_type_cannot_be_published(hooks: WebhookBroker) -> None:
    sender = WebhookBroker("sender", WebhookConfig(target=hooks.url))
    try:
        with pytest.raises(InterlockError) as caught:
            sender.publish("", b'{"a": 1}')
    finally:
        sender.close()
    assert "Cannot make a CloudEvent" in str(caught.value)
