"""The shapes every stack backend and built-in kind share.

* A **kind** (``postgres``, ``nats``, ``redis``…) knows how to run one kind of server. Given a
  ``KindContext`` (a private folder, a free port), it returns a ``ProcessPlan`` for the
  process backend and/or a ``DockerPlan`` for the Docker backend.
* A **backend** (process, docker, external; ``stack/backends/`` holds them) turns a service
  definition into a ``RunningService``: something with an address that can be stopped,
  killed, paused, resumed and asked for its log. It is given a ``StackPlace``: what it needs
  to know of the stack it starts a service in.

Example (a kind, the way ``stack/kinds/redis.py`` writes one):

    >>> def redis(ctx: KindContext) -> ProcessPlan:
    ...     return ProcessPlan(
    ...         command=["redis-server", "--port", str(ctx.port), "--dir", str(ctx.workdir)],
    ...         port=ctx.port, url=f"redis://127.0.0.1:{ctx.port}",
    ...         ready=ReadyCheck(kind="tcp"))
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from interlock._core.errors import InterlockError
from interlock._core.secrets import Secrets
from interlock._core.values import Scope

if TYPE_CHECKING:
    from interlock.stack.proxy import Delay
    from interlock.stack.registry import RunRegistry
    from interlock.stack.spec import ServiceSpec

ReadyKind = Literal["http", "tcp", "log", "command"]



PYTHON_IMAGE = "python:3.11-slim"


def python_image() -> str:
    """The image Interlock's own small containers run Python on (the delay proxy, a stub):
    ``INTERLOCK_BASE_IMAGE`` when set (a local base image, no registry), else python:3.11-slim.
    """
    return os.environ.get("INTERLOCK_BASE_IMAGE") or PYTHON_IMAGE

@dataclass(frozen=True)
class ReadyCheck:
    """How to know a service is ready.

    * ``http``: GET ``path`` answers ``status`` (any status below 500 when ``status`` is None);
    * ``tcp``: the port accepts connections;
    * ``log``: a line of the service's log matches the regex ``pattern``;
    * ``command``: ``command`` (argv) exits 0 (run on the host, or inside the container).
    """

    kind: ReadyKind = "tcp"
    path: str = "/health"
    status: int | None = 200
    pattern: str = ""
    command: tuple[str, ...] = ()
    timeout: float = 30.0

    def describe(self) -> str:
        """The check in the user's words, for progress lines and errors."""
        if self.kind == "http":
            return f"HTTP GET {self.path} answers {self.status or 'below 500'}"
        if self.kind == "log":
            return f"log line matching /{self.pattern}/"
        if self.kind == "command":
            return "command `" + " ".join(self.command) + "` exits 0"
        return "TCP port accepts connections"


@dataclass(frozen=True, eq=False)
class KindContext:
    """What a built-in kind is given to plan a server."""

    name: str  # the service's name in the stack file, e.g. "orders-db"
    workdir: Path  # a private, empty folder for data and config (made by the backend);
    # removed after the run
    port: int  # the main port, already chosen free
    options: Mapping[str, Any] = field(default_factory=dict)  # the service's `options:` block
    free_port: Callable[[], int] = lambda: 0  # more ports if the server needs them
    # Docker only: the engine runs on this machine's kernel, so a file of this machine's that
    # is mounted into a container is the same file, its writes seen at once on both sides.
    same_machine: bool = False


@dataclass(eq=False)
class ProcessPlan:
    """A server as a local process: what the process backend runs."""

    command: list[str]
    port: int
    url: str  # e.g. postgresql://postgres@127.0.0.1:5432/orders, nats://127.0.0.1:4222
    ready: ReadyCheck
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # run as this system user (postgres refuses to run as root)
    prepare: Callable[[], None] | None = None  # one-time set-up before start (initdb, config files)
    after_ready: Callable[[], None] | None = None  # e.g. create the databases
    extra: dict[str, str] = field(default_factory=dict)  # more addresses: {"management_url": …}


@dataclass(eq=False)
class DockerPlan:
    """A server as a container: what the Docker backend runs."""

    image: str
    container_port: int
    url_template: str  # with {host} and {port}: "redis://{host}:{port}"
    ready: ReadyCheck
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    # Run inside the container (exec) once it is ready, in order, before anyone uses it:
    # e.g. [["psql", "-c", "CREATE DATABASE orders"]]. Each must exit 0.
    setup: list[list[str]] = field(default_factory=list)
    # Bind mounts, host path -> "/path/in/container[:ro]" (a kind that brings its own code).
    volumes: dict[str, str] = field(default_factory=dict)
    # What the test reads of it on this machine, beside its address (a stub's changes file).
    extra: dict[str, str] = field(default_factory=dict)


Kind = Callable[[KindContext], ProcessPlan]


@dataclass(frozen=True)
class Address:
    """Where a running service answers, as ``{name.url}``, ``{name.host}``, ``{name.port}``."""

    url: str
    host: str
    port: int
    extra: Mapping[str, str] = field(default_factory=dict)

    def get(self, attribute: str) -> str:
        """One of url, host, port or an extra name; KeyError if unknown."""
        if attribute == "url":
            return self.url
        if attribute == "host":
            return self.host
        if attribute == "port":
            return str(self.port)
        return self.extra[attribute]


LOG_TAIL_LINES = 30


def log_tail(log: str, lines: int = LOG_TAIL_LINES) -> str:
    r"""The last ``lines`` lines of a log, indented for an error message.

    Example:
        >>> print(log_tail("starting\nlistening on 8080\n", 1))
        | listening on 8080
    """
    tail = log.rstrip().splitlines()[-lines:]
    return "\n".join("| " + line for line in tail) if tail else "| (the service wrote nothing)"


class RunningService:
    """A started service, whatever runs it: the whole lifecycle, with honest defaults.

    A backend subclasses it and overrides what it can do; what it cannot do says so in
    words (an ``InterlockError`` naming the service and the backend), so nobody has to ask
    an object whether it has a method. The defaults suit a service somebody else runs.

    Example:
        >>> svc = RunningService("billing", Address("http://10.0.0.5:80", "10.0.0.5", 80))
        >>> svc.is_running(), svc.paused, svc.log_since(svc.log_mark())
        (True, False, '')
        >>> try:
        ...     svc.pause()
        ... except InterlockError as err:
        ...     print(err.title)
        Service "billing" cannot be paused: its backend (none) cannot pause a service
    """

    backend = "none"  # the backend's name, for messages
    status_is_free = False  # is_running() costs nothing (a poll), so it may be asked often
    log_path: Path | None = None  # where its log is kept on disk, when it is
    # How long a line it wrote may take to reach ``log_since``: none for a log file the
    # process writes itself; a container's log is copied by the engine, a moment later.
    log_lag = 0.0

    def __init__(self, name: str, address: Address) -> None:
        self.name = name
        self.address = address

    def log_source(self) -> dict[str, str]:
        """How another run that shares the stack (a worker of ``interlock run -j``, a run
        with ``INTERLOCK_REUSE``) reads this service's log, when not from ``log_path``: the
        backend's name and what its ``adopted_logs`` reader needs (none by default)."""
        return {}

    def _cannot(self, action: str, verb: str) -> InterlockError:
        return InterlockError(
            f'Service "{self.name}" cannot be {action}: its backend ({self.backend}) cannot '
            f"{verb} a service",
            hint="Run it with the process or docker backend to break it on purpose.",
        )

    # -- the lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start it again after a stop (same address)."""
        raise self._cannot("started again", "start")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after ``timeout``); nothing when not ours."""

    def kill(self) -> None:
        """Stop at once (SIGKILL)."""
        raise self._cannot("killed", "kill")

    def pause(self) -> None:
        """Freeze (SIGSTOP / docker pause)."""
        raise self._cannot("paused", "pause")

    def resume(self) -> None:
        """Unfreeze; nothing when it is not paused."""
        if self.paused:
            raise self._cannot("resumed", "resume")

    @property
    def paused(self) -> bool:
        """Whether it is frozen by ``pause``."""
        return False

    def is_running(self) -> bool:
        """Whether the process or container is alive (paused counts as alive)."""
        return True

    def exit_code(self) -> int | None:
        """The exit code once it has exited (None while it runs, or when unknown)."""
        return None

    @property
    def pid(self) -> int | None:
        """Its process id on this machine, when it is a local process (None otherwise)."""
        return None

    def wait_ready(self, stop: threading.Event | None = None) -> float:
        """Wait until its readiness check holds (again); the seconds it took.

        ``stop`` set from another thread interrupts the wait (a stack that stops).
        """
        return 0.0

    def settle(self, within: float = 0.5, *, unanswered: bool = False) -> bool:
        """After a failed step: whether it is still alive, letting a dying one be seen
        dead. Returns at once for a service that still answers (``unanswered``: it has just
        dropped a request, so answering a connection is no proof)."""
        return self.is_running()

    def remove(self) -> None:
        """Remove what is left of it once stopped (a container); nothing for most."""

    # -- what it said -----------------------------------------------------------------------

    def log(self) -> str:
        """Everything the service wrote to stdout and stderr so far."""
        return ""

    def log_mark(self) -> float:
        """Where its log stands now, for ``log_since`` (by default the log's length)."""
        return float(len(self.log()))

    def log_since(self, mark: float | None) -> str:
        """What it logged after ``log_mark`` returned ``mark`` (everything for None)."""
        return self.log() if mark is None else self.log()[int(mark):]

    # -- where it is seen from ---------------------------------------------------------------

    def address_seen_from(self, network: str | None) -> Address:
        """Its address for a consumer on ``network`` (None: the host and local processes)."""
        return self.address

    def started_line(self, seconds: float, url: str) -> str:
        """The progress line once it is ready."""
        return f"interlock: {self.name} ready at {url} in {seconds:.2f} s"


@dataclass(eq=False)
class StackPlace:
    """What a backend knows of the stack it starts services in (it never sees the ``Stack``).

    ``scope_for(spec, port, workdir)`` renders the service's ``{port}``, ``{workdir}`` and its
    peers' ``{name.url}``; ``running`` is who is started so far; ``launched(service)`` must be
    called as soon as the service exists (it is then stopped with the stack, and what needs
    only its address may start); ``add_proxy`` hands over a delay proxy.
    """

    name: str
    run_id: str
    run_dir: Path
    root: Path
    secrets: Secrets
    progress: Callable[[str], None]
    stopping: threading.Event
    scope_for: Callable[[ServiceSpec, int, Path], Scope]
    running: Mapping[str, RunningService]
    launched: Callable[[RunningService], None]
    add_proxy: Callable[[str, Delay], None]
    registry: RunRegistry | None = None

    def fresh_folder(self, service: str) -> Path:
        """The service's own folder in the run folder, made anew and empty (a kind's
        ``KindContext.workdir``, under either backend)."""
        folder = self.run_dir / service
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder


class Backend(Protocol):
    """A way to run services: one per stack, made from its ``StackPlace``. A backend with a
    block of its own in a service (``external:``) also has ``read_form(data, where)``, which
    checks it and returns what ``ServiceSpec.forms`` keeps (``process:`` and ``docker:`` are
    fields of the spec, which kinds and Compose build too).

    Example (the whole of the external backend, less its docstrings)::

        class ExternalBackend:
            def __init__(self, place: StackPlace) -> None:
                self.place = place

            @classmethod
            def read_form(cls, data: Any, where: str) -> ExternalForm:
                return ExternalForm(data["url"])  # (and checks; external: {url: ...})

            @classmethod
            def can_run(cls, spec: ServiceSpec) -> bool:
                return "external" in spec.forms

            def launch(self, spec: ServiceSpec) -> RunningService:
                url = spec.forms["external"].url
                url = render(url, self.place.scope_for(spec, 0, ...), spec.where)
                service = ExternalService(spec.name, address_of_url(url))
                self.place.launched(service)
                return service

            def close(self) -> list[str]:
                return []
    """

    name: ClassVar[str]

    def __init__(self, place: StackPlace) -> None: ...


    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """Whether the spec says how to run it this way (a ``process:`` block, a kind…)."""

    def launch(self, spec: ServiceSpec) -> RunningService:
        """Start the service and wait until it is ready; call ``place.launched`` as soon as it
        exists. A half-started service is stopped by the stack."""

    def close(self) -> list[str]:
        """The stack stopped: release what the backend holds for it; the problems."""

    @classmethod
    def sweep(cls) -> list[str]:
        """Remove what killed runs left outside the run registry (containers); say what.
        Asked when the suite uses this backend, or a killed run of it did."""
