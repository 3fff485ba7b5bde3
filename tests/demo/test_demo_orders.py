"""The orders service: the lifecycle, who may do what, validation, events, rows written."""

from __future__ import annotations

import uuid
from typing import Any

from demo_bus import Bus
from demo_client import Api, check_event
from demo_stack import Demo

LIFECYCLE = ("orders.created", "orders.assigned", "orders.started", "orders.completed")
ITEMS = [{"productId": "drill-1", "quantity": 2}, {"productId": "bit-6mm", "quantity": 10}]


def place(api: Api, user: str = "alice", **extra: Any) -> dict[str, Any]:
    answer = api.call("orders", "POST", "/orders", user=user, json={"items": ITEMS, **extra})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_customer_places_an_order(api: Api, demo: Demo, bus: Bus) -> None:
    answer = api.call("orders", "POST", "/orders", user="alice",
                      json={"customerId": "c-1", "items": ITEMS, "address": "1 Main St"})
    assert answer.status_code == 201
    order = answer.json()
    assert answer.headers["Location"] == f"/orders/{order['id']}"
    assert order["customerId"] == "alice"  # the token's subject, whatever the body says
    assert order["status"] == "pending" and order["technicianId"] is None
    assert order["items"] == ITEMS and order["address"] == "1 Main St"
    assert uuid.UUID(order["id"]) and order["createdAt"].endswith("Z")

    created = bus.wait(lambda: [e for e in bus.events("orders.created")
                                if e["orderId"] == order["id"]], 10, "OrderCreated")[0]
    check_event("order-created.schema.json", created)
    assert created["type"] == "OrderCreated" and created["items"] == ITEMS
    assert created["customerId"] == "alice" and created["occurredAt"] == order["createdAt"]

    with demo.db("orders") as conn:
        row = conn.execute("SELECT customer_id, status FROM orders WHERE id = %s",
                           (order["id"],)).fetchone()
        items = conn.execute("SELECT product_id, quantity FROM order_items WHERE order_id = %s"
                             " ORDER BY line", (order["id"],)).fetchall()
        audit = conn.execute("SELECT type, event_id::text FROM order_events WHERE order_id = %s",
                             (order["id"],)).fetchall()
    assert row == ("alice", "pending")
    assert items == [("drill-1", 2), ("bit-6mm", 10)]
    assert audit == [("OrderCreated", created["eventId"])]


def test_the_whole_lifecycle_with_its_events_in_order(api: Api, bus: Bus) -> None:
    order = place(api)
    path = f"/orders/{order['id']}"
    assigned = api.call("orders", "POST", f"{path}/assign", user="dora",
                        json={"technicianId": "tom"})
    assert assigned.status_code == 200
    assert assigned.json()["status"] == "assigned" and assigned.json()["technicianId"] == "tom"
    started = api.call("orders", "POST", f"{path}/start", user="tom")
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    done = api.call("orders", "POST", f"{path}/complete", user="tom")
    assert done.status_code == 200
    assert done.json()["status"] == "completed" and done.json()["completedAt"] is not None
    assert api.call("orders", "GET", path, user="alice").json() == done.json()

    def mine() -> list[dict[str, Any]]:
        return [body for subject, body in bus.arrived() if subject in LIFECYCLE
                and body.get("orderId") == order["id"]]

    events = bus.wait(lambda: len(mine()) == 4 and mine(), 10, "the four events")
    assert [event["type"] for event in events] == ["OrderCreated", "OrderAssigned",
                                                   "OrderStarted", "OrderCompleted"]
    for event in events:
        kind = {"OrderCreated": "created", "OrderAssigned": "assigned",
                "OrderStarted": "started", "OrderCompleted": "completed"}[event["type"]]
        check_event(f"order-{kind}.schema.json", event)
    completed = next(e for e in events if e["type"] == "OrderCompleted")
    assert completed["completedAt"] == done.json()["completedAt"]
    assert completed["technicianId"] == "tom"


def test_who_may_do_what(api: Api) -> None:
    order = place(api, "alice")
    path = f"/orders/{order['id']}"
    assert api.call("orders", "GET", path, user="bob").status_code == 403
    assert api.call("orders", "GET", path, user="dora").status_code == 200
    assert api.call("orders", "GET", path, user="tina").status_code == 403
    assert api.call("orders", "POST", "/orders", user="dora",
                    json={"items": ITEMS}).status_code == 403
    refused = api.call("orders", "POST", f"{path}/assign", user="alice",
                       json={"technicianId": "tom"})
    assert refused.status_code == 403 and "dispatcher" in refused.json()["error"]
    assert api.call("orders", "POST", f"{path}/assign", user="ada",
                    json={"technicianId": "tom"}).status_code == 200
    assert api.call("orders", "GET", path, user="tom").status_code == 200
    assert api.call("orders", "POST", f"{path}/start", user="tina").status_code == 403
    assert api.call("orders", "POST", f"{path}/start", user="dora").status_code == 403


def test_illegal_transitions_are_409(api: Api) -> None:
    order = place(api)
    path = f"/orders/{order['id']}"
    early = api.call("orders", "POST", f"{path}/complete", user="tom")
    assert early.status_code == 403  # not assigned to tom (yet): identity before state
    assert api.call("orders", "POST", f"{path}/assign", user="dora",
                    json={"technicianId": "tom"}).status_code == 200
    again = api.call("orders", "POST", f"{path}/assign", user="dora",
                     json={"technicianId": "tina"})
    assert again.status_code == 409 and "assigned" in again.json()["error"]
    assert api.call("orders", "POST", f"{path}/complete", user="tom").status_code == 409
    assert api.call("orders", "POST", f"{path}/start", user="tom").status_code == 200
    assert api.call("orders", "POST", f"{path}/start", user="tom").status_code == 409


def test_unknown_orders_are_404(api: Api) -> None:
    for order_id in (str(uuid.uuid4()), "not-a-uuid"):
        answer = api.call("orders", "GET", f"/orders/{order_id}", user="dora")
        assert answer.status_code == 404 and order_id in answer.json()["error"]
        assert api.call("orders", "POST", f"/orders/{order_id}/assign", user="dora",
                        json={"technicianId": "tom"}).status_code == 404


def test_field_errors_are_422_and_all_listed(api: Api) -> None:
    answer = api.call("orders", "POST", "/orders", user="alice", json={"items": [
        {"productId": "", "quantity": 0}, {"productId": "p", "quantity": 101},
        {"productId": "p", "quantity": "2"}, {"productId": "p", "quantity": 1.5}]})
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [
        "items[0].productId", "items[0].quantity", "items[1].quantity", "items[2].quantity",
        "items[3].quantity"]
    bodies: list[dict[str, Any]] = [{}, {"items": []}, {"items": "drill"}]
    for body in bodies:
        answer = api.call("orders", "POST", "/orders", user="alice", json=body)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "items"
    order = place(api)
    answer = api.call("orders", "POST", f"/orders/{order['id']}/assign", user="dora", json={})
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"field": "technicianId",
                                         "message": "must be a non-empty string"}]}


def test_malformed_json_is_400(api: Api) -> None:
    for raw in ("{not json", "[1, 2]", ""):
        answer = api.call("orders", "POST", "/orders", user="alice", data=raw,
                          headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, raw


def test_missing_or_refused_tokens_are_401_with_a_challenge(api: Api) -> None:
    for token, reason in ((None, "missing bearer token"), ("not.a.jwt", "malformed token")):
        answer = api.call("orders", "GET", "/orders", token=token)
        assert answer.status_code == 401 and answer.json() == {"error": reason}
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_dispatchers_list_orders_by_status_and_customer(api: Api) -> None:
    mine = place(api, "bob")
    listed = api.call("orders", "GET", "/orders", user="dora",
                      params={"status": "pending", "customerId": "bob"})
    assert listed.status_code == 200
    assert mine["id"] in [order["id"] for order in listed.json()]
    assert {(o["status"], o["customerId"]) for o in listed.json()} == {("pending", "bob")}
    assert api.call("orders", "GET", "/orders", user="bob").status_code == 403
    wrong = api.call("orders", "GET", "/orders", user="dora", params={"status": "lost"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "status"


def test_order_creation_is_rate_limited_per_user(api: Api, extra: Any) -> None:
    orders = extra("orders", ORDERS_RATE_LIMIT="3/60")
    statuses = [api.call("orders", "POST", "/orders", user="carol", base=orders.url,
                         json={"items": ITEMS}).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    limited = api.call("orders", "POST", "/orders", user="carol", base=orders.url,
                       json={"items": ITEMS})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = api.call("orders", "POST", "/orders", user="bob", base=orders.url,
                     json={"items": ITEMS})
    assert other.status_code == 201  # the limit is per user
