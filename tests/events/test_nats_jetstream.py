"""NATS JetStream: a configured stream is published to and listened to through JetStream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import nats
import pytest
from nats.js.api import ConsumerConfig

from interlock._core.errors import InterlockError
from interlock.events.base import EventBuffer
from interlock.events.nats import NatsBroker, NatsConfig

from .servers import Server


async def _admin(url: str, action: str, stream: str, subjects: list[str]) -> int:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        if action == "create":
            await js.add_stream(name=stream, subjects=subjects)
            return 0
        if action == "delete":
            await js.delete_stream(stream)
            return 0
        info = await js.stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


@pytest.fixture
def stream(nats_server: Server) -> Iterator[tuple[str, str]]:
    """A fresh stream over subjects ``<prefix>.>``; yields (stream name, prefix)."""
    name = f"S{uuid.uuid4().hex[:8].upper()}"
    prefix = f"js{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(nats_server.url, "create", name, [f"{prefix}.>"]))
    yield name, prefix
    asyncio.run(_admin(nats_server.url, "delete", name, []))


def _messages(url: str, stream: str) -> int:
    return asyncio.run(_admin(url, "count", stream, []))


def test_publish_on_a_stream_subject_is_stored_and_reaches_durable_consumers(
    nats_server: Server, stream: tuple[str, str]
) -> None:
    name, prefix = stream

    async def durable_fetch() -> list[bytes]:
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            # A service's durable consumer, created before the publish.
            sub = await js.pull_subscribe(f"{prefix}.>", durable="billing", stream=name,
                                          config=ConsumerConfig())
            broker = NatsBroker("nats", NatsConfig(url=nats_server.url, streams=(name,)))
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, broker.publish, f"{prefix}.created", b'{"id": 1}', None
                )
            finally:
                await asyncio.get_running_loop().run_in_executor(None, broker.close)
            return [m.data for m in await sub.fetch(1, timeout=10)]
        finally:
            await nc.close()

    assert asyncio.run(durable_fetch()) == [b'{"id": 1}']
    assert _messages(nats_server.url, name) == 1


def test_listening_on_a_stream_gets_only_new_messages(
    nats_server: Server, stream: tuple[str, str]
) -> None:
    name, prefix = stream
    broker = NatsBroker("nats", NatsConfig(url=nats_server.url, streams=(name,)))
    try:
        broker.publish(f"{prefix}.created", b'{"when": "before"}')
        buffer = EventBuffer()
        subscription = broker.subscribe(f"{prefix}.>", buffer.push)
        broker.publish(f"{prefix}.created", b'{"when": "after"}')
        broker.publish(f"{prefix}.eu.shipped", b'{"when": "later"}')
        events = buffer.wait_count(lambda e: True, 2, timeout=10, settle=0)
        subscription.close()
    finally:
        broker.close()
    # JetStream delivers in stream order: "before" would have come first.
    assert [(e.channel, e.json()["when"]) for e in events] == [
        (f"{prefix}.created", "after"),
        (f"{prefix}.eu.shipped", "later"),
    ]
    assert _messages(nats_server.url, name) == 3


def test_subjects_outside_the_streams_use_core_nats(
    nats_server: Server, stream: tuple[str, str]
) -> None:
    name, _prefix = stream
    broker = NatsBroker("nats", NatsConfig(url=nats_server.url, streams=(name,)))
    try:
        buffer = EventBuffer()
        subscription = broker.subscribe("core.only", buffer.push)
        broker.publish("core.only", b"{}")
        assert buffer.wait_for(lambda e: True, timeout=10) is not None
        subscription.close()
    finally:
        broker.close()
    assert _messages(nats_server.url, name) == 0


def test_a_configured_stream_that_does_not_exist_is_named(
    nats_server: Server, stream: tuple[str, str]
) -> None:
    name, _prefix = stream
    broker = NatsBroker("nats", NatsConfig(url=nats_server.url, streams=("NOPE",)))
    try:
        with pytest.raises(InterlockError) as caught:
            broker.subscribe("anything", lambda e: None)
    finally:
        broker.close()
    assert 'stream "NOPE" does not exist' in str(caught.value)
    assert name in str(caught.value)


def test_an_unreachable_server_is_an_interlock_error() -> None:
    from interlock.stack.ports import free_port

    with pytest.raises(InterlockError) as caught:
        NatsBroker("nats", NatsConfig(url=f"nats://127.0.0.1:{free_port()}", timeout=1))
    assert 'Cannot connect to NATS broker "nats"' in str(caught.value)
