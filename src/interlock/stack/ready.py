"""Knowing when a service is ready: one loop for every readiness check and backend.

Readiness is probed (a port, an HTTP answer, a log line, a command), so this is the one place
that polls; it starts fast (20 ms) and backs off to 100 ms, and it stops at once when the
service dies, with the service's own words (its log tail) in the error.

Example:
    >>> import http.server, threading
    >>> srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    >>> _ = threading.Thread(target=srv.serve_forever, daemon=True).start()
    >>> probe = Probe("web", "127.0.0.1", srv.server_port, log=lambda: "", alive=lambda: True)
    >>> probe.wait(ReadyCheck("http", path="/", status=200, timeout=5)) < 5
    True
    >>> srv.shutdown()
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests

from interlock._core.errors import InterlockError
from interlock.stack.base import ReadyCheck, log_tail
from interlock.stack.ports import is_listening

DEFAULT_HINT = ("Read the log above; check the service's command, env and port "
                "(it must listen on the {port} it is given), or raise ready.timeout.")


@dataclass
class Probe:
    """Checks one service's readiness, whatever runs it.

    A backend hands in its own ways to look: ``alive`` and ``exit_code`` (a poll, an engine
    call), ``log`` (a file, the container's log since its last start), ``run_command`` (on
    the host, or ``docker exec``), ``tcp`` (a plain connect, or one that sees through
    Docker's port proxy), and what its errors add (``where``, ``details``, ``hint``).
    """

    name: str
    host: str
    port: int
    log: Callable[[], str]
    alive: Callable[[], bool]
    run_command: Callable[[Sequence[str]], int] | None = None
    redact: Callable[[str], str] = lambda text: text
    tcp: Callable[[str, int], bool] = is_listening
    exit_code: Callable[[], int | None] = lambda: None
    where: str = ""  # the error's where: 'service "orders"'
    details: str = ""  # a line the error adds: "container: interlock-r1-default-orders"
    hint: str = DEFAULT_HINT
    whole_log: Callable[[], str] | None = None  # the error's tail, when ``log`` is a window

    def holds(self, check: ReadyCheck) -> bool:
        """One probe: does the check hold right now?"""
        if check.kind == "tcp":
            return self.tcp(self.host, self.port)
        if check.kind == "http":
            try:
                url = f"http://{self.host}:{self.port}{check.path}"
                status = requests.get(url, timeout=1.0).status_code
            except requests.RequestException:
                return False
            return status == check.status if check.status else status < 500
        if check.kind == "log":
            return re.search(check.pattern, self.log(), re.MULTILINE) is not None
        if check.kind == "command":
            runner = self.run_command or _run_on_host
            return runner(check.command) == 0
        raise InterlockError(f"Unknown readiness check {check.kind!r} for service {self.name!r}")

    def wait(
        self, check: ReadyCheck, stop: threading.Event | None = None,
        until: Callable[[], bool] | None = None, what: str = "",
    ) -> float:
        """Wait until ``check`` holds (or ``until``, described by ``what``, when given); return
        the seconds it took.

        Raises an InterlockError naming the service, the check, the address and the log tail
        when the time runs out or the service exits first.
        """
        holds = until or (lambda: self.holds(check))
        what = what or check.describe()
        started = time.monotonic()
        deadline = started + check.timeout
        interval = 0.02
        waiter = stop or threading.Event()
        while True:
            if not self.alive():
                code = self.exit_code()
                exited = "" if code is None else f" (exit code {code})"
                raise self.error(f'Service "{self.name}" exited before it was ready{exited}',
                                 what)
            if holds():
                return time.monotonic() - started
            now = time.monotonic()
            if now >= deadline:
                raise self.error(
                    f'Service "{self.name}" was not ready within {check.timeout:g} seconds', what
                )
            if waiter.wait(min(interval, deadline - now)):
                raise InterlockError(f'Start of "{self.name}" was interrupted')
            interval = min(interval * 1.5, 0.1)

    def error(self, title: str, what: str, extra: str = "") -> InterlockError:
        """A readiness error: the check, the address, what the backend adds, the log tail."""
        return InterlockError(
            title,
            details=self.redact(
                f"check:   {what}\naddress: {self.host}:{self.port}\n{extra}"
                + (f"{self.details}\n" if self.details else "")
                + f"log tail:\n{log_tail((self.whole_log or self.log)())}"),
            where=self.where,
            hint=self.hint,
        )


def _run_on_host(argv: Sequence[str]) -> int:
    try:
        return subprocess.run(list(argv), capture_output=True, timeout=10, check=False).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1
