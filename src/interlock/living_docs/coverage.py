"""What the scenarios exercised, joined with what the system documents: each OpenAPI
operation, event channel and database with the scenarios that touched it, and the gaps.

An HTTP exchange belongs to the service whose address (``environment.properties``) its URL
starts with (else to the service its attachment names: a stack of the scenario's own has
addresses of its own), and to the operation of that service's OpenAPI document that its
method and path match (the same matching the contract check uses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from interlock.contracts import Documented
from interlock.contracts.operations import documented_status
from interlock.living_docs.points import SystemMap
from interlock.living_docs.results import Results, Scenario

_LOOPBACK = {"localhost": "127.0.0.1", "::1": "127.0.0.1", "[::1]": "127.0.0.1"}


@dataclass
class OperationCoverage:
    """One documented operation, the scenarios that called it and the statuses they saw."""

    service: str
    operation: Documented
    scenarios: set[str] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return str(self.operation)

    @property
    def unseen_statuses(self) -> list[str]:
        """Documented response codes no scenario saw (``default`` is never a gap)."""
        covered = {documented_status(s, self.operation.statuses) for s in self.statuses}
        return [s for s in self.operation.statuses if s not in covered and s != "default"]

    @property
    def undocumented_statuses(self) -> list[int]:
        """Statuses seen that the operation does not document."""
        return sorted(s for s in self.statuses if not documented_status(s, self.operation.statuses))


@dataclass
class ChannelCoverage:
    """One event channel: what the configuration says, and who received or published on it."""

    channel: str
    schema: str = ""
    publishers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    configured: bool = True
    received: set[str] = field(default_factory=set)
    published: set[str] = field(default_factory=set)


@dataclass
class Coverage:
    """The coverage tables and the gaps."""

    operations: list[OperationCoverage]
    channels: list[ChannelCoverage]
    databases: dict[str, set[str]]  # database -> scenarios that ran SQL on it
    configured_databases: set[str]
    undocumented_calls: dict[tuple[str, str], set[str]]  # (service, "GET /path") -> scenarios
    undocumented_services: dict[str, set[str]]  # called services without an OpenAPI document
    unknown_urls: dict[str, set[str]]  # "GET http://…" of no known service -> scenarios
    scenarios: list[Scenario]
    touched: dict[str, set[str]] = field(default_factory=dict)  # scenario label -> names

    def gaps(self) -> list[str]:
        """Every gap, one line each, in a stable order."""
        gaps = []
        for op in self.operations:
            if not op.scenarios:
                gaps.append(f"`{op.service}` {op.name}: no scenario calls it")
            elif op.unseen_statuses:
                codes = ", ".join(op.unseen_statuses)
                noun = "status" if len(op.unseen_statuses) == 1 else "statuses"
                gaps.append(f"`{op.service}` {op.name}: documented {noun} {codes} never seen")
            if op.undocumented_statuses:
                codes = ", ".join(map(str, op.undocumented_statuses))
                gaps.append(f"`{op.service}` {op.name}: status {codes} seen but not documented")
        for (service, call), _ in sorted(self.undocumented_calls.items()):
            gaps.append(f"`{service}` {call}: called, but its OpenAPI document has no such "
                        "operation")
        for target in sorted(self.unknown_urls):
            gaps.append(f"{target}: no configured service has this address (an absolute URL, "
                        "or environment.properties is missing from the results)")
        for service in sorted(self.undocumented_services):
            gaps.append(f"`{service}`: called by scenarios, but has no OpenAPI document")
        for ch in self.channels:
            if not ch.configured:
                gaps.append(f"event `{ch.channel}`: seen, but not described under events: "
                            "in the configuration")
            elif not ch.received and not ch.published:
                gaps.append(f"event `{ch.channel}`: no scenario receives or publishes it")
            elif ch.publishers and not ch.received:
                gaps.append(f"event `{ch.channel}`: published by "
                            f"{_names(ch.publishers)}, but no scenario checks it arrives")
            elif ch.consumers and not ch.published:
                gaps.append(f"event `{ch.channel}`: consumed by "
                            f"{_names(ch.consumers)}, but no scenario publishes it")
        for database in sorted(self.configured_databases - set(self.databases)):
            gaps.append(f"database `{database}`: no scenario runs SQL on it")
        return gaps


def _names(services: Iterable[str]) -> str:
    return ", ".join(f"`{s}`" for s in services)


def coverage(system: SystemMap, results: Results) -> Coverage:
    """Join the system's integration points with what the scenarios touched."""
    operations = {
        (name, str(op)): OperationCoverage(name, op)
        for name, points in system.services.items() for op in points.operations
    }
    catalog = system.events
    channels = {
        ch: ChannelCoverage(ch, catalog.schemas.get(ch, ""), catalog.publishers.get(ch, ()),
                            catalog.consumers.get(ch, ()))
        for ch in catalog.channels
    }
    result = Coverage(
        operations=list(operations.values()), channels=[], databases={},
        configured_databases={d.database for d in system.databases},
        undocumented_calls={}, undocumented_services={}, unknown_urls={},
        scenarios=results.scenarios,
    )
    bases = _bases(results.services)
    for scenario in results.scenarios:
        touched = result.touched.setdefault(scenario.label, set())
        for touch in scenario.touches:
            if touch.kind == "event":
                channel = channels.setdefault(
                    touch.target, ChannelCoverage(touch.target, configured=False))
                side = channel.published if touch.detail == "published" else channel.received
                side.add(scenario.label)
                touched.add(f"event {touch.target} ({touch.detail})")
            elif touch.kind == "sql":
                result.databases.setdefault(touch.target, set()).add(scenario.label)
                touched.add(f"SQL {touch.target}")
            elif touch.kind == "http":
                touched.add(_http(touch.target, touch.status, scenario.label, system, bases,
                                  operations, result, touch.service))
    result.channels = [channels[name] for name in sorted(channels)]
    return result


def _http(
    target: str, status: int | None, label: str, system: SystemMap,
    bases: list[tuple[str, str, str]], operations: dict[tuple[str, str], OperationCoverage],
    result: Coverage, named: str = "",
) -> str:
    """Count one exchange; return how the scenarios table names it."""
    method, _, url = target.partition(" ")
    parts = urlsplit(url)
    netloc = _netloc(parts.scheme, parts.hostname or "", parts.port)
    service, path = "", parts.path or "/"
    for name, base_netloc, prefix in bases:
        if netloc == base_netloc and (path == prefix or path.startswith(prefix.rstrip("/") + "/")):
            service, path = name, path[len(prefix.rstrip("/")) :] or "/"
            break
    else:
        service = named if named in system.services else ""
    points = system.services.get(service)
    if points is None:
        result.unknown_urls.setdefault(target, set()).add(label)
        return target
    if points.index is None:
        result.undocumented_services.setdefault(service, set()).add(label)
        return f"{service}: {method} {path}"
    found = points.index.find(method, path)
    if found is None:
        result.undocumented_calls.setdefault((service, f"{method} {path}"), set()).add(label)
        return f"{service}: {method} {path}"
    covered = operations[(service, str(found))]
    covered.scenarios.add(label)
    if status is not None:
        covered.statuses.add(status)
    return f"{service}: {found}"


def _bases(services: dict[str, str]) -> list[tuple[str, str, str]]:
    """(service, netloc, path prefix) of each address, longest prefix first."""
    bases = []
    for name, url in services.items():
        parts = urlsplit(url)
        if parts.hostname:
            bases.append((name, _netloc(parts.scheme, parts.hostname, parts.port),
                          parts.path or "/"))
    return sorted(bases, key=lambda b: (-len(b[2]), b[0]))


def _netloc(scheme: str, host: str, port: int | None) -> str:
    # A run may say localhost where the service was recorded as 127.0.0.1.
    host = _LOOPBACK.get(host.lower(), host.lower())
    return f"{host}:{port or (443 if scheme == 'https' else 80)}"
