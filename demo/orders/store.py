"""The orders tables in PostgreSQL: ``orders``, ``order_items``, ``order_events`` (the audit).

    async with pool.connection() as conn:
        await create_tables(conn)
        order = await insert_order(conn, new_order)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from demo.orders.model import STAMPS, as_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id            uuid PRIMARY KEY,
    customer_id   text NOT NULL,
    status        text NOT NULL
                  CHECK (status IN ('pending', 'assigned', 'in_progress', 'completed')),
    address       text,
    technician_id text,
    created_at    timestamptz NOT NULL,
    assigned_at   timestamptz,
    started_at    timestamptz,
    completed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status);
CREATE TABLE IF NOT EXISTS order_items (
    order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line       integer NOT NULL,
    product_id text NOT NULL,
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    PRIMARY KEY (order_id, line)
);
CREATE TABLE IF NOT EXISTS order_events (
    id       bigserial PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_id uuid NOT NULL UNIQUE,
    type     text NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_order_id_idx ON order_events (order_id);
"""


async def create_tables(conn: AsyncConnection[Any]) -> None:
    """Idempotent DDL; the advisory lock keeps two starting instances from racing."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('demo.orders.schema'))")
        await conn.execute(SCHEMA)


async def _items(conn: AsyncConnection[Any], ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {order_id: [] for order_id in ids}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT order_id, product_id, quantity FROM order_items"
                          " WHERE order_id = ANY(%s) ORDER BY order_id, line", (ids,))
        for row in await cur.fetchall():
            found[row["order_id"]].append(row)
    return found


async def insert_order(conn: AsyncConnection[Any], customer_id: str, items: list[dict[str, Any]],
                       address: str | None, at: datetime, event_id: uuid.UUID) -> dict[str, Any]:
    """Write a pending order, its items and its OrderCreated audit row in one transaction."""
    order_id = uuid.uuid4()
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO orders (id, customer_id, status, address, created_at)"
            " VALUES (%s, %s, 'pending', %s, %s) RETURNING *",
            (order_id, customer_id, address, at))
        row = await cur.fetchone()
        await cur.executemany(
            "INSERT INTO order_items (order_id, line, product_id, quantity)"
            " VALUES (%s, %s, %s, %s)",
            [(order_id, line, item["productId"], item["quantity"])
             for line, item in enumerate(items, start=1)])
        await cur.execute("INSERT INTO order_events (order_id, event_id, type, at)"
                          " VALUES (%s, %s, 'OrderCreated', %s)", (order_id, event_id, at))
    assert row is not None
    return as_json(row, [{"product_id": i["productId"], "quantity": i["quantity"]}
                         for i in items])


async def find_order(conn: AsyncConnection[Any], order_id: uuid.UUID) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
        row = await cur.fetchone()
    if row is None:
        return None
    return as_json(row, (await _items(conn, [order_id]))[order_id])


async def list_orders(conn: AsyncConnection[Any], status: str | None, customer_id: str | None,
                      limit: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT * FROM orders WHERE (%(status)s::text IS NULL OR status = %(status)s)"
            " AND (%(customer)s::text IS NULL OR customer_id = %(customer)s)"
            " ORDER BY created_at DESC, id LIMIT %(limit)s",
            {"status": status, "customer": customer_id, "limit": limit})
        rows = await cur.fetchall()
    items = await _items(conn, [row["id"] for row in rows])
    return [as_json(row, items[row["id"]]) for row in rows]


async def change_order(conn: AsyncConnection[Any], order_id: uuid.UUID, action: str,
                       new_status: str, event_type: str, at: datetime, event_id: uuid.UUID,
                       check: Callable[[dict[str, Any]], None],
                       technician_id: str | None = None) -> dict[str, Any] | None:
    """Lock the order, let ``check`` refuse (it raises), then move it on. None if not found."""
    stamp = STAMPS[action]
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,))
        row = await cur.fetchone()
        if row is None:
            return None
        check(as_json(row, []))
        await cur.execute(
            sql.SQL("UPDATE orders SET status = %s, {} = %s,"
                    " technician_id = COALESCE(%s, technician_id) WHERE id = %s RETURNING *"
                    ).format(sql.Identifier(stamp)),
            (new_status, at, technician_id, order_id))
        row = await cur.fetchone()
        await cur.execute("INSERT INTO order_events (order_id, event_id, type, at)"
                          " VALUES (%s, %s, %s, %s)", (order_id, event_id, event_type, at))
    assert row is not None
    return as_json(row, (await _items(conn, [order_id]))[order_id])
