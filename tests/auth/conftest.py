"""Fixtures for the auth tests: the local app (login, OAuth2, /me) and an Authenticator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock._core.values import Scope
from interlock.auth import AuthConfig, Authenticator
from interlock.http import HttpSession
from tests.http.app import Account, Keys, LocalApp

ALICE_PASSWORD = "canary-alice-pw-1111"
DORA_PASSWORD = "canary-dora-pw-2222"
CAROL_PASSWORD = "canary-carol-pw-3333"
ROBOT_SECRET = "canary-robot-secret-4444"


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture
def app(keys: Keys) -> Iterator[LocalApp]:
    with LocalApp(
        keys=keys,
        accounts={
            "alice": Account(ALICE_PASSWORD, "customer"),
            "dora": Account(DORA_PASSWORD, "dispatcher"),
            "carol": Account(CAROL_PASSWORD, "auditor"),
        },
        clients={"robot": ROBOT_SECRET, "web": ""},
    ) as running:
        yield running


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def reporter() -> MemoryReporter:
    # Its own empty Secrets: it must not hide what the authenticator failed to hide.
    return MemoryReporter(Secrets())


@pytest.fixture
def scope(app: LocalApp, monkeypatch: pytest.MonkeyPatch) -> Scope:
    monkeypatch.setenv("ALICE_PASSWORD", ALICE_PASSWORD)
    monkeypatch.setenv("JWT_SECRET", app.keys.hs_secret)
    addresses = {"url": app.url}
    return Scope({"robot_secret": ROBOT_SECRET}, {"auth": addresses.__getitem__})


@pytest.fixture
def sessions(
    app: LocalApp, secrets: Secrets, reporter: MemoryReporter
) -> Iterator[Callable[[], HttpSession]]:
    made: list[HttpSession] = []

    def new_session() -> HttpSession:
        session = HttpSession(
            base_url_of={"auth": app.url}.__getitem__, secrets=secrets, reporter=reporter
        )
        made.append(session)
        return session

    yield new_session
    for session in made:
        session.close()


USERS: dict[str, Any] = {
    "customer": {
        "login": {
            "service": "auth",
            "path": "/auth/login",
            "json": {"username": "alice", "password": "{env.ALICE_PASSWORD}"},
            "token": "$.access_token",
        }
    },
    "dispatcher": {
        "login": {
            "service": "auth",
            "path": "/auth/login",
            "form": {"username": "dora", "password": DORA_PASSWORD},
        }
    },
    "robot": {
        "oauth2": {
            "grant": "client_credentials",
            "token_url": "{auth.url}/oauth/token",
            "client_id": "robot",
            "client_secret": "{robot_secret}",
            "scope": "orders:read orders:write",
        }
    },
    "robot_basic": {
        "oauth2": {
            "grant": "client_credentials",
            "token_url": "{auth.url}/oauth/token",
            "client_id": "robot",
            "client_secret": "{robot_secret}",
            "client_auth": "basic",
        }
    },
    "carol": {
        "oauth2": {
            "grant": "password",
            "token_url": "{auth.url}/oauth/token",
            "client_id": "web",
            "username": "carol",
            "password": CAROL_PASSWORD,
        }
    },
    "technician": {"jwt": {"claims": {"sub": "tom", "role": "technician"}, "ttl": 600}},
    "alice": {"basic": {"username": "alice", "password": "{env.ALICE_PASSWORD}"}},
}


@pytest.fixture
def make_auth(
    sessions: Callable[[], HttpSession], secrets: Secrets, scope: Scope
) -> Callable[..., Authenticator]:
    def make(users: dict[str, Any] | None = None, signing: Any = "hs256") -> Authenticator:
        data: dict[str, Any] = {"users": USERS if users is None else users}
        if signing == "hs256":
            data["signing"] = {"algorithm": "HS256", "secret": "{env.JWT_SECRET}"}
        elif signing is not None:
            data["signing"] = signing
        config = AuthConfig.from_dict(data, "interlock.yaml:4")
        return Authenticator(config, session=sessions, secrets=secrets, scope=scope)

    return make


@pytest.fixture
def auth(make_auth: Callable[..., Authenticator]) -> Authenticator:
    return make_auth()


@pytest.fixture
def me(app: LocalApp, secrets: Secrets, reporter: MemoryReporter) -> Iterator[HttpSession]:
    """A scenario's session, to show credentials to /me."""
    with HttpSession(
        base_url_of={"app": app.url}.__getitem__, secrets=secrets, reporter=reporter
    ) as session:
        yield session
