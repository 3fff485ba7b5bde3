"""NATS: core subjects and JetStream streams, through nats-py.

nats-py is asyncio; Interlock's steps are not. Each broker runs one event loop in a daemon
thread and every call is handed to it with ``asyncio.run_coroutine_threadsafe``.

When one of the configured ``streams`` covers a subject, listening goes through an ordered,
ephemeral JetStream consumer that delivers only messages stored from now on, and publishing
goes through JetStream (so the services' durable consumers get the message and the publish
waits for the stream's acknowledgement). Other subjects use core NATS.

Example:
    >>> config = NatsConfig.from_dict({"url": "nats://127.0.0.1:4222", "streams": ["ORDERS"]},
    ...                               "interlock.yaml: brokers.nats")
    >>> config.streams
    ('ORDERS',)
    >>> nats_matches("orders.>", "orders.eu.created"), nats_matches("orders.*", "orders.eu.x")
    (True, False)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings, no_keys, split_match

with requires("nats-py", extra="nats", what="The nats broker"):
    import nats
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription as NatsSub
    from nats.js.api import DeliverPolicy

T = TypeVar("T")


def nats_matches(pattern: str, subject: str) -> bool:
    """NATS wildcards: ``*`` is one token, ``>`` (last) is one or more tokens."""
    return split_match(pattern, subject, ".", "*", ">", rest_empty=False)


@dataclass(frozen=True)
class NatsConfig:
    """``{type: nats, url: "nats://…", streams: [ORDERS], timeout: 5 seconds}``."""

    url: str
    streams: tuple[str, ...] = ()
    timeout: float = 5.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "url", "streams", "timeout"))
        url = s.text("url", required=True)
        if not url.startswith(("nats://", "tls://", "ws://", "wss://")):
            raise InterlockError(f'"url" must be a nats:// URL, got "{url}"', where=s.at("url"))
        return cls(url=url, streams=s.texts("streams"), timeout=s.duration("timeout", 5.0))


class _NatsSubscription:
    def __init__(self, broker: NatsBroker, sub: NatsSub) -> None:
        self._broker = broker
        self._sub: NatsSub | None = sub

    def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None and not self._broker.closed:
            self._broker.run(sub.unsubscribe())


class NatsBroker:
    """A connection to a NATS server.

    Example::

        broker = NatsBroker("nats", config)
        sub = broker.subscribe("orders.>", print)
        broker.publish("orders.created", b'{"id": 1}')
    """

    config_type = NatsConfig
    keys = False  # no message keys: publishing with one is refused

    def __init__(self, name: str, config: NatsConfig) -> None:
        self.name = name
        self.config = config
        self.closed = False
        self._stream_subjects: dict[str, tuple[str, ...]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"interlock-nats-{name}", daemon=True
        )
        self._thread.start()
        try:
            self._nc: Client = self.run(
                nats.connect(
                    config.url,
                    connect_timeout=config.timeout,
                    max_reconnect_attempts=3,
                    allow_reconnect=True,
                    error_cb=_ignore,
                    name=f"interlock-{name}",
                ),
                timeout=config.timeout * 3,
            )
        except Exception as err:
            self._stop_loop()
            raise InterlockError(
                f'Cannot connect to NATS broker "{name}" at {config.url}',
                details=f"{type(err).__name__}: {err}",
                where=f"brokers.{name}",
                hint="Is the server running and the url right? Services start before scenarios.",
            ) from None
        self._js = self._nc.jetstream(timeout=config.timeout)

    matches = staticmethod(nats_matches)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on this broker's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout if timeout is not None else self.config.timeout * 2)

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _NatsSubscription:
        """Listen on a subject (wildcards allowed); active on the server when this returns."""
        try:
            sub = self.run(self._subscribe(channel, deliver))
        except InterlockError:
            raise
        except Exception as err:
            raise InterlockError(
                f'Cannot listen on "{channel}" at NATS broker "{self.name}"',
                details=f"{type(err).__name__}: {err}",
                where=f"brokers.{self.name}",
            ) from None
        return _NatsSubscription(self, sub)

    async def _subscribe(self, channel: str, deliver: Callable[[Event], None]) -> NatsSub:
        async def on_message(msg: Msg) -> None:
            deliver(
                Event.now(msg.subject, msg.data, _headers(msg), broker=self.name, listen=channel)
            )

        stream = await self._stream_for(channel)
        if stream is not None:
            sub: NatsSub = await self._js.subscribe(
                channel,
                stream=stream,
                cb=on_message,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )
        else:
            sub = await self._nc.subscribe(channel, cb=on_message)
        # The server has seen the SUB (and the consumer exists) once flush returns.
        await self._nc.flush(timeout=max(1, round(self.config.timeout)))
        return sub

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Publish; through JetStream (waiting for the stream's ack) when a stream covers it."""
        no_keys(self.name, "NATS", key)
        try:
            self.run(self._publish(channel, body, dict(headers) if headers else None))
        except InterlockError:
            raise
        except Exception as err:
            raise InterlockError(
                f'Cannot publish to "{channel}" at NATS broker "{self.name}"',
                details=f"{type(err).__name__}: {err}",
                where=f"brokers.{self.name}",
            ) from None

    async def _publish(self, channel: str, body: bytes, headers: dict[str, str] | None) -> None:
        stream = await self._stream_for(channel)
        if stream is not None:
            await self._js.publish(channel, body, headers=headers, stream=stream)
        else:
            await self._nc.publish(channel, body, headers=headers)
            await self._nc.flush(timeout=max(1, round(self.config.timeout)))

    async def _stream_for(self, subject: str) -> str | None:
        for stream in self.config.streams:
            if stream not in self._stream_subjects:
                self._stream_subjects[stream] = await self._subjects_of(stream)
            if any(nats_matches(p, subject) for p in self._stream_subjects[stream]):
                return stream
        return None

    async def _subjects_of(self, stream: str) -> tuple[str, ...]:
        try:
            info = await self._js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            existing = [s.config.name for s in await self._js.streams_info()]
            raise InterlockError(
                f'JetStream stream "{stream}" does not exist on NATS broker "{self.name}"',
                where=f"brokers.{self.name}.streams",
                hint=f"Existing streams: {', '.join(n or '?' for n in existing) or 'none'}. "
                "The service (or a setup step) must create it before scenarios run.",
            ) from None
        return tuple(info.config.subjects or ())

    def close(self) -> None:
        """Close the connection and stop the loop thread (idempotent)."""
        if self.closed:
            return
        self.closed = True
        # A connection that broke already has nothing left to close; the loop still must stop.
        with contextlib.suppress(Exception):
            self.run(self._nc.close(), timeout=self.config.timeout)
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


def _headers(msg: Msg) -> dict[str, str]:
    return {str(k): str(v) for k, v in (msg.headers or {}).items()}


async def _ignore(_error: Exception) -> None:
    # Without an error callback nats-py logs reconnect noise to stderr; failures that matter
    # surface as errors of the call that hit them.
    return None
