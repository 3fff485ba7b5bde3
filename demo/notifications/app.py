"""The notifications service: the ``orders.assigned`` consumer and its HTTP API.

    app = build_app()   # reads NOTIFICATIONS_DATABASE_URL, NATS_URL, AUTH_URL

``GET /notifications/{technicianId}``: that technician's notifications, oldest first
(the technician themself, a dispatcher or an admin).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row

from demo.bearer import Caller, TokenVerifier, current_caller
from demo.bus import Message
from demo.clock import now, rfc3339
from demo.connections import Connections, parse_event
from demo.service import ApiError, ConfigError, create_app, env
from demo.stream import DEAD_LETTER_SUBJECT

log = logging.getLogger("notifications")
Who = Annotated[Caller, Depends(current_caller)]
SENT_SUBJECT = "notifications.sent"
REQUIRED = ("eventId", "orderId", "technicianId")

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id            uuid PRIMARY KEY,
    event_id      text NOT NULL,
    order_id      text NOT NULL,
    technician_id text NOT NULL,
    message       text NOT NULL,
    created_at    timestamptz NOT NULL,
    CONSTRAINT notifications_once_per_event UNIQUE (event_id, technician_id)
);
CREATE INDEX IF NOT EXISTS notifications_technician_idx ON notifications (technician_id);
"""


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "orderId": row["order_id"],
            "technicianId": row["technician_id"], "message": row["message"],
            "eventId": row["event_id"], "createdAt": rfc3339(row["created_at"])}


def dead_letter(reason: str, message: Message, body: dict[str, Any] | None) -> dict[str, Any]:
    """What goes to ``orders.dlq``: why, the original text, and the order when known."""
    letter: dict[str, Any] = {
        "reason": reason, "original": message.data.decode("utf-8", errors="replace"),
        "subject": message.subject, "service": "notifications", "occurredAt": rfc3339(now())}
    if body is not None and isinstance(body.get("orderId"), str):
        letter["orderId"] = body["orderId"]
    return letter


def build_app() -> FastAPI:
    """The notifications app, configured from the environment."""
    values = {name: env(name) for name in ("NOTIFICATIONS_DATABASE_URL", "NATS_URL", "AUTH_URL")}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigError("notifications", f"{', '.join(missing)} not set")
    links = Connections("notifications", values["NOTIFICATIONS_DATABASE_URL"] or "",
                        values["NATS_URL"] or "", log)
    verifier = TokenVerifier(values["AUTH_URL"] or "", 1.0, log)

    async def handle(message: Message) -> None:
        assert links.pool is not None
        body = parse_event(message.data)
        reason = None
        if body is None:
            reason = "not a JSON object"
        else:
            missing = [key for key in REQUIRED
                       if not isinstance(body.get(key), str) or not body[key].strip()]
            if missing:
                reason = f"missing or empty {', '.join(missing)}"
        if reason is not None or body is None:
            letter = dead_letter(reason or "not a JSON object", message, body)
            await links.bus.publish(DEAD_LETTER_SUBJECT, json.dumps(letter).encode(),
                                    key=letter.get("orderId"))
            log.warning("dead-lettered an event from %s: %s", message.subject, letter["reason"])
            await message.ack()
            return
        text = f"Order {body['orderId']} has been assigned to you."
        async with links.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "INSERT INTO notifications (id, event_id, order_id, technician_id, message,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT ON CONSTRAINT notifications_once_per_event DO NOTHING RETURNING *",
                (uuid.uuid4(), body["eventId"], body["orderId"], body["technicianId"], text,
                 now()))
            row = await cur.fetchone()
        if row is None:
            log.info("event %s already notified; ignored", body["eventId"])
        else:
            notification = _as_json(row)
            await links.bus.publish(SENT_SUBJECT, json.dumps(notification).encode(),
                                    key=row["order_id"], stored=False)
            log.info("notified %r about order %s", row["technician_id"], row["order_id"])
        await message.ack()

    async def setup(links: Connections) -> None:
        assert links.pool is not None
        async with links.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('demo.notifications'))")
            await conn.execute(SCHEMA)
        links.start(await links.bus.consumer("orders.assigned", "notifications", handle))

    app = create_app("notifications", links.lifespan(setup, verifier), links.readiness)
    links.install(app)

    @app.get("/notifications/{technician_id}")
    async def notifications(technician_id: str, caller: Who) -> JSONResponse:
        caller.require("technician", "dispatcher", "admin")
        if caller.role == "technician" and caller.sub != technician_id:
            raise ApiError(403, "technicians may only read their own notifications")
        async with links.pool_ready().connection() as conn, conn.cursor(
                row_factory=dict_row) as cur:
            await cur.execute("SELECT * FROM notifications WHERE technician_id = %s"
                              " ORDER BY created_at, id", (technician_id,))
            rows = await cur.fetchall()
        return JSONResponse([_as_json(row) for row in rows])

    return app
