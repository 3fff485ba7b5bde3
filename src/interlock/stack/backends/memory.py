"""The in-memory backend: a fake, as a real class, for fast tests of the scheduler.

A ``MemoryService`` starts, stops, dies, pauses and logs in memory; nothing runs. The stack
schedules it like any other service, so start order, parallel start, faults, heal, logs and
stop are tested without a process or an engine. ``options`` of a service steer it:
``fail: "<why>"`` makes its start fail; ``on_start`` (a callable, given the service) runs
while it starts, to hold it back or count.

Example:
    >>> from pathlib import Path
    >>> from interlock.stack.spec import ServiceSpec
    >>> from interlock.stack.stack import Stack
    >>> specs = {n: ServiceSpec(n, "example", depends_on=d) for n, d in
    ...          [("db", ()), ("api", ("db",))]}
    >>> stack = Stack("s", specs, run_dir=Path("/nonexistent"), backend="memory",
    ...               progress=lambda line: None)
    >>> stack.start(); stack.service("api").die(); stack.heal()
    ['api restarted']
    >>> stack.stop(); stack.running
    {}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from interlock._core.errors import InterlockError
from interlock.stack.base import Address, RunningService, StackPlace
from interlock.stack.spec import ServiceSpec


class MemoryService(RunningService):
    """A service that lives in memory: its state and its log are fields."""

    backend = "memory"
    status_is_free = True

    def __init__(self, name: str) -> None:
        super().__init__(name, Address(f"memory://{name}", name, 0))
        self.lines: list[str] = []
        self.running = False
        self.frozen = False
        self.code: int | None = None
        self.starts = 0
        self.settling: Callable[[], None] = lambda: None  # what settle() does first

    def say(self, line: str) -> None:
        """Write a line to its log."""
        self.lines.append(line)

    def die(self, code: int = 1) -> None:
        """Exit by itself (a crash), as a real service may."""
        self.say(f"{self.name} died (exit code {code})")
        self.running, self.frozen, self.code = False, False, code

    def start(self) -> None:
        """Start (again)."""
        self.starts += 1
        self.running, self.frozen, self.code = True, False, None
        self.say(f"{self.name} started")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop; exit code 0."""
        if self.running:
            self.say(f"{self.name} stopped")
        self.running, self.frozen, self.code = False, False, 0

    def kill(self) -> None:
        """Stop at once; exit code -9."""
        self.running, self.frozen, self.code = False, False, -9

    def pause(self) -> None:
        """Freeze."""
        self.frozen = self.running

    def resume(self) -> None:
        """Unfreeze."""
        self.frozen = False

    @property
    def paused(self) -> bool:
        """Whether it is frozen."""
        return self.frozen

    def is_running(self) -> bool:
        """Whether it runs (a frozen one does)."""
        return self.running

    def exit_code(self) -> int | None:
        """Its exit code once stopped."""
        return self.code

    def settle(self, within: float = 0.5, *, unanswered: bool = False) -> bool:
        """``settling`` first (a test's hook), then whether it runs."""
        self.settling()
        return self.running

    def log(self) -> str:
        """Its log."""
        return "".join(line + "\n" for line in self.lines)


class MemoryBackend:
    """Runs any service in memory."""

    name: ClassVar[str] = "memory"

    def __init__(self, place: StackPlace) -> None:
        self.place = place
        self.closed = False

    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """Any service."""
        return True

    def launch(self, spec: ServiceSpec) -> RunningService:
        """A ``MemoryService``, started; ``options`` may hold it back or make it fail."""
        service = MemoryService(spec.name)
        self.place.launched(service)
        on_start = spec.options.get("on_start")
        if on_start is not None:
            on_start(service)
        if self.place.stopping.is_set():
            raise InterlockError(f'Start of "{spec.name}" was interrupted')
        if spec.options.get("fail"):
            service.say(str(spec.options["fail"]))
            raise InterlockError(f'Service "{spec.name}" exited before it was ready',
                                 details=service.log(), where=spec.where)
        service.start()
        return service

    def close(self) -> list[str]:
        """Nothing is held."""
        self.closed = True
        return []

    @classmethod
    def sweep(cls) -> list[str]:
        """Nothing is ever left."""
        return []


