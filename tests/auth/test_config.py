"""The auth section of the configuration: every flow read, every bad field named."""

from __future__ import annotations

from typing import Any

import pytest

from interlock._core.errors import InterlockError
from interlock.auth import (
    AuthConfig,
    BasicFlow,
    JwtFlow,
    LoginFlow,
    OAuth2Flow,
    SigningConfig,
)
from tests.auth.conftest import USERS

WHERE = "environment/interlock.yaml:7"


def test_every_flow_is_read() -> None:
    config = AuthConfig.from_dict(
        {"signing": {"algorithm": "HS256", "secret": "{env.JWT_SECRET}"}, "users": USERS}, WHERE
    )

    flows = {name: user.flow for name, user in config.users.items()}
    assert config.signing == SigningConfig("HS256", secret="{env.JWT_SECRET}")
    assert flows["customer"] == LoginFlow(
        "auth", "/auth/login", json={"username": "alice", "password": "{env.ALICE_PASSWORD}"}
    )
    assert isinstance(flows["dispatcher"], LoginFlow) and flows["dispatcher"].form is not None
    assert isinstance(flows["robot"], OAuth2Flow)
    assert flows["robot"].scope == "orders:read orders:write"
    assert isinstance(flows["carol"], OAuth2Flow) and flows["carol"].grant == "password"
    assert flows["technician"] == JwtFlow({"sub": "tom", "role": "technician"}, 600)
    assert flows["alice"] == BasicFlow("alice", "{env.ALICE_PASSWORD}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"users": {"x": {"login": {"service": "a", "json": {}}}}},
            'auth.users.x.login: "path" is required',
        ),
        (
            {"users": {"x": {"login": {"service": "a", "path": "/l", "json": {}, "form": {}}}}},
            "auth.users.x.login: give the login body as json or as form",
        ),
        (
            {"users": {"x": {"login": {"service": "a", "path": "/l", "jsn": {}}}}},
            'auth.users.x.login: unknown key "jsn"',
        ),
        (
            {"users": {"x": {"oauth2": {"grant": "implicit", "token_url": "u", "client_id": "c"}}}},
            'auth.users.x.oauth2.grant: unknown grant "implicit"',
        ),
        (
            {"users": {"x": {"oauth2": {"grant": "password", "token_url": "u", "client_id": "c"}}}},
            "auth.users.x.oauth2: the password grant needs username and password",
        ),
        (
            {
                "users": {
                    "x": {
                        "oauth2": {
                            "grant": "password",
                            "token_url": "u",
                            "client_id": "c",
                            "username": "u",
                            "password": "p",
                            "client_auth": "jwt",
                        }
                    }
                }
            },
            'auth.users.x.oauth2.client_auth: "jwt" is neither body nor basic',
        ),
        (
            {"users": {"x": {"jwt": {"claims": {}, "ttl": "1h"}}}},
            "auth.users.x.jwt.ttl must be a whole number of seconds above 0",
        ),
        (
            {"users": {"x": {"jwt": {"claims": ["sub"]}}}},
            "auth.users.x.jwt.claims must be a mapping",
        ),
        (
            {"users": {"x": {"basic": {"username": "a", "password": 12}}}},
            "auth.users.x.basic.password must be text",
        ),
        (
            {"users": {"x": {"basic": {"username": "a", "password": "p"}, "jwt": {}}}},
            "auth.users.x: has basic and jwt",
        ),
        ({"users": {"x": {"token": "abc"}}}, "auth.users.x: unknown key 'token'"),
        ({"users": {"x": {}}}, "auth.users.x: says no way to log in"),
        ({"users": ["x"]}, "auth.users must be a mapping"),
        (
            {"signing": {"algorithm": "HS257", "secret": "s"}},
            'auth.signing.algorithm: unknown algorithm "HS257"',
        ),
        (
            {"signing": {"algorithm": "HS256", "private_key_file": "k.pem"}},
            "auth.signing: HS256 needs exactly one of secret, got private_key_file",
        ),
        (
            {"signing": {"algorithm": "RS256"}},
            "auth.signing: RS256 needs exactly one of private_key_file or private_key",
        ),
        ({"sign": {}}, 'auth: unknown key "sign"'),
    ],
)
def test_bad_fields_are_named(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InterlockError) as caught:
        AuthConfig.from_dict(data, WHERE)

    assert str(caught.value).startswith(message)
    assert caught.value.where == WHERE


def test_unknown_keys_suggest_the_known_ones() -> None:
    with pytest.raises(InterlockError) as caught:
        AuthConfig.from_dict({"users": {"x": {"bassic": {}}}}, WHERE)

    assert 'did you mean "basic"?' in str(caught.value)
