"""Mosquitto (MQTT 3.1.1 and 5) as a built-in kind: Debian's ``mosquitto``, or
``eclipse-mosquitto:2``.

A config file under the working folder: one listener on 127.0.0.1:``ctx.port``, anonymous
clients allowed, no persistence, log to stdout.

Example (what the process backend does with it)::

    plan(KindContext("mqtt", workdir, port=11883)).url   # 'mqtt://127.0.0.1:11883'
"""

from __future__ import annotations

from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds._local import installed, no_options

CONFIG = """\
# written by interlock for service {name}
listener {port} {host}
allow_anonymous true
persistence false
log_dest stdout
log_timestamp true
"""


def plan(ctx: KindContext) -> ProcessPlan:
    """``mosquitto -c <workdir>/mosquitto.conf``."""
    no_options(ctx, "mosquitto")
    binary = installed("mosquitto", package="mosquitto")
    config = ctx.workdir / "mosquitto.conf"

    def prepare() -> None:
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        config.write_text(CONFIG.format(name=ctx.name, port=ctx.port, host="127.0.0.1"))

    return ProcessPlan(
        command=[binary, "-c", str(config)],
        port=ctx.port,
        url=f"mqtt://127.0.0.1:{ctx.port}",
        ready=ReadyCheck(kind="tcp", timeout=20),
        cwd=ctx.workdir,
        prepare=prepare,
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """``eclipse-mosquitto:2`` listening on 1883 inside the container."""
    no_options(ctx, "mosquitto")
    return DockerPlan(
        image="eclipse-mosquitto:2",
        container_port=1883,
        url_template="mqtt://{host}:{port}",
        ready=ReadyCheck(kind="tcp", timeout=30),
        # The image's default config only listens on localhost: write one that listens on all.
        command=[
            "sh", "-c",
            "printf 'listener 1883 0.0.0.0\\nallow_anonymous true\\npersistence false\\n"
            "log_dest stdout\\n' > /tmp/m.conf && exec mosquitto -c /tmp/m.conf",
        ],
    )

