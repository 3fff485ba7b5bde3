"""NATS JetStream: the connection, the ``ORDERS`` stream and durable pull consumers.

    nc = await connect("nats://127.0.0.1:4222", "orders", log)
    js = nc.jetstream()
    await ensure_stream(js)
    loop = await consumer(js, "orders.assigned", "notifications", handle, log)
    task = asyncio.create_task(loop)

Every service declares the stream with the same settings, so whichever starts first makes it
and the others find it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

STREAM = "ORDERS"
SUBJECTS = ["orders.>"]
DEAD_LETTER_SUBJECT = "orders.dlq"
MAX_DELIVER = 5


async def connect(url: str, name: str, log: logging.Logger) -> NATS:
    """A connection that keeps reconnecting, and says so in the log."""

    async def on_error(error: Exception) -> None:
        log.warning("nats: %s", error or type(error).__name__)

    async def on_disconnect() -> None:
        log.warning("nats: disconnected")

    async def on_reconnect() -> None:
        log.info("nats: reconnected")

    return await nats.connect(
        servers=[url], name=f"demo-{name}", connect_timeout=2, allow_reconnect=True,
        max_reconnect_attempts=-1, reconnect_time_wait=0.5, error_cb=on_error,
        disconnected_cb=on_disconnect, reconnected_cb=on_reconnect)


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the ORDERS stream unless it exists."""
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(StreamConfig(
            name=STREAM, subjects=SUBJECTS, retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE, max_age=7 * 24 * 3600))


Handler = Callable[[Msg], Awaitable[None]]


async def consumer(js: JetStreamContext, subject: str, durable: str, handle: Handler,
                   log: logging.Logger) -> Coroutine[Any, Any, None]:
    """Bind a durable pull consumer now; return the loop that feeds ``handle`` for ever.

    ``handle`` acks; a message whose handling raises is nak'ed and redelivered (at most
    MAX_DELIVER times).
    """
    config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=30,
                            max_deliver=MAX_DELIVER)
    subscription = await js.pull_subscribe(subject, durable=durable, stream=STREAM,
                                           config=config)
    log.info("consuming %s as durable %r", subject, durable)

    async def pump() -> None:
        while True:
            try:
                messages = await subscription.fetch(batch=10, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a broken connection: nats reconnects, we try again
                log.warning("fetch from %s failed: %s", subject, error or type(error).__name__)
                await asyncio.sleep(0.5)
                continue
            for message in messages:
                try:
                    await handle(message)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("handling %s failed; it will be redelivered", message.subject)
                    await message.nak(delay=1)

    return pump()
