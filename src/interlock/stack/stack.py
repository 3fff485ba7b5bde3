"""A ``Stack``: the services a feature needs, started in dependency order, healed, stopped.

The stack only schedules: independent services start in parallel; a service starts once
everything it ``depends_on`` is ready. How one service runs is its backend's business
(``stack/backends/`` names it; the stack imports none). Each start prints one
progress line (name, address, seconds). Whatever happens, ``stop()`` stops everything that
was started, dependents first, and closes what was opened for the stack (``own``).

Example:
    >>> import sys, tempfile, pathlib
    >>> spec = ServiceSpec.from_dict("web", {
    ...     "process": {"command": [sys.executable, "-m", "http.server", "{port}",
    ...                             "--bind", "127.0.0.1"]},
    ...     "ready": {"http": "/", "timeout": "10 seconds"}}, where="example")
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> stack = Stack("default", {"web": spec}, run_dir=folder, progress=lambda line: None)
    >>> stack.start()
    >>> stack.address("web").url.startswith("http://127.0.0.1:")
    True
    >>> stack.stop()
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.secrets import Secrets
from interlock._core.values import Scope
from interlock.stack.backends import BACKENDS, FALLBACK
from interlock.stack.base import Address, Backend, RunningService, StackPlace
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec

if TYPE_CHECKING:
    from interlock.stack.proxy import Delay

T = TypeVar("T")

# How long a failed scenario's late logs (``RunningService.log_lag``) are waited for, and how
# long one must stay as it is, once it grew, to be taken as complete (the engine copies a
# burst of lines within milliseconds of each other).
LOG_QUIET = 0.25


def _close(thing: Any) -> None:
    thing.close()


class _Adopted(RunningService):
    """A service of a stack kept up by ``interlock stack up`` (or ``interlock run -j``): its
    address, and its log file when its owner keeps one."""

    backend = "reused"

    def __init__(self, name: str, address: Address, log_path: Path | None = None,
                 reader: Any = None) -> None:
        super().__init__(name, address)
        self.log_path = log_path
        self.reader = reader  # its backend's way to read the log (a container's, by the engine)
        self.log_lag = float(getattr(reader, "log_lag", 0.0))

    def log(self) -> str:
        """What the service wrote so far, read from its owner's log file."""
        return self.log_since(0)

    def log_mark(self) -> float:
        """The log file's size: a mark costs no read (every scenario of a worker takes one)."""
        if self.reader is not None:
            return float(self.reader.log_mark())
        try:
            return float(self.log_path.stat().st_size) if self.log_path else 0.0
        except OSError:
            return 0.0

    def log_since(self, mark: float | None) -> str:
        """What it logged after ``mark`` (a byte offset in the owner's log file, or what its
        backend's reader takes)."""
        if self.reader is not None:
            return str(self.reader.log_since(mark))
        if self.log_path is None:
            return ""
        try:
            with self.log_path.open("rb") as log:
                log.seek(int(mark or 0))
                return log.read().decode(errors="replace")
        except OSError:
            return ""


class Stack:
    """Services of one stack, their addresses, and what was done to them."""

    def __init__(
        self,
        name: str,
        services: Mapping[str, ServiceSpec],
        *,
        run_dir: Path,
        backend: str = "process",
        scope: Scope | None = None,
        root: Path | None = None,
        registry: RunRegistry | None = None,
        secrets: Secrets | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        BACKENDS.check(backend)
        self.name = name
        self.specs = dict(services)
        self.backend = backend
        self.run_dir = run_dir
        self.root = root or Path.cwd()
        self.scope = scope or Scope()
        self.registry = registry
        self.secrets = secrets or Secrets()
        self.progress = progress or (lambda line: print(line, file=sys.__stderr__, flush=True))
        self.running: dict[str, RunningService] = {}
        self.start_seconds: dict[str, float] = {}
        self.started_in: float | None = None  # seconds ``start`` took (None: not started here)
        self.adopted = False  # its services are somebody else's (a kept stack other runs share)
        # Other runs use its services too (adopted, or lent to interlock run -j's workers); a
        # feature holds it ``alone`` while the others wait for their turn (stack/turns.py).
        self.shared = False
        self.alone = False
        self.proxies: dict[str, Delay] = {}
        self._scenario_delays: set[tuple[str, str]] = set()  # (service, scenario), till heal
        self._launch_events: queue.SimpleQueue[tuple[str, str, BaseException | None]] | None = None
        self._backends: dict[str, Backend] = {}
        self._owned: dict[str, tuple[Any, Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._check_dependencies()
        self.place = StackPlace(
            name=name, run_id=self.run_id, run_dir=run_dir, root=self.root,
            secrets=self.secrets, progress=self.progress, stopping=self._stopping,
            scope_for=self._scope_for, running=self.running, launched=self._launched,
            add_proxy=self.proxies.__setitem__, registry=registry,
        )

    def adopt(self, addresses: Mapping[str, Address],
              logs: Mapping[str, Path] | None = None,
              sources: Mapping[str, Mapping[str, str]] | None = None,
              delays: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """Use services somebody else started (``interlock stack up``) instead of starting them.

        They are treated as external: their addresses are known, faults cannot reach them
        (but a scenario's own delay can, through the control port of a proxy that tells
        scenarios apart: ``delays``, ``{"control": url, "header": name}`` by service);
        their logs are read from ``logs`` (a file per service) when given, or as ``sources``
        say (a ``log_source``: its backend reads it, e.g. a container's through the engine).
        """
        self.adopted = self.shared = True
        for name, address in addresses.items():
            if name in self.specs:
                source = (sources or {}).get(name)
                reader = None
                if source and source.get("backend"):  # one reader of each backend's logs
                    backend = BACKENDS.load(source["backend"])
                    reader = self.own(f"adopted logs: {source['backend']}",
                                      backend.adopted_logs, _close).reader(source)
                self.running[name] = _Adopted(name, address, (logs or {}).get(name), reader)
                delay = (delays or {}).get(name)
                if delay:
                    from interlock.stack.remote_delay import RemoteDelay

                    self.proxies[name] = RemoteDelay(name, delay["control"], delay["header"],
                                                     address.port)

    # -- the graph -------------------------------------------------------------------------

    def _check_dependencies(self) -> None:
        for spec in self.specs.values():
            for dep in spec.depends_on:
                if dep not in self.specs:
                    raise InterlockError(
                        f'Service "{spec.name}" depends on unknown service "{dep}"',
                        where=spec.where, hint=did_you_mean(dep, list(self.specs)),
                    )
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " → ".join([*path[path.index(name):], name])
                raise InterlockError(
                    f"The services depend on each other in a circle: {cycle}",
                    where=self.specs[name].where, hint="Remove one of these depends_on.",
                )
            state[name] = 1
            for dep in self.specs[name].depends_on:
                visit(dep, [*path, name])
            state[name] = 2
            order.append(name)

        for name in self.specs:
            visit(name, [])
        self.order = order

    # -- lookups ---------------------------------------------------------------------------

    def service(self, name: str, where: str = "") -> RunningService:
        """A started service by name; an error naming the known ones otherwise."""
        if name in self.running:
            return self.running[name]
        if name in self.specs:
            raise InterlockError(f'Service "{name}" is not started', where=where)
        raise InterlockError(
            f'Unknown service "{name}"', where=where, hint=did_you_mean(name, list(self.specs))
        )

    def address(self, name: str, where: str = "") -> Address:
        """Where a started service answers (through its delay proxy when it has one)."""
        address = self.service(name, where).address
        proxy = self.proxies.get(name)
        if proxy is None or self.adopted:  # an adopted address is the one its owner gives out
            return address
        url = address.url.replace(f":{address.port}", f":{proxy.port}", 1)
        return Address(url, "127.0.0.1", proxy.port, {**address.extra, "direct_url": address.url})

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start every service of the stack, dependencies first, independent ones together.

        A service starts once each dependency is ready, or only launched (its address known)
        for those its ``depends_on`` marks ``started``.
        """
        started = time.monotonic()
        pending = [n for n in self.order if n not in self.running]
        ready: set[str] = set(self.running)
        launched: set[str] = set(self.running)
        events: queue.SimpleQueue[tuple[str, str, BaseException | None]] = queue.SimpleQueue()
        self._launch_events = events

        def run(name: str) -> None:
            try:
                self.start_service(name)
                events.put(("ready", name, None))
            except BaseException as err:  # handed to the main thread, which raises it
                events.put(("error", name, err))

        def eligible(name: str) -> bool:
            spec = self.specs[name]
            return all(dep in ready or (dep in spec.started_is_enough and dep in launched)
                       for dep in spec.depends_on)

        with ThreadPoolExecutor(max_workers=max(1, len(pending)),
                                thread_name_prefix="interlock-start") as pool:
            try:
                running = 0
                while pending or running:
                    for name in [n for n in pending if eligible(n)]:
                        pending.remove(name)
                        pool.submit(run, name)
                        running += 1
                    kind, name, error = self._next_event(events)
                    if kind == "error":
                        assert error is not None
                        raise error
                    launched.add(name)
                    if kind == "ready":
                        ready.add(name)
                        running -= 1
            except BaseException:
                self._stopping.set()
                raise
            finally:
                self._launch_events = None
        self.started_in = time.monotonic() - started
        self.progress(
            f"interlock: stack {self.name!r} ready: {len(self.running)} services in "
            f"{self.started_in:.2f} s"
        )

    def _next_event(
        self, events: queue.SimpleQueue[tuple[str, str, BaseException | None]]
    ) -> tuple[str, str, BaseException | None]:
        while True:  # a timeout, so that Ctrl-C is seen promptly
            try:
                return events.get(timeout=0.5)
            except queue.Empty:
                continue

    def _launched(self, service: RunningService) -> None:
        with self._lock:
            self.running[service.name] = service  # registered: it will be stopped
        events = self._launch_events
        if events is not None:  # what needs only its address may start
            events.put(("launched", service.name, None))

    def start_service(self, name: str) -> None:
        """Start one service (its dependencies must be running) and wait until it is ready."""
        spec = self.specs[name]
        began = time.monotonic()
        service = self.backend_for(spec).launch(spec)
        seconds = time.monotonic() - began
        self.start_seconds[name] = seconds
        self.progress(service.started_line(seconds, self.address(name).url))

    def backend_for(self, spec: ServiceSpec) -> Backend:
        """The backend that runs ``spec`` in this stack: the stack's own when the spec says
        how to run it that way, else the first that can (an external service in a process
        stack). One per stack, made on first use. A backend whose block the spec has is
        asked before the others (an external service does not load the Docker SDK)."""
        named = [name for name in FALLBACK if name in spec.forms]
        for name in dict.fromkeys((self.backend, *named, *FALLBACK)):
            kind = BACKENDS.load(name)
            if kind.can_run(spec):
                with self._lock:
                    if name not in self._backends:
                        self._backends[name] = kind(self.place)
                    return self._backends[name]
        raise InterlockError(f'Service "{spec.name}" has no way to run', where=spec.where,
                             hint="Give it a process:, docker: or external: block, or a kind.")

    def _scope_for(self, spec: ServiceSpec, port: int, workdir: Path) -> Scope:
        def peer(service: str) -> Callable[[str], str]:
            def lookup(attribute: str) -> str:
                if service not in self.running:
                    raise KeyError(
                        f'service "{service}" is not started before "{spec.name}": '
                        f"add it to {spec.name}'s depends_on"
                    )
                return self.address(service).get(attribute)

            return lookup

        scope = self.scope.child(
            {"port": port, "python": sys.executable, "workdir": str(workdir),
             "root": str(self.root), "name": spec.name}
        )
        for other in self.specs:
            scope.namespaces[other] = peer(other)
        return scope

    @property
    def run_id(self) -> str:
        """The run this stack belongs to (names and labels of its containers carry it)."""
        return self.registry.run_id if self.registry else f"local-{os.getpid()}"

    # -- what lives as long as the stack ---------------------------------------------------

    def own(self, key: str, build: Callable[[], T], close: Callable[[T], None]) -> T:
        """A thing made for this stack (its broker connections, its database engines),
        built on first use and closed when the stack stops.

        Example:
            >>> stack = Stack("s", {}, run_dir=Path("/nonexistent"), progress=lambda line: None)
            >>> closed = []
            >>> stack.own("cache", dict, closed.append) is stack.own("cache", dict, print)
            True
            >>> stack.stop(); closed
            [{}]
        """
        with self._lock:
            if key not in self._owned:
                thing = build()
                self._owned[key] = (thing, lambda: close(thing))
            owned: T = self._owned[key][0]
            return owned

    # -- faults and healing ------------------------------------------------------------------

    def wait_ready(self, name: str) -> None:
        """Wait until a (re)started service passes its readiness check again."""
        self.service(name).wait_ready(self._stopping)

    def restart(self, name: str) -> None:
        """Stop and start a service again on the same address, and wait until it is ready."""
        service = self.service(name)
        service.stop()
        service.start()
        self.wait_ready(name)

    def delay(self, name: str, seconds: float, where: str = "", scenario: str = "") -> None:
        """Make every answer of ``name`` come ``seconds`` late (0 for normal speed); only the
        answers to ``scenario``'s requests when its proxy tells scenarios apart (the stack
        file's ``delay_proxy: {scenario_header: ...}``). ``heal`` takes either away."""
        self.service(name, where)
        proxy = self.proxies.get(name)
        if proxy is None and self.adopted:
            raise InterlockError(
                f'The delay of service "{name}" cannot be set from this run: the stack is '
                "another run's (interlock stack up, or a worker of interlock run -j)",
                where=where,
                hint=f"Give {name} `delay_proxy: {{scenario_header: traceparent}}` in the "
                "stack file, and have its callers pass that header on from the request they "
                "serve: a scenario's own delay can then be set from every run that shares the "
                "stack.",
            )
        if proxy is None:
            raise InterlockError(
                f'Service "{name}" has no delay proxy', where=where,
                hint=f"Add `delay_proxy: true` to service {name} in the stack file: its "
                "callers then reach it through a proxy that can slow it down.",
            )
        if scenario and proxy.scenario_header:
            try:
                proxy.delay_scenario(scenario, seconds)
            except InterlockError as err:  # its proxy is out of reach: said for this step
                err.where = where
                raise
            self._scenario_delays.add((name, scenario))
            return
        if self.adopted:
            raise InterlockError(
                f'A delay of every answer of "{name}" cannot be set from this run: the stack '
                "is another run's", where=where,
                hint="Only the run that started the stack (interlock run -j runs such a "
                "feature alone, on it) slows a service for every caller.")
        proxy.delay = seconds

    def heal(self) -> list[str]:
        """Bring back what a scenario broke: resume paused services, restart dead ones,
        take delays away."""
        healed = []
        for name, scenario in sorted(self._scenario_delays):
            try:
                self.proxies[name].delay_scenario(scenario, 0)
            except InterlockError:
                continue  # its proxy is gone (its owner ended, its container stopped), and
            finally:      # the delay with it
                self._scenario_delays.discard((name, scenario))
            healed.append(f"{name} delay removed")
        for name, proxy in self.proxies.items():
            if proxy.delay:
                proxy.delay = 0.0
                healed.append(f"{name} delay removed")
        for name in self.order:
            service = self.running.get(name)
            if service is None:
                continue
            if service.paused:
                service.resume()
                healed.append(f"{name} resumed")
            if not service.is_running():
                self.restart(name)
                healed.append(f"{name} restarted")
        return healed

    def settle(self, exclude: Collection[str] = ()) -> set[str]:
        """After a failed step: which services died. Each is asked at the same time
        (``RunningService.settle``: one that still answers says so at once, a dying one is
        given a moment to be seen dead), so the step's own time stays its own."""
        services = {n: s for n, s in self.running.items() if n not in exclude}
        alive: dict[str, bool] = {}

        def ask(name: str, service: RunningService) -> Callable[[], None]:
            return lambda: alive.__setitem__(name, service.settle())

        _together([ask(name, service) for name, service in services.items()])
        return {name for name in services if not alive.get(name, True)}

    def log_marks(self) -> dict[str, float]:
        """Where each service's log stands now, to read later what a scenario added.

        Each backend says it its own way: a file offset, a timestamp.
        """
        return {name: service.log_mark() for name, service in self.running.items()}

    def log_since(self, name: str, mark: float | None) -> str:
        """What one service logged since ``mark`` (its whole log without a mark)."""
        return self.service(name).log_since(mark)

    def logs_since(self, marks: Mapping[str, float], settle: bool = False) -> dict[str, str]:
        """What each service logged since ``marks`` (redacted).

        With ``settle`` (a failed scenario's logs, for its report), the logs that reach
        Interlock a moment late (a container's, copied by the engine: ``log_lag``) are read
        again: for ``LOG_QUIET`` seconds, and on while they keep growing, at most for the
        longest lag. The lines a service wrote just before the failure are its evidence; a
        line the engine copies later than that is missed (on a busy machine, rarely). Only
        growth is taken: a read that fails (the engine's error reads as nothing) keeps what
        was read before.
        """
        services = dict(self.running)
        texts = {name: service.log_since(marks.get(name)) for name, service in services.items()}
        late = {name: s for name, s in services.items() if s.log_lag > 0} if settle else {}
        if late:
            began = grew = time.monotonic()
            lag = max(service.log_lag for service in late.values())
            while time.monotonic() - grew < LOG_QUIET and time.monotonic() - began < lag:
                time.sleep(LOG_QUIET / 5)  # the engine's copy, polled
                for name, service in late.items():
                    again = service.log_since(marks.get(name))
                    if len(again) > len(texts[name]):
                        texts[name], grew = again, time.monotonic()
        return {name: self.secrets.redact(text) for name, text in texts.items() if text.strip()}

    # -- stop ------------------------------------------------------------------------------

    def _stopper(self, name: str) -> Callable[[], None]:
        def stop() -> None:
            with self._lock:
                service = self.running.pop(name, None)
            if service is None:
                return
            service.stop()
            service.remove()

        return stop

    def stop(self) -> None:
        """Stop every started service, dependents first; never stops half-way."""
        self._stopping.set()
        errors: list[str] = []
        # What was opened for the stack (broker connections, database engines) closes
        # first, while its servers still answer.
        with self._lock:
            owned, self._owned = list(self._owned.items()), {}
        for key, (_thing, close) in reversed(owned):
            try:
                close()
            except Exception as err:
                errors.append(f"{key}: {err}")

        def stop_one(name: str, stop: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    stop()
                except Exception as err:  # keep stopping the others
                    errors.append(f"{name}: {err}")

            return run

        # In waves: a service stops once everything that depends on it has stopped; the
        # services of one wave (and the delay proxies, in the first) stop together.
        proxies = [(f"{name} delay proxy", proxy.stop) for name, proxy in self.proxies.items()]
        self.proxies.clear()
        left = list(reversed(self.order))
        while left or proxies:
            wave = [name for name in left if not any(
                name in self.specs[other].depends_on for other in left)]
            left = [name for name in left if name not in wave]
            jobs = [(name, self._stopper(name)) for name in wave] + proxies
            proxies = []
            _together([stop_one(name, stop) for name, stop in jobs])
        for backend in self._backends.values():
            errors.extend(backend.close())
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if errors:
            raise InterlockError("Some services did not stop cleanly", details="\n".join(errors))


def _together(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Run ``jobs`` each in a plain thread and wait for all; the errors they raised.

    Plain threads, not a pool: this also runs at interpreter exit (``atexit``), where
    ``concurrent.futures`` refuses new work.
    """
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as err:  # handed back to the caller
            errors.append(err)

    threads = [threading.Thread(target=run, args=(job,), name="interlock-together", daemon=True)
               for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
