"""What every demo service shares: command line, logging, JSON errors, request log, health.

A service builds its FastAPI app with :func:`create_app` and runs it with :func:`run`::

    app = create_app("auth", lifespan=None)
    run(lambda: app, "auth", ["--port", "8001"])

Errors are always JSON: ``{"error": "..."}`` (``{"errors": [...]}`` for field errors, 422).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

CONTRACTS = Path(__file__).parent / "contracts"
DEFAULT_PORTS = {"auth": 8001, "orders": 8002, "notifications": 8003, "analytics": 8004}


class ApiError(Exception):
    """An HTTP error answered as JSON: ``raise ApiError(404, "order not found")``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"error": message}
        self.headers = dict(headers or {})


class ConfigError(SystemExit):
    """A bad environment variable: the service refuses to start and says which one."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: configuration error: {message}")


@dataclass
class Readiness:
    """Whether the service's dependencies are connected; ``/health`` answers from it."""

    ready: bool = False
    reason: str = "connecting to dependencies"
    checks: list[Callable[[], str | None]] = field(default_factory=list)

    def problem(self) -> str | None:
        if not self.ready:
            return self.reason
        for check in self.checks:
            trouble = check()
            if trouble:
                return trouble
        return None


def env(name: str, default: str | None = None) -> str | None:
    """An environment variable, with empty meaning unset."""
    value = os.environ.get(name, "")
    return value if value else default


def public_url(url: str) -> str:
    """``url`` without its user and password, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def connect_in_background(
    connect: Callable[[], Awaitable[None]], readiness: Readiness, log: logging.Logger
) -> asyncio.Task[None]:
    """Run ``connect`` until it succeeds (retrying), then mark the service ready.

    Serving starts at once so that ``/health`` can say 503 while PostgreSQL or NATS are
    still starting (as they do under docker compose).
    """

    async def attempt() -> None:
        delay = 0.05  # start quick: under a test stack the dependency is usually a moment away
        while True:
            try:
                await connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure means "not yet": retry
                readiness.reason = f"waiting for dependencies: {type(error).__name__}"
                log.warning("dependencies not ready (%s: %s); retrying in %.1f s",
                            type(error).__name__, str(error).splitlines()[0] if str(error)
                            else "", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 2.0)
            else:
                readiness.ready = True
                log.info("dependencies connected; ready")
                return

    return asyncio.create_task(attempt())


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(name: str, lifespan: Lifespan | None, readiness: Readiness) -> FastAPI:
    """A FastAPI app with the shared behaviour: JSON errors, request log, /health, contract."""
    log = logging.getLogger(name)
    # FastAPI's generated document is switched off: the hand-written contract is the truth.
    app = FastAPI(title=f"demo {name}", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.readiness = readiness

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> Response:
        return JSONResponse(error.body, status_code=error.status, headers=error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> Response:
        message = error.detail if isinstance(error.detail, str) else "request failed"
        return JSONResponse({"error": message.lower()}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.middleware("http")
    async def log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                          ) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            response = JSONResponse({"error": "internal error"}, status_code=500)
        # The path only: query strings and headers may carry secrets.
        log.info("%s %s -> %d (%.1f ms)", request.method, request.url.path,
                 response.status_code, (time.perf_counter() - started) * 1000)
        return response

    @app.get("/health")
    async def health() -> Response:
        problem = readiness.problem()
        if problem:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    document = CONTRACTS / f"{name}.openapi.yaml"

    @app.get("/openapi.yaml")
    async def contract() -> Response:
        return Response(document.read_bytes(), media_type="application/yaml")

    return app


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a 400 naming what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "request body is empty; expected JSON")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"malformed JSON: {error}") from None


def run(app_factory: Callable[[], FastAPI], name: str, argv: list[str]) -> int:
    """Parse ``--host``/``--port`` (or ``HOST``/``PORT``), set up logging, serve until stopped."""
    parser = argparse.ArgumentParser(prog=f"python -m demo.{name}", description=f"demo {name}")
    parser.add_argument("--host", default=env("HOST", "127.0.0.1"),
                        help="address to bind (env HOST; default 127.0.0.1; 0.0.0.0 in Docker)")
    parser.add_argument("--port", type=int, default=int(env("PORT", str(DEFAULT_PORTS[name]))
                                                          or 0),
                        help=f"port to bind (env PORT; default {DEFAULT_PORTS[name]})")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("httpx", "httpcore", "psycopg.pool", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = app_factory()  # may raise ConfigError before anything is bound
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=5)
    return 0

