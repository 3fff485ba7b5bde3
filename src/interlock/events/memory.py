"""The in-memory broker: a fake, as a real adapter, for fast tests of the listeners.

What is published is delivered at once, on the publisher's thread, to every subscription
whose pattern covers the channel (NATS wildcards: ``*`` one word, ``>`` the rest). It needs
no server, so the logic of ``EventListeners`` (waiting, counting, ordering, failure
messages) is tested in milliseconds; the adapters are tested against real servers too.

Example:
    >>> from interlock.events.base import EventBuffer
    >>> bus, heard = MemoryBroker("bus"), EventBuffer()
    >>> _ = bus.subscribe("orders.>", heard.push)
    >>> bus.publish("orders.created", b'{"id": 1}')
    >>> [e.channel for e in heard.snapshot()], bus.published[0].broker
    (['orders.created'], 'bus')
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from interlock.events.base import Event, Settings, split_match


@dataclass(frozen=True)
class MemoryConfig:
    """``{type: memory}``: nothing to set."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        """Checks that nothing else is set."""
        Settings(data, where, known=("type",))
        return cls()


class _Subscription:
    def __init__(self, broker: MemoryBroker, pattern: str,
                 deliver: Callable[[Event], None]) -> None:
        self.broker, self.pattern, self.deliver = broker, pattern, deliver

    def close(self) -> None:
        self.broker.unsubscribe(self)


class MemoryBroker:
    """A broker in memory; ``published`` keeps every message, ``closed`` says whether it was
    closed."""

    config_type = MemoryConfig
    keys = True  # like Kafka, so the fake exercises keyed publishing and matching too

    def __init__(self, name: str, config: MemoryConfig | None = None) -> None:
        self.name = name
        self.published: list[Event] = []
        self.closed = False
        self._subscriptions: list[_Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _Subscription:
        """Receive what is published on ``channel`` from now on."""
        subscription = _Subscription(self, channel, deliver)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: _Subscription) -> None:
        """End one subscription (idempotent)."""
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Deliver to every matching subscription, at once."""
        self.published.append(Event.now(channel, body, headers, broker=self.name, key=key))
        with self._lock:
            matching = [s for s in self._subscriptions if self.matches(s.pattern, channel)]
        for subscription in matching:
            subscription.deliver(Event.now(channel, body, headers, broker=self.name,
                                           listen=subscription.pattern, key=key))

    def close(self) -> None:
        """Drop every subscription."""
        with self._lock:
            self._subscriptions.clear()
        self.closed = True

    @staticmethod
    def matches(pattern: str, channel: str) -> bool:
        """NATS wildcards (no connection needed: ``interlock run -j`` plans with it)."""
        return split_match(pattern, channel, ".", "*", ">", False)
