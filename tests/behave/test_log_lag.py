"""A service log check without ``within``: a line the service already wrote is found even
when its log reaches Interlock a moment later (a container's, copied by the engine: the
service's ``log_lag``); a log read straight from a file is checked once, as before; a line
that never comes fails with the same words either way."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from interlock._core.errors import Failure
from interlock._core.secrets import Secrets
from interlock.behave.steps import services
from interlock.stack.base import Address, RunningService


class _LateLog(RunningService):
    """A service whose log shows its line from the third read on."""

    def __init__(self, lag: float, line: str = "auth unreachable") -> None:
        super().__init__("orders", Address("http://127.0.0.1:1", "127.0.0.1", 1))
        self.log_lag = lag
        self.line = line
        self.reads = 0

    def log_since(self, mark: float | None) -> str:
        self.reads += 1
        return "" if self.reads < 3 else f"orders WARNING {self.line}\n"


class _Stack:
    def __init__(self, service: _LateLog) -> None:
        self.running = service

    def service(self, name: str, where: str = "") -> _LateLog:
        return self.running

    def log_since(self, name: str, mark: float | None) -> str:
        return self.running.log_since(mark)


def _world(service: _LateLog) -> SimpleNamespace:
    stack = _Stack(service)
    return SimpleNamespace(render=lambda text: text, require_stack=lambda: stack, log_marks={},
                           suite=SimpleNamespace(secrets=Secrets()), where="auth.feature:33")


def test_a_line_on_its_way_through_the_engine_is_found() -> None:
    service = _LateLog(lag=1.0)
    services.service_log_contains(_world(service), "orders", "auth unreachable")
    assert service.reads == 3


def test_a_log_read_from_its_file_is_checked_once() -> None:
    service = _LateLog(lag=0.0)
    with pytest.raises(Failure) as failed:
        services.service_log_contains(_world(service), "orders", "auth unreachable")
    assert failed.value.title == ('The log of "orders" does not contain "auth unreachable" '
                                  "(since the scenario started)")
    assert service.reads == 2  # the check, and the whole log for the failure's tail


def test_a_line_that_never_comes_fails_with_the_same_words_after_the_lag() -> None:
    service = _LateLog(lag=0.3, line="something else")
    began = time.monotonic()
    with pytest.raises(Failure) as failed:
        services.service_log_contains(_world(service), "orders", "auth unreachable")
    assert time.monotonic() - began >= 0.3
    assert failed.value.title == ('The log of "orders" does not contain "auth unreachable" '
                                  "(since the scenario started)")
    assert "something else" in str(failed.value.details)
    assert "within 5 seconds" in str(failed.value.hint)
