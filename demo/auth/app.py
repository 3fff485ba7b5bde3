"""The auth service's HTTP API: ``POST /auth/login`` and ``POST /auth/verify``.

    app = build_app()   # reads AUTH_JWT_SECRET, AUTH_USERS_FILE, AUTH_DEFAULT_PASSWORD,
                        # AUTH_TOKEN_TTL
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from demo.auth.users import ROLES, load_users
from demo.service import ApiError, ConfigError, Readiness, create_app, env, read_json

ISSUER = "demo-auth"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
log = logging.getLogger("auth")


def build_app() -> FastAPI:
    """The auth app, configured from the environment (raises ConfigError on a bad value)."""
    secret = env("AUTH_JWT_SECRET")
    if secret is None:
        raise ConfigError("auth", "AUTH_JWT_SECRET is not set (the HS256 signing key)")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError("auth", f"AUTH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    ttl_text = env("AUTH_TOKEN_TTL", "3600") or "3600"
    if not ttl_text.isdigit() or int(ttl_text) < 1:
        raise ConfigError("auth", f"AUTH_TOKEN_TTL must be a positive number of seconds, "
                                  f"not {ttl_text!r}")
    ttl = int(ttl_text)
    try:
        users = load_users(env("AUTH_USERS_FILE"), env("AUTH_DEFAULT_PASSWORD", "changeme")
                           or "changeme")
    except ValueError as error:
        raise ConfigError("auth", str(error)) from None

    readiness = Readiness(ready=True)  # no dependencies
    app = create_app("auth", None, readiness)
    log.info("auth: %d users, tokens valid %d s", len(users), ttl)

    @app.post("/auth/login")
    async def login(request: Request) -> JSONResponse:
        fields = await _credentials(request)
        user = users.get(fields["username"])
        if user is None or not user.has_password(fields["password"]):
            log.info("login refused for %r", fields["username"])
            raise ApiError(401, "invalid username or password")
        now = int(time.time())
        claims = {"sub": user.username, "role": user.role, "iat": now, "exp": now + ttl,
                  "iss": ISSUER}
        token = jwt.encode(claims, secret, algorithm=ALGORITHM)
        log.info("login ok for %r (role %s)", user.username, user.role)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl,
                             "role": user.role}, headers={"Cache-Control": "no-store"})

    @app.post("/auth/verify")
    async def verify(request: Request) -> JSONResponse:
        claims = _verified_claims(request.headers.get("authorization", ""), secret)
        return JSONResponse({"sub": claims["sub"], "role": claims["role"], "exp": claims["exp"]})

    return app


async def _credentials(request: Request) -> dict[str, str]:
    """username and password from a JSON or a form-encoded body."""
    content_type = request.headers.get("content-type", "").lower()
    data: Any
    if content_type.startswith("application/x-www-form-urlencoded"):
        raw = (await request.body()).decode("utf-8", errors="replace")
        data = {key: values[0] for key, values in parse_qs(raw).items()}
    else:
        data = await read_json(request)
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object with username and password")
    errors = [{"field": name, "message": "must be a non-empty string"}
              for name in ("username", "password")
              if not isinstance(data.get(name), str) or not data[name]]
    if errors:
        raise ApiError(422, "invalid fields", body={"errors": errors})
    return {"username": data["username"], "password": data["password"]}


def _refuse(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _verified_claims(header: str, secret: str) -> dict[str, Any]:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["sub", "role", "iat", "exp", "iss"]})
    except jwt.ExpiredSignatureError:
        raise _refuse("token expired") from None
    except jwt.InvalidSignatureError:
        raise _refuse("invalid signature") from None
    except jwt.InvalidAlgorithmError:
        raise _refuse(f"unsupported algorithm (only {ALGORITHM})") from None
    except jwt.DecodeError:
        raise _refuse("malformed token") from None
    except jwt.InvalidIssuerError:
        raise _refuse(f"invalid issuer (expected {ISSUER})") from None
    except jwt.MissingRequiredClaimError as error:
        raise _refuse(f"token lacks the {error.claim!r} claim") from None
    except jwt.InvalidTokenError as error:
        raise _refuse(f"invalid token: {error}") from None
    if claims["role"] not in ROLES:
        raise _refuse(f"unknown role {claims['role']!r}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise _refuse("the 'sub' claim must be a non-empty string")
    return claims
