"""The Kafka adapter on the real embedded broker (Tansu): keys, headers, positions, order
within a partition, topics on demand, a group consumer that joins late, and the errors."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from interlock._core.errors import InterlockError
from interlock._core.report import MemoryReporter
from interlock.events.base import EventBuffer
from interlock.events.config import BrokerConfig
from interlock.events.kafka import KafkaBroker
from interlock.events.listeners import EventListeners
from interlock.stack.kinds import kafka
from interlock.stack.ports import free_port

from .servers import Server, running

pytestmark = pytest.mark.servers


def connect(url: str, **settings: object) -> KafkaBroker:
    config = BrokerConfig.from_dict("bus", {"type": "kafka", "url": url, **settings},
                                    "interlock.yaml: brokers.bus")
    broker = config.connect()
    assert isinstance(broker, KafkaBroker)
    return broker


@pytest.fixture
def bus(kafka_server: Server) -> Iterator[KafkaBroker]:
    broker = connect(kafka_server.url, timeout=5)
    yield broker
    broker.close()


def topic(name: str) -> str:
    """A topic of this test alone (the session's broker is shared)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_an_event_has_its_key_headers_topic_partition_and_offset(bus: KafkaBroker) -> None:
    orders = topic("orders")
    buffer = EventBuffer()
    sub = bus.subscribe(orders, buffer.push)
    bus.publish(orders, b'{"n": 1}', {"ce-type": "OrderCreated"}, key="o-1")
    bus.publish(orders, b'{"n": 2}')
    events = buffer.wait_count(lambda e: True, 2, timeout=10, settle=0)
    sub.close()
    first, second = events
    assert (first.channel, first.key, first.headers) == (orders, "o-1", {"ce-type": "OrderCreated"})
    assert first.details == {"partition": "0", "offset": "0"}
    assert (second.key, second.headers, second.details["offset"]) == (None, {}, "1")


def test_order_holds_within_a_partition_and_a_key_keeps_its_partition(
        kafka_server: Server) -> None:
    broker = connect(kafka_server.url, partitions=4)
    try:
        spread = topic("spread")
        buffer = EventBuffer()
        sub = broker.subscribe(spread, buffer.push)
        keys = [f"k-{n}" for n in range(6)]
        for n in range(60):
            broker.publish(spread, json.dumps({"n": n}).encode(), key=keys[n % 6])
        events = buffer.wait_count(lambda e: True, 60, timeout=20, settle=0)
        sub.close()
    finally:
        broker.close()
    assert len({e.details["partition"] for e in events}) > 1  # the topic has 4 partitions
    for key in keys:
        mine = [e for e in events if e.key == key]
        assert len({e.details["partition"] for e in mine}) == 1
        assert [e.json()["n"] for e in mine] == sorted(e.json()["n"] for e in mine)
        offsets = [int(e.details["offset"]) for e in mine]
        assert offsets == sorted(offsets)


def test_a_listen_sees_nothing_older_and_misses_nothing_newer(bus: KafkaBroker) -> None:
    busy = topic("busy")
    for n in range(5):
        bus.publish(busy, json.dumps({"old": n}).encode())
    buffer = EventBuffer()
    sub = bus.subscribe(busy, buffer.push)  # assigned at the end offsets: no group rebalance
    for n in range(20):
        bus.publish(busy, json.dumps({"new": n}).encode())
    events = buffer.wait_count(lambda e: True, 20, timeout=10, settle=0.2)
    sub.close()
    assert [e.json() for e in events] == [{"new": n} for n in range(20)]


def test_a_group_consumer_that_joins_late_reads_from_the_earliest_offset(
        bus: KafkaBroker, kafka_server: Server) -> None:
    """What a service under test does: it joins a group after events were published."""
    late = topic("late")
    for n in range(3):
        bus.publish(late, json.dumps({"n": n}).encode(), key="same")
    consumer = Consumer({"bootstrap.servers": kafka_server.url.removeprefix("kafka://"),
                         "group.id": topic("service"), "auto.offset.reset": "earliest",
                         "session.timeout.ms": 1000, "heartbeat.interval.ms": 100})
    consumer.subscribe([late])
    seen: list[int] = []
    try:
        for _ in range(300):  # a condition, not a sleep: each poll waits for a message
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                seen.append(json.loads(message.value())["n"])
            if len(seen) == 3:
                break
    finally:
        consumer.close()
    assert seen == [0, 1, 2]


def test_listeners_publish_with_key_and_carried_headers_and_report_them(
        bus: KafkaBroker) -> None:
    payments = topic("payments")
    reporter = MemoryReporter()
    events = EventListeners({"bus": bus}, timeout=5, reporter=reporter)
    events.listen(payments)
    events.carry_headers({"ce-type": "Payment"})
    events.publish(payments, {"orderId": "o-1"}, key="o-1", headers={"x-trace": "t-1"})
    events.publish(payments, {"orderId": "o-2"}, key="o-2")
    found = events.expect_event(payments, {}, key="o-2")
    assert found.json() == {"orderId": "o-2"}
    events.expect_header("ce-type", "Payment")
    events.expect_header("CE-TYPE", "#regex Pay.*")
    with pytest.raises(AssertionError, match='header "ce-type" is "Payment", expected "Refund"'):
        events.expect_header("ce-type", "Refund")
    with pytest.raises(AssertionError, match='no header "x-trace"'):
        events.expect_header("x-trace", "t-1")  # only the first publish had it
    with pytest.raises(AssertionError, match='with key "o-3"') as caught:
        events.expect_event(payments, {}, timeout=0.2, key="o-3")
    assert 'key "o-1"' in str(caught.value)  # the keys that did arrive are listed
    events.close()
    shown = "\n".join(f"{name}\n{body}" for name, body, _kind in reporter.attachments)
    assert f'event {payments} (partition 0, offset 1, key "o-2")' in shown
    assert "key: o-2\nheaders:\n  ce-type: Payment" in shown


def test_a_broker_without_keys_refuses_them(nats_server: Server) -> None:
    nats = BrokerConfig.from_dict("nats", {"type": "nats", "url": nats_server.url},
                                  "brokers.nats").connect()
    events = EventListeners({"nats": nats}, timeout=1)
    try:
        events.listen("orders.created")
        with pytest.raises(InterlockError) as caught:
            events.publish("orders.created", {"n": 1}, key="o-1")
        assert 'broker "nats" has no message keys' in str(caught.value)
        assert "Keys exist on Kafka" in caught.value.hint
        with pytest.raises(InterlockError, match="has no message keys"):
            events.expect_event("orders.created", {}, key="o-1")
        with pytest.raises(InterlockError, match="NATS messages have no key"):
            nats.publish("orders.created", b"{}", key="o-1")
    finally:
        events.close()
        nats.close()


def test_an_unknown_topic_with_creation_off_names_the_topics_that_exist(
        kafka_server: Server) -> None:
    # Tansu itself creates any topic a client names (it has no switch to turn that off), so
    # "creation off" is the adapter's: it checks the broker's topic list before it names one.
    existing = topic("existing")
    creating = connect(kafka_server.url)
    creating.publish(existing, b"{}")
    creating.close()
    strict = connect(kafka_server.url, create_topics=False)
    try:
        with pytest.raises(InterlockError) as caught:
            strict.subscribe("no-such-topic", EventBuffer().push)
        message = str(caught.value)
        assert 'Kafka topic "no-such-topic" does not exist on broker "bus"' in message
        assert f'"{existing}"' in message
        assert "brokers.bus.create_topics" in message
        assert "create_topics: true" in caught.value.hint
        with pytest.raises(InterlockError, match="does not exist"):
            strict.publish("no-such-topic", b"{}")
        strict.subscribe(existing, EventBuffer().push).close()  # an existing one is fine
    finally:
        strict.close()
    check = connect(kafka_server.url)
    assert "no-such-topic" not in check._known_topics()  # nothing was created on the way
    check.close()


def test_a_wildcard_is_not_a_topic_name(bus: KafkaBroker) -> None:
    with pytest.raises(InterlockError) as caught:
        bus.subscribe("orders.>", EventBuffer().push)
    assert '"orders.>" is not a Kafka topic name' in str(caught.value)
    assert "no wildcards" in caught.value.hint


def test_an_unreachable_broker_is_named_with_its_address() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(InterlockError) as caught:
        connect(f"kafka://127.0.0.1:{port}", timeout="500 ms")
    message = str(caught.value)
    assert f'Cannot connect to Kafka broker "bus" at 127.0.0.1:{port} within 0.5 seconds' in message
    assert "brokers.bus" in message
    assert "Is the broker running" in caught.value.hint
    assert "Traceback" not in message


def test_a_broker_that_stops_answering_times_the_listen_and_the_publish_out(
        tmp_path: Path) -> None:
    with running(kafka.plan, tmp_path, "frozen") as server:
        broker = connect(server.url, timeout="500 ms")
        frozen = topic("frozen")
        broker.publish(frozen, b"{}")  # the topic exists and is known
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(InterlockError) as listen_error:
                broker.subscribe(frozen, EventBuffer().push)
            with pytest.raises(InterlockError) as publish_error:
                broker.publish(frozen, b"{}")
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
            broker.close()
    assert "did not give its end offsets within 0.5 seconds" in str(listen_error.value)
    assert "not paused" in listen_error.value.hint
    assert "no acknowledgement within 0.5 seconds" in str(publish_error.value)
    assert "brokers.bus" in str(publish_error.value)


def test_settings_are_checked_with_their_place() -> None:
    with pytest.raises(InterlockError, match='"url" must be a kafka:// URL'):
        connect("nats://127.0.0.1:4222")
    with pytest.raises(InterlockError, match='"partitions" must be a whole number'):
        connect("kafka://127.0.0.1:1", partitions=0)
    with pytest.raises(InterlockError, match='unknown setting "partition"'):
        connect("kafka://127.0.0.1:1", partition=2)


def test_a_producer_from_elsewhere_is_seen_with_its_bytes_key_and_headers(
        bus: KafkaBroker, kafka_server: Server) -> None:
    """A service's own producer (not Interlock's) sets binary-safe keys and headers."""
    elsewhere = topic("elsewhere")
    buffer = EventBuffer()
    sub = bus.subscribe(elsewhere, buffer.push)
    producer = Producer({"bootstrap.servers": kafka_server.url.removeprefix("kafka://")})
    producer.produce(elsewhere, b'{"a": 1}', key=b"k\xff", headers=[("h", b"v"), ("empty", None)])
    producer.flush(10)
    event = buffer.wait_for(lambda e: True, timeout=10)
    sub.close()
    assert event is not None
    assert event.key == "k\ufffd" and event.headers == {"h": "v", "empty": ""}


def test_channels_map_the_features_names_to_topics(kafka_server: Server) -> None:
    """What lets a suite written for NATS subjects run on Kafka unchanged."""
    created, assigned, renamed = topic("orders.created"), topic("orders.assigned"), topic("pay")
    broker = connect(kafka_server.url, channels={"orders.>": [created, assigned],
                                                 "payments": renamed})
    events = EventListeners({"bus": broker}, timeout=5)
    try:
        events.listen("orders.>")
        events.listen("payments")
        events.publish(created, {"type": "OrderCreated"})
        # Kafka orders within a partition only: across topics, arrival order is what one
        # event causing the next (as in the demo: assigned after created) gives.
        events.expect_event(created, {"type": "OrderCreated"})
        events.publish(assigned, {"type": "OrderAssigned"})
        events.publish("payments", {"amount": 1})  # to the topic behind the name
        events.expect_order("orders.>", [{"type": "OrderCreated"}, {"type": "OrderAssigned"}])
        events.expect_event(assigned, {"type": "OrderAssigned"})
        paid = events.expect_event("payments", {"amount": 1})
        assert paid.channel == "payments" and paid.details["topic"] == renamed
        with pytest.raises(InterlockError, match='it names 2 Kafka topics'):
            events.publish("orders.>", {"type": "x"})
    finally:
        events.close()
        broker.close()
    with pytest.raises(InterlockError, match='channel "x" must map to a topic'):
        connect(kafka_server.url, channels={"x": ["bad topic"]})
