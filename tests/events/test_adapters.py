"""Every adapter against its real server: subscribe, publish, receive; wildcards; closing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from interlock.events.base import EventBuffer

from .brokers import CASES, Pair, connected

pytestmark = pytest.mark.servers  # RabbitMQ, Redis, Mosquitto from Debian

WITH_WILDCARDS = [name for name, case in CASES.items() if case.one]
WITH_DEEP = [name for name, case in CASES.items() if case.deep]


@pytest.fixture(params=list(CASES))
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    with connected(CASES[request.param], request) as connected_pair:
        yield connected_pair


@pytest.fixture(params=WITH_WILDCARDS)
def wild(request: pytest.FixtureRequest) -> Iterator[Pair]:
    with connected(CASES[request.param], request) as connected_pair:
        yield connected_pair


def test_published_event_is_received_with_body_and_headers(pair: Pair) -> None:
    buffer = EventBuffer()
    subscription = pair.listener.subscribe(pair.case.channel, buffer.push)
    headers = {} if pair.case.settings == (("version", "3.1.1"),) else {"x-trace": "t-1"}
    pair.publisher.publish(pair.case.channel, b'{"orderId": "o-1"}', headers)
    event = buffer.wait_for(lambda e: True, timeout=10)
    subscription.close()
    assert event is not None
    assert event.channel == pair.case.channel
    assert event.json() == {"orderId": "o-1"}
    assert event.broker == pair.listener.name
    for name, value in headers.items():
        assert event.headers.get(name) == value


def test_nothing_published_right_after_subscribe_is_lost(pair: Pair) -> None:
    buffer = EventBuffer()
    subscription = pair.listener.subscribe(pair.case.channel, buffer.push)
    for n in range(30):
        pair.publisher.publish(pair.case.channel, json.dumps({"n": n}).encode())
    events = buffer.wait_count(lambda e: True, 30, timeout=20, settle=0)
    subscription.close()
    assert sorted(e.json()["n"] for e in events) == list(range(30))


def test_events_published_before_subscribing_are_not_delivered(pair: Pair) -> None:
    pair.publisher.publish(pair.case.channel, b'{"when": "before"}')
    buffer = EventBuffer()
    subscription = pair.listener.subscribe(pair.case.channel, buffer.push)
    pair.publisher.publish(pair.case.channel, b'{"when": "after"}')
    assert buffer.wait_for(lambda e: e.json()["when"] == "after", timeout=10) is not None
    subscription.close()
    # Delivery is in order per channel: "before" would have come first.
    assert [e.json()["when"] for e in buffer.snapshot()] == ["after"]


def test_closed_subscription_receives_nothing_more(pair: Pair) -> None:
    closed, marker = EventBuffer(), EventBuffer()
    first = pair.listener.subscribe(pair.case.channel, closed.push)
    first.close()
    first.close()  # idempotent
    second = pair.listener.subscribe(pair.case.channel, marker.push)
    pair.publisher.publish(pair.case.channel, b'{"n": 1}')
    assert marker.wait_for(lambda e: True, timeout=10) is not None
    second.close()
    assert closed.snapshot() == []


def test_one_word_wildcard(wild: Pair) -> None:
    case = wild.case
    assert case.one is not None
    buffer = EventBuffer()
    subscription = wild.listener.subscribe(case.one, buffer.push)
    for channel in (case.outside, case.channel, case.sibling):
        wild.publisher.publish(channel, json.dumps({"on": channel}).encode())
    events = buffer.wait_count(lambda e: True, 2, timeout=10, settle=0)
    subscription.close()
    assert sorted(e.channel for e in events) == sorted([case.channel, case.sibling])
    assert all(e.listen == case.one for e in events)
    assert wild.listener.matches(case.one, case.channel)
    assert not wild.listener.matches(case.one, case.outside)


@pytest.mark.parametrize("name", WITH_DEEP)
def test_many_words_wildcard(name: str, request: pytest.FixtureRequest) -> None:
    with connected(CASES[name], request) as deep:
        case = deep.case
        assert case.deep is not None and case.deeper is not None
        buffer = EventBuffer()
        subscription = deep.listener.subscribe(case.deep, buffer.push)
        for channel in (case.outside, case.deeper, case.channel):
            deep.publisher.publish(channel, b"{}")
        events = buffer.wait_count(lambda e: True, 2, timeout=10, settle=0)
        subscription.close()
        assert [e.channel for e in events] == [case.deeper, case.channel]
        assert deep.listener.matches(case.deep, case.deeper)
        assert not deep.listener.matches(case.one or "", case.deeper)


def test_redis_stream_keys_have_no_wildcards(request: pytest.FixtureRequest) -> None:
    with connected(CASES["redis"], request) as redis_pair:
        assert redis_pair.listener.matches("orders", "orders")
        assert not redis_pair.listener.matches("orders*", "orders-1")
