"""The Docker backend as a stack sees it: a service's ``docker:`` block (or a kind's
``DockerPlan``) becomes a container on the stack's network.

One ``DockerBackend`` per stack holds the engine connection and the stack's network, both
released by ``close``. A service with ``delay_proxy: true`` gets its proxy container
(``delay.py``), started alongside.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from interlock._core.errors import InterlockError
from interlock._core.values import Scope, render
from interlock.stack.backends.docker.delay import ContainerDelay, direct_alias
from interlock.stack.backends.docker.engine import DockerEngine
from interlock.stack.backends.docker.service import AdoptedLogs
from interlock.stack.backends.docker.spec import ContainerSpec, addresses_seen_from
from interlock.stack.base import KindContext, RunningService, StackPlace
from interlock.stack.kinds import kind_module
from interlock.stack.ports import free_port
from interlock.stack.spec import DockerForm, ServiceSpec


class DockerBackend:
    """Services as containers (a ``docker:`` block, or a kind's Docker plan)."""

    name: ClassVar[str] = "docker"

    def __init__(self, place: StackPlace) -> None:
        self.place = place
        self._engine: DockerEngine | None = None
        self._lock = threading.Lock()

    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """A ``docker:`` block or a kind."""
        return spec.docker is not None or bool(spec.kind)

    @classmethod
    def adopted_logs(cls) -> AdoptedLogs:
        """The logs of containers another run started (their ``log_source``), for a run that
        shares its stack: read through the engine, connected on first use."""
        return AdoptedLogs(DockerEngine.connect)

    def engine(self) -> DockerEngine:
        """The engine, connected on first use."""
        with self._lock:
            if self._engine is None:
                if self.place.registry is not None:  # a killed run's next run sweeps Docker
                    self.place.registry.record_backend(self.name)
                self._engine = DockerEngine.connect(where=f"stack {self.place.name!r}")
            return self._engine

    def launch(self, spec: ServiceSpec) -> RunningService:
        """Create and start the container (and its delay proxy) and wait until it is ready."""
        place = self.place
        engine = self.engine()
        network = DockerEngine.network_name(place.run_id, place.name)
        scope = place.scope_for(spec, 0, place.run_dir)
        scope.namespaces.update(addresses_seen_from(dict(place.running), network))
        container = self._container(spec, scope)
        proxy: list[ContainerDelay] = []
        proxy_failed: list[BaseException] = []

        def start_proxy() -> None:  # beside the service: it needs nothing from it
            try:
                proxy.append(ContainerDelay.start(
                    engine, container, run_id=place.run_id, stack=place.name,
                    log_dir=place.run_dir, progress=place.progress,
                    names=spec.docker.aliases if spec.docker is not None else (),
                    scenario_header=spec.delay_header or None))
            except BaseException as err:  # raised once the service's container runs
                proxy_failed.append(err)

        starter = threading.Thread(target=start_proxy, name="interlock-proxy", daemon=True)
        if spec.delay_proxy:
            starter.start()

        def launched(service: RunningService) -> None:
            if spec.delay_proxy:
                starter.join()  # its address is the one to give out
                if proxy_failed:
                    raise proxy_failed[0]  # the engine removes the service's container
                place.add_proxy(spec.name, proxy[0])
            place.launched(service)  # registered: it will be stopped

        try:
            return engine.start(
                container, run_id=place.run_id, stack=place.name, log_dir=place.run_dir,
                progress=place.progress, redact=place.secrets.redact, launched=launched,
            )
        finally:
            if spec.delay_proxy:
                starter.join()
                if proxy:
                    place.add_proxy(spec.name, proxy[0])  # registered to be stopped

    def _container(self, spec: ServiceSpec, scope: Scope) -> ContainerSpec:
        form = spec.docker
        overrides = _docker_fields(form, scope, spec.where) if form is not None else {}
        env = {k: render(v, scope, spec.where) for k, v in spec.env.items()}
        if form is not None:
            own = form.env if form.literal else {
                k: render(v, scope, spec.where) for k, v in form.env.items()}
            env = {**own, **env} if form.literal else {**env, **own}
        if form is not None and form.aliases:
            overrides["aliases"] = (spec.name, *form.aliases)
        if spec.delay_proxy:
            # Its names on the network (its own, Compose's aliases) go to its proxy (delay.py).
            overrides["aliases"] = (direct_alias(spec.name),)
        overrides["job"] = spec.job
        if spec.kind:
            module = kind_module(spec.kind, spec.where)
            ctx = KindContext(spec.name, self.place.fresh_folder(spec.name), 0, spec.options,
                              free_port, same_machine=self.engine().same_machine)
            plan = module.docker_plan(ctx)
            return ContainerSpec.from_plan(
                spec.name, plan, env={**plan.env, **env}, base_dir=self.place.root,
                ready=spec.ready or plan.ready, **overrides)
        assert form is not None
        return ContainerSpec(spec.name, env=env, ready=spec.ready, base_dir=self.place.root,
                             **overrides)

    def close(self) -> list[str]:
        """Remove the stack's network and volumes (its containers are gone) and disconnect."""
        if self._engine is None:
            return []
        problems = []
        try:
            self._engine.remove_volumes(self.place.run_id, self.place.name)
        except Exception as err:
            problems.append(f"volumes: {err}")
        try:
            self._engine.remove_network(self.place.run_id, self.place.name)
        except Exception as err:
            problems.append(f"network: {err}")
        self._engine.close()
        return problems

    @classmethod
    def sweep(cls) -> list[str]:
        """Containers, networks and volumes of runs whose owner is gone, when an engine
        answers (asked when the suite uses Docker, or a killed run of it did)."""
        try:
            engine = DockerEngine.connect(timeout=10)
        except InterlockError:
            return []  # no engine: nothing of ours can be running in one
        try:
            gone = engine.sweep()
            return [str(gone)] if gone else []
        finally:
            engine.close()


def _docker_fields(form: DockerForm, scope: Scope, where: str) -> dict[str, Any]:
    """The container fields a service's ``docker:`` block sets (over a kind's own plan)."""
    fields: dict[str, Any] = {"image": form.image, "build": form.build}  # one replaces the other
    if form.dockerfile:
        fields["dockerfile"] = form.dockerfile
    if form.port:
        fields["port"] = form.port
    if form.command:
        fields["command"] = form.command if form.literal else tuple(
            render(part, scope, where) for part in form.command)
    if form.volumes:
        fields["volumes"] = dict(form.volumes)
    # What a compose file adds (taken as written: compose interpolated it already).
    if form.entrypoint:
        fields["entrypoint"] = form.entrypoint
    if form.more_ports:
        fields["more_ports"] = form.more_ports
    if form.healthcheck is not None:
        fields["healthcheck"] = dict(form.healthcheck)
    if form.target:
        fields["target"] = form.target
    # An empty build argument ({env.X|} unset) leaves the Dockerfile's own default.
    arguments = {k: render(v, scope, where) for k, v in form.build_args.items()}
    if any(arguments.values()):
        fields["build_args"] = {k: v for k, v in arguments.items() if v}
    return fields
