"""The notifications service: tells technicians about the orders assigned to them.

It consumes ``orders.assigned`` (durable consumer ``notifications``), stores one notification
per technician per event (a repeated event is ignored), dead-letters malformed events to
``orders.dlq`` and announces each new notification on ``notifications.sent``.
"""
