"""The analytics service: the ``orders.*`` consumer and ``GET /metrics/orders/{id}``.

    app = build_app()   # reads ANALYTICS_DATABASE_URL, NATS_URL, AUTH_URL

Events may come twice or late: each one only fills its own column of the timeline, so
replaying them changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from psycopg import sql
from psycopg.rows import dict_row

from demo.bearer import Caller, TokenVerifier, current_caller
from demo.bus import Message
from demo.clock import parse_rfc3339, rfc3339
from demo.connections import Connections, parse_event
from demo.service import ApiError, ConfigError, create_app, env

log = logging.getLogger("analytics")
Who = Annotated[Caller, Depends(current_caller)]
COLUMNS = {"orders.created": "created_at", "orders.assigned": "assigned_at",
           "orders.started": "started_at", "orders.completed": "completed_at"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_timelines (
    order_id      text PRIMARY KEY,
    customer_id   text,
    technician_id text,
    created_at    timestamptz,
    assigned_at   timestamptz,
    started_at    timestamptz,
    completed_at  timestamptz
);
"""


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def metrics(row: dict[str, Any]) -> dict[str, Any]:
    """The timeline of one order and the time between its steps (null when a step is unknown)."""
    created, assigned, started, completed = (row["created_at"], row["assigned_at"],
                                             row["started_at"], row["completed_at"])
    return {
        "orderId": row["order_id"], "customerId": row["customer_id"],
        "technicianId": row["technician_id"], "createdAt": rfc3339(created),
        "assignedAt": rfc3339(assigned), "startedAt": rfc3339(started),
        "completedAt": rfc3339(completed),
        "durations": {
            "toAssignSeconds": _seconds(created, assigned),
            "toStartSeconds": _seconds(assigned, started),
            "workSeconds": _seconds(started, completed),
            "toCompleteSeconds": _seconds(created, completed),
        },
    }


def build_app() -> FastAPI:
    """The analytics app, configured from the environment."""
    values = {name: env(name) for name in ("ANALYTICS_DATABASE_URL", "NATS_URL", "AUTH_URL")}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigError("analytics", f"{', '.join(missing)} not set")
    links = Connections("analytics", values["ANALYTICS_DATABASE_URL"] or "",
                        values["NATS_URL"] or "", log)
    verifier = TokenVerifier(values["AUTH_URL"] or "", 1.0, log)

    async def handle(message: Message) -> None:
        assert links.pool is not None
        column = COLUMNS.get(message.subject)
        if column is None:  # orders.dlq and subjects added later are not ours
            await message.ack()
            return
        body = parse_event(message.data) or {}
        order_id = body.get("orderId")
        at = parse_rfc3339(body.get("completedAt") or body.get("occurredAt"))
        if not isinstance(order_id, str) or not order_id or at is None:
            log.warning("skipping a malformed event on %s (needs orderId and occurredAt)",
                        message.subject)
            await message.ack()
            return
        customer, technician = body.get("customerId"), body.get("technicianId")
        query = sql.SQL(
            "INSERT INTO order_timelines AS t (order_id, customer_id, technician_id, {column})"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (order_id) DO UPDATE SET"
            " {column} = EXCLUDED.{column},"
            " customer_id = COALESCE(EXCLUDED.customer_id, t.customer_id),"
            " technician_id = COALESCE(EXCLUDED.technician_id, t.technician_id)"
        ).format(column=sql.Identifier(column))
        async with links.pool.connection() as conn:
            await conn.execute(query, (
                order_id, customer if isinstance(customer, str) else None,
                technician if isinstance(technician, str) else None, at))
        log.info("order %s: %s recorded", order_id, column)
        await message.ack()

    async def setup(links: Connections) -> None:
        assert links.pool is not None
        async with links.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('demo.analytics'))")
            await conn.execute(SCHEMA)
        links.start(await links.bus.consumer("orders.*", "analytics", handle))

    app = create_app("analytics", links.lifespan(setup, verifier), links.readiness)
    links.install(app)

    @app.get("/metrics/orders/{order_id}")
    async def order_metrics(order_id: str, caller: Who) -> JSONResponse:
        async with links.pool_ready().connection() as conn, conn.cursor(
                row_factory=dict_row) as cur:
            await cur.execute("SELECT * FROM order_timelines WHERE order_id = %s", (order_id,))
            row = await cur.fetchone()
        if row is None or row["completed_at"] is None:
            raise ApiError(404, f"no metrics for order {order_id!r} yet (it is not completed)")
        return JSONResponse(metrics(row))

    return app
