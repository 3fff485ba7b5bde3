"""The event buffer, events, wildcard rules and configuration (no server needed)."""

from __future__ import annotations

import threading

import pytest

from interlock._core.errors import InterlockError
from interlock.events.base import Event, EventBuffer
from interlock.events.config import EventsConfig, brokers_from_dict
from interlock.events.mqtt import mqtt_matches
from interlock.events.nats import nats_matches
from interlock.events.rabbitmq import amqp_matches


def test_a_waiter_is_woken_by_a_push_from_another_thread() -> None:
    buffer = EventBuffer()
    waiting = threading.Event()
    result: list[Event | None] = []

    def wait() -> None:
        waiting.set()
        result.append(buffer.wait_for(lambda e: e.body == b"2", timeout=30))

    waiter = threading.Thread(target=wait)
    waiter.start()
    waiting.wait()
    buffer.push(Event.now("c", b"1"))
    buffer.push(Event.now("c", b"2"))
    waiter.join()
    assert result and result[0] is not None and result[0].body == b"2"


def test_wait_count_returns_surplus_events_seen_in_the_settle_window() -> None:
    buffer = EventBuffer()
    for _ in range(2):
        buffer.push(Event.now("c", b"x"))
    timer = threading.Timer(0.01, buffer.push, args=(Event.now("c", b"x"),))
    timer.start()
    found = buffer.wait_count(lambda e: True, 2, timeout=5, settle=2)
    timer.join()
    assert len(found) == 3


def test_wait_count_returns_what_it_has_on_timeout() -> None:
    buffer = EventBuffer()
    buffer.push(Event.now("c", b"x"))
    assert len(buffer.wait_count(lambda e: True, 2, timeout=0.05, settle=1)) == 1


def test_event_json_error_shows_the_raw_body() -> None:
    event = Event.now("orders", b"<xml/>" * 100, broker="rabbit")
    with pytest.raises(InterlockError) as caught:
        event.json()
    text = str(caught.value)
    assert 'event body is not JSON (event on "orders")' in text
    assert "<xml/>" in text and "(600 bytes)" in text
    assert "broker rabbit" in text


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [("a.*", "a.b", True), ("a.*", "a.b.c", False), ("a.>", "a.b.c", True), ("a.>", "a", False),
     ("*.b", "a.b", True), ("a.b", "a.b", True), ("a.b", "a.c", False)],
)
def test_nats_wildcards(pattern: str, subject: str, expected: bool) -> None:
    assert nats_matches(pattern, subject) is expected


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [("a.#", "a", True), ("a.#", "a.b.c", True), ("#", "x.y", True), ("a.*", "a", False),
     ("a.#.z", "a.z", True), ("a.#.z", "a.b.c.z", True), ("a.#.z", "a.b.c", False)],
)
def test_amqp_wildcards(pattern: str, key: str, expected: bool) -> None:
    assert amqp_matches(pattern, key) is expected


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [("a/#", "a", True), ("a/#", "a/b/c", True), ("a/+", "a/b", True), ("a/+", "a/b/c", False),
     ("+/b", "a/b", True), ("#", "$SYS/x", False), ("$SYS/#", "$SYS/x", True)],
)
def test_mqtt_wildcards(pattern: str, topic: str, expected: bool) -> None:
    assert mqtt_matches(pattern, topic) is expected


def test_broker_config_errors_name_the_field() -> None:
    with pytest.raises(InterlockError) as caught:
        brokers_from_dict({"n": {"type": "natz", "url": "nats://x"}}, "f.yaml: brokers")
    assert 'unknown broker type "natz"' in str(caught.value)
    assert "f.yaml: brokers.n.type" in str(caught.value)
    assert 'did you mean "nats"' in str(caught.value)
    with pytest.raises(InterlockError) as caught:
        brokers_from_dict({"n": {"type": "nats", "url": "nats://x", "stream": ["A"]}}, "b")
    assert 'unknown setting "stream"' in str(caught.value) and "b.n.stream" in str(caught.value)
    with pytest.raises(InterlockError, match='missing setting "url"'):
        brokers_from_dict({"r": {"type": "rabbitmq"}}, "b")
    with pytest.raises(InterlockError, match=r"must be one of 3\.1\.1, 3, 5"):
        brokers_from_dict({"m": {"type": "mqtt", "url": "mqtt://h:1", "version": 4}}, "b")
    with pytest.raises(InterlockError, match="must be an amqp:// URL"):
        brokers_from_dict({"r": {"type": "rabbitmq", "url": "http://h"}}, "b")


def test_all_adapter_types_parse() -> None:
    configs = brokers_from_dict(
        {
            "nats": {"type": "nats", "url": "nats://h:1", "streams": ["ORDERS"]},
            "rabbit": {"type": "rabbitmq", "url": "amqp://h:1", "exchange": "events"},
            "redis": {"type": "redis", "url": "redis://h:1", "field": "payload"},
            "mqtt": {"type": "mqtt", "url": "mqtt://h:1", "version": "3.1.1", "qos": 0},
            "hooks": {"type": "webhook", "channel": "type", "target": "http://h/e"},
        },
        "brokers",
    )
    assert configs["nats"].settings.streams == ("ORDERS",)
    assert configs["rabbit"].settings.exchange == "events"
    assert configs["redis"].settings.field == "payload"
    assert (configs["mqtt"].settings.version, configs["mqtt"].settings.qos) == (3, 0)
    assert configs["hooks"].settings.channel == "type"


def test_events_config() -> None:
    config = EventsConfig.from_dict(
        {"timeout": "2 seconds", "settle": "100 ms",
         "listen": ["orders.>", {"channel": "x", "broker": "mqtt"}]},
        "events",
    )
    assert (config.timeout, config.settle) == (2.0, 0.1)
    assert [(entry.channel, entry.broker) for entry in config.listen] == [
        ("orders.>", None), ("x", "mqtt")]
    with pytest.raises(InterlockError) as caught:
        EventsConfig.from_dict({"timeout": "soon"}, "events")
    assert "events.timeout" in str(caught.value)
    with pytest.raises(InterlockError, match=r"events.listen\[0\]"):
        EventsConfig.from_dict({"listen": [3]}, "events")


def test_password_in_a_broker_url_becomes_a_secret() -> None:
    from interlock._core.secrets import Secrets

    secrets = Secrets()
    configs = brokers_from_dict({"hooks": {"type": "webhook"}}, "brokers")
    configs["hooks"].connect(secrets).close()
    rabbit = brokers_from_dict(
        {"r": {"type": "rabbitmq", "url": "amqp://app:hunter22@127.0.0.1:1/%2F", "timeout": 1}},
        "brokers")["r"]
    with pytest.raises(InterlockError) as caught:
        rabbit.connect(secrets)  # nothing listens there: the error must not show the password
    assert "hunter22" in secrets
    assert "hunter22" not in secrets.redact(str(caught.value))
