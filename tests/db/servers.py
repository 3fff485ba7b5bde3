"""Real database servers for the db tests: a tiny runner for a ``ProcessPlan``.

Each server runs in its own process group with its output in a log file; readiness is
waited for with a deadline (the log is shown when it never comes) and stopping is SIGTERM to
the group, then SIGKILL — always, even when the test failed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from interlock.stack.base import ProcessPlan, ReadyCheck

PGSERVER_USER = "pgserver"  # pgserver's convention: postgres refuses to run as root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def let_traverse(path: Path) -> None:
    """Let other users pass through (not list) the folders above ``path``."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        # group too: a process demoted with only setuid keeps group root, and group bits
        # are checked before the bits for others
        if mode & (stat.S_IXGRP | stat.S_IXOTH) != stat.S_IXGRP | stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH)


def _ready(check: ReadyCheck, port: int, log: Path) -> bool:
    if check.kind == "command":
        done = subprocess.run(check.command, capture_output=True, timeout=10, check=False)
        return done.returncode == 0
    if check.kind == "log":
        import re

        return bool(re.search(check.pattern, log.read_text(errors="replace")))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running(plan: ProcessPlan, log: Path) -> Iterator[ProcessPlan]:
    """Run ``plan`` until the ``with`` block ends; yields the plan once it is ready."""
    if plan.prepare:
        plan.prepare()
    as_root = os.geteuid() == 0
    with open(log, "ab") as out:
        process = subprocess.Popen(
            plan.command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=plan.cwd,
            env={**os.environ, **plan.env},
            start_new_session=True,
            user=plan.user if plan.user and as_root else None,
        )
    try:
        deadline = time.monotonic() + plan.ready.timeout
        while not _ready(plan.ready, plan.port, log):
            if process.poll() is not None or time.monotonic() > deadline:
                state = f"exited {process.returncode}" if process.poll() is not None else "timeout"
                raise RuntimeError(
                    f"{plan.command[0]} not ready ({state}); log:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.05)  # probing, not waiting a fixed time: each probe is the condition
        if plan.after_ready:
            plan.after_ready()
        yield plan
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()
    with contextlib.suppress(ProcessLookupError):  # children that outlived their leader
        os.killpg(process.pid, signal.SIGKILL)


def postgres_plan(workdir: Path, port: int) -> ProcessPlan:
    """PostgreSQL from the pgserver wheel's binaries, on ``port`` of 127.0.0.1, trust auth."""
    from pgserver._commands import POSTGRES_BIN_PATH

    bin_dir = Path(POSTGRES_BIN_PATH)
    data = workdir / "data"
    as_root = os.geteuid() == 0
    user = PGSERVER_USER if as_root else None

    def prepare() -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        if as_root:
            from pgserver.utils import ensure_folder_permissions, ensure_user_exists

            ensure_user_exists(PGSERVER_USER)
            let_traverse(workdir)
            let_traverse(bin_dir)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(bin_dir.parent / "lib", readable)
            account = pwd.getpwnam(PGSERVER_USER)
            os.chown(workdir, account.pw_uid, account.pw_gid)
        done = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=utf8",
                "--no-sync",
            ],
            check=False,
            capture_output=True,
            text=True,
            user=user,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    return ProcessPlan(
        command=[
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(workdir),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        port=port,
        url=f"postgresql://postgres@127.0.0.1:{port}",
        ready=ReadyCheck("log", pattern="database system is ready to accept connections"),
        user=user,
        prepare=prepare,
    )
