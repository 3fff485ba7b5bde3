"""Fixtures for the HTTP tests: a real local server, a session on it, its report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.http import HttpSession
from tests.http.app import Account, Keys, LocalApp


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys.generate()  # an RSA key takes a moment: one per test run


@pytest.fixture
def app(keys: Keys) -> Iterator[LocalApp]:
    with LocalApp(
        keys=keys,
        accounts={"alice": Account("alice-pw-123"), "dora": Account("dora-pw-456", "dispatcher")},
        clients={"robot": "robot-secret-789"},
    ) as running:
        yield running


@pytest.fixture
def secrets() -> Secrets:  # what the session hides
    return Secrets(headers=["X-Tenant-Key"])


@pytest.fixture
def reporter() -> MemoryReporter:
    # Its own empty Secrets: it must not hide what the session failed to hide.
    return MemoryReporter(Secrets())


@pytest.fixture
def services(app: LocalApp) -> dict[str, str]:
    return {"orders": app.url}


@pytest.fixture
def session(
    services: dict[str, str], secrets: Secrets, reporter: MemoryReporter
) -> Iterator[HttpSession]:
    def base_url_of(name: str) -> str:
        if name not in services:
            raise InterlockError(
                f'Unknown service "{name}"', hint=did_you_mean(name, list(services))
            )
        return services[name]

    with HttpSession(base_url_of=base_url_of, secrets=secrets, reporter=reporter) as http:
        yield http
