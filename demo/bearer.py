"""Bearer tokens checked by asking the auth service, as orders, notifications and analytics do.

    verifier = TokenVerifier("http://127.0.0.1:8001", timeout=1.0, log=logging.getLogger("x"))
    caller = await verifier.caller(request)      # Caller(sub="alice", role="customer")
    caller.require("dispatcher", "admin")        # ApiError 403 otherwise

Missing or refused tokens are 401 with ``WWW-Authenticate: Bearer``; an auth service that is
slow (timeout) or down (connection refused) is 503 ``{"error": "auth unavailable"}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from fastapi import Request

from demo.service import ApiError
from demo.tracing import passed_on

CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    """Who sent the request, as the auth service vouched for it."""

    sub: str
    role: str

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise ApiError(403, f"role {self.role!r} may not do this (needs {' or '.join(roles)})")


class TokenVerifier:
    """Asks ``POST {auth_url}/auth/verify`` about every request's token."""

    def __init__(self, auth_url: str, timeout: float, log: logging.Logger) -> None:
        self.url = auth_url.rstrip("/") + "/auth/verify"
        self.timeout = timeout
        self.log = log
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    async def close(self) -> None:
        await self.client.aclose()

    async def caller(self, request: Request) -> Caller:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing bearer token", headers=CHALLENGE)
        try:
            answer = await self.client.post(
                self.url, headers={"Authorization": f"Bearer {token.strip()}",
                                   **passed_on(request.headers.get("traceparent"))})
        except httpx.TimeoutException:
            self.log.warning("token verification timed out after %.2f s", self.timeout)
            raise ApiError(503, "auth unavailable") from None
        except httpx.TransportError as error:
            self.log.warning("auth unreachable (%s)", type(error).__name__)
            raise ApiError(503, "auth unavailable") from None
        if answer.status_code == 401:
            reason = _error_text(answer) or "invalid token"
            raise ApiError(401, reason,
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if answer.status_code != 200:
            self.log.warning("auth answered %d to a token verification", answer.status_code)
            raise ApiError(503, "auth unavailable")
        try:
            data = answer.json()
            return Caller(sub=str(data["sub"]), role=str(data["role"]))
        except (ValueError, KeyError, TypeError):
            self.log.warning("auth answered a verification without sub and role")
            raise ApiError(503, "auth unavailable") from None


def _error_text(answer: httpx.Response) -> str | None:
    try:
        data = answer.json()
    except ValueError:
        return None
    return data.get("error") if isinstance(data, dict) else None


async def current_caller(request: Request) -> Caller:
    """FastAPI dependency: the verified caller of this request (app.state.verifier)."""
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.caller(request)
