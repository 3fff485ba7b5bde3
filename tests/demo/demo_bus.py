"""Listen to and publish on the demo's NATS from synchronous tests (a loop in a thread)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import nats
from nats.aio.client import Client


class Bus:
    """``bus.listen("orders.>")`` then ``bus.wait(lambda events: ..., 5)``; ``bus.publish``."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.nc: Client = self._run(nats.connect(url, name="demo-tests"))
        self.received: list[tuple[str, bytes]] = []
        self.changed = threading.Condition()

    def _run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(10)

    def listen(self, subject: str) -> None:
        async def on_message(message: Any) -> None:
            with self.changed:
                self.received.append((message.subject, message.data))
                self.changed.notify_all()

        async def subscribe() -> None:
            await self.nc.subscribe(subject, cb=on_message)
            await self.nc.flush()

        self._run(subscribe())

    def arrived(self) -> list[tuple[str, dict[str, Any]]]:
        """Every JSON object received so far, with its subject, in arrival order."""
        with self.changed:
            found = []
            for subject, data in self.received:
                try:
                    body = json.loads(data)
                except ValueError:
                    continue
                if isinstance(body, dict):
                    found.append((subject, body))
            return found

    def events(self, subject: str) -> list[dict[str, Any]]:
        """The JSON bodies received so far on ``subject`` (non-JSON ones are skipped)."""
        with self.changed:
            found = []
            for got, data in self.received:
                if got == subject:
                    try:
                        found.append(json.loads(data))
                    except ValueError:
                        continue
            return found

    def wait(self, holds: Callable[[], Any], timeout: float, what: str) -> Any:
        """Block until ``holds()`` is truthy (re-checked on every message), or fail."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = holds()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what}: not seen within {timeout} s; received "
                                         f"{[(s, d[:200]) for s, d in self.received][-10:]}")
                self.changed.wait(left)

    def publish(self, subject: str, body: bytes | dict[str, Any]) -> None:
        """Publish through JetStream, so the message is stored in ORDERS before this returns."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._run(self.nc.jetstream().publish(subject, data, timeout=5))

    def close(self) -> None:
        self._run(self.nc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
