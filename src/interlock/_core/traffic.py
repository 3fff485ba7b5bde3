"""What a scenario sent and received, in order: the record a sequence diagram is drawn from.

Every capability that talks to the system (HTTP, brokers, databases) notes each message on the
reporter's ``Traffic`` (``note(reporter, ...)``: nothing happens for a reporter without one).
The hooks number the steps; ``interlock._core.diagram`` draws the record as an SVG.

Example:
    >>> traffic = Traffic()
    >>> traffic.begin_step(1, 'When I send GET "/orders/1" to "orders"')
    >>> traffic.note("test", "orders", "GET /orders/1", target_kind=SERVICE)
    >>> traffic.note("orders", "test", "200 OK", reply=True)
    >>> [(m.step, m.source, m.target, m.label) for m in traffic.messages]
    [(1, 'test', 'orders', 'GET /orders/1'), (1, 'orders', 'test', '200 OK')]
    >>> traffic.participants
    {'test': 'test', 'orders': 'service'}
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

TEST = "test"
SERVICE = "service"
BROKER = "broker"
DATABASE = "database"
STUB = "stub"


@dataclass(frozen=True)
class Message:
    """One arrow: ``source`` → ``target`` during step ``step`` (0: before the first step)."""

    step: int
    source: str
    target: str
    label: str
    reply: bool = False
    failed: bool = False
    detail: str = ""


@dataclass(eq=False)
class Step:
    """A step as the diagram numbers it."""

    number: int
    text: str
    failed: bool = False


@dataclass(eq=False)
class Traffic:
    """The messages of one scenario; safe to note from a broker's thread."""

    messages: list[Message] = field(default_factory=list)
    steps: dict[int, Step] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=lambda: {TEST: TEST})
    step: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin_step(self, number: int, text: str) -> None:
        """Messages noted from now on belong to step ``number``."""
        with self._lock:
            self.step = number
            self.steps[number] = Step(number, text)

    def fail_step(self, number: int) -> None:
        """Mark step ``number`` failed: its band is drawn red, and so is the last answer it
        received (most often the one its failed check looked at)."""
        with self._lock:
            if number in self.steps:
                self.steps[number].failed = True
            for index in range(len(self.messages) - 1, -1, -1):
                message = self.messages[index]
                if message.step != number:
                    break
                if message.reply or message.target == TEST:
                    self.messages[index] = replace(message, failed=True)
                    break

    def note(self, source: str, target: str, label: str, *, reply: bool = False,
             failed: bool = False, detail: str = "", source_kind: str = SERVICE,
             target_kind: str = SERVICE) -> None:
        """Record one message (participants are added on first sight, with their kind)."""
        with self._lock:
            self.participants.setdefault(source, source_kind)
            self.participants.setdefault(target, target_kind)
            self.messages.append(Message(self.step, source, target, label, reply, failed, detail))

    def snapshot(self) -> tuple[dict[str, str], list[Message]]:
        """The participants and messages so far, copied together: a listener's thread may note
        more while they are drawn (a late event, another worker's on a shared stack)."""
        with self._lock:
            return dict(self.participants), list(self.messages)


def traffic_of(reporter: Any) -> Traffic | None:
    """The reporter's traffic record, if it keeps one."""
    traffic = getattr(reporter, "traffic", None)
    return traffic if isinstance(traffic, Traffic) else None


def note(reporter: Any, source: str, target: str, label: str, **options: Any) -> None:
    """Note a message on ``reporter``'s traffic, when it keeps one (else nothing).

    Example:
        >>> note(None, "test", "orders", "GET /")   # no reporter: nothing happens
    """
    traffic = traffic_of(reporter)
    if traffic is not None:
        traffic.note(source, target, label, **options)
