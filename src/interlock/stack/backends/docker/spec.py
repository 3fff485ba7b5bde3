"""What a service is as a container, and where it is seen from: the host or its network.

``ContainerSpec`` mirrors the stack file's ``docker:`` block (plus what a built-in kind's
plan adds); ``address_for`` answers ``{name.url}`` for whoever asks. ``DockerEngine``
(docker.py) turns a spec into a running ``DockerService``.

Example:
    >>> ContainerSpec("orders", build="demo/", port=8000).url_template
    'http://{host}:{port}'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.stack.base import Address, DockerPlan, ReadyCheck, RunningService


@dataclass(frozen=True)
class ContainerSpec:
    """One service as a container: an image, or a build context with a Dockerfile.

    The fields mirror the stack file's ``docker:`` block; ``env`` and ``command`` arrive
    already rendered (``{auth.url}`` resolved with ``address_for`` on the stack's network).
    ``port`` is the port the service listens on inside the container (0: none published);
    ``more_ports`` are published too. ``aliases`` are its names on the stack network (by
    default its own name). ``setup`` commands run inside it once it is ready, each must exit
    0. Relative ``build`` and bind-mount paths are relative to ``base_dir``.

    Example:
        >>> ContainerSpec("orders", build="demo/", port=8000).url_template
        'http://{host}:{port}'
    """

    name: str
    image: str = ""
    build: str = ""
    dockerfile: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: Mapping[str, str] = field(default_factory=dict)  # source -> /path[:ro]
    ready: ReadyCheck | None = None
    url_template: str = "http://{host}:{port}"
    base_dir: Path | None = None
    aliases: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()  # () keeps the image's
    more_ports: tuple[int, ...] = ()
    setup: tuple[tuple[str, ...], ...] = ()
    healthcheck: Mapping[str, Any] | None = None  # the engine's form; None keeps the image's
    target: str = ""  # the build stage to build
    job: bool = False  # runs to completion: ready once it exited 0
    extra: Mapping[str, str] = field(default_factory=dict)  # the address's extra (a kind's)

    def __post_init__(self) -> None:
        if not self.image and not self.build:
            raise InterlockError(
                f'Service "{self.name}" has neither a docker image nor a build context',
                hint="image: my/service:1.2  or  build: demo/  (a folder with a Dockerfile)",
            )

    @classmethod
    def from_plan(cls, name: str, plan: DockerPlan, **overrides: Any) -> ContainerSpec:
        """The spec for a built-in kind's ``DockerPlan``.

        Example:
            >>> plan = DockerPlan("redis:7", 6379, "redis://{host}:{port}", ReadyCheck("tcp"))
            >>> ContainerSpec.from_plan("cache", plan).port
            6379
        """
        values: dict[str, Any] = {
            "image": plan.image, "port": plan.container_port, "url_template": plan.url_template,
            "ready": plan.ready, "env": dict(plan.env), "command": tuple(plan.command or ()),
            "setup": tuple(tuple(step) for step in plan.setup), "volumes": dict(plan.volumes),
            "extra": dict(plan.extra),
        }
        values.update(overrides)
        return cls(name, **values)


def address_for(service: RunningService, network: str | None) -> Address:
    """The address of ``service`` as seen by a consumer on ``network`` (None: the host).

    A container on the same network reaches a Docker service by name and container port; a
    process, the test itself, or a container elsewhere uses the published 127.0.0.1 port.

    Example:
        >>> svc = RunningService("web", Address("http://127.0.0.1:32771", "127.0.0.1", 32771))
        >>> address_for(svc, "net-1").url
        'http://127.0.0.1:32771'
    """
    return service.address_seen_from(network)


def addresses_seen_from(
    running: Mapping[str, RunningService], network: str | None
) -> dict[str, Callable[[str], str]]:
    """``values.Scope`` namespaces for ``{name.url}`` as seen from ``network`` (None: host).

    Example:
        >>> svc = RunningService("auth", Address("http://127.0.0.1:1", "127.0.0.1", 1))
        >>> addresses_seen_from({"auth": svc}, None)["auth"]("url")
        'http://127.0.0.1:1'
    """

    def resolver(service: RunningService) -> Callable[[str], str]:
        return lambda attribute: address_for(service, network).get(attribute)

    return {name: resolver(service) for name, service in running.items()}
