"""RabbitMQ (AMQP 0-9-1) through pika: routing keys on one topic exchange.

Channels are routing keys; listening binds an exclusive, auto-deleted queue to the exchange
with the pattern (AMQP topic wildcards: ``*`` one word, ``#`` zero or more words).

pika's ``BlockingConnection`` is not thread-safe, so each subscription owns a connection
that lives entirely in its own thread (declared, bound and consumed there); the only call
made from outside is ``add_callback_threadsafe``, the one pika documents for that. Publishing
uses a separate connection, guarded by a lock, with publisher confirms.

Example:
    >>> RabbitConfig.from_dict({"url": "amqp://guest:guest@127.0.0.1:5672/%2F",
    ...                         "exchange": "events"}, "brokers.rabbit").exchange
    'events'
    >>> amqp_matches("orders.#", "orders"), amqp_matches("orders.*", "orders.eu.created")
    (True, False)
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings, no_keys, split_match

with requires("pika", extra="rabbitmq", what="The rabbitmq broker"):
    import pika
    import pika.exceptions
    from pika.adapters.blocking_connection import BlockingChannel


def amqp_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic wildcards: ``*`` one word, ``#`` zero or more words."""
    return split_match(pattern, routing_key, ".", "*", "#", rest_empty=True)


@dataclass(frozen=True)
class RabbitConfig:
    """``{type: rabbitmq, url: "amqp://…", exchange: events, declare: true}``.

    ``declare``: create the exchange (topic, durable) when it does not exist yet.
    """

    url: str
    exchange: str = "amq.topic"
    declare: bool = True
    timeout: float = 5.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "url", "exchange", "declare", "timeout"))
        url = s.text("url", required=True)
        if not url.startswith(("amqp://", "amqps://")):
            raise InterlockError(f'"url" must be an amqp:// URL, got "{url}"', where=s.at("url"))
        return cls(
            url=url,
            exchange=s.text("exchange", "amq.topic"),
            declare=s.boolean("declare", True),
            timeout=s.duration("timeout", 5.0),
        )


class _Consumer(threading.Thread):
    """One subscription: its own connection, queue and consuming loop, all in this thread."""

    def __init__(self, broker: RabbitBroker, pattern: str, deliver: Callable[[Event], None]):
        super().__init__(name=f"interlock-amqp-{broker.name}-{pattern}", daemon=True)
        self.broker = broker
        self.pattern = pattern
        self.deliver = deliver
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def run(self) -> None:
        try:
            self._connection = self.broker.connect()
            channel = self._connection.channel()
            queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            channel.queue_bind(queue, self.broker.config.exchange, routing_key=self.pattern)
            channel.basic_consume(queue, self._on_message, auto_ack=True)
            self._channel = channel
        except BaseException as err:
            self.error = err
            self.ready.set()
            self._close_connection()
            return
        self.ready.set()
        try:
            channel.start_consuming()
        except pika.exceptions.AMQPError as err:
            self.error = err
        finally:
            self._close_connection()

    def _on_message(self, _ch: Any, method: Any, properties: Any, body: bytes) -> None:
        headers = {str(k): _text(v) for k, v in (properties.headers or {}).items()}
        if properties.content_type:
            headers.setdefault("content-type", properties.content_type)
        self.deliver(
            Event.now(
                method.routing_key, body, headers, broker=self.broker.name, listen=self.pattern
            )
        )

    def stop(self) -> None:
        connection, channel = self._connection, self._channel
        if connection is not None and channel is not None and self.is_alive():
            # If the connection is already gone, the thread is ending by itself.
            with contextlib.suppress(pika.exceptions.AMQPError, RuntimeError):
                connection.add_callback_threadsafe(channel.stop_consuming)
        self.join(timeout=10)

    def _close_connection(self) -> None:
        if self._connection is not None and self._connection.is_open:
            # Best effort: the broker drops exclusive queues with the connection anyway.
            with contextlib.suppress(pika.exceptions.AMQPError):
                self._connection.close()


class _RabbitSubscription:
    def __init__(self, consumer: _Consumer) -> None:
        self._consumer = consumer

    def close(self) -> None:
        self._consumer.stop()


class RabbitBroker:
    """A RabbitMQ topic exchange.

    Example::

        broker = RabbitBroker("rabbit", config)
        broker.subscribe("orders.#", print)
        broker.publish("orders.created", b'{"id": 1}')
    """

    config_type = RabbitConfig
    keys = False  # no message keys: publishing with one is refused

    def __init__(self, name: str, config: RabbitConfig) -> None:
        self.name = name
        self.config = config
        self._lock = threading.Lock()
        self._publisher: pika.BlockingConnection | None = None
        self._publish_channel: BlockingChannel | None = None
        self._consumers: list[_Consumer] = []
        with self._lock:
            self._publisher_channel()  # fails early, and makes sure the exchange exists

    matches = staticmethod(amqp_matches)

    def connect(self, heartbeat: int | None = None) -> pika.BlockingConnection:
        """A new connection (an ``InterlockError`` saying where when it cannot be made)."""
        parameters = pika.URLParameters(self.config.url)
        parameters.socket_timeout = self.config.timeout
        parameters.blocked_connection_timeout = self.config.timeout * 6
        if heartbeat is not None:
            parameters.heartbeat = heartbeat
        try:
            return pika.BlockingConnection(parameters)
        except pika.exceptions.AMQPError as err:
            raise InterlockError(
                f'Cannot connect to RabbitMQ broker "{self.name}"',
                details=f"{type(err).__name__}: {err!r}",
                where=f"brokers.{self.name}",
                hint="Is the server running, and are the url's user, password and vhost right?",
            ) from None

    def _publisher_channel(self) -> BlockingChannel:
        if self._publish_channel is not None and self._publish_channel.is_open:
            return self._publish_channel
        if self._publisher is not None and self._publisher.is_open:
            self._publisher.close()
        # No heartbeats: this connection idles between publishes and is only used from
        # the caller's thread, which cannot service them.
        self._publisher = self.connect(heartbeat=0)
        channel = self._publisher.channel()
        self._ensure_exchange(channel)
        channel = self._publisher.channel() if not channel.is_open else channel
        channel.confirm_delivery()
        self._publish_channel = channel
        return channel

    def _ensure_exchange(self, channel: BlockingChannel) -> None:
        exchange = self.config.exchange
        try:
            channel.exchange_declare(exchange, passive=True)
            return
        except pika.exceptions.ChannelClosedByBroker as err:
            if err.reply_code != 404 or not self.config.declare:
                raise InterlockError(
                    f'Exchange "{exchange}" is not usable on RabbitMQ broker "{self.name}"',
                    details=f"{err.reply_code} {err.reply_text}",
                    where=f"brokers.{self.name}.exchange",
                    hint="Let the service declare it first, or set `declare: true`.",
                ) from None
        assert self._publisher is not None
        declaring = self._publisher.channel()
        declaring.exchange_declare(exchange, exchange_type="topic", durable=True)
        declaring.close()

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _RabbitSubscription:
        """Bind a fresh queue with routing-key pattern ``channel``; bound when this returns."""
        consumer = _Consumer(self, channel, deliver)
        consumer.start()
        if not consumer.ready.wait(self.config.timeout * 3):
            consumer.stop()
            raise InterlockError(
                f'Listening on "{channel}" at RabbitMQ broker "{self.name}" timed out',
                where=f"brokers.{self.name}",
            )
        if consumer.error is not None:
            error = consumer.error
            consumer.join(timeout=5)
            if isinstance(error, InterlockError):
                raise error
            raise InterlockError(
                f'Cannot listen on "{channel}" at RabbitMQ broker "{self.name}"',
                details=f"{type(error).__name__}: {error!r}",
                where=f"brokers.{self.name}",
            )
        self._consumers.append(consumer)
        return _RabbitSubscription(consumer)

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Publish with routing key ``channel``; returns when the broker confirmed it."""
        no_keys(self.name, "RabbitMQ", key)
        properties = pika.BasicProperties(
            headers=dict(headers) if headers else None,
            content_type="application/json" if _is_json(body) else None,
            delivery_mode=pika.DeliveryMode.Persistent,
        )
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._publisher_channel().basic_publish(
                        self.config.exchange, channel, body, properties
                    )
                    return
                except (pika.exceptions.AMQPConnectionError, pika.exceptions.ChannelClosed) as err:
                    # A publisher connection can be dropped by the server while idle: once more.
                    self._publish_channel = None
                    if attempt == 2:
                        raise InterlockError(
                            f'Cannot publish to "{channel}" at RabbitMQ broker "{self.name}"',
                            details=f"{type(err).__name__}: {err!r}",
                            where=f"brokers.{self.name}",
                        ) from None

    def close(self) -> None:
        """Stop every subscription and close the publishing connection (idempotent)."""
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.stop()
        with self._lock:
            if self._publisher is not None and self._publisher.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError):  # already closing
                    self._publisher.close()
            self._publisher = None
            self._publish_channel = None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
