"""A tiny service for the Kafka suite test: it consumes ``payments.received`` in a consumer
group (joining after the scenario may already have published: it reads from the earliest
offset), drops duplicates by ``eventId``, sends a notification per payment (keyed by the
order, with a ``ce-type`` header) and routes what is not JSON to ``payments.dlq``.

Usage: python kafka_service.py kafka://127.0.0.1:9092
"""

from __future__ import annotations

import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic


def main(url: str) -> None:
    bootstrap = url.removeprefix("kafka://")
    topics = ["payments.received", "notifications.sent", "payments.dlq"]
    for future in AdminClient({"bootstrap.servers": bootstrap}).create_topics(
            [NewTopic(t, 1, 1) for t in topics]).values():
        try:
            future.result(10)
        except Exception:  # already there: a restart
            pass
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "notifier",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 1000,
                         "heartbeat.interval.ms": 100, "fetch.wait.max.ms": 10})
    consumer.subscribe(["payments.received"])
    print("notifier ready", flush=True)
    seen: set[str] = set()
    while True:
        message = consumer.poll(0.1)
        if message is None or message.error() is not None:
            continue
        body = message.value() or b""
        try:
            payment = json.loads(body)
        except ValueError as err:
            dead = {"error": str(err), "original": body.decode("utf-8", "replace")}
            producer.produce("payments.dlq", json.dumps(dead).encode(), key=message.key())
        else:
            if payment.get("eventId") in seen:
                continue
            seen.add(payment.get("eventId"))
            note = {"orderId": payment.get("orderId"), "eventId": payment.get("eventId")}
            producer.produce("notifications.sent", json.dumps(note).encode(),
                             key=str(payment.get("orderId")).encode(),
                             headers=[("ce-type", b"NotificationSent")])
        producer.flush(5)


if __name__ == "__main__":
    main(sys.argv[1])
