"""The scheduler's logic on the in-memory backend: order, parallel start, a failed start,
faults and heal, logs, stop in waves, and what a stack owns. No process, no engine: these run
in milliseconds (the real backends have their own tests against real servers)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interlock._core.errors import InterlockError
from interlock.stack import stack as stack_module
from interlock.stack.backends.memory import MemoryService
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack


def spec(name: str, *depends_on: str, started: tuple[str, ...] = (),
         **options: Any) -> ServiceSpec:
    return ServiceSpec(name, f"test:{name}", depends_on=depends_on,
                       started_is_enough=started, options=options)


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(*specs: ServiceSpec) -> Stack:
        stack = Stack("test", {s.name: s for s in specs}, run_dir=tmp_path / "run",
                      backend="memory", progress=lambda line: None)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


def memory(stack: Stack, name: str) -> MemoryService:
    service = stack.service(name)
    assert isinstance(service, MemoryService)
    return service


def test_dependencies_start_first_and_independent_services_together(make_stack) -> None:
    order: list[str] = []
    both = threading.Barrier(2, timeout=5)  # a and b only pass it if they start together

    def together(service: MemoryService) -> None:
        both.wait()
        order.append(service.name)

    stack = make_stack(spec("c", "a", "b", on_start=lambda s: order.append(s.name)),
                       spec("a", on_start=together), spec("b", on_start=together))
    stack.start()
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "c"


def test_a_dependency_needed_only_started_does_not_hold_back(make_stack) -> None:
    db_may_finish = threading.Event()

    def slow_db(service: MemoryService) -> None:
        assert db_may_finish.wait(5), "the api never started while db was still starting"

    stack = make_stack(spec("db", on_start=slow_db),
                       spec("api", "db", started=("db",),
                            on_start=lambda s: db_may_finish.set()))
    stack.start()
    assert memory(stack, "api").is_running() and memory(stack, "db").is_running()


def test_a_failed_start_is_raised_and_what_started_is_stopped(make_stack) -> None:
    stack = make_stack(spec("db"), spec("api", "db", fail="cannot bind"))
    with pytest.raises(InterlockError, match='Service "api" exited before it was ready') as err:
        stack.start()
    assert "cannot bind" in err.value.details
    db = memory(stack, "db")
    stack.stop()
    assert not db.is_running() and stack.running == {}


def test_heal_resumes_restarts_and_leaves_healthy_ones(make_stack) -> None:
    stack = make_stack(spec("db"), spec("api", "db"), spec("web", "api"))
    stack.start()
    memory(stack, "db").pause()
    memory(stack, "api").die()
    assert stack.heal() == ["db resumed", "api restarted"]
    assert [memory(stack, n).starts for n in ("db", "api", "web")] == [1, 2, 1]
    assert stack.heal() == []


def test_logs_since_a_mark_are_the_scenarios_own(make_stack) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    memory(stack, "api").say("before the scenario")
    marks = stack.log_marks()
    memory(stack, "api").say("during the scenario")
    assert stack.logs_since(marks) == {"api": "during the scenario\n"}


class _EngineCopy:
    """A service's log as the engine copies it, read by ``logs_since``: ``reads`` counts the
    reads; ``shown(n)`` is how much of the whole log the n-th read sees."""

    def __init__(self, service: MemoryService, shown: Callable[[int, str], str],
                 lag: float = 1.0) -> None:
        self.whole = service.log_since
        self.shown = shown
        self.reads = 0
        service.log_lag = lag
        service.log_since = self.read  # type: ignore[method-assign]

    def read(self, mark: float | None) -> str:
        self.reads += 1
        return self.shown(self.reads, self.whole(mark))


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Late logs are waited for 20 ms, not 250: these tests run in milliseconds."""
    monkeypatch.setattr(stack_module, "LOG_QUIET", 0.02)


def lines(text: str, count: int) -> str:
    return "".join(text.splitlines(keepends=True)[:count])


def test_a_failed_scenarios_logs_wait_for_lines_the_engine_copies_late(make_stack,
                                                                       quick) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    marks = stack.log_marks()
    for line in ("during the scenario", "last words"):
        memory(stack, "api").say(line)
    copy = _EngineCopy(memory(stack, "api"), lambda n, text: text if n > 1 else lines(text, 1))
    assert stack.logs_since(marks) == {"api": "during the scenario\n"}  # read once: too soon
    copy.reads = 0
    assert stack.logs_since(marks, settle=True) == {
        "api": "during the scenario\nlast words\n"}
    assert copy.reads >= 3  # read again until it stayed as it was


def test_a_late_log_is_waited_for_while_it_grows(make_stack, quick) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    marks = stack.log_marks()
    for number in range(1, 13):
        memory(stack, "api").say(f"line {number}")
    # One more line every read, each after the one before: longer, in all, than LOG_QUIET.
    _EngineCopy(memory(stack, "api"), lambda n, text: lines(text, n))
    assert stack.logs_since(marks, settle=True)["api"].endswith("line 12\n")


def test_a_late_log_is_waited_for_no_longer_than_its_lag(make_stack, quick) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    marks = stack.log_marks()
    memory(stack, "api").say("ever more")
    # It grows at every read, for ever: the lag (0.1 s) ends the wait.
    copy = _EngineCopy(memory(stack, "api"), lambda n, text: text * n, lag=0.1)
    text = stack.logs_since(marks, settle=True)["api"]
    assert text == "ever more\n" * copy.reads


def test_a_read_that_fails_while_waiting_keeps_what_was_read(make_stack, quick) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    marks = stack.log_marks()
    memory(stack, "api").say("the evidence")
    # The engine answers once, then fails (read as nothing: the container is gone).
    _EngineCopy(memory(stack, "api"), lambda n, text: text if n == 1 else "")
    assert stack.logs_since(marks, settle=True) == {"api": "the evidence\n"}


def test_a_log_that_is_never_late_is_read_once(make_stack) -> None:
    stack = make_stack(spec("api"))
    stack.start()
    marks = stack.log_marks()
    memory(stack, "api").say("during the scenario")
    copy = _EngineCopy(memory(stack, "api"), lambda n, text: text, lag=0.0)
    assert stack.logs_since(marks, settle=True) == {"api": "during the scenario\n"}
    assert copy.reads == 1


def test_stop_goes_in_waves_dependents_first(make_stack) -> None:
    stack = make_stack(spec("db"), spec("api", "db"), spec("web", "api"), spec("cron", "db"))
    stack.start()
    services = {name: memory(stack, name) for name in stack.running}
    stopped: list[str] = []
    for name, service in services.items():
        service.stop = (lambda n=name, real=service.stop: (stopped.append(n), real())[1])  # type: ignore[method-assign]
    stack.stop()
    assert stopped.index("db") == 3  # last: everything that depends on it went first
    assert stopped.index("api") < stopped.index("db") and stopped.index("web") < stopped.index("api")


def test_settle_asks_every_service_at_once(make_stack) -> None:
    """After a failed step each service is asked whether it died, in parallel (the barrier
    is only passed when all three are asked together); the answer is who died."""
    stack = make_stack(spec("a"), spec("b"), spec("c"))
    stack.start()
    together = threading.Barrier(3, timeout=5)
    for name in ("a", "b", "c"):
        memory(stack, name).settling = together.wait
    memory(stack, "c").die()
    assert stack.settle() == {"c"}
    assert not together.broken


def test_what_a_stack_owns_closes_with_it_before_its_services_stop(make_stack) -> None:
    stack = make_stack(spec("db"))
    stack.start()
    seen: list[bool] = []
    stack.own("connection", lambda: "conn", lambda _: seen.append(memory(stack, "db").running))
    stack.stop()
    assert seen == [True]


def test_a_backend_that_cannot_pause_says_so(tmp_path: Path) -> None:
    external = ServiceSpec.from_dict("billing", {"external": {"url": "http://127.0.0.1:9"}},
                                     where="test:billing")
    stack = Stack("test", {"billing": external}, run_dir=tmp_path, progress=lambda line: None)
    stack.start()
    with pytest.raises(InterlockError) as caught:
        stack.service("billing").pause()
    assert caught.value.title == (
        'Service "billing" cannot be paused: its backend (external) cannot pause a service')
    stack.stop()


def test_an_unknown_backend_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InterlockError) as caught:
        Stack("test", {}, run_dir=tmp_path, backend="dokcer")
    assert caught.value.title == 'Unknown backend "dokcer"'
    assert 'did you mean "docker"?' in caught.value.hint
    assert "INTERLOCK_BACKEND" in caught.value.hint
