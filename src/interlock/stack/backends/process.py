"""The process backend: services as local processes, each the leader of its own group.

``ProcessBackend`` starts a service's ``process:`` command or a kind's plan on a free port;
``ProcessService`` is the running process.

A process is started in a new session (its own process group), so stopping it stops every
child it forked; its stdout and stderr go to a log file in the run's folder; its pid is in
the run registry from the moment it exists, so a killed run's processes are swept next time.

Example:
    >>> import sys, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> svc = ProcessService("echo", [sys.executable, "-c", "print('hi')"],
    ...                      log_path=folder / "echo.log",
    ...                      address=Address("tcp://127.0.0.1:1", "127.0.0.1", 1))
    >>> svc.start(); svc.wait_exit(5)
    0
    >>> svc.log()
    'hi\\n'
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from interlock._core.errors import InterlockError
from interlock._core.values import render
from interlock.stack.base import (
    Address,
    KindContext,
    ProcessPlan,
    ReadyCheck,
    RunningService,
    StackPlace,
)
from interlock.stack.kinds import kind_module
from interlock.stack.ports import free_port, is_listening
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec

if TYPE_CHECKING:  # loaded by the services that wait for readiness or have a delay proxy
    from interlock.stack.proxy import DelayProxy


class ProcessService(RunningService):
    """A running (or stopped) local process with an address; a ``RunningService``."""

    backend = "process"
    status_is_free = True  # is_running() is a poll(), cheap enough to ask after every step

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        log_path: Path,
        address: Address,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        registry: RunRegistry | None = None,
        ready: ReadyCheck | None = None,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        super().__init__(name, address)
        self.command = list(command)
        self.ready = ready or ReadyCheck("tcp")
        self.redact = redact
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.log_path = log_path
        self.log_file = log_path  # always set for a process (log_path may be None elsewhere)
        self.registry = registry
        self._process: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the process (again, after a stop: same command, same port)."""
        with self._lock:
            if self._process and self._process.poll() is None:
                return
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            # 0600: a log holds whatever the service prints, tokens included.
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            with open(os.open(self.log_file, flags, 0o600), "ab") as log:
                try:
                    self._process = subprocess.Popen(
                        self.command,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=self.env,
                        cwd=self.cwd,
                        start_new_session=True,
                        user=self.user if self.user and os.geteuid() == 0 else None,
                    )
                except FileNotFoundError:
                    raise InterlockError(
                        f'Cannot start service "{self.name}": program not found: {self.command[0]}',
                        hint="Check the command in the stack file, or install the program.",
                    ) from None
                except PermissionError as err:
                    raise InterlockError(
                        f'Cannot start service "{self.name}": {err}',
                        hint="Check that the program is executable.",
                    ) from None
            self._paused = False
            if self.registry:
                self.registry.record_process(self.name, self._process.pid)

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL if it has not gone after ``timeout`` seconds."""
        with self._lock:
            process = self._process
            if process is None:
                return
            if process.poll() is None:
                if self._paused:
                    self._signal(signal.SIGCONT)
                self._signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    process.wait()
            # Children that ignored SIGTERM while the leader exited go too.
            self._signal(signal.SIGKILL)
            self._paused = False
            if self.registry:
                self.registry.forget_process(process.pid)

    def kill(self) -> None:
        """SIGKILL to the group, at once."""
        with self._lock:
            if self._process is None:
                return
            self._signal(signal.SIGKILL)
            self._process.wait()
            self._paused = False
            if self.registry:
                self.registry.forget_process(self._process.pid)

    def pause(self) -> None:
        """SIGSTOP to the group: the service stops answering but keeps its connections."""
        self._signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT to the group."""
        self._signal(signal.SIGCONT)
        self._paused = False

    @property
    def paused(self) -> bool:
        """Whether the service is frozen by ``pause``."""
        return self._paused

    def is_running(self) -> bool:
        """Whether the process is alive (a paused one is)."""
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The exit code once it has exited."""
        return self._process.poll() if self._process else None

    def wait_ready(self, stop: threading.Event | None = None) -> float:
        """Wait until its readiness check holds; the seconds it took (see ``ready.Probe``)."""
        from interlock.stack.ready import Probe

        probe = Probe(self.name, self.address.host, self.address.port, log=self.log,
                      alive=self.is_running, redact=self.redact)
        return probe.wait(self.ready, stop)

    def settle(self, within: float = 0.5, *, unanswered: bool = False) -> bool:
        """Whether it is alive after a failed step. One that still accepts connections is
        (at once); one that does not may be dying: it is given ``within`` seconds to exit.
        ``unanswered``: it has just dropped a request, so a listening socket proves nothing
        (a process in the middle of exiting may still accept): it gets ``within`` to exit."""
        if not self.is_running():
            return False
        if self.paused or (not unanswered and is_listening(self.address.host,
                                                           self.address.port)):
            return True
        assert self._process is not None
        try:
            self._process.wait(within)
        except subprocess.TimeoutExpired:
            return True
        return False

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to exit by itself; its exit code."""
        assert self._process is not None
        return self._process.wait(timeout)

    def log_mark(self) -> float:
        """Where the log stands now (its size in bytes), for ``log_since``."""
        try:
            return float(self.log_file.stat().st_size)
        except FileNotFoundError:
            return 0.0

    def log_since(self, mark: float | None) -> str:
        """What the process wrote after ``log_mark`` returned ``mark`` (all for None)."""
        if mark is None:
            return self.log()
        try:
            with open(self.log_file, "rb") as log:
                log.seek(int(mark))
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log(self) -> str:
        """All the process wrote so far."""
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""


_PORT_TAKEN = re.compile(r"address already in use|EADDRINUSE|bind\(\) failed|port is already", re.I)
_PORT_ATTEMPTS = 3


class ProcessBackend:
    """Services as local processes: a ``process:`` block, or a built-in kind's plan.

    Each gets a free port and a private folder; when its port was taken meanwhile (its log
    says so), it is started again on another. ``delay_proxy: true`` puts a proxy on the host
    in front of it.
    """

    name: ClassVar[str] = "process"

    def __init__(self, place: StackPlace) -> None:
        self.place = place

    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """A ``process:`` block or a kind."""
        return spec.process is not None or bool(spec.kind)

    def launch(self, spec: ServiceSpec) -> RunningService:
        """Start it (again on another port if its port was taken) and wait until ready."""
        proxies: list[DelayProxy] = []

        def through_proxy(process: ProcessService) -> None:
            # Before the service counts as launched: a dependent that may start then must
            # find the proxy in {name.url}, not the service's own address.
            if not spec.delay_proxy:
                return
            if not proxies:
                from interlock.stack.proxy import DelayProxy

                proxies.append(DelayProxy(process.address.host, process.address.port,
                                          scenario_header=spec.delay_header or None))
                proxies[0].start()
                self.place.add_proxy(spec.name, proxies[0])
            proxies[0].upstream = (process.address.host, process.address.port)

        for attempt in range(1, _PORT_ATTEMPTS + 1):
            process, after = self._start(spec, through_proxy)
            try:
                process.wait_ready(self.place.stopping)
                break
            except InterlockError:
                port_taken = _PORT_TAKEN.search(process.log()) is not None
                process.stop(timeout=5)
                if not port_taken or attempt == _PORT_ATTEMPTS:
                    raise
                self.place.progress(f"interlock: {spec.name}: port was taken, trying another")
        if after:
            after()
        return process

    def _start(
        self, spec: ServiceSpec, before_launch: Callable[[ProcessService], None]
    ) -> tuple[ProcessService, Callable[[], None] | None]:
        port = free_port()
        workdir = self.place.fresh_folder(spec.name)
        scope = self.place.scope_for(spec, port, workdir)
        env = dict(os.environ)
        env.update({k: render(v, scope, spec.where) for k, v in spec.env.items()})
        if spec.kind:
            ctx = KindContext(spec.name, workdir, port, spec.options, free_port)
            plan: ProcessPlan = kind_module(spec.kind, spec.where).plan(ctx)
            env.update(plan.env)
            if plan.prepare:
                plan.prepare()
            command, url, user = plan.command, plan.url, plan.user
            check = spec.ready or plan.ready
            cwd = plan.cwd
            after = plan.after_ready
            extra = plan.extra
        else:
            form = spec.process
            assert form is not None
            raw = form.command
            parts = shlex.split(raw) if isinstance(raw, str) else list(raw)
            command = [render(part, scope, spec.where) for part in parts]
            env.update({k: render(v, scope, spec.where) for k, v in form.env.items()})
            env["PORT"] = str(port)
            url, user, after, extra = f"http://127.0.0.1:{port}", None, None, {}
            check = spec.ready or ReadyCheck("tcp")
            cwd = (self.place.root / form.cwd) if form.cwd else self.place.root
        if check.kind == "command":
            rendered = tuple(render(part, scope, spec.where) for part in check.command)
            check = dataclasses.replace(check, command=rendered)
        password = urlsplit(url).password
        if password:  # e.g. mariadb's generated password: never shown
            self.place.secrets.add(password)
        process = ProcessService(
            spec.name, command, log_path=self.place.run_dir / f"{spec.name}.log",
            address=Address(url, "127.0.0.1", port, extra), env=env, cwd=cwd, user=user,
            registry=self.place.registry, ready=check, redact=self.place.secrets.redact,
        )
        before_launch(process)
        self.place.launched(process)  # registered before it exists: it will be stopped
        process.start()
        return process, after

    def close(self) -> list[str]:
        """Nothing is held beyond the processes (the stack stops those)."""
        return []

    @classmethod
    def sweep(cls) -> list[str]:
        """Processes are swept through the run registry."""
        return []
