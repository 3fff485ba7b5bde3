"""The ``brokers:`` and ``events:`` blocks of the stack file, and the adapter registry.

Adding a broker is adding one file with a ``<Name>Broker`` class (with ``config_type``,
``__init__(name, config)``, ``subscribe``, ``publish``, ``close``, ``matches``) and one line in
``ADAPTERS``. Adapters are imported only when a broker of their type is configured, so a suite
without MQTT never imports paho.

Values reach ``from_dict`` already rendered (``{nats.url}`` replaced by the stack).

Example:
    >>> brokers = brokers_from_dict({"nats": {"type": "nats", "url": "nats://127.0.0.1:4222"}},
    ...                             "interlock.yaml: brokers")
    >>> brokers["nats"].type, brokers["nats"].settings.url
    ('nats', 'nats://127.0.0.1:4222')
    >>> EventsConfig.from_dict({"timeout": "2 seconds", "listen": ["orders.>"]}, "events")
    EventsConfig(timeout=2.0, settle=0.3, listen=(Listen(channel='orders.>', broker=None),), \
correlate=())
    >>> EventsConfig.from_dict({"correlate": {"orders.created": "$.orderId"}}, "events").correlate
    (Correlation(channel='orders.created', path='$.orderId'),)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from interlock._core.config import key_where
from interlock._core.errors import InterlockError
from interlock._core.match import select
from interlock._core.plugins import Plugins
from interlock._core.secrets import Secrets
from interlock._core.stackfile import block
from interlock.events.base import Broker, Settings

ADAPTERS = Plugins("broker type", {
    "nats": "interlock.events.nats:NatsBroker",
    "rabbitmq": "interlock.events.rabbitmq:RabbitBroker",
    "redis": "interlock.events.redis_streams:RedisStreamsBroker",
    "mqtt": "interlock.events.mqtt:MqttBroker",
    "webhook": "interlock.events.webhook:WebhookBroker",
    "memory": "interlock.events.memory:MemoryBroker",  # the fake, for fast tests
    "kafka": "interlock.events.kafka:KafkaBroker",
}, unknown='unknown {sort} "{name}"')


def adapter_class(type_name: str, where: str = "") -> Any:
    """The adapter class registered for ``type_name``."""
    return ADAPTERS.load(type_name, where)


@dataclass(frozen=True)
class BrokerConfig:
    """One entry of ``brokers:``: its name, its type and the adapter's own settings."""

    name: str
    type: str
    settings: Any

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], where: str) -> Self:
        if not isinstance(data, Mapping):
            raise InterlockError(f'broker "{name}" must be a mapping', where=where,
                                 hint='e.g. nats: {type: nats, url: "{nats.url}"}')
        type_name = data.get("type")
        if not isinstance(type_name, str):
            raise InterlockError(f'broker "{name}" has no type',
                                 where=key_where(where, data, "type"),
                                 hint=f"Known types: {', '.join(sorted(ADAPTERS))}")
        adapter = adapter_class(type_name, key_where(where, data, "type"))
        return cls(name=name, type=type_name, settings=adapter.config_type.from_dict(data, where))

    def connect(self, secrets: Secrets | None = None) -> Broker:
        """Connect (or, for webhooks, start the receiver). Passwords in the url join ``secrets``."""
        url = getattr(self.settings, "url", "")
        if secrets is not None and url:
            password = urlsplit(url).password
            if password:
                secrets.add(password, unquote(password))
        broker: Broker = adapter_class(self.type)(self.name, self.settings)
        return broker


def brokers_from_dict(data: Mapping[str, Any], where: str) -> dict[str, BrokerConfig]:
    """Every broker of a ``brokers:`` block."""
    if not isinstance(data, Mapping):
        raise InterlockError("brokers must be a mapping of name: settings", where=where)
    return {
        str(name): BrokerConfig.from_dict(str(name), value, key_where(where, data, str(name)))
        for name, value in data.items()
    }


@dataclass(frozen=True)
class Listen:
    """A channel listened to from the start of every scenario."""

    channel: str
    broker: str | None = None


@dataclass(frozen=True)
class Correlation:
    """``correlate: {orders.created: $.orderId}``: the field of an event on ``channel`` (a
    pattern, in its broker's wildcards) that says which scenario it belongs to."""

    channel: str
    path: str


@dataclass(frozen=True)
class EventsConfig:
    """``events: {timeout: 5 seconds, settle: 300 ms, listen: ["orders.>", {channel, broker}],
    correlate: {orders.created: $.orderId}}``."""

    timeout: float = 5.0
    settle: float = 0.3
    listen: tuple[Listen, ...] = ()
    correlate: tuple[Correlation, ...] = field(default_factory=tuple)  # written as a mapping

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        # schemas/publishers/consumers describe the events for the living documentation
        # (interlock.living_docs); waiting and listening do not need them.
        s = Settings(data, where, known=block("events").names)
        entries = data.get("listen") or []
        if not isinstance(entries, list):
            raise InterlockError("listen must be a list of channels", where=s.at("listen"),
                                 hint='e.g. listen: ["orders.>", {channel: "x", broker: "nats"}]')
        listen: list[Listen] = []
        for index, entry in enumerate(entries):
            at = f"{s.at('listen')}[{index}]"
            if isinstance(entry, str) and entry:
                listen.append(Listen(entry))
            elif isinstance(entry, Mapping):
                item = Settings(entry, at, known=block("events.listen").names)
                listen.append(Listen(item.text("channel", required=True),
                                     item.text("broker") or None))
            else:
                raise InterlockError(f"not a channel: {entry!r}", where=at,
                                     hint='Write a channel name, or {channel: "x", broker: "y"}.')
        return cls(
            timeout=s.duration("timeout", 5.0),
            settle=s.duration("settle", 0.3),
            listen=tuple(listen),
            correlate=_correlations(data.get("correlate"), s.at("correlate")),
        )


def _correlations(data: Any, where: str) -> tuple[Correlation, ...]:
    """The ``correlate:`` mapping, each JSONPath checked now (not at the first event)."""
    if data is None:
        return ()
    hint = 'e.g. correlate: {orders.created: "$.orderId"}'
    if not isinstance(data, Mapping):
        raise InterlockError("correlate must map channels to the JSONPath of their id field",
                             where=where, hint=hint)
    found: list[Correlation] = []
    for channel, path in data.items():
        at = key_where(where, data, str(channel))
        if not isinstance(path, str) or not path.startswith("$"):
            raise InterlockError(f'correlate: "{channel}" needs a JSONPath such as "$.orderId"',
                                 where=at, hint=hint)
        select(None, path, at)  # an invalid path is a mistake in the stack file, said here
        found.append(Correlation(str(channel), path))
    return tuple(found)
