"""Every login flow and every wrong-on-purpose token, checked by a real server's /me."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from interlock._core.errors import InterlockError
from interlock._core.report import MemoryReporter
from interlock.auth import Authenticator, BasicAuth, BearerToken, claims_of
from interlock.http import Exchange, HttpSession
from tests.auth.conftest import (
    ALICE_PASSWORD,
    CAROL_PASSWORD,
    DORA_PASSWORD,
    ROBOT_SECRET,
    USERS,
)
from tests.http.app import LocalApp


def ask_me(me: HttpSession, credentials: Any) -> Exchange:
    me.credentials = credentials
    return me.send("GET", "/me", service="app")


@pytest.mark.parametrize(
    ("user", "sub", "extra"),
    [
        ("customer", "alice", {"role": "customer"}),
        ("dispatcher", "dora", {"role": "dispatcher"}),
        ("robot", "robot", {"scope": "orders:read orders:write", "client_id": "robot"}),
        ("robot_basic", "robot", {"client_id": "robot"}),
        ("carol", "carol", {"role": "auditor", "client_id": "web"}),
        ("technician", "tom", {"role": "technician"}),
    ],
)
def test_each_token_flow_gives_a_token_the_service_accepts(
    auth: Authenticator, me: HttpSession, user: str, sub: str, extra: dict[str, Any]
) -> None:
    credentials = auth.credentials_for(user)

    assert isinstance(credentials, BearerToken) and credentials.user == user
    answer = ask_me(me, credentials)
    assert answer.status == 200, answer.text
    claims = answer.json()["claims"]
    assert claims["sub"] == sub
    assert extra.items() <= claims.items()


def test_oauth2_client_authentication_goes_where_configured(
    auth: Authenticator, app: LocalApp
) -> None:
    auth.credentials_for("robot")
    auth.credentials_for("robot_basic")

    in_body, in_header = [r for r in app.requests if r["path"] == "/oauth/token"]
    assert "Authorization" not in in_body["headers"]
    assert in_header["headers"]["Authorization"].startswith("Basic ")


def test_basic_auth_user(auth: Authenticator, me: HttpSession) -> None:
    credentials = auth.credentials_for("alice")

    assert credentials == BasicAuth("alice", ALICE_PASSWORD)
    assert ask_me(me, credentials).json() == {"user": "alice", "scheme": "basic"}


def test_bearer_and_basic_given_in_a_step(
    auth: Authenticator, me: HttpSession, app: LocalApp
) -> None:
    legacy = app.issue_token({"sub": "legacy"})

    assert ask_me(me, auth.bearer(legacy)).json()["claims"]["sub"] == "legacy"
    assert ask_me(me, auth.basic("dora", DORA_PASSWORD)).json()["user"] == "dora"
    assert ask_me(me, auth.basic("dora", "wrong-password")).status == 401
    assert legacy in auth.secrets and DORA_PASSWORD in auth.secrets


def test_a_jwt_user_signed_with_an_rsa_key_file(
    make_auth: Callable[..., Authenticator], me: HttpSession, app: LocalApp, tmp_path: Path
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "private.pem").write_bytes(app.keys.rsa_private_pem)
    auth = make_auth(
        signing={"algorithm": "RS256", "private_key_file": "keys/private.pem", "key_id": "k-1"}
    )
    auth.files = tmp_path

    token = auth.credentials_for("technician")

    assert isinstance(token, BearerToken)
    answer = ask_me(me, token).json()
    assert answer["algorithm"] == "RS256" and answer["claims"]["role"] == "technician"
    assert jwt.get_unverified_header(token.token)["kid"] == "k-1"


def test_one_login_per_user_per_run(auth: Authenticator, app: LocalApp) -> None:
    first = auth.credentials_for("customer")
    second = auth.credentials_for("customer")

    assert first is second
    assert app.hits["/auth/login"] == 1


def test_the_login_cache_holds_across_threads(auth: Authenticator, app: LocalApp) -> None:
    tokens: list[Any] = []
    start = threading.Barrier(8)

    def log_in() -> None:
        start.wait()
        tokens.append(auth.credentials_for("dispatcher"))

    threads = [threading.Thread(target=log_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(tokens) == 8 and all(t is tokens[0] for t in tokens)
    assert app.hits["/auth/login"] == 1


def test_a_token_about_to_expire_is_fetched_again(auth: Authenticator, app: LocalApp) -> None:
    app.token_ttl = 10  # inside the refresh margin: every use logs in again

    auth.credentials_for("customer")
    auth.credentials_for("customer")

    assert app.hits["/auth/login"] == 2


def test_an_expired_token_is_rejected_as_expired(
    auth: Authenticator, me: HttpSession, app: LocalApp
) -> None:
    token = auth.expired_token("dispatcher")

    claims = jwt.decode(
        token.token, app.keys.hs_secret, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["exp"] < time.time() - 3000 and claims["sub"] == "dora"
    assert ask_me(me, token).json() == {"error": "token expired"}


def test_a_token_signed_with_the_wrong_key_is_rejected(
    auth: Authenticator, me: HttpSession, make_auth: Callable[..., Authenticator]
) -> None:
    token = auth.token_signed_with_wrong_key("dispatcher")

    assert claims_of(token.token)["sub"] == "dora"  # type: ignore[index]
    assert ask_me(me, token).json() == {"error": "invalid signature"}
    # Without a signing key configured, the real token's algorithm is used.
    unsigned = make_auth(signing=None).token_signed_with_wrong_key("customer")
    assert jwt.get_unverified_header(unsigned.token)["alg"] == "HS256"
    assert ask_me(me, unsigned).json() == {"error": "invalid signature"}


def test_a_token_with_other_claims_keeps_the_rest(auth: Authenticator, me: HttpSession) -> None:
    token = auth.token_with_claims("dispatcher", {"role": "technician", "tenant": 7, "exp": None})

    claims = ask_me(me, token).json()["claims"]
    assert claims["role"] == "technician" and claims["tenant"] == 7
    assert claims["sub"] == "dora" and "exp" not in claims
    expired = auth.token_with_claims("dispatcher", {"exp": int(time.time()) - 10})
    assert ask_me(me, expired).json() == {"error": "token expired"}


def test_unknown_user_names_the_known_ones(auth: Authenticator) -> None:
    with pytest.raises(InterlockError) as caught:
        auth.credentials_for("dispacher", where="orders.feature:12")

    text = str(caught.value)
    assert 'Unknown user "dispacher"' in text
    assert "where: orders.feature:12" in text
    assert 'did you mean "dispatcher"?' in text and '"technician"' in text


def test_a_failed_login_says_where_and_hides_the_password(
    make_auth: Callable[..., Authenticator], app: LocalApp, reporter: MemoryReporter
) -> None:
    wrong = "canary-wrong-password-5555"
    auth = make_auth(
        {
            "customer": {
                "login": {
                    "service": "auth",
                    "path": "/auth/login",
                    "json": {"username": "alice", "password": wrong},
                }
            }
        }
    )

    with pytest.raises(InterlockError) as caught:
        auth.credentials_for("customer", where="orders.feature:3")

    text = str(caught.value)
    assert f'Login as "customer" failed: POST {app.url}/auth/login answered 401' in text
    assert '"error": "bad credentials"' in text and '"password": "***"' in text
    assert "where: orders.feature:3 (auth.users.customer)" in text
    assert wrong not in text + str(reporter.attachments)


def test_a_login_with_the_token_elsewhere_says_so(make_auth: Callable[..., Authenticator]) -> None:
    users = {"customer": {"login": {**USERS["customer"]["login"], "token": "$.jwt"}}}

    with pytest.raises(InterlockError) as caught:
        make_auth(users).credentials_for("customer")

    text = str(caught.value)
    assert 'Login as "customer" gave no token' in text
    assert "no value at $.jwt" in text and '"token_type"' in text
    assert 'Set "token" under auth.users.customer' in text


def test_an_unreachable_login_service_is_named(make_auth: Callable[..., Authenticator]) -> None:
    users = {
        "robot": {
            "oauth2": {**USERS["robot"]["oauth2"], "token_url": "http://127.0.0.1:9/oauth/token"}
        }
    }

    with pytest.raises(InterlockError) as caught:
        make_auth(users).credentials_for("robot")

    assert "Cannot reach the server: POST http://127.0.0.1:9/oauth/token" in str(caught.value)


def test_tokens_cannot_be_made_from_what_is_not_a_jwt(
    make_auth: Callable[..., Authenticator],
) -> None:
    opaque = {
        "customer": {"login": {**USERS["customer"]["login"], "token": "$.token_type"}},
        "alice": USERS["alice"],
    }
    auth = make_auth(opaque)
    unsigned = make_auth(signing=None)

    for attempt, expected in (
        (lambda: auth.expired_token("customer"), "their token is not a JWT"),
        (lambda: auth.token_with_claims("alice", {}), "they log in with basic auth"),
        (lambda: unsigned.expired_token("customer"), "auth.signing is not configured"),
        (lambda: unsigned.credentials_for("technician"), "auth.signing is not configured"),
    ):
        with pytest.raises(InterlockError, match=expected):
            attempt()


def test_no_password_token_or_client_secret_is_ever_shown(
    auth: Authenticator, reporter: MemoryReporter, me: HttpSession, app: LocalApp
) -> None:
    minted = []
    for user in USERS:
        credentials = auth.credentials_for(user)
        ask_me(me, credentials)
        if isinstance(credentials, BearerToken):
            minted.append(credentials.token)
    minted += [
        auth.expired_token("customer").token,
        auth.token_signed_with_wrong_key("robot").token,
        auth.token_with_claims("carol", {"role": "admin"}).token,
    ]
    ask_me(me, BearerToken(minted[-1]))

    shown = "\n".join(f"{name}\n{body}" for name, body, _ in reporter.attachments)
    shown += "\n".join(e.curl() for e in [me.last] if e)
    assert app.hits["/auth/login"] == 2 and app.hits["/oauth/token"] == 3
    assert len(minted) == 9
    for canary in (
        ALICE_PASSWORD,
        DORA_PASSWORD,
        CAROL_PASSWORD,
        ROBOT_SECRET,
        app.keys.hs_secret,
        *minted,
    ):
        assert canary not in shown, canary
    assert "Authorization: ***" in shown and "password=***" in shown
