"""What every broker adapter shares: the ``Event``, the ``EventBuffer`` and the ``Broker`` protocol.

An adapter (``nats.py``, ``rabbitmq.py``, ``redis_streams.py``, ``mqtt.py``, ``webhook.py``)
turns its broker's messages into ``Event`` objects and hands them to a ``deliver`` callback,
from whatever thread its client library runs on. The ``EventBuffer`` collects them and wakes
every waiter on each push, so a step that waits for an event returns the moment it arrives.

Example:
    >>> buffer = EventBuffer()
    >>> buffer.push(Event.now("orders.created", b'{"id": 1}', broker="nats"))
    >>> buffer.wait_for(lambda e: e.json()["id"] == 1, timeout=0.1).channel
    'orders.created'
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from interlock._core.config import key_where
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.secrets import Secrets
from interlock._core.values import parse_duration

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """One message as received from (or published to) a broker.

    ``received_at`` is ``time.monotonic()`` (for ordering and latency), ``received_wall`` the
    wall clock (for reports). ``listen`` is the channel pattern it was listened for with (the
    same message can arrive through two overlapping listens; expectations use one of them).

    Example:
        >>> Event.now("a.b", b'{"x": 1}', broker="nats").json()
        {'x': 1}
    """

    channel: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    broker: str = ""
    received_at: float = 0.0
    received_wall: float = 0.0
    listen: str = ""
    key: str | None = None  # Kafka's message key; None where the broker has no keys
    details: Mapping[str, str] = field(default_factory=dict)  # e.g. Kafka partition, offset

    @classmethod
    def now(
        cls,
        channel: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        broker: str = "",
        listen: str = "",
        key: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> Event:
        """An event stamped with the current time (what adapters call on receipt)."""
        return cls(
            channel=channel,
            body=bytes(body),
            headers=dict(headers or {}),
            broker=broker,
            received_at=time.monotonic(),
            received_wall=time.time(),
            listen=listen,
            key=key,
            details=dict(details or {}),
        )

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (exact name first, then ignoring case), or None.

        Example:
            >>> Event.now("a", b"{}", {"Ce-Type": "X"}).header("ce-type")
            'X'
        """
        if name in self.headers:
            return self.headers[name]
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def text(self) -> str:
        """The body as text (undecodable bytes shown as replacement characters)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self, secrets: Secrets | None = None) -> Any:
        """The body parsed as JSON, or an ``InterlockError`` showing the raw body (``secrets``
        hidden before it is cut).

        Example:
            >>> Event.now("a", b"not json").json()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            interlock._core.errors.InterlockError: event body is not JSON (event on "a")
            ...
        """
        try:
            return json.loads(self.body)
        except ValueError as err:
            raw = (secrets or Secrets()).shorten(self.text(), 200)
            more = f" ({len(self.body)} bytes)" if len(self.body) > 200 else ""
            raise InterlockError(
                f'event body is not JSON (event on "{self.channel}")',
                details=f"{err}\nbody: {raw!r}{more}",
                where=f"broker {self.broker}" if self.broker else "",
                hint="Match it with a JSON document only when the service sends JSON; "
                "check the content type the service publishes.",
            ) from None

    def try_json(self) -> tuple[bool, Any]:
        """``(True, document)`` when the body is JSON, else ``(False, None)``."""
        try:
            return True, json.loads(self.body)
        except ValueError:
            return False, None


class EventBuffer:
    """Events in arrival order; thread-safe; every push wakes every waiter.

    Adapters call ``push`` from their own threads. ``wait_for``, ``wait_count`` and ``wait_until``
    sleep on a ``threading.Condition`` and look again only when something arrived (or their
    time ran out): no sleep-and-poll.

    Example:
        >>> b = EventBuffer()
        >>> b.wait_for(lambda e: True, timeout=0.01) is None
        True
        >>> for n in range(3):
        ...     b.push(Event.now("t", str(n).encode()))
        >>> [e.body for e in b.wait_count(lambda e: e.body != b"1", 2, timeout=1, settle=0)]
        [b'0', b'2']
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._events: list[Event] = []

    def push(self, event: Event) -> None:
        """Add an event and wake every waiter."""
        with self._condition:
            self._events.append(event)
            self._condition.notify_all()

    def snapshot(self) -> list[Event]:
        """A copy of every event so far, in arrival order."""
        with self._condition:
            return list(self._events)

    def __len__(self) -> int:
        with self._condition:
            return len(self._events)

    def wait_until(self, condition: Callable[[list[Event]], T | None], timeout: float) -> T | None:
        """Call ``condition(events)`` now and after every push until it returns something
        other than ``None``; ``None`` when ``timeout`` (seconds) ran out first.

        ``condition`` sees the buffer's own list: it must not keep or change it.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._condition:
            while True:
                result = condition(self._events)
                if result is not None:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._condition.wait(left)

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event | None:
        """The first event (already here or arriving within ``timeout``) that ``predicate``
        accepts, or ``None``."""
        checked = 0

        def first(events: list[Event]) -> Event | None:
            nonlocal checked
            # Each event is judged once: a predicate may parse JSON and compare documents.
            for index in range(checked, len(events)):
                if predicate(events[index]):
                    return events[index]
            checked = len(events)
            return None

        return self.wait_until(first, timeout)

    def wait_count(
        self, predicate: Callable[[Event], bool], n: int, timeout: float, settle: float
    ) -> list[Event]:
        """Wait until ``n`` events match (at most ``timeout``), then ``settle`` seconds more
        for any surplus; every matching event, in arrival order (fewer than ``n`` on timeout).
        """
        matching: list[Event] = []
        checked = 0

        def collect(events: list[Event]) -> list[Event] | None:
            nonlocal checked
            matching.extend(e for e in events[checked:] if predicate(e))
            checked = len(events)
            return matching if len(matching) >= n else None

        if self.wait_until(collect, timeout) is None:
            return list(matching)
        if settle > 0:
            # Nothing to wait for here but time itself: surplus events are what is looked for.
            self.wait_until(lambda events: collect(events) and None, settle)
        return list(matching)


class Subscription(Protocol):
    """A live subscription; ``close()`` ends it (idempotent)."""

    def close(self) -> None:
        """Stop receiving; safe to call twice."""


class Broker(Protocol):
    """A connection to one broker, as the events library sees it.

    ``subscribe`` returns only once the server has the subscription, so nothing published
    afterwards is missed; ``deliver`` is called from the adapter's own thread. ``matches`` is
    the broker's own wildcard rule (NATS ``*`` ``>``, AMQP ``*`` ``#``, MQTT ``+`` ``#``).

    Example (any adapter):
        >>> def listen(broker: Broker, buffer: EventBuffer) -> Subscription:
        ...     return broker.subscribe("orders.>", buffer.push)
    """

    name: str
    keys: bool  # whether messages carry a key (Kafka); publishing with one elsewhere is refused

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> Subscription:
        """Start receiving events on ``channel`` (a pattern in the broker's wildcards)."""
        ...

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Send one message (with ``key`` only where ``keys``); returns once the broker
        accepted it."""
        ...

    def close(self) -> None:
        """Close every subscription and connection (idempotent)."""
        ...

    def matches(self, pattern: str, channel: str) -> bool:
        """Whether ``pattern`` (with this broker's wildcards) covers ``channel``."""
        ...


def no_keys(broker: str, kind: str, key: str | None) -> None:
    """Refuse a message key on a broker that has none (what adapters without keys call).

    Example:
        >>> no_keys("nats", "NATS", None)  # no key: nothing to refuse
    """
    if key is not None:
        raise InterlockError(
            f'{kind} messages have no key: cannot publish with key "{key}" to broker "{broker}"',
            where=f"brokers.{broker}",
            hint="Keys exist on Kafka. Drop `with key`, or carry the value in the body or in a "
            "header (`Given the events I publish carry the headers:`).",
        )


def split_match(
    pattern: str, channel: str, sep: str, one: str, rest: str, rest_empty: bool
) -> bool:
    """The wildcard rule NATS, AMQP and MQTT share, over ``sep``-separated words: ``one``
    matches exactly one word; ``rest`` matches the remaining words: one or more, last word
    only (NATS ``>``, ``rest_empty=False``), or zero or more (AMQP/MQTT ``#``, ``True``; AMQP
    allows ``#`` anywhere).

    Example:
        >>> split_match("orders.>", "orders.created", ".", "*", ">", False)
        True
        >>> split_match("orders.#", "orders", ".", "*", "#", True)
        True
        >>> split_match("a.#.z", "a.b.c.z", ".", "*", "#", True)
        True
    """
    return _match_words(pattern.split(sep), channel.split(sep), one, rest, rest_empty)


def _match_words(words: list[str], parts: list[str], one: str, rest: str, rest_empty: bool) -> bool:
    if not words:
        return not parts
    word = words[0]
    if word == rest and rest_empty:
        # '#' may swallow any number of words: try each.
        return any(
            _match_words(words[1:], parts[skip:], one, rest, rest_empty)
            for skip in range(len(parts) + 1)
        )
    if word == rest and len(words) == 1:
        return len(parts) >= 1
    if not parts or (word != one and word != parts[0]):
        return False
    return _match_words(words[1:], parts[1:], one, rest, rest_empty)


class Settings:
    """Reads one configuration block and names the bad field when something is wrong.

    Example:
        >>> s = Settings({"url": "nats://127.0.0.1:4222"}, "interlock.yaml: brokers.nats",
        ...              known=("type", "url", "streams"))
        >>> s.text("url", required=True), s.texts("streams")
        ('nats://127.0.0.1:4222', ())
    """

    def __init__(self, data: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise InterlockError(
                f"expected a mapping of settings, got {type(data).__name__}", where=where
            )
        self.data = data
        self.where = where
        for key in data:
            if key not in known:
                raise InterlockError(
                    f'unknown setting "{key}"', where=key_where(where, data, str(key)),
                    hint=did_you_mean(str(key), list(known)),
                )

    def at(self, key: str) -> str:
        """Where ``key`` is, for error messages (its line, when the block remembers lines)."""
        return key_where(self.where, self.data, key)

    def text(self, key: str, default: str = "", *, required: bool = False) -> str:
        """A string setting."""
        if key not in self.data or self.data[key] is None:
            if required:
                raise InterlockError(f'missing setting "{key}"', where=self.where,
                                     hint=f"Add `{key}: ...` to this block.")
            return default
        value = self.data[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise InterlockError(f'"{key}" must be a non-empty string, got {value!r}',
                                 where=self.at(key))
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings (a single string counts as a list of one)."""
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InterlockError(f'"{key}" must be a list of strings, got {value!r}',
                                 where=self.at(key))
        return tuple(value)

    def choice(self, key: str, choices: tuple[Any, ...], default: Any) -> Any:
        """One of ``choices`` (compared as text, so ``5`` and ``"5"`` are the same)."""
        value = self.data.get(key, default)
        for choice in choices:
            if str(choice) == str(value):
                return choice
        raise InterlockError(
            f'"{key}" must be one of {", ".join(str(c) for c in choices)}, got {value!r}',
            where=self.at(key),
        )

    def boolean(self, key: str, default: bool) -> bool:
        """A true/false setting."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise InterlockError(f'"{key}" must be true or false, got {value!r}',
                                 where=self.at(key))
        return value

    def duration(self, key: str, default: float) -> float:
        """Seconds, written as a number or as "5 seconds" / "300 ms"."""
        value = self.data.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        if isinstance(value, str):
            return parse_duration(value, where=self.at(key))
        raise InterlockError(f'"{key}" must be a duration such as "5 seconds", got {value!r}',
                             where=self.at(key))
