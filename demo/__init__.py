"""A field-service orders system: the system under test of Interlock's reference suite.

Four HTTP services (``auth``, ``orders``, ``notifications``, ``analytics``) over PostgreSQL
and NATS JetStream. It is an ordinary application: it knows nothing about Interlock.

Run one service::

    python -m demo.orders --port 8081
    python -m demo orders --port 8081      # the same, as the Docker image runs it
"""

SERVICES = ("auth", "orders", "notifications", "analytics")
