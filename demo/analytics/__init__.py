"""The analytics service: how long orders take, from the order events.

It consumes ``orders.*`` (durable consumer ``analytics``) and keeps one timeline row per
order; ``GET /metrics/orders/{id}`` answers once the order is completed.
"""
