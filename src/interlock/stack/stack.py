"""A ``Stack``: the services a feature needs, started in dependency order, healed, stopped.

Independent services start in parallel; a service starts once everything it ``depends_on``
is ready. Each start prints one progress line (name, address, seconds). Whatever happens,
``stop()`` stops everything that was started, in reverse order.

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

import dataclasses
import os
import queue
import re
import shlex
import shutil
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from interlock.errors import InterlockError, did_you_mean
from interlock.secrets import Secrets
from interlock.stack.base import Address, KindContext, ProcessPlan, ReadyCheck, RunningService
from interlock.stack.kinds import kind_module
from interlock.stack.ports import free_port
from interlock.stack.process import ProcessService
from interlock.stack.proxy import Delay, DelayProxy
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import DockerForm, ServiceSpec
from interlock.values import Scope, render

BACKENDS = ("process", "docker", "external")
_PORT_TAKEN = re.compile(r"address already in use|EADDRINUSE|bind\(\) failed|port is already", re.I)
_PORT_ATTEMPTS = 3


class ExternalService(RunningService):
    """A service somebody else runs: an address, nothing to start or stop."""

    backend = "external"

    def started_line(self, seconds: float, url: str) -> str:
        """The progress line: where it is."""
        return f"interlock: {self.name} is external at {url}"


def address_of_url(url: str) -> Address:
    """An ``Address`` from a URL (``http://host:port/...``)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme, 0)
    return Address(url.rstrip("/"), parts.hostname or "", parts.port or default)


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
        if backend not in BACKENDS:
            raise InterlockError(
                f'Unknown backend "{backend}"', hint=did_you_mean(backend, BACKENDS)
                + " (set in suite.backend or INTERLOCK_BACKEND)",
            )
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
        self.proxies: dict[str, Delay] = {}
        self._launch_events: queue.SimpleQueue[tuple[str, str, BaseException | None]] | None = None
        self._engine: Any = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._check_dependencies()

    def adopt(self, addresses: Mapping[str, Address]) -> None:
        """Use services somebody else started (``interlock stack up``) instead of starting them.

        They are treated as external: their addresses are known, faults cannot reach them.
        """
        for name, address in addresses.items():
            if name in self.specs:
                self.running[name] = ExternalService(name, address)

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
        if proxy is None:
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
        self.progress(
            f"interlock: stack {self.name!r} ready: {len(self.running)} services in "
            f"{time.monotonic() - started:.2f} s"
        )

    def _next_event(
        self, events: queue.SimpleQueue[tuple[str, str, BaseException | None]]
    ) -> tuple[str, str, BaseException | None]:
        while True:  # a timeout, so that Ctrl-C is seen promptly
            try:
                return events.get(timeout=0.5)
            except queue.Empty:
                continue

    def _announce(self, name: str) -> None:
        events = self._launch_events
        if events is not None:
            events.put(("launched", name, None))

    def start_service(self, name: str) -> None:
        """Start one service (its dependencies must be running) and wait until it is ready."""
        spec = self.specs[name]
        began = time.monotonic()
        form = self._form_for(spec)
        if form == "external":
            assert spec.external is not None
            url = render(spec.external.url, self._scope_for(spec, 0, self.run_dir), spec.where)
            service: RunningService = ExternalService(name, address_of_url(url))
            with self._lock:
                self.running[name] = service
            self.progress(service.started_line(0.0, url))
            return
        if form == "docker":
            self._start_container(spec)
            seconds = time.monotonic() - began
            self.start_seconds[name] = seconds
            self.progress(self.running[name].started_line(seconds, self.address(name).url))
            return
        proxy: DelayProxy | None = None
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            process, _check, after = self._launch_process(spec)
            if spec.delay_proxy:
                if proxy is None:
                    proxy = DelayProxy(process.address.host, process.address.port)
                    proxy.start()
                    self.proxies[name] = proxy
                proxy.upstream = (process.address.host, process.address.port)
            if attempt == 1:
                self._announce(name)
            try:
                process.wait_ready(self._stopping)
                break
            except InterlockError:
                port_taken = _PORT_TAKEN.search(process.log()) is not None
                process.stop(timeout=5)
                if not port_taken or attempt == _PORT_ATTEMPTS:
                    raise
                self.progress(f"interlock: {name}: port was taken, trying another")
        if after:
            after()
        seconds = time.monotonic() - began
        self.start_seconds[name] = seconds
        self.progress(process.started_line(seconds, self.address(name).url))

    def _form_for(self, spec: ServiceSpec) -> str:
        wanted = self.backend
        has = {
            "external": spec.external is not None,
            "docker": spec.docker is not None or bool(spec.kind),
            "process": spec.process is not None or bool(spec.kind),
        }
        if has[wanted]:
            return wanted
        for form in ("process", "docker", "external"):
            if has[form]:
                return form
        raise InterlockError(f'Service "{spec.name}" has no way to run', where=spec.where)

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

    def _launch_process(
        self, spec: ServiceSpec
    ) -> tuple[ProcessService, ReadyCheck, Callable[[], None] | None]:
        port = free_port()
        workdir = self.run_dir / spec.name
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        scope = self._scope_for(spec, port, workdir)
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
            cwd = (self.root / form.cwd) if form.cwd else self.root
        if check.kind == "command":
            rendered = tuple(render(part, scope, spec.where) for part in check.command)
            check = dataclasses.replace(check, command=rendered)
        password = urlsplit(url).password
        if password:  # e.g. mariadb's generated password: never shown
            self.secrets.add(password)
        address = Address(url, "127.0.0.1", port, extra)
        process = ProcessService(
            spec.name, command, log_path=self.run_dir / f"{spec.name}.log", address=address,
            env=env, cwd=cwd, user=user, registry=self.registry, ready=check,
            redact=self.secrets.redact,
        )
        with self._lock:
            self.running[spec.name] = process
        process.start()
        return process, check, after

    # -- the Docker backend ------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run this stack belongs to (names and labels of its containers carry it)."""
        return self.registry.run_id if self.registry else f"local-{os.getpid()}"

    def _docker(self) -> Any:
        with self._lock:
            if self._engine is None:
                from interlock.stack.docker import DockerEngine

                self._engine = DockerEngine.connect(where=f"stack {self.name!r}")
            return self._engine

    def _start_container(self, spec: ServiceSpec) -> RunningService:
        from interlock.stack.docker import ContainerSpec, DockerEngine, addresses_seen_from
        from interlock.stack.docker.delay import ContainerDelay, direct_alias

        engine = self._docker()
        network = DockerEngine.network_name(self.run_id, self.name)
        scope = self._scope_for(spec, 0, self.run_dir)
        scope.namespaces.update(addresses_seen_from(dict(self.running), network))
        form = spec.docker
        overrides = _docker_fields(form, scope, spec.where) if form is not None else {}
        env = {k: render(v, scope, spec.where) for k, v in spec.env.items()}
        if form is not None:
            env.update({k: render(v, scope, spec.where) for k, v in form.env.items()})
        if spec.delay_proxy:
            # Its name on the network goes to its proxy (see docker/delay.py).
            overrides["aliases"] = (direct_alias(spec.name),)
        if spec.kind:
            module = kind_module(spec.kind, spec.where)
            ctx = KindContext(spec.name, self.run_dir / spec.name, 0, spec.options, free_port)
            plan = module.docker_plan(ctx)
            container = ContainerSpec.from_plan(
                spec.name, plan, env={**plan.env, **env}, base_dir=self.root,
                ready=spec.ready or plan.ready, **overrides)
        else:
            assert form is not None
            container = ContainerSpec(
                spec.name, env=env, ready=spec.ready, base_dir=self.root, **overrides)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="interlock-proxy") as pool:
            proxy = pool.submit(
                ContainerDelay.start, engine, container, run_id=self.run_id, stack=self.name,
                log_dir=self.run_dir, progress=self.progress,
            ) if spec.delay_proxy else None

            def launched(service: RunningService) -> None:
                with self._lock:
                    self.running[spec.name] = service  # registered: it will be stopped
                if proxy is not None:
                    self.proxies[spec.name] = proxy.result()  # its address is the one to give
                self._announce(spec.name)

            try:
                service = engine.start(
                    container, run_id=self.run_id, stack=self.name, log_dir=self.run_dir,
                    progress=self.progress, redact=self.secrets.redact, launched=launched,
                )
            finally:
                if proxy is not None and proxy.exception() is None:
                    self.proxies[spec.name] = proxy.result()  # registered to be stopped
        return service

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

    def delay(self, name: str, seconds: float, where: str = "") -> None:
        """Make every answer of ``name`` come ``seconds`` late (0 for normal speed)."""
        self.service(name, where)
        if name not in self.proxies:
            raise InterlockError(
                f'Service "{name}" has no delay proxy', where=where,
                hint=f"Add `delay_proxy: true` to service {name} in the stack file: its callers "
                "then reach it through a proxy that can slow it down.",
            )
        self.proxies[name].delay = seconds

    def heal(self) -> list[str]:
        """Bring back what a scenario broke: resume paused services, restart dead ones,
        take delays away."""
        healed = []
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

    def settle(self, exclude: Collection[str] = ()) -> None:
        """After a failed step: let each service that may be dying be seen dead, all at
        once (``RunningService.settle``: one that still answers returns at once)."""
        services = [s for n, s in self.running.items() if n not in exclude and s.status_is_free]
        _together([service.settle for service in services])

    def log_marks(self) -> dict[str, float]:
        """Where each service's log stands now, to read later what a scenario added.

        Each backend says it its own way: a file offset, a timestamp.
        """
        return {name: service.log_mark() for name, service in self.running.items()}

    def log_since(self, name: str, mark: float | None) -> str:
        """What one service logged since ``mark`` (its whole log without a mark)."""
        return self.service(name).log_since(mark)

    def logs_since(self, marks: Mapping[str, float]) -> dict[str, str]:
        """What each service logged since ``marks`` (redacted)."""
        result = {}
        for name in list(self.running):
            text = self.log_since(name, marks.get(name))
            if text.strip():
                result[name] = self.secrets.redact(text)
        return result

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
        if self._engine is not None:
            try:
                self._engine.remove_network(self.run_id, self.name)
            except Exception as err:
                errors.append(f"network: {err}")
            self._engine.close()
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


def _docker_fields(form: DockerForm, scope: Scope, where: str) -> dict[str, Any]:
    """The container fields a service's ``docker:`` block sets (over a kind's own plan)."""
    fields: dict[str, Any] = {"image": form.image, "build": form.build}  # one replaces the other
    if form.dockerfile:
        fields["dockerfile"] = form.dockerfile
    if form.port:
        fields["port"] = form.port
    if form.command:
        fields["command"] = tuple(render(part, scope, where) for part in form.command)
    if form.volumes:
        fields["volumes"] = dict(form.volumes)
    # An empty build argument ({env.X|} unset) leaves the Dockerfile's own default.
    arguments = {k: render(v, scope, where) for k, v in form.build_args.items()}
    if any(arguments.values()):
        fields["build_args"] = {k: v for k, v in arguments.items() if v}
    return fields
