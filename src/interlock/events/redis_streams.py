"""Redis streams through redis-py: the channel is the stream key.

Listening reads with ``XREAD BLOCK`` from the stream's last id *as it was when listening
started* (not a live ``$``, which would skip entries added between subscribe and the first
read). Each entry's ``data`` field (configurable) is the body; its other fields are headers.
Stream keys have no wildcards: a channel matches only itself.

Example:
    >>> RedisStreamsConfig.from_dict({"url": "redis://127.0.0.1:6379/0"}, "brokers.redis").field
    'data'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings, no_keys

with requires("redis", extra="redis", what="The redis broker"):
    import redis
    import redis.exceptions

_BLOCK_MS = 250  # how long one XREAD waits; bounds how long closing a subscription takes


def redis_matches(pattern: str, key: str) -> bool:
    """Stream keys have no wildcards."""
    return pattern == key


@dataclass(frozen=True)
class RedisStreamsConfig:
    """``{type: redis, url: "redis://…", field: data}``."""

    url: str
    field: str = "data"
    timeout: float = 5.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "url", "field", "timeout"))
        url = s.text("url", required=True)
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise InterlockError(f'"url" must be a redis:// URL, got "{url}"', where=s.at("url"))
        return cls(url=url, field=s.text("field", "data"), timeout=s.duration("timeout", 5.0))


class _StreamReader(threading.Thread):
    def __init__(
        self, broker: RedisStreamsBroker, key: str, last_id: str, deliver: Callable[[Event], None]
    ) -> None:
        super().__init__(name=f"interlock-redis-{broker.name}-{key}", daemon=True)
        self.broker = broker
        self.key = key
        self.last_id = last_id
        self.deliver = deliver
        self.stopping = threading.Event()
        self.client = broker.client()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    answer: Any = self.client.xread({self.key: self.last_id}, block=_BLOCK_MS)
                except redis.exceptions.ConnectionError:
                    if self.stopping.is_set():
                        return
                    # A dropped connection is retried on the next read (redis-py reconnects);
                    # stop() ends the loop when the broker is gone for good.
                    self.stopping.wait(0.1)
                    continue
                for _key, entries in answer or []:
                    for entry_id, fields in entries:
                        self.last_id = entry_id.decode()
                        self.deliver(self.broker.to_event(self.key, fields))
        finally:
            self.client.close()

    def close(self) -> None:
        self.stopping.set()
        self.join(timeout=_BLOCK_MS / 1000 + 5)


class RedisStreamsBroker:
    """Redis streams as a broker.

    Example::

        broker = RedisStreamsBroker("redis", config)
        broker.subscribe("orders", print)
        broker.publish("orders", b'{"id": 1}')
    """

    config_type = RedisStreamsConfig
    keys = False  # no message keys: publishing with one is refused

    def __init__(self, name: str, config: RedisStreamsConfig) -> None:
        self.name = name
        self.config = config
        self._readers: list[_StreamReader] = []
        self._client = self.client()
        self._call("connect", self._client.ping)

    matches = staticmethod(redis_matches)

    def client(self) -> redis.Redis:
        """A new client (each reader blocks its own connection)."""
        return redis.Redis.from_url(
            self.config.url,
            socket_connect_timeout=self.config.timeout,
            socket_timeout=self.config.timeout + _BLOCK_MS / 1000,
        )

    def _call(self, action: str, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except redis.exceptions.RedisError as err:
            raise InterlockError(
                f'Cannot {action} at Redis broker "{self.name}"',
                details=f"{type(err).__name__}: {err}",
                where=f"brokers.{self.name}",
                hint="Is the server running and the url (and password) right?",
            ) from None

    def to_event(self, key: str, fields: Mapping[bytes, bytes], listen: str = "") -> Event:
        """An entry as an ``Event``: the body field, the rest as headers."""
        body = b""
        headers: dict[str, str] = {}
        for name, value in fields.items():
            text = name.decode("utf-8", errors="replace")
            if text == self.config.field:
                body = value
            else:
                headers[text] = value.decode("utf-8", errors="replace")
        return Event.now(key, body, headers, broker=self.name, listen=listen or key)

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _StreamReader:
        """Read new entries of stream ``channel`` from now on."""
        last_id = self._call(f'listen on "{channel}"', lambda: self._last_id(channel))
        reader = _StreamReader(self, channel, last_id, deliver)
        reader.start()
        self._readers.append(reader)
        return reader

    def _last_id(self, key: str) -> str:
        try:
            info = self._client.xinfo_stream(key)
        except redis.exceptions.ResponseError as err:
            if "no such key" in str(err).lower():
                return "0-0"  # the stream does not exist yet: everything in it will be new
            raise
        last = info["last-generated-id"]
        return last.decode() if isinstance(last, bytes) else str(last)

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """``XADD channel * <field> body [header value …]``."""
        no_keys(self.name, "Redis stream", key)
        fields: dict[Any, Any] = dict(headers or {})
        if self.config.field in fields:
            raise InterlockError(
                f'A header is named "{self.config.field}", the field that holds the body',
                where=f"brokers.{self.name}.field",
                hint="Rename the header or configure another `field`.",
            )
        fields[self.config.field] = body
        self._call(f'publish to "{channel}"', lambda: self._client.xadd(channel, fields))

    def close(self) -> None:
        """Stop every reader and close the connection (idempotent)."""
        readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()
        self._client.close()
