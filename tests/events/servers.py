"""A tiny runner for the events tests: executes a kind's ``ProcessPlan``.

The lead's process backend replaces it; this one only does what the tests need: start in a
new process group with the output in a log file, wait for readiness with a deadline, and
always stop the whole group (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from interlock.stack.base import KindContext, ProcessPlan
from interlock.stack.ports import free_port, is_listening


@dataclass
class Server:
    """A started server: its plan, process and log."""

    plan: ProcessPlan
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return self.plan.url

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def group(self) -> list[psutil.Process]:
        """Live (not zombie) processes of the server's process group."""
        found = []
        for process in psutil.process_iter(["status"]):
            try:
                if (
                    os.getpgid(process.pid) == self.process.pid
                    and process.info["status"] != psutil.STATUS_ZOMBIE
                ):
                    found.append(process)
            except (ProcessLookupError, psutil.Error):
                continue
        return found

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left after ``timeout``."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                self.process.poll()  # reap the leader so it does not linger as a zombie
                if not self.group():
                    return
                time.sleep(0.05)


def _ready(server: Server) -> bool:
    check, plan = server.plan.ready, server.plan
    if check.kind == "tcp":
        return is_listening("127.0.0.1", plan.port)
    if check.kind == "log":
        return re.search(check.pattern, server.log()) is not None
    if check.kind == "http":
        try:
            answer = requests.get(f"http://127.0.0.1:{plan.port}{check.path}", timeout=1)
        except requests.RequestException:
            return False
        return answer.status_code == check.status if check.status else answer.status_code < 500
    return subprocess.run(list(check.command), capture_output=True, check=False).returncode == 0


@contextmanager
def running(
    kind: Callable[[KindContext], ProcessPlan], workdir: Path, name: str = "server"
) -> Iterator[Server]:
    """Start the kind's server in ``workdir``, yield it once ready, always stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    ports: set[int] = set()

    def another_port() -> int:
        while True:
            port = free_port()
            if port not in ports:
                ports.add(port)
                return port

    plan = kind(KindContext(name=name, workdir=workdir, port=another_port(),
                            free_port=another_port))
    if plan.prepare:
        plan.prepare()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            plan.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **plan.env}, cwd=plan.cwd or workdir, start_new_session=True,
        )
    server = Server(plan, process, log_path)
    try:
        deadline = time.monotonic() + plan.ready.timeout
        while not _ready(server):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} not ready ({plan.ready.describe()}); exit code {process.poll()}\n"
                    + server.log()[-3000:]
                )
            time.sleep(0.05)
        if plan.after_ready:
            plan.after_ready()
        yield server
    finally:
        server.stop()
