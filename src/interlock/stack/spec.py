"""Service definitions as written in the stack file, checked field by field.

Example:
    >>> spec = ServiceSpec.from_dict("auth", {
    ...     "process": {"command": "{python} -m demo.auth --port {port}"},
    ...     "ready": {"http": "/health"}, "depends_on": []}, where="interlock.yaml:3")
    >>> spec.process.command, spec.ready.kind
    ('{python} -m demo.auth --port {port}', 'http')
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from interlock._core.config import SuiteConfig, check_keys, field_where, typed
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import block
from interlock._core.values import parse_duration
from interlock.stack.backends import BACKENDS
from interlock.stack.base import ReadyCheck
from interlock.stack.kinds import KINDS

BUILT_IN_KINDS = tuple(KINDS)  # the kinds' registry: a new kind is a module and a line there
# The backends whose blocks have a field of their own here (the kinds and Compose build them
# too); any other backend's block is read by the backend (Backend.read_form) into ``forms``.
_OWN_FIELDS = ("process", "docker")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InterlockError(f"{what} must be a mapping", where=where)
    return value


def _strings(value: Any, where: str, what: str) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in _mapping(value, where, what).items()}


@dataclass(frozen=True)
class ProcessForm:
    """``process:`` — a command run on this machine."""

    command: str | tuple[str, ...]
    cwd: str = ""
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ProcessForm:
        if isinstance(data, str | list):
            data = {"command": data}
        data = _mapping(data, where, "process")
        check_keys(data, block("services.<service>.process").names, where, "process")
        command = data.get("command")
        if not command:
            raise InterlockError(
                "process needs a command", where=where,
                hint='e.g. command: "{python} -m myservice --port {port}"',
            )
        cmd = tuple(str(c) for c in command) if isinstance(command, list) else str(command)
        return cls(cmd, str(data.get("cwd") or ""), _strings(data.get("env"), where, "env"))


@dataclass(frozen=True)
class DockerForm:
    """``docker:`` — an image, or a build context with a Dockerfile."""

    image: str = ""
    build: str = ""
    dockerfile: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: Mapping[str, str] = field(default_factory=dict)
    # What a compose file adds (stack/compose.py); the stack file's docker: block has none.
    target: str = ""  # the build stage
    more_ports: tuple[int, ...] = ()  # published too, each on a free 127.0.0.1 port
    entrypoint: tuple[str, ...] = ()
    healthcheck: Mapping[str, Any] | None = None  # the engine's form (durations in ns)
    aliases: tuple[str, ...] = ()  # names on the stack's network besides the service's
    literal: bool = False  # command and env taken as written (no {templates}): compose's

    @classmethod
    def from_dict(cls, data: Any, where: str) -> DockerForm:
        data = _mapping(data, where, "docker")
        check_keys(data, block("services.<service>.docker").names, where, "docker")
        if not data.get("image") and not data.get("build"):
            raise InterlockError(
                "docker needs an image or a build context", where=where,
                hint="image: my/service:1.2  or  build: demo/  (with a Dockerfile)",
            )
        command = typed(data, "command", where, (str, list), ()) or ()
        if isinstance(command, str):
            import shlex

            command = shlex.split(command)
        port = typed(data, "port", where, int, 0)
        return cls(
            image=str(data.get("image") or ""),
            build=str(data.get("build") or ""),
            dockerfile=str(data.get("dockerfile") or ""),
            build_args=_strings(data.get("build_args"), where, "build_args"),
            port=port,
            command=tuple(str(c) for c in command),
            env=_strings(data.get("env"), where, "env"),
            volumes=_strings(data.get("volumes"), where, "volumes"),
        )


def ready_from_dict(data: Any, where: str) -> ReadyCheck:
    """``ready: {http: /health}`` / ``{tcp: true}`` / ``{log: regex}`` / ``{command: [...]}``."""
    data = _mapping(data, where, "ready")
    check_keys(data, block("services.<service>.ready").names, where, "ready")
    default = block("services.<service>.ready").field("timeout").default
    timeout = parse_duration(str(data.get("timeout", default)),
                             field_where(where, data, "timeout"))
    if "http" in data:
        status = typed(data, "status", where, int, 200)
        return ReadyCheck("http", path=str(data["http"]), status=status, timeout=timeout)
    if "log" in data:
        pattern = str(data["log"])
        try:
            re.compile(pattern)
        except re.error as err:
            raise InterlockError(f"ready.log is not a valid regex: {err}", where=where) from None
        return ReadyCheck("log", pattern=pattern, timeout=timeout)
    if "command" in data:
        command = data["command"]
        argv = tuple(command) if isinstance(command, list) else ("sh", "-c", str(command))
        return ReadyCheck("command", command=tuple(str(a) for a in argv), timeout=timeout)
    return ReadyCheck("tcp", timeout=timeout)


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the stack file."""

    name: str
    where: str
    kind: str = ""
    process: ProcessForm | None = None
    docker: DockerForm | None = None
    # The blocks of the other backends (``external: {url: ...}``), each read by its backend
    # (``Backend.read_form``): adding a backend adds no field here.
    forms: Mapping[str, Any] = field(default_factory=dict)
    ready: ReadyCheck | None = None
    depends_on: tuple[str, ...] = ()
    started_is_enough: tuple[str, ...] = ()  # dependencies needed only started (address known)
    env: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    openapi: str = ""
    check_contract: bool = False
    delay_proxy: bool = False
    delay_header: str = ""  # delay_proxy: {scenario_header: ...}: a scenario's own delays
    job: bool = False  # runs to completion (a compose service_completed_successfully target)

    FIELDS = block("services.<service>").names

    @classmethod
    def from_dict(cls, name: str, data: Any, where: str, *, defined: bool = False) -> ServiceSpec:
        """The service ``name`` of the stack file; ``defined``: its way to run is given
        elsewhere (a compose file), so it may have none here."""
        if not _NAME.match(name):
            raise InterlockError(
                f'Service name "{name}" is not a plain name', where=where,
                hint="Use lower-case letters, digits, - and _ (it becomes {name.url}).",
            )
        data = _mapping(data, where, f'service "{name}"')
        check_keys(data, cls.FIELDS, where, f'service "{name}"')
        kind = typed(data, "kind", where, str, "")
        if kind and kind not in BUILT_IN_KINDS:
            raise InterlockError(
                f'Unknown kind "{kind}" for service "{name}"',
                where=field_where(where, data, "kind"),
                hint=did_you_mean(kind, BUILT_IN_KINDS),
            )
        if not defined and not kind and not any(k in data for k in BACKENDS):
            raise InterlockError(
                f'Service "{name}" has no way to run', where=where,
                hint="Give it a process: command, a docker: image, an external: url, "
                f"or a kind: ({', '.join(BUILT_IN_KINDS)}).",
            )
        depends = typed(data, "depends_on", where, (str, list, Mapping), [], items=str,
                        wanted="a service name, a list of them or a mapping "
                        "{service: ready|started}") or []
        if isinstance(depends, str):
            depends = [depends]
        started_only: list[str] = []
        if isinstance(depends, Mapping):
            # depends_on: {db: ready, auth: started} — "started" lets this service start as
            # soon as the other's address is known (it must retry its connections itself).
            for dep, condition in depends.items():
                if condition not in ("ready", "started"):
                    raise InterlockError(
                        f'depends_on.{dep} must be "ready" or "started", not {condition!r}',
                        where=field_where(where, data, "depends_on"),
                        hint="ready: wait until it passes its readiness check (the default); "
                        "started: only until its address is known.",
                    )
                if condition == "started":
                    started_only.append(str(dep))
            depends = list(depends)
        return cls(
            name=name,
            where=where,
            kind=kind,
            process=(ProcessForm.from_dict(data["process"], field_where(where, data, "process"))
                     if "process" in data else None),
            docker=(DockerForm.from_dict(data["docker"], field_where(where, data, "docker"))
                    if "docker" in data else None),
            forms={backend: BACKENDS.load(backend).read_form(
                       data[backend], field_where(where, data, backend))
                   for backend in BACKENDS if backend in data and backend not in _OWN_FIELDS},
            ready=(ready_from_dict(data["ready"], field_where(where, data, "ready"))
                   if "ready" in data else None),
            depends_on=tuple(str(d) for d in depends),
            started_is_enough=tuple(started_only),
            env=_strings(data.get("env"), field_where(where, data, "env"), "env"),
            options=dict(_mapping(data.get("options"), field_where(where, data, "options"),
                                  "options")),
            openapi=typed(data, "openapi", where, str, ""),
            check_contract=typed(data, "check_contract", where, bool, False),
            **_delay_proxy(name, data, where),
        )


_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP header's name (a token)


def _delay_proxy(name: str, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``delay_proxy: true`` or ``delay_proxy: {scenario_header: traceparent}``, as the
    spec's ``delay_proxy`` and ``delay_header``."""
    given = data.get("delay_proxy", False)
    if not isinstance(given, Mapping):
        return {"delay_proxy": typed(data, "delay_proxy", where, bool, False,
                                     wanted="true, false or {scenario_header: <header>}")}
    at = field_where(where, data, "delay_proxy")
    check_keys(given, ("scenario_header",), at, f'service "{name}" delay_proxy')
    header = given.get("scenario_header")
    if header is None:
        raise InterlockError(
            f'The delay_proxy of service "{name}" is a mapping without scenario_header',
            where=at, hint="Write delay_proxy: true, or delay_proxy: {scenario_header: "
            "traceparent} (the header the service's callers pass on from the test's request).")
    if not isinstance(header, str) or not _HEADER.match(header):
        raise InterlockError(
            f'The delay_proxy.scenario_header of service "{name}" is not the name of an HTTP '
            f"header: {header!r}", where=at,
            hint="Name the header the service's callers pass on from the test's request, "
            "e.g. scenario_header: traceparent (the W3C trace context).")
    return {"delay_proxy": True, "delay_header": header}


LAYERED = ("ready", "openapi", "check_contract", "delay_proxy", "env", "depends_on")
"""What the stack file adds to a compose service; its ways to run (kind, process, docker,
external, options) are the compose file's."""


def layered(base: ServiceSpec, data: Any, where: str) -> ServiceSpec:
    """A compose service (``base``) with the stack file's settings for it laid over: readiness,
    OpenAPI document, contract checks, delay proxy, more env (the stack file's wins) and more
    dependencies. Its kind, process, docker and external forms in the stack file are not used
    (one stack file keeps them for the stages without the compose file).

    Example:
        >>> base = ServiceSpec("web", "compose.yaml:3", docker=DockerForm(image="web"))
        >>> layered(base, {"ready": {"http": "/health"}}, "interlock.yaml:9").ready.kind
        'http'
    """
    mine = _mapping(data, where, f'service "{base.name}"')
    kept = copy.copy(mine)  # a Located copy keeps the lines of the keys
    for key in ("kind", *BACKENDS, "options"):  # how it runs is the compose file's
        if isinstance(kept, dict):
            kept.pop(key, None)
    over = ServiceSpec.from_dict(base.name, kept, where, defined=True)
    return dataclasses.replace(
        base,
        ready=over.ready or base.ready,
        openapi=over.openapi or base.openapi,
        check_contract=over.check_contract or base.check_contract,
        delay_proxy=over.delay_proxy or base.delay_proxy,
        delay_header=over.delay_header or base.delay_header,
        env={**base.env, **over.env},
        depends_on=tuple(dict.fromkeys((*base.depends_on, *over.depends_on))),
        started_is_enough=tuple(dict.fromkeys((*base.started_is_enough,
                                               *over.started_is_enough))),
    )


def stack_services(config: SuiteConfig, warn: Callable[[str], None] = lambda line: None,
                   ) -> dict[str, ServiceSpec]:
    """The services of the stack file: those of its compose files (``compose:``), with the
    stack file's settings for the same names laid over them, and its own.

    A service in both runs as the compose file says; the stack file adds its readiness,
    OpenAPI document, contract checks, delay proxy, env and dependencies (``layered``).
    The compose reader is imported only for a stack file that names compose files.
    """
    services: dict[str, ServiceSpec] = {}
    if config.data.get("compose") is not None:
        from interlock.stack.compose import compose_services

        services.update(compose_services(config, warn))
    for name, data in config.section("services").items():
        where = config.where("services", name)
        services[name] = (layered(services[name], data, where) if name in services
                          else ServiceSpec.from_dict(name, data, where))
    return services
