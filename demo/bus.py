"""The demo's event bus: NATS JetStream (``nats://``) or Kafka (``kafka://``), chosen by the URL.

    bus = bus_for("kafka://127.0.0.1:9092", "orders", log)
    await bus.connect()
    await bus.publish("orders.created", body, key=order_id, msg_id=event_id)
    links.start(await bus.consumer("orders.assigned", "notifications", handle))

Both deliver each event to one consumer group ("durable") at least once, in order per order,
and redeliver what a handler failed on. On Kafka the subjects are topics of the same names,
created at connect; a consumer pattern (``orders.*``) covers the known topics it matches; the
order id is the key, so one order's events share a partition.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from demo import stream


class Message(Protocol):
    """What a handler sees: NATS's ``Msg`` has exactly this, Kafka's is wrapped."""

    subject: str
    data: bytes

    async def ack(self) -> None: ...


Handler = Callable[[Any], Coroutine[Any, Any, None]]

# The Kafka topics: the subjects the services publish and consume.
TOPICS = ("orders.created", "orders.assigned", "orders.started", "orders.completed",
          stream.DEAD_LETTER_SUBJECT, "notifications.sent")


class Bus(Protocol):
    """One service's connection to the event bus."""

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def publish(self, subject: str, body: bytes, *, key: str | None = None,
                      msg_id: str | None = None, stored: bool = True) -> None: ...

    async def consumer(self, subject: str, durable: str,
                       handle: Handler) -> Coroutine[Any, Any, None]: ...

    async def close(self) -> None: ...


def bus_for(url: str, name: str, log: logging.Logger) -> Bus:
    """The bus for ``url``'s scheme."""
    if url.startswith("kafka://"):
        return KafkaBus(url, name, log)
    return NatsBus(url, name, log)


class NatsBus:
    """JetStream's ``ORDERS`` stream (``stream.py``); ``stored=False`` is core NATS."""

    def __init__(self, url: str, name: str, log: logging.Logger) -> None:
        self.url, self.name, self.log = url, name, log
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def connect(self) -> None:
        if self.nc is None:
            self.nc = await stream.connect(self.url, self.name, self.log)
        if self.js is None:
            js = self.nc.jetstream()
            await stream.ensure_stream(js)
            self.js = js

    async def publish(self, subject: str, body: bytes, *, key: str | None = None,
                      msg_id: str | None = None, stored: bool = True) -> None:
        assert self.nc is not None and self.js is not None
        if not stored:
            await self.nc.publish(subject, body)
            return
        # Nats-Msg-Id lets JetStream drop a duplicate if this publish is ever retried.
        await self.js.publish(subject, body, timeout=2,
                              headers={"Nats-Msg-Id": msg_id} if msg_id else None)

    async def consumer(self, subject: str, durable: str,
                       handle: Handler) -> Coroutine[Any, Any, None]:
        assert self.js is not None
        return await stream.consumer(self.js, subject, durable, handle, self.log)

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


class KafkaMessage:
    """A Kafka record as a handler sees it; the consumer commits after the handler returns."""

    def __init__(self, subject: str, data: bytes) -> None:
        self.subject = subject
        self.data = data

    async def ack(self) -> None:
        return None


class KafkaBus:
    """confluent-kafka's clients, whose calls block, run off the event loop."""

    def __init__(self, url: str, name: str, log: logging.Logger) -> None:
        self.bootstrap = url.split("://", 1)[1].rstrip("/")
        self.name, self.log = name, log
        self.producer: Any = None
        self._stops: list[threading.Event] = []

    @property
    def connected(self) -> bool:
        return self.producer is not None

    async def connect(self) -> None:
        await asyncio.to_thread(self._connect)

    def _connect(self) -> None:
        # Imported here: the demo's Docker image runs on NATS and does not install the client.
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(t, 1, 1) for t in TOPICS],
                                      operation_timeout=5, request_timeout=5)
        for topic, future in futures.items():
            try:
                future.result(timeout=10)
            except KafkaException as error:
                if "TOPIC_ALREADY_EXISTS" not in str(error):
                    raise ConnectionError(f"kafka: cannot create {topic}: {error}") from None
        from confluent_kafka import Producer

        self.producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0,
                                  "acks": "all", "enable.idempotence": True})
        self.log.info("kafka: topics ready at %s", self.bootstrap)

    async def publish(self, subject: str, body: bytes, *, key: str | None = None,
                      msg_id: str | None = None, stored: bool = True) -> None:
        await asyncio.to_thread(self._publish, subject, body, key)

    def _publish(self, subject: str, body: bytes, key: str | None) -> None:
        errors: list[Any] = []
        self.producer.produce(subject, body, key=key.encode() if key else None,
                              on_delivery=lambda error, _message: errors.append(error))
        if self.producer.flush(5) or not errors or errors[0] is not None:
            raise ConnectionError(f"kafka: publish to {subject} failed: {errors or 'timeout'}")

    async def consumer(self, subject: str, durable: str,
                       handle: Handler) -> Coroutine[Any, Any, None]:
        """Join group ``durable`` on the topics ``subject`` covers; the loop feeds ``handle``
        one record at a time, retrying a failing one up to ``stream.MAX_DELIVER`` times."""
        from confluent_kafka import Consumer

        topics = [t for t in TOPICS if _covers(subject, t)]
        # A short session: the embedded broker makes a joining member wait about half of it.
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": durable,
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "session.timeout.ms": 2000, "heartbeat.interval.ms": 300,
                             "fetch.wait.max.ms": 10})
        consumer.subscribe(topics)
        self.log.info("consuming %s as group %r", ", ".join(topics), durable)
        stop = threading.Event()
        self._stops.append(stop)
        loop = asyncio.get_running_loop()

        def feed() -> None:
            while not stop.is_set():
                record = consumer.poll(0.1)
                if record is None or record.error() is not None:
                    continue
                message = KafkaMessage(record.topic() or "", record.value() or b"")
                for attempt in range(1, stream.MAX_DELIVER + 1):
                    try:
                        asyncio.run_coroutine_threadsafe(handle(message), loop).result(60)
                        break
                    except Exception:
                        self.log.exception("handling %s failed (attempt %d)", record.topic(),
                                           attempt)
                        if stop.wait(1):
                            break
                consumer.commit(message=record, asynchronous=False)
            consumer.close()

        async def pump() -> None:
            thread = threading.Thread(target=feed, name=f"kafka-{durable}", daemon=True)
            thread.start()
            try:
                await asyncio.Event().wait()  # until the service stops and cancels this
            finally:
                stop.set()

        return pump()

    async def close(self) -> None:
        for stop in self._stops:
            stop.set()
        if self.producer is not None:
            await asyncio.to_thread(self.producer.flush, 2)


def _covers(pattern: str, topic: str) -> bool:
    """NATS wildcards over a topic name: ``*`` one word, ``>`` the rest."""
    words, parts = pattern.split("."), topic.split(".")
    for index, word in enumerate(words):
        if word == ">":
            return len(parts) > index
        if index >= len(parts) or (word != "*" and word != parts[index]):
            return False
    return len(words) == len(parts)
