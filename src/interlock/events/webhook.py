"""Webhooks: an HTTP receiver Interlock runs itself, and POSTs to a service's URL.

The system under test is configured to POST its events to ``{<broker>.url}/<channel>``
(``broker.url`` is ``http://127.0.0.1:<free port>``). Requests in the CloudEvents HTTP binding
(binary mode: ``ce-*`` headers; structured mode: ``application/cloudevents+json``) are
unpacked: the body is the event's ``data``, its attributes become ``ce-<name>`` headers.
The channel is the URL path (without the leading ``/``), or the CloudEvent ``type`` when
configured with ``channel: type`` (or when the path is empty). Channel patterns use ``*``
for any run of characters.

Publishing POSTs a CloudEvent (type = channel) to the configured ``target``.

Example:
    >>> WebhookConfig.from_dict({"target": "http://127.0.0.1:8080/events"}, "brokers.hooks").mode
    'binary'
    >>> webhook_matches("orders/*", "orders/created")
    True
"""

from __future__ import annotations

import fnmatch
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import requests

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.events.base import Event, Settings, no_keys

with requires("cloudevents", extra="webhook", what="The webhook broker"):
    from cloudevents.core.bindings.http import (
        HTTPMessage,
        from_http_event,
        to_binary_event,
        to_structured_event,
    )
    from cloudevents.core.v1.event import CloudEvent

_MAX_BODY = 10 * 1024 * 1024


def webhook_matches(pattern: str, channel: str) -> bool:
    """``*`` matches any run of characters (``/`` included)."""
    return fnmatch.fnmatchcase(channel, pattern)


@dataclass(frozen=True)
class WebhookConfig:
    """``{type: webhook, channel: path|type, target: "{orders.url}/events", mode: binary}``.

    ``mode`` is how ``publish`` sends: ``binary`` or ``structured`` CloudEvents to ``target``,
    or ``plain`` (the body as is) to ``{target}/<channel>``.
    """

    channel: str = "path"
    target: str = ""
    mode: str = "binary"
    source: str = "interlock"
    timeout: float = 5.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        s = Settings(data, where, known=("type", "channel", "target", "mode", "source", "timeout"))
        target = s.text("target")
        if target and not target.startswith(("http://", "https://")):
            raise InterlockError(f'"target" must be an http(s) URL, got "{target}"',
                                 where=s.at("target"))
        return cls(
            channel=s.choice("channel", ("path", "type"), "path"),
            target=target,
            mode=s.choice("mode", ("binary", "structured", "plain"), "binary"),
            source=s.text("source", "interlock"),
            timeout=s.duration("timeout", 5.0),
        )


class _WebhookSubscription:
    def __init__(self, broker: WebhookBroker, pattern: str, deliver: Callable[[Event], None]):
        self.broker = broker
        self.pattern = pattern
        self.deliver = deliver

    def close(self) -> None:
        self.broker.forget(self)


class WebhookBroker:
    """The receiver (started at once, on a free loopback port) and the sender.

    Example:
        >>> hooks = WebhookBroker("hooks", WebhookConfig())
        >>> hooks.url.startswith("http://127.0.0.1:")
        True
        >>> hooks.close()
    """

    config_type = WebhookConfig
    keys = False  # no message keys: publishing with one is refused

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        self.config = config
        self.rejected: list[str] = []  # requests that were not valid CloudEvents, for errors
        self._subscriptions: list[_WebhookSubscription] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"interlock-webhook-{name}", daemon=True
        )
        self._thread.start()

    matches = staticmethod(webhook_matches)

    def subscribe(self, channel: str, deliver: Callable[[Event], None]) -> _WebhookSubscription:
        """Deliver requests whose channel matches ``channel`` (the receiver is already up)."""
        subscription = _WebhookSubscription(self, channel, deliver)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def forget(self, subscription: _WebhookSubscription) -> None:
        """Stop delivering to ``subscription``."""
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> str:
        """Turn one request into an event for every matching subscription; returns the
        channel, or raises ValueError when a CloudEvent is malformed."""
        lowered = {k.lower(): v for k, v in headers.items()}
        is_binary = "ce-specversion" in lowered
        is_structured = lowered.get("content-type", "").startswith("application/cloudevents")
        channel = path.split("?", 1)[0].strip("/")
        if is_binary or is_structured:
            try:
                cloud_event = from_http_event(HTTPMessage(headers=dict(lowered), body=body))
            except Exception as err:  # the SDK raises several unrelated types
                self.rejected.append(f"{path}: {err}")
                raise ValueError(f"not a valid CloudEvent: {err}") from None
            body, event_headers = _unpack(cloud_event)
            if self.config.channel == "type" or not channel:
                channel = cloud_event.get_type()
        else:
            event_headers = dict(lowered)
        with self._lock:
            targets = [s for s in self._subscriptions if webhook_matches(s.pattern, channel)]
        for subscription in targets:
            event = Event.now(
                channel, body, event_headers, broker=self.name, listen=subscription.pattern
            )
            subscription.deliver(event)
        return channel

    def publish(self, channel: str, body: bytes, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> None:
        """POST the event to ``target`` (a CloudEvent of type ``channel`` unless ``plain``)."""
        no_keys(self.name, "Webhook", key)
        if not self.config.target:
            raise InterlockError(
                f'Webhook broker "{self.name}" has no target to publish to',
                where=f"brokers.{self.name}",
                hint='Add `target: "{orders.url}/events"` (the URL the service receives on).',
            )
        if self.config.mode == "plain":
            url = f"{self.config.target.rstrip('/')}/{channel}"
            request_headers = {"content-type": _content_type(body), **(headers or {})}
        else:
            url = self.config.target
            data: Any = json.loads(body) if _content_type(body) == "application/json" else body
            attributes = {
                "id": str(uuid.uuid4()),
                "type": channel,
                "source": self.config.source,
                "datacontenttype": _content_type(body),
            }
            try:
                cloud_event = CloudEvent(attributes, data)
            except Exception as err:  # the SDK's validation errors share no useful base
                raise InterlockError(
                    f'Cannot make a CloudEvent of type "{channel}"',
                    details=str(err),
                    where=f"brokers.{self.name}",
                    hint="The channel is the CloudEvent type: give a non-empty name.",
                ) from None
            message = (to_binary_event if self.config.mode == "binary" else to_structured_event)(
                cloud_event
            )
            body, request_headers = message.body, {**message.headers, **(headers or {})}
        try:
            response = requests.post(url, data=body, headers=request_headers,
                                     timeout=self.config.timeout)
        except requests.RequestException as err:
            raise InterlockError(
                f'Cannot POST the event to {url} (webhook broker "{self.name}")',
                details=f"{type(err).__name__}: {err}",
                where=f"brokers.{self.name}.target",
            ) from None
        if response.status_code >= 300:
            raise InterlockError(
                f"POST {url} answered {response.status_code} (webhook broker \"{self.name}\")",
                # Whole: the step binding hides secrets in it and only then shortens it.
                details=response.text,
                where=f"brokers.{self.name}.target",
                hint="The receiving service refused the event: check its log.",
            )

    def close(self) -> None:
        """Stop the receiver (idempotent)."""
        with self._lock:
            self._subscriptions.clear()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def _unpack(event: Any) -> tuple[bytes, dict[str, str]]:
    data = event.get_data()
    if data is None:
        body = b""
    elif isinstance(data, bytes):
        body = data
    elif isinstance(data, str):
        body = data.encode()
    else:
        body = json.dumps(data).encode()
    headers: dict[str, str] = {}
    for name, value in event.get_attributes().items():
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        headers[f"ce-{name}"] = text
    return body, headers


def _content_type(body: bytes) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "application/octet-stream"
    return "application/json"


def _handler_for(broker: WebhookBroker) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > _MAX_BODY:
                self._answer(413, "body too large")
                return
            body = self.rfile.read(length)
            try:
                channel = broker.receive(self.path, dict(self.headers.items()), body)
            except ValueError as err:
                self._answer(400, str(err))
                return
            self._answer(202, f"accepted on {channel}")

        do_PUT = do_POST

        def _answer(self, status: int, text: str) -> None:
            payload = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the events themselves are attached to the report; no stderr chatter

    return Receiver
