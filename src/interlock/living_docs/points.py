"""The integration points of the system, as the suite's configuration describes them.

* APIs exposed: the operations of each service's OpenAPI document (``openapi:``, a path
  relative to the suite's folder).
* APIs called: a service whose ``env`` (or command) mentions another service's address
  (``AUTH_URL: "{auth.url}"``, ``{auth.host}``, ``{auth.port}``) calls it.
* Events: the ``events:`` section may describe the channels (every key optional; the events
  capability's own keys, ``timeout``, ``listen``…, sit beside them)::

      events:
        schemas:                      # channel -> the JSON Schema file of its events
          orders.created: order-created.schema.json
        publishers:                   # channel -> the services that publish to it
          orders.created: [orders]
        consumers:                    # channel -> the services that consume it
          payments.received: [orders]

* Data dependencies: a database of ``databases:`` whose ``url`` mentions a service's address
  (``"{db.url}/orders"``) lives on that service; services whose env mentions the same
  address use it (and do not count as calling it as an API).

Example:
    >>> EventCatalog.from_dict({"schemas": {"orders.created": "o.json"},
    ...                         "consumers": {"payments.in": "orders"}}, "events").channels
    ('orders.created', 'payments.in')
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from interlock._core.config import SuiteConfig
from interlock._core.errors import InterlockError, did_you_mean
from interlock.contracts import Documented, Operations
from interlock.stack.spec import ServiceSpec, stack_services

_ADDRESS = re.compile(r"(?<!\{)\{([A-Za-z0-9_-]+)\.(?:url|host|port)\}")


def _channel_map(value: Any, where: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InterlockError(
            f'"events.{what}" must be a mapping of channel to {what[:-1]}', where=where,
            hint=f"e.g. {what}:\n  orders.created: "
            + ("order-created.schema.json" if what == "schemas" else "[orders]"),
        )
    return {str(k): v for k, v in value.items()}


@dataclass(frozen=True)
class EventCatalog:
    """What the configuration says about each event channel."""

    schemas: Mapping[str, str] = field(default_factory=dict)
    publishers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    consumers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        """Read ``schemas``, ``publishers`` and ``consumers`` (other keys are not ours)."""
        schemas = {}
        for channel, schema in _channel_map(data.get("schemas"), where, "schemas").items():
            if not isinstance(schema, str) or not schema:
                raise InterlockError(
                    f'The schema of channel "{channel}" must be a file name',
                    where=f"{where}.schemas.{channel}", hint="e.g. order-created.schema.json",
                )
            schemas[channel] = schema
        sides: dict[str, dict[str, tuple[str, ...]]] = {}
        for what in ("publishers", "consumers"):
            sides[what] = {}
            for channel, names in _channel_map(data.get(what), where, what).items():
                listed = [names] if isinstance(names, str) else names
                if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                    raise InterlockError(
                        f'The {what} of channel "{channel}" must be a list of services',
                        where=f"{where}.{what}.{channel}", hint=f"e.g. {channel}: [orders]",
                    )
                sides[what][channel] = tuple(listed)
        return cls(schemas, sides["publishers"], sides["consumers"])

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel named anywhere in the catalog, sorted."""
        return tuple(sorted({*self.schemas, *self.publishers, *self.consumers}))


@dataclass(frozen=True)
class Call:
    """``caller`` reaches ``callee`` through ``via`` (an env variable, or "command")."""

    caller: str
    callee: str
    via: str


@dataclass(frozen=True)
class DataDependency:
    """A database, the services it lives on, and the services that use it."""

    database: str
    hosts: tuple[str, ...]
    users: tuple[str, ...]


@dataclass
class ServicePoints:
    """One service's integration points."""

    name: str
    openapi: str = ""  # the document's path as configured, "" when none
    operations: list[Documented] = field(default_factory=list)
    index: Operations | None = None
    calls: list[Call] = field(default_factory=list)


@dataclass
class SystemMap:
    """The integration points of every service, the event catalog and the databases."""

    services: dict[str, ServicePoints]
    events: EventCatalog
    databases: list[DataDependency]

    @property
    def calls(self) -> list[Call]:
        """Every service-to-service call, sorted."""
        return sorted(
            (c for s in self.services.values() for c in s.calls),
            key=lambda c: (c.caller, c.callee, c.via),
        )


def system_map(config: SuiteConfig) -> SystemMap:
    """Read the integration points from the configuration; an ``InterlockError`` names a
    missing OpenAPI document or a malformed ``events``/``databases`` entry."""
    specs = dict(sorted(stack_services(config).items()))
    services = {name: _points(spec, config, set(specs)) for name, spec in specs.items()}
    catalog = EventCatalog.from_dict(config.section("events"), config.where("events"))
    for channel, names in [*catalog.publishers.items(), *catalog.consumers.items()]:
        for name in names:
            if name not in specs:
                raise InterlockError(
                    f'Channel "{channel}" names unknown service "{name}"',
                    where=config.where("events"), hint=did_you_mean(name, list(specs)),
                )
    databases = _databases(config, specs)
    # A database server is a data dependency, not an API: its users are listed under it.
    servers = {h for d in databases for h in d.hosts if services[h].index is None}
    for points in services.values():
        points.calls = [c for c in points.calls if c.callee not in servers]
    return SystemMap(services, catalog, databases)


def _points(spec: ServiceSpec, config: SuiteConfig, known: set[str]) -> ServicePoints:
    points = ServicePoints(spec.name, openapi=spec.openapi)
    if spec.openapi:
        path = (config.root / spec.openapi).resolve()
        if not path.is_file():
            raise InterlockError(
                f'The OpenAPI document of service "{spec.name}" is not there: {spec.openapi}',
                where=config.where("services", spec.name, "openapi"),
                hint=f"The path is relative to the suite's folder ({config.root}).",
            )
        points.index = Operations.read(path)
        points.operations = points.index.documented()
    seen = set()
    for via, text in _mentions(spec):
        for callee in _ADDRESS.findall(text):
            if callee in known and callee != spec.name and (callee, via) not in seen:
                seen.add((callee, via))
                points.calls.append(Call(spec.name, callee, via))
    points.calls.sort(key=lambda c: (c.callee, c.via))
    return points


def _mentions(spec: ServiceSpec) -> Iterator[tuple[str, str]]:
    """(where, text) of every place a service's settings may name another service."""
    envs: list[Mapping[str, str]] = [spec.env]
    commands: list[Any] = []
    if spec.process is not None:
        envs.append(spec.process.env)
        commands.append(spec.process.command)
    if spec.docker is not None:
        envs.append(spec.docker.env)
        commands.append(spec.docker.command)
    for env in envs:
        for name, value in env.items():
            yield f"env {name}", str(value)
    for command in commands:
        yield "command", " ".join(command) if isinstance(command, tuple) else str(command)


def _databases(config: SuiteConfig, specs: Mapping[str, ServiceSpec]) -> list[DataDependency]:
    found = []
    for name, entry in sorted(config.section("databases").items()):
        url = entry.get("url") if isinstance(entry, Mapping) else entry
        if not isinstance(url, str):
            raise InterlockError(
                f'Database "{name}" needs a "url"', where=config.where("databases", name),
                hint='e.g. url: "postgresql://app@{db.host}:{db.port}/orders"',
            )
        hosts = tuple(sorted({h for h in _ADDRESS.findall(url) if h in specs}))
        users = sorted({
            spec.name for spec in specs.values() if spec.name not in hosts
            and any(h in _ADDRESS.findall(text) for _, text in _mentions(spec) for h in hosts)
        })
        found.append(DataDependency(str(name), hosts, tuple(users)))
    return found


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it (stable across machines)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
