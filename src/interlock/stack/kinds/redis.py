"""Redis as a built-in kind: Debian's ``redis-server``, or the ``redis:7`` image.

Nothing is persisted (no RDB snapshots, no AOF); the working folder is the server's ``dir``.
Options: ``password`` (sets ``requirepass``; the url carries it).

Example (what the process backend does with it)::

    plan(KindContext("cache", workdir, port=16379)).url   # 'redis://127.0.0.1:16379/0'
"""

from __future__ import annotations

from urllib.parse import quote

from interlock.stack.base import DockerPlan, KindContext, ProcessPlan, ReadyCheck
from interlock.stack.kinds._local import installed, known_options

OPTIONS = ("password",)


def plan(ctx: KindContext) -> ProcessPlan:
    """``redis-server`` on 127.0.0.1:``ctx.port``, data under ``ctx.workdir``."""
    password = _options(ctx)
    binary = installed("redis-server", package="redis-server")
    command = [
        binary,
        "--port", str(ctx.port),
        "--bind", "127.0.0.1",
        "--dir", str(ctx.workdir),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", "",  # stdout: the process backend keeps the log
        "--protected-mode", "yes",
    ]
    if password:
        command += ["--requirepass", password]
    return ProcessPlan(
        command=command,
        port=ctx.port,
        url=_url("127.0.0.1", str(ctx.port), password),
        ready=ReadyCheck(kind="tcp", timeout=20),
        cwd=ctx.workdir,
    )


def docker_plan(ctx: KindContext) -> DockerPlan:
    """The ``redis:7`` image (not pulled here: the Docker backend pulls it)."""
    password = _options(ctx)
    return DockerPlan(
        image="redis:7",
        container_port=6379,
        url_template=_url("{host}", "{port}", password),
        ready=ReadyCheck(kind="tcp", timeout=30),
        command=["redis-server", "--save", "", "--appendonly", "no"]
        + (["--requirepass", password] if password else []),
    )


def _options(ctx: KindContext) -> str:
    known_options(ctx, "redis", OPTIONS)
    password = ctx.options.get("password", "")
    return str(password) if password else ""


def _url(host: str, port: str, password: str) -> str:
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/0"
