"""notifications and analytics: what they make of the order events."""

from __future__ import annotations

import uuid
from typing import Any

from demo_bus import Bus
from demo_client import Api, check_event
from demo_stack import Demo, wait_until

ITEMS = [{"productId": "ladder", "quantity": 1}]


def assigned_event(technician: str, order_id: str | None = None,
                   event_id: str | None = None) -> dict[str, Any]:
    return {"eventId": event_id or str(uuid.uuid4()), "type": "OrderAssigned",
            "orderId": order_id or str(uuid.uuid4()), "occurredAt": "2025-01-31T09:30:00.000Z",
            "customerId": "alice", "technicianId": technician}


def notifications(api: Api, technician: str) -> list[dict[str, Any]]:
    answer = api.call("notifications", "GET", f"/notifications/{technician}", user="dora")
    assert answer.status_code == 200
    return list(answer.json())


def test_an_assignment_notifies_the_technician(api: Api, bus: Bus) -> None:
    order = api.call("orders", "POST", "/orders", user="alice", json={"items": ITEMS}).json()
    api.call("orders", "POST", f"/orders/{order['id']}/assign", user="dora",
             json={"technicianId": "tina"})
    sent = bus.wait(lambda: [e for e in bus.events("notifications.sent")
                             if e["orderId"] == order["id"]], 10, "notifications.sent")[0]
    check_event("notification-sent.schema.json", sent)
    answer = api.call("notifications", "GET", "/notifications/tina", user="tina")
    assert answer.status_code == 200
    mine = [n for n in answer.json() if n["orderId"] == order["id"]]
    assert mine == [sent]
    assert mine[0]["technicianId"] == "tina" and order["id"] in mine[0]["message"]
    assert api.call("notifications", "GET", "/notifications/tina", user="tom").status_code == 403
    assert api.call("notifications", "GET", "/notifications/tina",
                    user="alice").status_code == 403
    assert api.call("notifications", "GET", "/notifications/tina").status_code == 401


def test_a_repeated_event_makes_one_notification(api: Api, bus: Bus, demo: Demo) -> None:
    technician = f"tech-{uuid.uuid4().hex[:8]}"
    twice = assigned_event(technician)
    bus.publish("orders.assigned", twice)
    bus.publish("orders.assigned", twice)
    # The consumer works in stream order: once a later event is handled, both copies were.
    marker = assigned_event(technician)
    bus.publish("orders.assigned", marker)
    bus.wait(lambda: [e for e in bus.events("notifications.sent")
                      if e["eventId"] == marker["eventId"]], 10, "the marker's notification")
    assert [n["eventId"] for n in notifications(api, technician)] == [twice["eventId"],
                                                                       marker["eventId"]]
    assert len([e for e in bus.events("notifications.sent")
                if e["eventId"] == twice["eventId"]]) == 1
    with demo.db("notifications") as conn:
        count = conn.execute("SELECT count(*) FROM notifications WHERE event_id = %s",
                             (twice["eventId"],)).fetchone()
    assert count == (1,)


def test_malformed_events_go_to_the_dead_letter_subject(bus: Bus) -> None:
    order_id = str(uuid.uuid4())
    not_json = f"definitely not json {order_id}".encode()
    incomplete = {"eventId": str(uuid.uuid4()), "type": "OrderAssigned", "orderId": order_id}
    bus.publish("orders.assigned", not_json)
    bus.publish("orders.assigned", incomplete)

    def letters() -> list[dict[str, Any]]:
        return [e for e in bus.events("orders.dlq") if order_id in e["original"]]

    found = bus.wait(lambda: len(letters()) == 2 and letters(), 10, "two dead letters")
    for letter in found:
        check_event("dead-letter.schema.json", letter)
        assert letter["subject"] == "orders.assigned" and letter["service"] == "notifications"
    first, second = found
    assert first["reason"] == "not a JSON object" and first["original"] == not_json.decode()
    assert "orderId" not in first
    assert second["reason"] == "missing or empty technicianId"
    assert second["orderId"] == order_id


def test_analytics_measures_a_completed_order(api: Api) -> None:
    order = api.call("orders", "POST", "/orders", user="alice", json={"items": ITEMS}).json()
    path = f"/metrics/orders/{order['id']}"
    assert api.call("analytics", "GET", path, user="dora").status_code == 404
    for step, user, body in (("assign", "dora", {"technicianId": "tom"}), ("start", "tom", None),
                             ("complete", "tom", None)):
        answer = api.call("orders", "POST", f"/orders/{order['id']}/{step}", user=user,
                          json=body)
        assert answer.status_code == 200
    done = answer.json()

    def measured() -> Any:
        reply = api.call("analytics", "GET", path, user="dora")
        return reply.json() if reply.status_code == 200 else None

    metrics = wait_until(measured, 10, "the order's metrics")
    assert {key: metrics[key] for key in ("orderId", "createdAt", "assignedAt", "startedAt",
                                          "completedAt", "technicianId", "customerId")} == {
        "orderId": done["id"], "createdAt": done["createdAt"], "assignedAt": done["assignedAt"],
        "startedAt": done["startedAt"], "completedAt": done["completedAt"],
        "technicianId": "tom", "customerId": "alice"}
    durations = metrics["durations"]
    assert all(value is not None and value >= 0 for value in durations.values())
    assert durations["toCompleteSeconds"] >= durations["toAssignSeconds"]
    assert api.call("analytics", "GET", path).status_code == 401
    assert api.call("analytics", "GET", "/metrics/orders/nope", user="tom").status_code == 404
