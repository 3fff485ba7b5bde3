"""MQTT 3.1.1 and 5 through paho-mqtt 2.x: channels are topics.

Each subscription has its own client (own connection and network thread), so overlapping
topic filters never share a delivery callback; ``subscribe`` returns after the broker's
SUBACK granted the filter. Publishing uses one more client and waits for the PUBACK (QoS 1,
the default). With MQTT 5, headers travel as user properties.

Example:
    >>> MqttConfig.from_dict({"url": "mqtt://127.0.0.1:1883", "version": 5}, "brokers.mqtt").version
    5
    >>> mqtt_matches("sensors/+/temp", "sensors/k1/temp"), mqtt_matches("#", "$SYS/uptime")
    (True, False)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings, no_keys, split_match

with requires("paho-mqtt", extra="mqtt", what="The mqtt broker"):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties


def mqtt_matches(pattern: str, topic: str) -> bool:
    """MQTT filters: ``+`` one level, ``#`` (last) this level and every level below;
    wildcards in the first level never match topics starting with ``$``."""
    if topic.startswith("$") and pattern[:1] in ("+", "#"):
        return False
    return split_match(pattern, topic, "/", "+", "#", rest_empty=True)


@dataclass(frozen=True)
class MqttConfig:
    """``{type: mqtt, url: "mqtt://user:pass@host:port", version: 5, qos: 1}``."""

    url: str
    version: int = 5
    qos: int = 1
    timeout: float = 5.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "url", "version", "qos", "timeout"))
        url = s.text("url", required=True)
        if urlsplit(url).scheme not in ("mqtt", "tcp") or not urlsplit(url).hostname:
            raise InterlockError(
                f'"url" must look like mqtt://host:port, got "{url}"', where=s.at("url")
            )
        version = s.choice("version", ("3.1.1", 3, 5), 5)
        return cls(
            url=url,
            version=5 if version == 5 else 3,
            qos=s.choice("qos", (0, 1, 2), 1),
            timeout=s.duration("timeout", 5.0),
        )


class _Client:
    """One paho client, connected, with its network loop running in paho's thread."""

    def __init__(self, broker: MqttBroker, purpose: str) -> None:
        config = broker.config
        self.broker = broker
        parts = urlsplit(config.url)
        versions = {5: MQTTProtocolVersion.MQTTv5, 3: MQTTProtocolVersion.MQTTv311}
        protocol = versions[config.version]
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"interlock-{purpose}-{uuid.uuid4().hex[:12]}",
            protocol=protocol,
        )
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self._connected = threading.Event()
        self._connect_reason = ""
        self._acks: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        try:
            self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        except OSError as err:
            raise broker.error("connect", f"{type(err).__name__}: {err}") from None
        self.client.loop_start()
        if not self._connected.wait(config.timeout) or self._connect_reason:
            self.close()
            raise broker.error("connect", self._connect_reason or "no CONNACK in time")

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _p: Any) -> None:
        self._connect_reason = str(reason) if reason.is_failure else ""
        self._connected.set()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: list[Any], _p: Any) -> None:
        with self._lock:
            waiting = self._acks.get(mid)
        if waiting is not None:
            waiting[1].extend(reasons)
            waiting[0].set()

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe and wait for the SUBACK."""
        acked = threading.Event()
        reasons: list[Any] = []
        with self._lock:
            # Registered under the lock before paho can see the SUBACK for this mid.
            result, mid = self.client.subscribe(topic, qos)
            if mid is not None:
                self._acks[mid] = (acked, reasons)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise self.broker.error(f'listen on "{topic}"', mqtt.error_string(result))
        if not acked.wait(self.broker.config.timeout):
            raise self.broker.error(f'listen on "{topic}"', "no SUBACK in time")
        failed = [r for r in reasons if r.is_failure]
        if failed:
            raise self.broker.error(f'listen on "{topic}"', f"refused: {failed[0]}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class _MqttSubscription:
    def __init__(self, client: _Client) -> None:
        self._client: _Client | None = client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


class MqttBroker:
    """An MQTT broker (Mosquitto, EMQX, HiveMQ…).

    Example::

        broker = MqttBroker("mqtt", config)
        broker.subscribe("sensors/#", print)
        broker.publish("sensors/k1/temp", b'{"c": 21}')
    """

    config_type = MqttConfig
    keys = False  # no message keys: publishing with one is refused

    def __init__(self, name: str, config: MqttConfig) -> None:
        self.name = name
        self.config = config
        self._subscriptions: list[_MqttSubscription] = []
        self._publisher = _Client(self, "publish")

    matches = staticmethod(mqtt_matches)

    def error(self, action: str, details: str) -> InterlockError:
        """The error for a failed ``action``."""
        return InterlockError(
            f'Cannot {action} at MQTT broker "{self.name}"',
            details=details,
            where=f"brokers.{self.name}",
            hint="Is the server running, and are the url, user and `version` right?",
        )

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _MqttSubscription:
        """Subscribe to a topic filter; granted by the broker when this returns."""
        client = _Client(self, "listen")

        def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
            headers: dict[str, str] = {}
            properties = getattr(message, "properties", None)
            for name, value in getattr(properties, "UserProperty", None) or []:
                headers[str(name)] = str(value)
            deliver(Event.now(message.topic, bytes(message.payload), headers, broker=self.name,
                              listen=channel))

        client.client.on_message = on_message
        try:
            client.subscribe(channel, self.config.qos)
        except BaseException:
            client.close()
            raise
        subscription = _MqttSubscription(client)
        self._subscriptions.append(subscription)
        return subscription

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """Publish; with QoS 1 or 2, returns when the broker acknowledged it."""
        no_keys(self.name, "MQTT", key)
        properties = None
        if headers:
            if self.config.version != 5:
                raise InterlockError(
                    "MQTT 3.1.1 messages have no headers",
                    where=f"brokers.{self.name}.version",
                    hint="Use `version: 5` (user properties) or publish without headers.",
                )
            properties = Properties(PacketTypes.PUBLISH)
            properties.UserProperty = [(str(k), str(v)) for k, v in headers.items()]
        info = self._publisher.client.publish(channel, body, self.config.qos, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise self.error(f'publish to "{channel}"', mqtt.error_string(info.rc))
        try:
            info.wait_for_publish(self.config.timeout)
        except (RuntimeError, ValueError) as err:
            raise self.error(f'publish to "{channel}"', str(err)) from None
        if not info.is_published():
            raise self.error(f'publish to "{channel}"', "no acknowledgement in time")

    def close(self) -> None:
        """Disconnect every client (idempotent)."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.close()
        self._publisher.close()
