"""The per-scenario API the event steps call, against real brokers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.events.base import Broker
from interlock.events.config import Correlation, EventsConfig
from interlock.events.listeners import EventListeners
from interlock.events.nats import NatsBroker, NatsConfig

from .brokers import CASES, connected
from .servers import Server


@pytest.fixture
def nats_broker(nats_server: Server) -> Iterator[NatsBroker]:
    broker = NatsBroker("nats", NatsConfig(url=nats_server.url))
    yield broker
    broker.close()


@pytest.fixture
def events(nats_broker: NatsBroker) -> Iterator[EventListeners]:
    listeners = EventListeners({"nats": nats_broker}, timeout=5, settle=0.2)
    yield listeners
    listeners.close()


@pytest.mark.servers
@pytest.mark.parametrize("name", list(CASES))
def test_expect_event_on_every_broker(name: str, request: pytest.FixtureRequest) -> None:
    with connected(CASES[name], request, name="b") as pair:
        channel = pair.case.channel
        listening = EventListeners({"b": pair.listener}, timeout=10)
        publishing = EventListeners({"b": pair.publisher})
        try:
            listening.listen(channel)
            publishing.publish(channel, {"type": "OrderCreated", "orderId": "o-1"})
            publishing.publish(channel, {"type": "OrderCreated", "orderId": "o-2"}, times=2)
            event = listening.expect_event(channel, {"orderId": "o-2"})
            assert event.json()["orderId"] == "o-2"
            assert len(listening.expect_exactly(2, channel, {"orderId": "o-2"})) == 2
        finally:
            listening.close()


def test_expect_event_returns_as_soon_as_the_event_arrives(events: EventListeners,
                                                          nats_broker: NatsBroker) -> None:
    events.listen("orders.created")
    timeout = 60.0
    publisher = threading.Timer(0.2, nats_broker.publish,
                                args=("orders.created", b'{"orderId": "late"}'))
    started = time.monotonic()
    publisher.start()
    event = events.expect_event("orders.created", {"orderId": "late"}, timeout=timeout)
    waited = time.monotonic() - started
    publisher.join()
    assert event.json() == {"orderId": "late"}
    # Push-based: it returned on arrival, far from waiting the timeout out.
    assert waited < timeout / 2


def test_an_event_that_already_arrived_matches_at_once(events: EventListeners) -> None:
    events.listen("orders.>")
    events.publish("orders.created", {"orderId": "o-1"})
    events.expect_event("orders.created", {"orderId": "o-1"})
    assert events.expect_event("orders.created", {"orderId": "o-1"}, timeout=0).json() == {
        "orderId": "o-1"
    }


def test_timeout_lists_what_arrived_and_the_closest_mismatches(events: EventListeners) -> None:
    events.listen("orders.created")
    events.publish("orders.created", {"orderId": "o-1", "status": "pending", "total": 3})
    events.publish("orders.created", {"orderId": "o-2", "status": "paid", "total": 5})
    events.expect_event("orders.created", {"orderId": "o-2"})
    with pytest.raises(Failure) as caught:
        events.expect_event("orders.created", {"orderId": "o-2", "status": "shipped"},
                            timeout=0.2)
    text = str(caught.value)
    assert 'no event on "orders.created" matched within 200 ms' in text
    assert "2 events arrived" in text
    assert '"o-1"' in text and '"o-2"' in text
    assert "closest, #2" in text
    assert "$.status" in text and '"shipped"' in text


def test_nothing_arrived_says_so(events: EventListeners) -> None:
    events.listen("orders.created")
    with pytest.raises(Failure) as caught:
        events.expect_event("orders.created", {"orderId": "x"}, timeout=0.1)
    assert 'no event arrived on "orders.created"' in str(caught.value)
    assert "publishes to this channel" in caught.value.hint


def test_exactly_n_waits_the_settle_window_for_extra_events(events: EventListeners) -> None:
    events.listen("notifications.sent")
    for _ in range(3):
        events.publish("notifications.sent", {"orderId": "o-1"})
    events.publish("notifications.sent", {"orderId": "o-9"})
    assert len(events.expect_exactly(3, "notifications.sent", {"orderId": "o-1"})) == 3
    with pytest.raises(Failure) as caught:
        events.expect_exactly(2, "notifications.sent", {"orderId": "o-1"})
    assert "3 events on \"notifications.sent\" matched, expected exactly 2" in str(caught.value)
    with pytest.raises(Failure) as caught:
        events.expect_exactly(1, "notifications.sent", {"orderId": "o-2"}, timeout=0.2)
    assert "0 events" in str(caught.value)


def test_no_event_matches(events: EventListeners) -> None:
    events.listen("orders.dlq")
    events.publish("orders.dlq", {"orderId": "other"})
    events.expect_none("orders.dlq", {"orderId": "o-1"}, window=0.2)
    events.publish("orders.dlq", {"orderId": "o-1"})
    with pytest.raises(Failure) as caught:
        events.expect_none("orders.dlq", {"orderId": "o-1"}, window=5)
    assert 'an event on "orders.dlq" matched, expected none' in str(caught.value)


def test_no_event_arrives(events: EventListeners) -> None:
    events.listen("orders.completed")
    events.expect_no_event("orders.completed", window=0.2)
    events.publish("orders.completed", {"orderId": "o-1"})
    with pytest.raises(Failure) as caught:
        events.expect_no_event("orders.completed", window=5)
    assert 'an event arrived on "orders.completed"' in str(caught.value)


def test_events_arrive_in_order_with_fields_and_json_paths(events: EventListeners) -> None:
    events.listen("orders.>")
    for kind in ("OrderCreated", "OrderPaid", "OrderAssigned"):
        events.publish(f"orders.{kind.lower()}", {"type": kind, "meta": {"v": kind[5:]}})
    found = events.expect_order("orders.>", [{"type": "OrderCreated"}, {"type": "OrderAssigned"}])
    assert [e.json()["type"] for e in found] == ["OrderCreated", "OrderAssigned"]
    assert events.last_value("$.type") == "OrderAssigned"
    events.expect_order("orders.>", [{"$.meta.v": "Created"}, {"$.meta.v": "Paid"}])
    with pytest.raises(Failure) as caught:
        events.expect_order("orders.>", [{"type": "OrderAssigned"}, {"type": "OrderCreated"}],
                            timeout=0.2)
    text = str(caught.value)
    assert 'the events on "orders.>" did not arrive in this order' in text
    assert "rows 1-1 arrived in order; row 2 did not follow" in text
    assert 'type="OrderPaid"' in text


def test_an_invalid_json_path_column_fails_before_waiting(events: EventListeners) -> None:
    events.listen("orders.>")
    # No event ever arrives: a check made only while matching events would say, after the
    # whole wait, that the events "did not arrive in this order".
    with pytest.raises(InterlockError) as caught:
        events.expect_order("orders.>", [{"type": "OrderCreated", "$.items[": 1}], timeout=1)
    assert caught.value.title.startswith('Invalid JSONPath "$.items["')


def test_last_event_and_remembering_a_value(events: EventListeners) -> None:
    with pytest.raises(InterlockError, match="no event to look at yet"):
        events.last_json()
    events.listen("orders.created")
    events.publish("orders.created", {"orderId": "o-7", "items": [{"sku": "d-1"}]})
    events.expect_event("orders.created", {"orderId": "#string"})
    assert events.last_json()["orderId"] == "o-7"
    assert events.last_value("$.items[0].sku") == "d-1"
    with pytest.raises(Failure, match=r"no value at \$.customer"):
        events.last_value("$.customer")


def test_a_non_json_body(events: EventListeners) -> None:
    events.listen("raw.bytes")
    events.publish("raw.bytes", b"\x00not json")
    with pytest.raises(Failure) as caught:
        events.expect_event("raw.bytes", {"a": 1}, timeout=0.5)
    assert "not json" in str(caught.value)
    (event,) = events.buffer.snapshot()
    with pytest.raises(InterlockError) as error:
        event.json()
    assert "event body is not JSON" in str(error.value)
    assert "\\x00not json" in str(error.value)


def test_unknown_broker_and_unlistened_channel(nats_broker: NatsBroker) -> None:
    two: dict[str, Broker] = {"nats": nats_broker, "other": nats_broker}
    events = EventListeners(two)
    try:
        with pytest.raises(InterlockError) as caught:
            events.listen("orders.created", broker="natz")
        assert 'unknown broker "natz"' in str(caught.value)
        assert 'did you mean "nats"' in str(caught.value)
        with pytest.raises(InterlockError, match="several brokers are configured"):
            events.listen("orders.created")
        with pytest.raises(InterlockError) as caught:
            events.expect_event("orders.created", {})
        assert 'Given I listen for events on "orders.created"' in caught.value.hint
        with pytest.raises(InterlockError, match=r"(?i)unknown marker"):
            events.listen("orders.created", broker="nats")
            events.expect_event("orders.created", {"id": "#nonsense"})
    finally:
        events.close()


def test_overlapping_listens_do_not_count_an_event_twice(events: EventListeners) -> None:
    events.listen("orders.>")
    events.listen("orders.created")
    events.publish("orders.created", {"n": 1})
    assert len(events.expect_exactly(1, "orders.created", {"n": 1})) == 1
    assert len(events.expect_exactly(1, "orders.*", {"n": 1})) == 1


def test_configured_listens_start_with_the_scenario(nats_broker: NatsBroker) -> None:
    config = EventsConfig.from_dict({"timeout": "3 seconds", "listen": ["audit.>"]}, "events")
    events = EventListeners.start({"nats": nats_broker}, config)
    try:
        nats_broker.publish("audit.login", b'{"user": "ann"}')
        assert events.expect_event("audit.login", {"user": "ann"}).channel == "audit.login"
        assert events.timeout == 3.0
    finally:
        events.close()


def test_events_are_attached_to_the_report_redacted(nats_broker: NatsBroker) -> None:
    secrets = Secrets()
    secrets.add("s3cr3t-value")
    reporter = MemoryReporter()
    events = EventListeners({"nats": nats_broker}, reporter=reporter, secrets=secrets)
    try:
        events.listen("users.created")
        events.publish("users.created", {"password": "pw", "note": "s3cr3t-value"})
        events.expect_event("users.created", {"note": "#string"})
    finally:
        events.close()
    names = [name for name, _body, _kind in reporter.attachments]
    assert names == ["event users.created (published)", "event users.created"]
    for _name, body, kind in reporter.attachments:
        assert kind == "application/json"
        assert "s3cr3t-value" not in body and '"pw"' not in body
        assert '"***"' in body


def test_close_unsubscribes(nats_broker: NatsBroker) -> None:
    events = EventListeners({"nats": nats_broker})
    events.listen("orders.created")
    events.close()
    nats_broker.publish("orders.created", b"{}")
    marker = EventListeners({"nats": nats_broker})
    marker.listen("orders.created")
    nats_broker.publish("orders.created", b'{"marker": true}')
    marker.expect_event("orders.created", {"marker": True})
    marker.close()
    assert events.buffer.snapshot() == []


# -- events: correlate: a counting step counts only its scenario's events -------------------

def _correlated(broker: Broker, values: list[str], shared: bool = False) -> EventListeners:
    return EventListeners({"nats": broker}, timeout=2, settle=0.2, correlate=[
        Correlation("orders.*", "$.orderId")], known=lambda: values, shared=shared)


def test_counting_steps_on_a_correlated_channel_count_only_the_scenarios_events(
        nats_broker: Broker) -> None:
    mine = _correlated(nats_broker, ["o-1", "unrelated text"])
    try:
        mine.listen("orders.>")
        mine.listen("payments.>")
        for order in ("o-2", "o-1", "o-2"):  # o-2 is another scenario's order
            mine.publish("orders.created", {"orderId": order, "type": "OrderCreated"})
        mine.publish("orders.assigned", {"orderId": "o-2", "type": "OrderAssigned"})
        mine.publish("orders.started", {"type": "OrderStarted"})  # no id: nobody's
        assert [e.json()["orderId"] for e in mine.expect_exactly(
            1, "orders.created", {"type": "OrderCreated"})] == ["o-1"]
        mine.expect_none("orders.created", {"orderId": "o-2"}, window=0.2)
        mine.expect_no_event("orders.assigned", 0.2)
        mine.expect_no_event("orders.started", 0.2)
        assert len(mine.expect_order("orders.>", [{"type": "OrderCreated"}])) == 1
        # A channel the stack file does not correlate counts every event, as before.
        mine.publish("payments.received", {"orderId": "o-2"})
        with pytest.raises(Failure, match=r'an event arrived on "payments\.received"'):
            mine.expect_no_event("payments.received", 2)
        # And an event of the scenario's own is seen as such.
        mine.publish("orders.assigned", {"orderId": "o-1", "type": "OrderAssigned"})
        with pytest.raises(Failure, match=r'an event arrived on "orders\.assigned"'):
            mine.expect_no_event("orders.assigned", 2)
    finally:
        mine.close()


def test_a_scenario_without_a_value_is_told_it_cannot_count_beside_others(
        nats_broker: Broker) -> None:
    shared = _correlated(nats_broker, [], shared=True)
    alone = _correlated(nats_broker, [])
    try:
        for listeners in (shared, alone):
            listeners.listen("orders.>")
        shared.publish("orders.created", {"orderId": "o-9"})
        with pytest.raises(InterlockError) as caught:
            shared.expect_no_event("orders.created", 0.2)
        message = caught.value.render()
        assert 'cannot refuse events on "orders.created" that are this scenario\'s own' in message
        assert "$.orderId" in message and "other runs share the stack" in message
        assert "I remember the response JSON" in message
        alone.expect_exactly(1, "orders.created", {})  # alone on its stack: every event counts
    finally:
        shared.close()
        alone.close()


def test_a_bad_correlation_is_refused_at_its_line() -> None:
    with pytest.raises(InterlockError, match=r'needs a JSONPath such as "\$\.orderId"'):
        EventsConfig.from_dict({"correlate": {"orders.created": "orderId"}}, "interlock.yaml")
    with pytest.raises(InterlockError, match="Invalid JSONPath"):
        EventsConfig.from_dict({"correlate": {"orders.created": "$.items[?"}}, "interlock.yaml")
    with pytest.raises(InterlockError, match="correlate must map channels"):
        EventsConfig.from_dict({"correlate": ["orders.created"]}, "interlock.yaml")
