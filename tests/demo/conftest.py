"""Fixtures: the demo system for the whole session, extra instances per test, clients."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo_bus import Bus
from demo_client import Api
from demo_stack import PASSWORD, USERS, Demo, Server, start_nats, start_postgres

COLD_START = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
         ) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo")
    (workdir / "users.json").write_text(json.dumps(USERS))
    with contextlib.ExitStack() as stack:
        postgres_url = start_postgres(workdir, stack)
        nats_url = start_nats(workdir, stack)
        system = Demo(workdir, postgres_url, nats_url, {})
        started = time.monotonic()
        system.services["auth"] = system.server("auth", stack)
        for name in ("orders", "notifications", "analytics"):
            system.services[name] = system.server(name, stack)
        for server in system.services.values():
            server.wait_healthy()
        request.config.stash[COLD_START] = time.monotonic() - started
        yield system


@pytest.fixture
def extra(demo: Demo) -> Iterator[Callable[..., Server]]:
    """Start another instance of a service with other settings, for one test."""
    with contextlib.ExitStack() as stack:
        yield lambda name, **env: demo.server(name, stack, **env).wait_healthy()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    seconds = config.stash.get(COLD_START, None)
    if seconds is not None:
        terminalreporter.write_line(
            f"demo: the four services started and answered /health in {seconds:.2f} s")


@pytest.fixture(scope="session")
def api(demo: Demo) -> Api:
    """Every response through it is validated against the service's OpenAPI document."""
    return Api({name: server.url for name, server in demo.services.items()}, PASSWORD)


@pytest.fixture(scope="session")
def bus(demo: Demo) -> Iterator[Bus]:
    """A NATS client of the tests' own: listen to subjects, publish events."""
    connection = Bus(demo.nats_url)
    try:
        connection.listen("orders.>")
        connection.listen("notifications.>")
        yield connection
    finally:
        connection.close()
