"""What an order is: the request it is made from, its states, its JSON, its events.

    >>> field_errors({"items": [{"productId": "p-1", "quantity": 0}]})
    [{'field': 'items[0].quantity', 'message': 'must be an integer from 1 to 100'}]
    >>> NEXT["start"]
    ('assigned', 'in_progress', 'OrderStarted')
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from demo.clock import rfc3339

STATUSES = ("pending", "assigned", "in_progress", "completed")
MAX_ITEMS = 50
MAX_QUANTITY = 100

# action -> (the status it needs, the status it leaves, the event it publishes)
NEXT = {
    "assign": ("pending", "assigned", "OrderAssigned"),
    "start": ("assigned", "in_progress", "OrderStarted"),
    "complete": ("in_progress", "completed", "OrderCompleted"),
}
SUBJECTS = {"OrderCreated": "orders.created", "OrderAssigned": "orders.assigned",
            "OrderStarted": "orders.started", "OrderCompleted": "orders.completed"}
STAMPS = {"assign": "assigned_at", "start": "started_at", "complete": "completed_at"}


def _is_text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and len(value.strip()) > 0 and len(value) <= longest


def field_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    """Every problem with a create-order body, each as ``{"field", "message"}``."""
    errors: list[dict[str, str]] = []
    items = body.get("items")
    if not isinstance(items, list) or not items:
        errors.append({"field": "items", "message": "must be a non-empty array of items"})
    elif len(items) > MAX_ITEMS:
        errors.append({"field": "items", "message": f"must hold at most {MAX_ITEMS} items"})
    else:
        for index, item in enumerate(items):
            where = f"items[{index}]"
            if not isinstance(item, dict):
                errors.append({"field": where, "message": "must be an object"})
                continue
            if not _is_text(item.get("productId"), 100):
                errors.append({"field": f"{where}.productId",
                               "message": "must be a non-empty string (at most 100 characters)"})
            quantity = item.get("quantity")
            if (not isinstance(quantity, int) or isinstance(quantity, bool)
                    or not 1 <= quantity <= MAX_QUANTITY):
                errors.append({"field": f"{where}.quantity",
                               "message": f"must be an integer from 1 to {MAX_QUANTITY}"})
    if "customerId" in body and body["customerId"] is not None and not isinstance(
            body["customerId"], str):
        errors.append({"field": "customerId", "message": "must be a string"})
    address = body.get("address")
    if address is not None and not _is_text(address, 500):
        errors.append({"field": "address",
                       "message": "must be a non-empty string (at most 500 characters)"})
    return errors


def as_json(row: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The order as the API shows it."""
    return {
        "id": str(row["id"]),
        "customerId": row["customer_id"],
        "status": row["status"],
        "items": [{"productId": item["product_id"], "quantity": item["quantity"]}
                  for item in items],
        "address": row["address"],
        "technicianId": row["technician_id"],
        "createdAt": rfc3339(row["created_at"]),
        "assignedAt": rfc3339(row["assigned_at"]),
        "startedAt": rfc3339(row["started_at"]),
        "completedAt": rfc3339(row["completed_at"]),
    }


def event(kind: str, order: dict[str, Any], event_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    """The event published for ``order`` (already in its new state)."""
    body: dict[str, Any] = {"eventId": str(event_id), "type": kind, "orderId": order["id"],
                            "occurredAt": rfc3339(at), "customerId": order["customerId"]}
    if kind == "OrderCreated":
        body["items"] = order["items"]
        body["address"] = order["address"]
    else:
        body["technicianId"] = order["technicianId"]
    if kind == "OrderCompleted":
        body["completedAt"] = order["completedAt"]
    return body
