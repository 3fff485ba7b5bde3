"""RabbitMQ as a built-in kind: Debian's ``rabbitmq-server``, or ``rabbitmq:3-management``.

Everything the node writes lives under the working folder: its Mnesia database, logs, config,
enabled-plugins file and Erlang cookie (``HOME``). Nothing listens on a fixed port: AMQP on
``ctx.port``, Erlang distribution on ``RABBITMQ_DIST_PORT`` and epmd on ``ERL_EPMD_PORT``, both
free ports, all on 127.0.0.1. The node name is unique per run.

Why a wrapper shell: the node needs an epmd, and the epmd RabbitMQ would start by itself
daemonizes (a new session, outliving the node). So the wrapper starts epmd in the foreground
on the private port, waits for it, then ``exec``s the server: epmd, the server script and
``beam.smp`` share one process group, and stopping the group (SIGTERM, then SIGKILL) leaves
nothing behind.

Ready when the log says "Server startup complete" (logged after the AMQP listener started).

Example (what the process backend does with it)::

    ctx = KindContext("rabbit", workdir, port=15672, free_port=free_port)
    plan(ctx).url   # 'amqp://guest:guest@127.0.0.1:15672/%2F'
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from interlock._core.errors import InterlockError
from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds._local import no_options

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the real script; /usr/sbin's does `su`

READY = ReadyCheck(kind="log", pattern=r"Server startup complete", timeout=90)

# Waits for epmd by asking it (a condition), not for a fixed time; gives up after ~10 s.
WRAPPER = """\
epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
tries=0
until epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 200 ]; then echo "interlock: epmd did not start" >&2; exit 1; fi
  sleep 0.05
done
exec "$RABBITMQ_SERVER_SCRIPT"
"""


def plan(ctx: KindContext) -> ProcessPlan:
    """The RabbitMQ node for ``ctx``; extra addresses: ``node``, ``epmd_port``, ``dist_port``."""
    no_options(ctx, "rabbitmq")
    _require()
    workdir = ctx.workdir
    node = f"interlock-{_safe(ctx.name)}-{uuid.uuid4().hex[:8]}@localhost"
    dist_port, epmd_port = ctx.free_port(), ctx.free_port()
    if not dist_port or not epmd_port or len({ctx.port, dist_port, epmd_port}) < 3:
        raise InterlockError(
            "RabbitMQ needs three free ports (AMQP, Erlang distribution, epmd)",
            where=f"services.{ctx.name}",
            hint="The backend must give the kind a free_port function.",
        )
    env = {
        "HOME": str(workdir),  # the Erlang cookie goes here, not in root's home
        "RABBITMQ_SERVER_SCRIPT": SERVER,
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_USE_LONGNAME": "false",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(ctx.port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(workdir / "log"),
        "RABBITMQ_LOGS": "-",  # stdout: the process backend keeps the log
        "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(workdir / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),
        "RABBITMQ_PID_FILE": str(workdir / "rabbitmq.pid"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }

    def prepare() -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        _write(workdir / "rabbitmq.conf", "# written by interlock\nloopback_users.guest = true\n")
        _write(workdir / "advanced.config", "[].\n")
        _write(workdir / "enabled_plugins", "[].\n")
        _write(workdir / "rabbitmq-env.conf", "# empty: the environment comes from interlock\n")

    return ProcessPlan(
        command=["sh", "-c", WRAPPER],
        port=ctx.port,
        url=f"amqp://guest:guest@127.0.0.1:{ctx.port}/%2F",
        ready=READY,
        env=env,
        cwd=workdir,
        prepare=prepare,
        extra={"node": node, "epmd_port": str(epmd_port), "dist_port": str(dist_port)},
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """``rabbitmq:3-management`` (AMQP on 5672 inside the container)."""
    no_options(ctx, "rabbitmq")
    return DockerPlan(
        image="rabbitmq:3-management",
        container_port=5672,
        url_template="amqp://guest:guest@{host}:{port}/%2F",
        ready=ReadyCheck(kind="command", command=("rabbitmq-diagnostics", "-q", "check_running"),
                         timeout=90),
        # The official image already lets guest log in from outside the container.
    )


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)[:30] or "rabbit"



def _require() -> None:
    if not Path(SERVER).exists() or not shutil.which("epmd"):
        raise InterlockError(
            "rabbitmq-server is not installed",
            hint="Install the Debian package rabbitmq-server (`make test` installs it: "
            "scripts/servers.sh), or run this service with the docker backend.",
        )
