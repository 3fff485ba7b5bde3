"""A service's PostgreSQL pool and event bus (NATS, or Kafka for a ``kafka://`` URL), opened in
the background with retries.

    links = Connections("orders", database_url, nats_url, log)
    app = create_app("orders", links.lifespan(setup, verifier), links.readiness)
    async with links.pool_ready().connection() as conn: ...

Until both are connected (and ``setup`` ran: tables, consumers) ``/health`` is 503 and the
endpoints that need them answer 503 ``{"error": "service starting"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from demo.bearer import TokenVerifier
from demo.bus import Bus, bus_for
from demo.service import ApiError, Lifespan, Readiness, connect_in_background, public_url

Setup = Callable[["Connections"], Awaitable[None]]


class Connections:
    """The pool, the event bus and the background tasks of one service."""

    def __init__(self, name: str, database_url: str, nats_url: str,
                 log: logging.Logger) -> None:
        self.name = name
        self.database_url = database_url
        self.nats_url = nats_url
        self.log = log
        self.pool: AsyncConnectionPool | None = None
        self.bus: Bus = bus_for(nats_url, name, log)
        self._bus_ready = False
        self.tasks: list[asyncio.Task[None]] = []
        self.readiness = Readiness(checks=[self._bus_problem])

    def _bus_problem(self) -> str | None:
        if not self.bus.connected:
            return "event bus disconnected"
        return None

    async def connect(self, setup: Setup) -> None:
        """One attempt; each step is skipped once done, so a retry resumes where it failed."""
        if self.pool is None:
            pool = AsyncConnectionPool(self.database_url, min_size=1, max_size=5, open=False,
                                       kwargs={"autocommit": True}, name=f"demo-{self.name}")
            try:
                await pool.open(wait=True, timeout=5)
            except BaseException:
                await pool.close()
                raise
            self.pool = pool
            self.log.info("connected to PostgreSQL at %s", public_url(self.database_url))
        if not self._bus_ready:
            await self.bus.connect()
            self._bus_ready = True
            self.log.info("connected to the event bus at %s", public_url(self.nats_url))
        await setup(self)

    def pool_ready(self) -> AsyncConnectionPool:
        if self.pool is None or not self.readiness.ready:
            raise ApiError(503, "service starting")
        return self.pool

    def bus_ready(self) -> Bus:
        if not self._bus_ready or not self.readiness.ready:
            raise ApiError(503, "service starting")
        return self.bus

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (a consumer's loop) until the service stops."""
        self.tasks.append(asyncio.create_task(work))

    def lifespan(self, setup: Setup, verifier: TokenVerifier,
                 *closers: Callable[[], Awaitable[None]]) -> Lifespan:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            app.state.verifier = verifier
            connecting = connect_in_background(lambda: self.connect(setup), self.readiness,
                                               self.log)
            try:
                yield
            finally:
                for task in [connecting, *self.tasks]:
                    task.cancel()
                await asyncio.gather(connecting, *self.tasks, return_exceptions=True)
                await self.bus.close()
                if self.pool is not None:
                    await self.pool.close()
                for close in (verifier.close, *closers):
                    try:
                        await close()
                    except Exception as error:  # close the others anyway
                        self.log.warning("closing a client failed: %s", error)
        return lifespan

    def install(self, app: FastAPI) -> None:
        """A database that goes away mid-request is a 503, not a 500."""

        async def unavailable(_: Request, error: Exception) -> JSONResponse:
            self.log.warning("database unavailable: %s", type(error).__name__)
            return JSONResponse({"error": "database unavailable"}, status_code=503)

        app.add_exception_handler(psycopg.OperationalError, unavailable)
        app.add_exception_handler(PoolTimeout, unavailable)


def parse_event(data: bytes) -> dict[str, Any] | None:
    """A message body as a JSON object, or None when it is not one."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
