"""The orders service's HTTP API.

    app = build_app()   # reads ORDERS_DATABASE_URL, AUTH_URL, NATS_URL, ORDERS_AUTH_TIMEOUT,
                        # ORDERS_RATE_LIMIT, and PAYMENTS_URL, ORDERS_PAYMENT_TIMEOUT

``POST /orders`` (customer; with PAYMENTS_URL set, the order is charged first: see
payments.py), ``GET /orders/{id}``, ``GET /orders`` (dispatcher, admin),
``POST /orders/{id}/assign`` (dispatcher, admin), ``/start`` and ``/complete`` (the assigned
technician). Each change is committed, then published on ``orders.<created|assigned|...>``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from demo.bearer import Caller, TokenVerifier, current_caller
from demo.clock import now
from demo.connections import Connections
from demo.orders import store
from demo.orders.model import NEXT, STATUSES, SUBJECTS, event, field_errors
from demo.orders.payments import Payments
from demo.orders.ratelimit import RateLimit
from demo.service import ApiError, ConfigError, create_app, env, read_json

log = logging.getLogger("orders")
Who = Annotated[Caller, Depends(current_caller)]


def _config() -> tuple[str, str, str, float, RateLimit]:
    values = {name: env(name) for name in ("ORDERS_DATABASE_URL", "AUTH_URL", "NATS_URL")}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigError("orders", f"{', '.join(missing)} not set")
    timeout = _seconds("ORDERS_AUTH_TIMEOUT", "1.0")
    try:
        limit = RateLimit.parse(env("ORDERS_RATE_LIMIT", "100/60") or "100/60")
    except ValueError as error:
        raise ConfigError("orders", f"ORDERS_RATE_LIMIT: {error}") from None
    return (values["ORDERS_DATABASE_URL"] or "", values["AUTH_URL"] or "",
            values["NATS_URL"] or "", timeout, limit)


def _payments() -> Payments | None:
    url = env("PAYMENTS_URL")
    if not url:
        return None  # no provider configured: orders are not charged
    return Payments(url, _seconds("ORDERS_PAYMENT_TIMEOUT", "2.0"), log)


def _seconds(name: str, default: str) -> float:
    """A positive number of seconds from the environment variable ``name``."""
    text = env(name, default) or default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError("orders", f"{name} must be a positive number of seconds, "
                                    f"not {text!r}")
    return seconds


def _order_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ApiError(404, f"order {text!r} not found") from None


def build_app() -> FastAPI:
    """The orders app, configured from the environment (raises ConfigError on a bad value)."""
    database_url, auth_url, nats_url, auth_timeout, rate_limit = _config()
    links = Connections("orders", database_url, nats_url, log)
    verifier = TokenVerifier(auth_url, auth_timeout, log)
    payments = _payments()

    async def setup(links: Connections) -> None:
        assert links.pool is not None
        async with links.pool.connection() as conn:
            await store.create_tables(conn)

    app = create_app("orders", links.lifespan(setup, verifier,
                                              *([payments.close] if payments else [])),
                     links.readiness)
    links.install(app)

    async def publish(kind: str, order: dict[str, Any], event_id: uuid.UUID, at: Any) -> None:
        body = event(kind, order, event_id, at)
        try:
            # The event id lets JetStream drop a duplicate if this publish is ever retried;
            # the order id keys it on Kafka, so one order's events keep their order.
            await links.bus_ready().publish(SUBJECTS[kind], json.dumps(body).encode(),
                                            key=str(order["id"]), msg_id=str(event_id))
        except Exception as error:  # the order is committed; say loudly that its event is not
            log.error("publishing %s for order %s failed: %s", kind, order["id"],
                      error or type(error).__name__)
            return
        log.info("published %s for order %s", kind, order["id"])

    @app.post("/orders")
    async def create_order(request: Request, caller: Who) -> JSONResponse:
        caller.require("customer")
        wait = rate_limit.retry_after(caller.sub, time.monotonic())
        if wait is not None:
            log.info("rate limit: %r must wait %d s", caller.sub, wait)
            raise ApiError(429, f"too many orders; retry in {wait} s",
                           headers={"Retry-After": str(wait)})
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        errors = field_errors(body)
        if errors:
            raise ApiError(422, "invalid fields", body={"errors": errors})
        pool = links.pool_ready()
        at, event_id = now(), uuid.uuid4()
        if payments is not None:  # charged before the order exists: a refusal leaves none
            # The caller's trace context goes on to the provider, as a traced service does.
            charge = await payments.charge(caller.sub, str(event_id), body["items"],
                                           trace=request.headers.get("traceparent"))
            log.info("charged %s for %r", charge, caller.sub)
        async with pool.connection() as conn:
            order = await store.insert_order(conn, caller.sub, body["items"], body.get("address"),
                                             at, event_id)
        rate_limit.record(caller.sub, time.monotonic())
        log.info("order %s created for %r", order["id"], caller.sub)
        await publish("OrderCreated", order, event_id, at)
        return JSONResponse(order, status_code=201, headers={"Location": f"/orders/{order['id']}"})

    @app.get("/orders")
    async def list_orders(request: Request, caller: Who) -> JSONResponse:
        caller.require("dispatcher", "admin")
        query = request.query_params
        status, customer, limit_text = (query.get("status"), query.get("customerId"),
                                        query.get("limit", "100"))
        errors = []
        if status is not None and status not in STATUSES:
            errors.append({"field": "status", "message": f"must be one of {', '.join(STATUSES)}"})
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 500:
            errors.append({"field": "limit", "message": "must be an integer from 1 to 500"})
        if errors:
            raise ApiError(422, "invalid query", body={"errors": errors})
        async with links.pool_ready().connection() as conn:
            orders = await store.list_orders(conn, status, customer, int(limit_text))
        return JSONResponse(orders)

    @app.get("/orders/{order_id}")
    async def read_order(order_id: str, caller: Who) -> JSONResponse:
        async with links.pool_ready().connection() as conn:
            order = await store.find_order(conn, _order_id(order_id))
        if order is None:
            raise ApiError(404, f"order {order_id!r} not found")
        if caller.role == "customer" and order["customerId"] != caller.sub:
            raise ApiError(403, "customers may only read their own orders")
        if caller.role == "technician" and order["technicianId"] != caller.sub:
            raise ApiError(403, "technicians may only read the orders assigned to them")
        return JSONResponse(order)

    async def change(order_id: str, action: str, caller: Caller,
                     technician_id: str | None = None) -> JSONResponse:
        needed, new_status, kind = NEXT[action]

        def check(order: dict[str, Any]) -> None:
            if action != "assign" and order["technicianId"] != caller.sub:
                raise ApiError(403, f"only the assigned technician may {action} this order")
            if order["status"] != needed:
                raise ApiError(409, f"cannot {action} an order that is {order['status']} "
                                    f"(it must be {needed})")

        at, event_id = now(), uuid.uuid4()
        async with links.pool_ready().connection() as conn:
            order = await store.change_order(conn, _order_id(order_id), action, new_status, kind,
                                             at, event_id, check, technician_id)
        if order is None:
            raise ApiError(404, f"order {order_id!r} not found")
        log.info("order %s %s by %r", order["id"], new_status, caller.sub)
        await publish(kind, order, event_id, at)
        return JSONResponse(order)

    @app.post("/orders/{order_id}/assign")
    async def assign(order_id: str, request: Request, caller: Who) -> JSONResponse:
        caller.require("dispatcher", "admin")
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        technician = body.get("technicianId")
        if not isinstance(technician, str) or not technician.strip() or len(technician) > 100:
            raise ApiError(422, "invalid fields", body={"errors": [
                {"field": "technicianId", "message": "must be a non-empty string"}]})
        return await change(order_id, "assign", caller, technician)

    @app.post("/orders/{order_id}/start")
    async def start(order_id: str, caller: Who) -> JSONResponse:
        caller.require("technician")
        return await change(order_id, "start", caller)

    @app.post("/orders/{order_id}/complete")
    async def complete(order_id: str, caller: Who) -> JSONResponse:
        caller.require("technician")
        return await change(order_id, "complete", caller)

    return app
