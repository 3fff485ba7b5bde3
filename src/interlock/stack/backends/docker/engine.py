"""The Docker backend: services as containers on one network per stack and run.

Every stack of a run gets its own network, ``interlock-<run_id>-<stack>``; each container
joins it with its service name as network alias, so services reach each other by name
(``http://orders:8000``). Published ports are bound on 127.0.0.1 only. Every container,
network and volume carries the labels ``interlock.run``, ``interlock.stack``,
``interlock.service`` and ``interlock.owner`` (host/pid/start time of the process that made
it), so a run's leftovers are found and removed even when its owner was killed.

Example (needs an engine, so not run as a doctest):

    engine = DockerEngine.connect()
    web = engine.start(ContainerSpec("web", image="my/app:1", port=8000,
                                     ready=ReadyCheck("http", path="/health")),
                       run_id="r-1a2b", stack="default")
    web.address.url                                           # from the host
    # 'http://127.0.0.1:32771'
    address_for(web, engine.network_name("r-1a2b")).url       # from a container of the stack
    # 'http://web:8000'
    print(engine.remove_run("r-1a2b"))
    # removed 1 container (interlock-r-1a2b-default-web), 1 network (interlock-r-1a2b-default)
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from interlock._core.errors import InterlockError
from interlock.stack.backends.docker.build import BuildCache, build_image
from interlock.stack.backends.docker.service import DockerService
from interlock.stack.backends.docker.spec import ContainerSpec, address_for, addresses_seen_from
from interlock.stack.backends.docker.sweep import (
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SERVICE,
    LABEL_STACK,
    Removed,
    owner_is_alive,
    remove_run,
    run_labels,
    runs_on,
    sweep,
    this_owner,
)
from interlock.stack.base import ReadyCheck
from interlock.stack.ports import free_port

__all__ = [
    "LABEL_OWNER", "LABEL_RUN", "LABEL_SERVICE", "LABEL_STACK", "ContainerSpec", "DockerEngine",
    "DockerService", "Removed", "address_for", "addresses_seen_from", "owner_is_alive",
    "this_owner",
]

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_PORT_TAKEN = re.compile(r"port is already allocated|address already in use", re.I)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _slug(text: str) -> str:
    """A piece of a Docker object name (letters, digits, _ . -)."""
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-.") or "x"


class DockerEngine:
    """A connection to a Docker engine, and what Interlock does with it."""

    def __init__(
        self, client: Any, *, tried: str, pull_missing: bool = False,
        build_network: str | None = None,
    ) -> None:
        self.client = client
        self.tried = tried
        self.pull_missing = pull_missing
        self.build_network = build_network
        self._lock = threading.Lock()
        self._builds = BuildCache()

    @classmethod
    def connect(
        cls, where: str = "", *, base_url: str = "", timeout: float = 120,
        pull_missing: bool = False, build_network: str | None = None,
    ) -> DockerEngine:
        """Connect to the engine at ``base_url``, else ``DOCKER_HOST``, else the local socket.

        ``pull_missing``: pull an ``image:`` that is not on this machine (off by default: a
        test run should not depend on a registry). ``build_network``: the network builds run
        in (``"none"`` proves a build needs nothing from outside).

        Raises an InterlockError saying what was tried and how to start an engine.
        """
        if base_url:
            tried = f"{base_url} (given)"
        elif os.environ.get("DOCKER_HOST"):
            tried = f"{os.environ['DOCKER_HOST']} (from DOCKER_HOST)"
        else:
            tried = f"{DEFAULT_SOCKET} (the default; DOCKER_HOST is not set)"
        try:
            if base_url:
                client = docker.DockerClient(base_url=base_url, version="auto", timeout=timeout)
            else:
                client = docker.from_env(version="auto", timeout=int(timeout))
            client.ping()
        except DockerException as err:
            url = base_url or os.environ.get("DOCKER_HOST", "")
            raise _unreachable(tried, url, err, where) from None
        return cls(client, tried=tried, pull_missing=pull_missing, build_network=build_network)

    def close(self) -> None:
        """Close the connection (containers keep running)."""
        self.client.close()

    @functools.cached_property
    def same_machine(self) -> bool:
        """Whether the engine runs on this machine's kernel: reached through a local socket
        or 127.0.0.1, and its kernel this one (not Docker Desktop's or Colima's VM, nor a
        remote engine). Only then is a file mounted from here the same file in the
        container, written on one side and seen at once on the other."""
        try:
            info = self.client.info()
        except (DockerException, OSError):
            return False
        return same_machine(str(self.client.api.base_url), info, platform.release())

    # --- names and networks ----------------------------------------------------------------

    @staticmethod
    def network_name(run_id: str, stack: str = "default") -> str:
        """The network of one stack of one run: ``interlock-<run_id>-<stack>``."""
        return f"interlock-{_slug(run_id)}-{_slug(stack)}"

    @staticmethod
    def container_name(run_id: str, stack: str, service: str) -> str:
        """``interlock-<run_id>-<stack>-<service>``: unique per run, readable in ``docker ps``."""
        return f"interlock-{_slug(run_id)}-{_slug(stack)}-{_slug(service)}"

    @staticmethod
    def labels(run_id: str, stack: str, service: str = "") -> dict[str, str]:
        """The labels on everything a run creates."""
        return run_labels(run_id, stack, service)

    def network(self, run_id: str, stack: str = "default") -> str:
        """The stack's network, created on first use; its name."""
        name = self.network_name(run_id, stack)
        with self._lock:
            # Docker's name filter matches substrings: compare whole names.
            if not any(n.name == name for n in self.client.networks.list(names=[name])):
                self.client.networks.create(
                    name, driver="bridge", labels=self.labels(run_id, stack), check_duplicate=True
                )
        return name

    def remove_network(self, run_id: str, stack: str = "default") -> None:
        """Remove one stack's network (its containers are gone); nothing if it is not there."""
        name = self.network_name(run_id, stack)
        for network in self.client.networks.list(names=[name]):
            if network.name == name:
                with contextlib.suppress(NotFound):
                    network.remove()

    # --- images ----------------------------------------------------------------------------

    def image(
        self, spec: ContainerSpec, *, stack: str = "default", log_dir: Path | None = None,
        progress: Callable[[str], None] = _say,
    ) -> str:
        """The image id to run ``spec`` with: built from its context, or found locally."""
        if spec.build:
            return self.build(spec, stack=stack, log_dir=log_dir, progress=progress)
        try:
            return str(self.client.images.get(spec.image).id)
        except ImageNotFound:
            if not self.pull_missing:
                raise InterlockError(
                    f'Image "{spec.image}" of service "{spec.name}" is not on this machine',
                    where=f'service "{spec.name}"',
                    hint=f"docker pull {spec.image} (or build it); or let Interlock pull "
                    "missing images (DockerEngine.connect(pull_missing=True)).",
                ) from None
        progress(f"interlock: {spec.name}: pulling {spec.image}")
        try:
            return str(self.client.images.pull(spec.image).id)
        except APIError as err:
            raise InterlockError(
                f'Cannot pull image "{spec.image}" for service "{spec.name}"',
                details=str(err.explanation or err), where=f'service "{spec.name}"',
                hint="Check the image name and that its registry is reachable.",
            ) from None

    def build(
        self, spec: ContainerSpec, *, stack: str = "default", log_dir: Path | None = None,
        progress: Callable[[str], None] = _say,
    ) -> str:
        """Build ``spec.build`` (output streamed to ``<log_dir>/<name>.build.log``); the image id.

        The image is tagged ``interlock/<stack>-<name>:latest`` for people to find; the run
        itself uses the returned id, so parallel runs that build the same tag from different
        sources never start each other's images.
        """
        context = Path(spec.build)
        if not context.is_absolute() and spec.base_dir is not None:
            context = spec.base_dir / context
        # Services built from one context (the demo's four) at once share one build.
        return build_image(
            self.client, spec.name, context, spec.dockerfile or "Dockerfile",
            build_args=spec.build_args, stack=stack, log_dir=log_dir, progress=progress,
            network=self.build_network, once=self._builds, target=spec.target,
        )

    # --- containers ------------------------------------------------------------------------

    def start(
        self, spec: ContainerSpec, *, run_id: str, stack: str = "default",
        log_dir: Path | None = None, progress: Callable[[str], None] = _say,
        redact: Callable[[str], str] = lambda text: text, wait: bool = True,
        launched: Callable[[DockerService], None] | None = None,
    ) -> DockerService:
        """Create and start the container of ``spec``, and (``wait``) wait until it is ready
        and its ``setup`` commands ran. ``launched`` is called in between, as soon as the
        container runs (its addresses are known): a stack starts what needs only that.

        The published port is chosen free on 127.0.0.1 and bound by number, so that restarts
        keep it (an engine-chosen port changes on every restart); if another program takes it
        before the container binds it, a new one is chosen. If the service never gets ready,
        its container is removed (its log is in the error and in ``<log_dir>/<name>.log``).
        """
        image_id = self.image(spec, stack=stack, log_dir=log_dir, progress=progress)
        network = self.network(run_id, stack)
        labels = self.labels(run_id, stack, spec.name)
        volumes = self._volumes(spec, run_id, stack)
        container = self._run(spec, image_id, network, labels, volumes, run_id, stack)
        service = DockerService(
            spec.name, container, network=network, container_port=spec.port,
            url_template=spec.url_template, ready=spec.ready,
            log_path=log_dir / f"{spec.name}.log" if log_dir else None,
            progress=progress, redact=redact, job=spec.job, extra=spec.extra,
        )
        if spec.ready is None and spec.port and not spec.job and not service.has_healthcheck():
            # Nothing said how to know it is ready: at least it must answer on its port.
            service.ready = ReadyCheck("tcp")
        if wait or launched:
            try:
                if launched is not None:
                    launched(service)
                if not wait:
                    return service
                service.wait_ready()
                for step in spec.setup:
                    service.run(step)
            except BaseException:
                service.remove()
                raise
        return service

    def _run(
        self, spec: ContainerSpec, image_id: str, network: str, labels: dict[str, str],
        volumes: dict[str, dict[str, str]], run_id: str, stack: str,
    ) -> Any:
        name = self.container_name(run_id, stack, spec.name)
        endpoint = self.client.api.create_endpoint_config(
            aliases=list(spec.aliases or (spec.name,)))
        for attempt in range(5):
            ports = {
                f"{port}/tcp": ("127.0.0.1", free_port())
                for port in (spec.port, *spec.more_ports) if port
            }
            try:
                container = self.client.containers.create(
                    image_id, list(spec.command) or None, name=name, detach=True, init=True,
                    environment=dict(spec.env), labels=labels, ports=ports, volumes=volumes,
                    network=network, networking_config={network: endpoint},
                    entrypoint=list(spec.entrypoint) or None,
                    healthcheck=dict(spec.healthcheck) if spec.healthcheck else None,
                )
            except APIError as err:
                taken = err.status_code == 409
                raise InterlockError(
                    f'Cannot create the container of service "{spec.name}"',
                    details=str(err.explanation or err), where=f'service "{spec.name}"',
                    hint=f"A container {name} already exists: this run started the service "
                    "twice; stop it first (or remove_run)." if taken
                    else "Check the volumes, command and env of the service.",
                ) from None
            try:
                container.start()
            except APIError as err:
                container.remove(force=True, v=True)
                if _PORT_TAKEN.search(str(err)) and attempt < 4:
                    continue
                raise InterlockError(
                    f'Container of service "{spec.name}" did not start',
                    details=str(err.explanation or err), where=f'service "{spec.name}"',
                    hint="Check the command, volumes and image of the service.",
                ) from None
            container.reload()
            return container
        raise AssertionError("unreachable")

    def _volumes(self, spec: ContainerSpec, run_id: str, stack: str) -> dict[str, dict[str, str]]:
        """Bind mounts for paths, run-scoped labelled volumes for plain names."""
        volumes: dict[str, dict[str, str]] = {}
        for source, target in spec.volumes.items():
            path, _, mode = target.partition(":")
            if source.startswith(("/", ".", "~")):
                host = Path(source).expanduser()
                if not host.is_absolute() and spec.base_dir is not None:
                    host = spec.base_dir / host
                volumes[str(host.resolve())] = {"bind": path, "mode": mode or "rw"}
            else:
                name = f"{self.network_name(run_id, stack)}-{_slug(source)}"
                existing = self.client.volumes.list(filters={"name": name})
                if not any(v.name == name for v in existing):
                    self.client.volumes.create(name, labels=self.labels(run_id, stack, spec.name))
                volumes[name] = {"bind": path, "mode": mode or "rw"}
        return volumes


    def remove_volumes(self, run_id: str, stack: str = "default") -> None:
        """Remove one stack's volumes (its containers are gone)."""
        labels = [f"{LABEL_RUN}={run_id}", f"{LABEL_STACK}={stack}"]
        for volume in self.client.volumes.list(filters={"label": labels}):
            with contextlib.suppress(NotFound):
                volume.remove(force=True)

    # --- clean-up --------------------------------------------------------------------------

    def runs(self) -> dict[str, str]:
        """Run ids that have containers, networks or volumes on the engine, and their owners."""
        return runs_on(self.client)

    def remove_run(self, run_id: str) -> Removed:
        """Remove every container, network and volume labelled with ``run_id``."""
        return remove_run(self.client, run_id)

    def sweep(self, run_ids: Iterable[str] | None = None) -> Removed:
        """Remove the leftovers of runs whose owner is gone; what was removed.

        With ``run_ids`` (from the run registry), those runs; without, every run on the
        engine whose ``interlock.owner`` process no longer exists on this host.
        """
        return sweep(self.client, run_ids)


def same_machine(base_url: str, info: dict[str, Any], kernel: str) -> bool:
    """Whether an engine reached at ``base_url`` (the SDK's: ``http+docker://localhost`` for
    a unix socket) that says ``info`` of itself runs on the kernel ``kernel``.

    Example:
        >>> linux = {"KernelVersion": "6.1.0-18-amd64", "OperatingSystem": "Debian GNU/Linux 12"}
        >>> same_machine("http+docker://localhost", linux, "6.1.0-18-amd64")
        True
        >>> same_machine("http://10.0.0.7:2375", linux, "6.1.0-18-amd64")  # another machine
        False
        >>> desktop = {"KernelVersion": "6.10.14-linuxkit", "OperatingSystem": "Docker Desktop"}
        >>> same_machine("http+docker://localhost", desktop, "6.1.0-18-amd64")  # its own VM
        False
    """
    local = re.match(r"^(http\+docker://|https?://(127\.0\.0\.1|localhost|\[::1\])[:/])",
                     base_url)
    return (local is not None and str(info.get("KernelVersion", "")) == kernel
            and "Docker Desktop" not in str(info.get("OperatingSystem", "")))


def _unreachable(tried: str, url: str, err: Exception, where: str) -> InterlockError:
    """Why the engine did not answer, in words, and what to do about it."""
    text = str(err)
    socket_path = (url or DEFAULT_SOCKET).removeprefix("unix://")
    if (url or DEFAULT_SOCKET).startswith("unix://") and not os.path.exists(socket_path):
        reason = f"the socket {socket_path} does not exist: no Docker engine is running there"
    elif "Permission denied" in text:
        reason = f"permission denied on {socket_path}: this user may not use the engine"
    elif "Connection refused" in text:
        reason = "connection refused: nothing listens there"
    else:
        reason = text.splitlines()[0][:300] if text else type(err).__name__
    return InterlockError(
        "Cannot reach the Docker engine",
        details=f"tried:  {tried}\nreason: {reason}",
        where=where,
        hint="Start one: `make docker-setup` (scripts/docker-setup.sh installs and starts "
        "dockerd), or `sudo dockerd &`; or point DOCKER_HOST at a running engine; "
        "or use the process backend (INTERLOCK_BACKEND=process).",
    )
