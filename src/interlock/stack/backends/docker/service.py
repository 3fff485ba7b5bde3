"""A service running in a container: its two addresses, its faults, its readiness.

A ``DockerService`` is the ``RunningService`` the Docker backend returns. It has two
addresses, because a container is reached differently depending on who asks:

* ``address``: from the host (the test, a process-backend service):
  ``http://127.0.0.1:<published port>``;
* ``network_address``: from another container on the stack's network:
  ``http://<service name>:<container port>`` (the service name is its network alias).

Readiness is probed the way the user wrote it (HTTP or TCP against the published port from
the host, a log regex over the container's log, a command run inside the container with
``exec``); without one, an image's own HEALTHCHECK, when it has one, is waited for.

Example (needs an engine, so not run as a doctest; see ``DockerEngine.start``):

    svc = engine.start(ContainerSpec("web", image="my/app:1", port=8000), run_id="r1")
    svc.address.url, svc.network_address.url
    # ('http://127.0.0.1:32771', 'http://web:8000')
    svc.pause(); svc.resume(); svc.restart()  # same container, same published port
"""

from __future__ import annotations

import dataclasses
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from docker.errors import APIError, NotFound

from interlock._core.errors import InterlockError
from interlock.stack.base import Address, ReadyCheck, RunningService
from interlock.stack.ready import Probe, log_tail

_UP = ("running", "paused", "restarting")


def _last_stop(attrs: dict[str, Any]) -> float:
    """Epoch seconds of the container's last stop; 0 before its first (Docker gives RFC 3339
    with nanoseconds, and year 1 for "never").

    Lines logged after it are this run's. ``StartedAt`` would not do: Docker records it after
    the process has started, and a fast server (nats) logs "ready" before that.

    Example:
        >>> _last_stop({"State": {"FinishedAt": "0001-01-01T00:00:00Z"}})
        0.0
        >>> _last_stop({"State": {"FinishedAt": "2026-01-02T03:04:05.5Z"}})
        1767323045.5
    """
    text = str(attrs.get("State", {}).get("FinishedAt") or "")
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", text)
    if not match or match.group(1).startswith("0001"):
        return 0.0
    whole = datetime.fromisoformat(match.group(1) + "+00:00").timestamp()
    return whole + float(match.group(2) or 0)


# A container's log is read through the engine, which copies each line from the container's
# output a moment after the service wrote it (longer on a busy machine): ``log_lag``.
ENGINE_LOG_LAG = 1.0


class DockerService(RunningService):
    """One container of a stack; a ``RunningService``.

    Restarts keep the container and its published port: the port was chosen once, when the
    container was created, and is bound by that number (see ``DockerEngine.start``).
    """

    backend = "docker"

    def __init__(
        self,
        name: str,
        container: Any,
        *,
        network: str,
        container_port: int,
        url_template: str,
        ready: ReadyCheck | None,
        log_path: Path | None = None,
        progress: Callable[[str], None] = lambda line: None,
        redact: Callable[[str], str] = lambda text: text,
        job: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name  # set before the address, which reads the container
        self.extra = dict(extra or {})  # what its address also says (a kind's, on this host)
        self.job = job  # runs to completion: done (exit 0) counts as well
        self.container = container
        self.network = network
        self.container_port = container_port
        self.url_template = url_template
        self.ready = ready
        self.log_path = log_path
        self.progress = progress
        self.redact = redact
        self._lock = threading.Lock()
        super().__init__(name, self._host_address())
        self.network_address = Address(
            url_template.format(host=name, port=container_port), name, container_port
        )

    def address_seen_from(self, network: str | None) -> Address:
        """By name and container port from its own network; else the published port."""
        return self.network_address if network and network == self.network else self.address

    def started_line(self, seconds: float, url: str) -> str:
        """The progress line once it is ready."""
        if self.job:
            return f"interlock: {self.name} ran to completion in {seconds:.2f} s (docker)"
        return super().started_line(seconds, url) + " (docker)"

    # --- addresses -------------------------------------------------------------------------

    @property
    def published_port(self) -> int:
        """The host port on 127.0.0.1 that reaches ``container_port`` (0 when none)."""
        return self.published(self.container_port)

    def published(self, container_port: int) -> int:
        """The host port on 127.0.0.1 that reaches ``container_port`` (0 when none)."""
        ports = self.container.attrs.get("NetworkSettings", {}).get("Ports") or {}
        bindings = ports.get(f"{container_port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        # A stopped container has no live bindings; the configured one is what it gets back.
        configured = self.container.attrs.get("HostConfig", {}).get("PortBindings") or {}
        for binding in configured.get(f"{container_port}/tcp") or []:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
        return 0

    def _host_address(self) -> Address:
        port = self.published_port
        return Address(self.url_template.format(host="127.0.0.1", port=port), "127.0.0.1", port,
                       self.extra)

    # --- state -----------------------------------------------------------------------------

    def _reload(self) -> str:
        """The container's status after a fresh look ("gone" once it is removed)."""
        try:
            self.container.reload()
        except NotFound:
            return "gone"
        return str(self.container.status)

    def is_running(self) -> bool:
        """Whether the container is up (a paused one is); a job that exited 0 did its work,
        so it is not counted dead (nor started again)."""
        state = self._reload()
        if self.job and state == "exited":
            return self.container.attrs.get("State", {}).get("ExitCode") == 0
        return state in _UP

    @property
    def paused(self) -> bool:
        """Whether the container is frozen by ``pause``."""
        return self._reload() == "paused"

    def exit_code(self) -> int | None:
        """The exit code once the container has stopped."""
        if self._reload() in _UP:
            return None
        return int(self.container.attrs.get("State", {}).get("ExitCode", 0))

    def log(self) -> str:
        """Everything the container wrote to stdout and stderr, over all its starts."""
        try:
            raw = self.container.logs(stdout=True, stderr=True)
        except NotFound:
            # Removed: what ``remove`` saved is all there is.
            if self.log_path and self.log_path.exists():
                return self.log_path.read_text(errors="replace")
            return ""
        return bytes(raw).decode("utf-8", errors="replace")

    def log_mark(self) -> float:
        """Now, as a timestamp: ``log_since`` asks the engine only for the lines after it
        (cheaper than fetching a long log whole at every scenario)."""
        return time.time()

    log_lag = ENGINE_LOG_LAG

    def log_source(self) -> dict[str, str]:
        """The container, whose log another run sharing the stack asks the engine for (the
        log file is written only when the container is removed)."""
        return {"backend": "docker", "container": str(self.container.id)}

    def log_since(self, mark: float | None) -> str:
        """What the container wrote after ``mark`` (a ``log_mark``; everything for None)."""
        if mark is None:
            return self.log()
        try:
            raw = self.container.logs(stdout=True, stderr=True, since=mark)
        except NotFound:
            return ""
        return bytes(raw).decode("utf-8", errors="replace")

    def _log_since_start(self) -> str:
        since = _last_stop(self.container.attrs)
        if not since:
            return self.log()
        raw = self.container.logs(stdout=True, stderr=True, since=since)
        return bytes(raw).decode("utf-8", errors="replace")

    def run(self, command: list[str] | tuple[str, ...]) -> str:
        """Run ``command`` inside the container (``docker exec``); its output.

        Raises an InterlockError with the output when it exits non-zero.
        """
        result = self.container.exec_run(list(command), stdout=True, stderr=True)
        output = bytes(result.output or b"").decode("utf-8", errors="replace")
        if result.exit_code != 0:
            raise InterlockError(
                f'A set-up command failed in service "{self.name}" (exit code '
                f"{result.exit_code})",
                details=self.redact(f"command: {' '.join(command)}\noutput:\n"
                                    f"{log_tail(output)}"),
                where=f'service "{self.name}"',
                hint="Run it yourself with docker exec to see why: docker exec "
                f"{self.container.name} {' '.join(command)}",
            )
        return output

    # --- faults ----------------------------------------------------------------------------

    def _unfreeze(self) -> None:
        # Docker refuses to stop or kill a paused container.
        if self._reload() == "paused":
            self.container.unpause()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (through the container's init), SIGKILL after ``timeout`` seconds."""
        with self._lock:
            if self._reload() not in _UP:
                return
            self._unfreeze()
            self.container.stop(timeout=max(1, math.ceil(timeout)))
            self._reload()

    def kill(self) -> None:
        """SIGKILL at once."""
        with self._lock:
            if self._reload() not in _UP:
                return
            self._unfreeze()
            try:
                self.container.kill()
            except APIError as err:
                if "is not running" not in str(err):
                    raise
            self.container.wait(timeout=30)
            self._reload()

    def pause(self) -> None:
        """Freeze every process of the container (cgroup freezer): no answers, no exit."""
        if self._reload() == "running":
            self.container.pause()

    def resume(self) -> None:
        """Unfreeze."""
        if self._reload() == "paused":
            self.container.unpause()

    def start(self) -> None:
        """Start the same container again after a stop or kill (same port, same volumes)."""
        with self._lock:
            if self._reload() == "paused":
                self.container.unpause()
            elif self.container.status not in _UP:
                self._start_container()

    def restart(self, timeout: float = 10.0) -> float:
        """Stop and start the same container (``docker restart``); wait until ready again.

        Returns the seconds it took to be ready. The published port is the same as before.
        """
        with self._lock:
            self._unfreeze()
            try:
                self.container.restart(timeout=max(1, math.ceil(timeout)))
            except APIError as err:
                raise self._port_error(err) from None
            self._reload()
        return self.wait_ready()

    def _start_container(self) -> None:
        try:
            self.container.start()
        except APIError as err:
            raise self._port_error(err) from None
        self._reload()
        self.address = self._host_address()

    def _port_error(self, err: APIError) -> InterlockError:
        return InterlockError(
            f'Container of service "{self.name}" could not start again',
            details=str(err.explanation or err),
            hint=f"If another program took port {self.address.port} meanwhile, stop it; "
            "otherwise read the container log (docker logs " + self.container.name + ").",
        )

    def remove(self) -> None:
        """Remove the container (and its anonymous volumes), keeping its log in ``log_path``."""
        with self._lock:
            try:
                if self.log_path:
                    self.log_path.parent.mkdir(parents=True, exist_ok=True)
                    self.log_path.touch(mode=0o600)  # only this user reads logs
                    self.log_path.write_text(self.redact(self.log()))
                self.container.remove(force=True, v=True)
            except NotFound:
                pass

    # --- readiness -------------------------------------------------------------------------

    def wait_ready(self, stop: threading.Event | None = None,
                   timeout: float | None = None) -> float:
        """Wait for the service's ReadyCheck, or, when it has none, for the image's
        HEALTHCHECK (which Docker runs only every ``--interval``: an explicit check is faster).

        Returns the seconds it took. Raises an InterlockError naming the service, the check,
        the address and the tail of the container log when the time runs out or the
        container exits first. The loop is the one every backend uses (``ready.Probe``).
        """
        started = time.monotonic()
        check = self.ready
        limit = timeout if timeout is not None else check.timeout if check else 30.0
        probe = self.probe()
        if self.job:
            self.progress(f"interlock: {self.name}: waiting up to {limit:g} s for it to "
                          "run to completion")
            probe.alive = lambda: self._reload() in _UP or self.exit_code() == 0
            probe.wait(ReadyCheck(timeout=limit), stop, until=lambda: self.exit_code() == 0,
                       what="it runs to completion (exit code 0)")
            return time.monotonic() - started
        if check is None and self.has_healthcheck():
            self.progress(f"interlock: {self.name}: waiting up to {limit:g} s for the "
                          "image's HEALTHCHECK to report healthy")
            probe.wait(ReadyCheck(timeout=limit), stop, until=lambda: self._healthy(probe),
                       what="the image's HEALTHCHECK reports healthy")
        if check is not None:
            check = dataclasses.replace(check, timeout=limit)
            self.progress(self.redact(f"interlock: {self.name}: waiting up to {limit:g} s for "
                                      f"{check.describe()} at {self._where(check)}"))
            probe.wait(check, stop)
        return time.monotonic() - started

    def probe(self) -> Probe:
        """The readiness loop, looking the container's way: its published port from the host
        (through Docker's proxy), its log since its last start, commands run inside it."""

        def running_and(look: Callable[[], bool]) -> bool:
            return self._reload() == "running" and look()  # a paused one is not ready

        def tcp(host: str, port: int) -> bool:
            return running_and(lambda: _accepts_and_holds(host, port))

        return Probe(
            self.name, "127.0.0.1", self.address.port, log=self._log_since_start,
            whole_log=self.log,
            alive=lambda: self._reload() in _UP, run_command=self._exit_code_of, tcp=tcp,
            exit_code=self.exit_code, redact=self.redact, where=f'service "{self.name}"',
            details=f"container: {self.container.name}",
            hint="Read the log above; check the image, command, env and port (the service "
            f"must listen on {self.container_port} inside the container), or raise "
            "ready.timeout.",
        )

    def _exit_code_of(self, command: Sequence[str]) -> int:
        try:
            result = self.container.exec_run(list(command), stdout=True, stderr=True)
        except APIError:
            return 1
        return int(result.exit_code)

    def _where(self, check: ReadyCheck) -> str:
        if check.kind in ("http", "tcp"):
            return f"{self.address.host}:{self.address.port}"
        return f"container {self.container.name}"

    def has_healthcheck(self) -> bool:
        """Whether the image (or container) defines a HEALTHCHECK."""
        test = (self.container.attrs.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
        return bool(test) and test[0] != "NONE"

    def _healthy(self, probe: Probe) -> bool:
        health = self.container.attrs.get("State", {}).get("Health") or {}
        if health.get("Status") == "unhealthy":
            last = (health.get("Log") or [{}])[-1]
            raise probe.error(
                f'Service "{self.name}" reports unhealthy (its image\'s HEALTHCHECK fails)',
                "the image's HEALTHCHECK reports healthy",
                extra=f"last check output:\n{log_tail(str(last.get('Output', '')), 10)}\n",
            )
        return bool(health.get("Status") == "healthy")


def _accepts_and_holds(host: str, port: int, hold: float = 0.1) -> bool:
    """Whether a TCP server really answers behind a published port.

    Docker's userland proxy accepts every connection on a published port at once, even when
    nothing listens inside the container yet, and then closes it. So a plain connect says
    "ready" too early; a connection that stays open (or gets data) for ``hold`` seconds does not.
    """
    if not port:
        return False
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(hold)
            try:
                return sock.recv(1) != b""
            except TimeoutError:
                return True
    except OSError:
        return False


class AdoptedLogs:
    """The logs of containers another run started, for a run that shares its stack (a
    worker of ``interlock run -j`` other than the first, a run with ``INTERLOCK_REUSE``): read
    through the engine, over one connection made on first read and closed with the stack.
    A container that is gone, or an engine that does not answer, reads as an empty log (the
    step that reads it says what it looked for)."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._engine: Any = None
        self._lock = threading.Lock()

    def reader(self, source: Mapping[str, str]) -> ContainerLog:
        """The log of the container a ``DockerService.log_source`` names."""
        return ContainerLog(source["container"], self._container)

    def _container(self, container_id: str) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._connect()
            engine = self._engine
        return engine.client.containers.get(container_id)

    def close(self) -> None:
        """Close the connection, if one was made."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


class ContainerLog:
    """One container's log (``AdoptedLogs.reader``): marks are timestamps, as for
    ``DockerService``."""

    log_lag = ENGINE_LOG_LAG

    def __init__(self, container: str, find: Callable[[str], Any]) -> None:
        self.container_id = container
        self._find = find
        self._container: Any = None

    def log_mark(self) -> float:
        return time.time()

    def log_since(self, mark: float | None) -> str:
        try:
            if self._container is None:
                self._container = self._find(self.container_id)
            raw = (self._container.logs(stdout=True, stderr=True) if not mark else
                   self._container.logs(stdout=True, stderr=True, since=mark))
        except (NotFound, APIError, InterlockError):
            return ""
        return bytes(raw).decode("utf-8", errors="replace")
