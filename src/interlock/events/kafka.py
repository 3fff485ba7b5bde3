"""Kafka: topics as channels, with keys and headers, through confluent-kafka (librdkafka).

Listening does not join a consumer group. A group join waits for a rebalance (on the embedded
broker about half of ``session.timeout.ms``), and whatever is published meanwhile would be
missed or read from a committed offset. Instead each listen reads the topic's partitions and
their end offsets, then assigns them explicitly at those offsets: once ``subscribe`` returns,
every event published afterwards is delivered, and nothing older is.

Topics are created on demand (``partitions`` each, default 1, so "arrive in this order" holds
for a whole topic) unless ``create_topics: false``: then an unknown topic is an error, checked
against the broker's topic list (a metadata request naming the topic would create it on
brokers with ``auto.create.topics.enable``). Kafka topics have no wildcards; ``channels`` maps
the names the features use to topics instead: one topic (a rename) or several (what a NATS
wildcard covered), so the same features run on either broker.

Keys are hashed to partitions with ``murmur2_random``, the Java client's partitioner, so a key
lands where the services' own producers would put it.

Example:
    >>> config = KafkaConfig.from_dict({"url": "kafka://127.0.0.1:9092", "partitions": 3},
    ...                                "interlock.yaml: brokers.bus")
    >>> config.bootstrap, config.partitions, config.create_topics
    ('127.0.0.1:9092', 3, True)
    >>> KafkaConfig.from_dict({"url": "kafka://k:9092", "channels": {
    ...     "orders.>": ["orders.created", "orders.assigned"], "pay": "payments-v1"}}, "b").channels
    {'orders.>': ('orders.created', 'orders.assigned'), 'pay': ('payments-v1',)}
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings

with requires("confluent-kafka", extra="kafka", what="The kafka broker"):
    from confluent_kafka import (
        Consumer,
        KafkaError,
        KafkaException,
        Message,
        Producer,
        TopicPartition,
    )
    from confluent_kafka.admin import AdminClient, NewTopic

# librdkafka reports every refused connection; the calls that hit a problem raise their own.
_LOG = logging.getLogger("interlock.events.kafka")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False

_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")


@dataclass(frozen=True)
class KafkaConfig:
    """``{type: kafka, url: "kafka://host:9092[,host2:9092]", partitions: 1,
    create_topics: true, timeout: 5 seconds, fetch_wait: 10 ms, client: {librdkafka: props},
    channels: {feature name: topic or [topics]}}``.

    ``client`` passes librdkafka properties (``security.protocol``, ``sasl.*``…) for a team's
    own cluster.
    """

    url: str
    partitions: int = 1
    create_topics: bool = True
    timeout: float = 5.0
    fetch_wait: float = 0.01
    client: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        """``host:port[,host:port]``, as librdkafka takes it."""
        return self.url.split("://", 1)[1].rstrip("/")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "url", "partitions", "create_topics", "timeout",
                                         "fetch_wait", "client", "channels"))
        url = s.text("url", required=True)
        if not url.startswith("kafka://") or not url[len("kafka://"):].strip("/"):
            raise InterlockError(f'"url" must be a kafka:// URL, got "{url}"', where=s.at("url"),
                                 hint='e.g. url: "{bus.url}" or "kafka://host1:9092,host2:9092"')
        partitions = data.get("partitions", 1)
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise InterlockError(f'"partitions" must be a whole number above 0, got '
                                 f"{partitions!r}", where=s.at("partitions"))
        client = data.get("client") or {}
        if not isinstance(client, Mapping):
            raise InterlockError('"client" must be a mapping of librdkafka properties',
                                 where=s.at("client"), hint="e.g. client: {security.protocol: SSL}")
        return cls(url=url, partitions=partitions,
                   create_topics=s.boolean("create_topics", True),
                   timeout=s.duration("timeout", 5.0), fetch_wait=s.duration("fetch_wait", 0.01),
                   client={str(k): str(v) for k, v in client.items()},
                   channels=_channels(data.get("channels"), s.at("channels")))


def _channels(data: Any, where: str) -> dict[str, tuple[str, ...]]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InterlockError('"channels" must map channel names to topics', where=where,
                             hint='e.g. channels: {"orders.>": [orders.created, orders.assigned]}')
    channels: dict[str, tuple[str, ...]] = {}
    for name, topics in data.items():
        listed = [topics] if isinstance(topics, str) else topics
        if not isinstance(listed, list) or not listed or not all(
                isinstance(t, str) and _TOPIC.fullmatch(t) for t in listed):
            raise InterlockError(f'channel "{name}" must map to a topic or a list of topics, '
                                 f"got {topics!r}", where=f"{where}.{name}",
                                 hint="Topic names are letters, digits, '.', '_' and '-'.")
        channels[str(name)] = tuple(listed)
    return channels


class _Listen:
    """One listened channel (its topics), read from their end offsets by a consumer of its
    own, on its own thread."""

    def __init__(self, broker: KafkaBroker, channel: str, deliver: Callable[[Event], None]) -> None:
        self.channel = channel
        self._broker = broker
        self._deliver = deliver
        self._stop = threading.Event()
        self._consumer = Consumer(broker.client_settings({
            # Never joined (assign, not subscribe), but librdkafka wants a group id.
            "group.id": f"interlock-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "allow.auto.create.topics": False,
            # The broker answers a fetch after this long when nothing came; brokers that do
            # not wake a waiting fetch on arrival (Tansu) deliver within about this delay.
            "fetch.wait.max.ms": max(1, round(broker.config.fetch_wait * 1000)),
            "fetch.error.backoff.ms": 10,
        }))
        self._thread = threading.Thread(target=self._run, name=f"interlock-kafka-{channel}",
                                        daemon=True)

    def start(self, partitions: Mapping[str, list[int]]) -> None:
        timeout = self._broker.config.timeout
        assignment = []
        for topic, numbers in partitions.items():
            for partition in numbers:
                position = TopicPartition(topic, partition)
                _low, high = self._consumer.get_watermark_offsets(position, timeout=timeout)
                assignment.append(TopicPartition(topic, partition, high))
        self._consumer.assign(assignment)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(0.05)
            if message is None or message.error() is not None:
                continue  # errors are transient here: librdkafka reconnects by itself
            topic = message.topic() or ""
            self._deliver(_event(message, self._broker.name, self._broker.channel_of(topic),
                                 self.channel))

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._consumer.close()
        self._broker.forget(self)


class KafkaBroker:
    """A connection to a Kafka cluster (or the embedded Tansu broker of ``kind: kafka``).

    Example::

        broker = KafkaBroker("bus", config)
        sub = broker.subscribe("orders", print)
        broker.publish("orders", b'{"id": 1}', {"ce-type": "OrderCreated"}, key="o-1")
    """

    config_type = KafkaConfig
    keys = True

    def __init__(self, name: str, config: KafkaConfig) -> None:
        self.name = name
        self.config = config
        self.closed = False
        self._topics: dict[str, list[int]] = {}
        self._listens: set[_Listen] = set()
        self._lock = threading.Lock()
        self._admin = AdminClient(self.client_settings({}))
        self._known_topics(connecting=True)
        self._producer = Producer(self.client_settings({
            "linger.ms": 0, "acks": "all", "partitioner": "murmur2_random",
            "allow.auto.create.topics": False,
        }))

    def forget(self, listen: _Listen) -> None:
        """A closed listen is no longer closed with the broker."""
        self._listens.discard(listen)

    def matches(self, pattern: str, channel: str) -> bool:
        """Kafka topics have no wildcards: a listen covers its own topic, or the topics
        ``channels`` maps its name to."""
        return pattern == channel or bool(
            set(self.topics_of(channel)) & set(self.topics_of(pattern)))

    def topics_of(self, channel: str) -> tuple[str, ...]:
        """The topics behind a channel name (itself, unless ``channels`` maps it)."""
        return self.config.channels.get(channel, (channel,))

    def channel_of(self, topic: str) -> str:
        """The name the features use for ``topic``: a ``channels`` entry that renames it to
        exactly this one topic, else the topic's own name."""
        return next((name for name, topics in self.config.channels.items()
                     if topics == (topic,)), topic)

    def client_settings(self, own: Mapping[str, Any]) -> dict[str, Any]:
        """librdkafka settings: the bootstrap servers, the user's ``client`` block, ``own``."""
        return {"bootstrap.servers": self.config.bootstrap, "logger": _LOG,
                "error_cb": _ignore, **self.config.client, **own}

    # -- topics ---------------------------------------------------------------------------

    def _known_topics(self, connecting: bool = False) -> dict[str, list[int]]:
        """Every topic of the cluster with its partitions (asked again each call)."""
        try:
            # All topics, not one: naming a topic in a metadata request creates it on a broker
            # with auto-creation on (Tansu always), which create_topics: false must not do.
            metadata = self._admin.list_topics(timeout=self.config.timeout)
        except KafkaException as err:
            raise self._unreachable(err, connecting) from None
        self._topics = {name: sorted(topic.partitions)
                        for name, topic in metadata.topics.items() if topic.partitions}
        return self._topics

    def _unreachable(self, err: KafkaException, connecting: bool) -> InterlockError:
        return InterlockError(
            f'Cannot {"connect to" if connecting else "reach"} Kafka broker "{self.name}" at '
            f"{self.config.bootstrap} within {self.config.timeout:g} seconds",
            details=_reason(err),
            where=f"brokers.{self.name}",
            hint="Is the broker running and the url right? Services start before scenarios; "
            f"raise brokers.{self.name}.timeout if the cluster is slow to answer.",
        )

    def _ensure_topic(self, topic: str) -> list[int]:
        """The partitions of ``topic``, creating it first when allowed."""
        if not _TOPIC.fullmatch(topic):
            raise InterlockError(
                f'"{topic}" is not a Kafka topic name',
                where=f"brokers.{self.name}",
                hint="Topic names are letters, digits, '.', '_' and '-'; Kafka has no "
                "wildcards, so listen on each topic by its name.",
            )
        with self._lock:
            if topic in self._topics or topic in self._known_topics():
                return self._topics[topic]
            if not self.config.create_topics:
                existing = ", ".join(f'"{t}"' for t in sorted(self._topics)
                                     if not t.startswith("__")) or "none"
                raise InterlockError(
                    f'Kafka topic "{topic}" does not exist on broker "{self.name}"',
                    details=f"existing topics: {existing}",
                    where=f"brokers.{self.name}.create_topics",
                    hint="Check the name, let the service (or a setup step) create the topic, "
                    "or set create_topics: true to create topics on demand.",
                )
            self._create(topic)
            return self._known_topics().get(topic) or list(range(self.config.partitions))

    def _create(self, topic: str) -> None:
        future = self._admin.create_topics(
            [NewTopic(topic, num_partitions=self.config.partitions, replication_factor=-1)],
            operation_timeout=self.config.timeout,
        )[topic]
        try:
            future.result(timeout=self.config.timeout * 2)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise InterlockError(
                    f'Cannot create Kafka topic "{topic}" on broker "{self.name}"',
                    details=_reason(err), where=f"brokers.{self.name}",
                    hint="Create the topic beforehand, or allow this client to create topics.",
                ) from None

    # -- the Broker protocol --------------------------------------------------------------

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _Listen:
        """Listen on a topic (or the topics ``channels`` maps ``channel`` to) from its current
        end; every partition assigned when this returns."""
        partitions = {topic: self._ensure_topic(topic) for topic in self.topics_of(channel)}
        listen = _Listen(self, channel, deliver)
        try:
            listen.start(partitions)
        except KafkaException as err:
            listen.close()
            raise InterlockError(
                f'Cannot listen on Kafka topic "{channel}": broker "{self.name}" did not give '
                f"its end offsets within {self.config.timeout:g} seconds",
                details=_reason(err), where=f"brokers.{self.name}",
                hint="Is the broker running (and not paused)? Raise brokers."
                f"{self.name}.timeout if the cluster is slow to answer.",
            ) from None
        self._listens.add(listen)
        return listen

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Produce one message and wait for the broker's acknowledgement."""
        topics = self.topics_of(channel)
        if len(topics) != 1:
            raise InterlockError(
                f'cannot publish to "{channel}": it names {len(topics)} Kafka topics',
                details="topics: " + ", ".join(topics),
                where=f"brokers.{self.name}.channels.{channel}",
                hint="Publish to one of the topics by its name.",
            )
        topic = topics[0]
        self._ensure_topic(topic)
        outcome: list[KafkaError | None] = []
        self._producer.produce(
            topic, body, key=key.encode() if key is not None else None,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()] or None,
            on_delivery=lambda error, _message: outcome.append(error),
        )
        left = self._producer.flush(self.config.timeout)
        if left or not outcome or outcome[0] is not None:
            reason = (str(outcome[0]) if outcome and outcome[0] is not None
                      else f"no acknowledgement within {self.config.timeout:g} seconds")
            raise InterlockError(
                f'Cannot publish to Kafka topic "{channel}" at broker "{self.name}"',
                details=reason, where=f"brokers.{self.name}",
                hint="Is the broker running? Raise brokers."
                f"{self.name}.timeout if the cluster is slow to acknowledge.",
            )

    def close(self) -> None:
        """Drop unsent messages and let go of the connections (idempotent)."""
        if self.closed:
            return
        self.closed = True
        for listen in list(self._listens):
            listen.close()
        self._producer.purge()
        self._producer.flush(0)
        # librdkafka closes a client's connections only when the object goes; a broker
        # stopping later would otherwise wait for them.
        del self._producer, self._admin


def _event(message: Message, broker: str, channel: str, listen: str) -> Event:
    raw = message.headers() or []
    headers = list(raw.items()) if isinstance(raw, dict) else list(raw)
    position = {"partition": str(message.partition()), "offset": str(message.offset())}
    if message.topic() != channel:  # a renamed topic: the report says which one it was
        position = {"topic": message.topic() or "", **position}
    return Event.now(
        channel,
        _bytes(message.value()),
        {str(name): _text(value) for name, value in headers},
        broker=broker,
        listen=listen,
        key=None if message.key() is None else _text(message.key()),
        details=position,
    )


def _bytes(value: str | bytes | None) -> bytes:
    return value.encode() if isinstance(value, str) else value or b""


def _text(value: str | bytes | None) -> str:
    return _bytes(value).decode("utf-8", "replace")


def _reason(err: KafkaException) -> str:
    error = err.args[0] if err.args else None
    return f"{error.name()}: {error.str()}" if isinstance(error, KafkaError) else str(err)


def _ignore(_error: KafkaError) -> None:
    # Without an error callback librdkafka's errors go to its log only; the call that needed
    # the broker raises its own message.
    return None
