"""The auth service: login (JSON and form), verify, and every way a token can be refused."""

from __future__ import annotations

import time

import jwt
from demo_client import Api
from demo_stack import SECRET, Demo


def test_login_with_json_gives_a_bearer_token_with_the_users_role(api: Api) -> None:
    answer = api.call("auth", "POST", "/auth/login", json={"username": "dora",
                                                          "password": "pw-for-tests"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["role"] == "dispatcher"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], issuer="demo-auth")
    assert claims["sub"] == "dora" and claims["role"] == "dispatcher"
    assert claims["exp"] - claims["iat"] == body["expires_in"]


def test_login_with_a_form_works_too(api: Api) -> None:
    answer = api.call("auth", "POST", "/auth/login",
                      data={"username": "tom", "password": "pw-for-tests",
                            "grant_type": "password"})
    assert answer.status_code == 200 and answer.json()["role"] == "technician"


def test_bad_credentials_are_401(api: Api) -> None:
    for name, password in [("dora", "wrong"), ("nobody", "pw-for-tests")]:
        answer = api.call("auth", "POST", "/auth/login",
                          json={"username": name, "password": password})
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid username or password"}


def test_malformed_and_incomplete_logins(api: Api) -> None:
    answer = api.call("auth", "POST", "/auth/login", data="{not json",
                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "malformed JSON" in answer.json()["error"]
    answer = api.call("auth", "POST", "/auth/login", json={"username": "dora"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "password", "message": "must be a non-empty string"}]


def test_verify_returns_the_claims_of_a_good_token(api: Api) -> None:
    answer = api.call("auth", "POST", "/auth/verify", user="ada")
    assert answer.status_code == 200
    body = answer.json()
    assert body["sub"] == "ada" and body["role"] == "admin" and body["exp"] > time.time()


def mint(claims: dict[str, object], key: str = SECRET) -> str:
    now = int(time.time())
    base = {"sub": "dora", "role": "dispatcher", "iat": now, "exp": now + 60, "iss": "demo-auth"}
    return jwt.encode({**base, **claims}, key, algorithm="HS256")


def test_verify_refuses_each_kind_of_bad_token_and_says_why(api: Api) -> None:
    cases = {
        "token expired": mint({"iat": int(time.time()) - 120, "exp": int(time.time()) - 60}),
        "invalid signature": mint({}, key="another-key-that-is-long-enough-for-hs256!"),
        "malformed token": "not.a.jwt",
        "invalid issuer (expected demo-auth)": mint({"iss": "someone-else"}),
        "unknown role 'pirate'": mint({"role": "pirate"}),
    }
    for reason, token in cases.items():
        answer = api.call("auth", "POST", "/auth/verify", token=token)
        assert answer.status_code == 401, reason
        assert answer.json() == {"error": reason}
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    answer = api.call("auth", "POST", "/auth/verify")
    assert answer.status_code == 401 and answer.json() == {"error": "missing bearer token"}


def test_no_service_logs_a_password_a_token_or_the_key(api: Api, demo: Demo) -> None:
    token = api.token("alice")
    api.call("auth", "POST", "/auth/verify", token=token)
    api.call("orders", "GET", "/orders/not-mine", token=token)
    assert "POST /auth/verify -> 200" in demo.services["auth"].log()
    assert "GET /orders/not-mine -> 404" in demo.services["orders"].log()
    for name, server in demo.services.items():
        log = server.log()
        for secret in (token, "pw-for-tests", SECRET):
            assert secret not in log, f"{name} logged a secret"
