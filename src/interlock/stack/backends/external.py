"""The external backend: a service somebody else runs, at a URL; nothing to start or stop.

It is the smallest backend, and the pattern for a new one: a ``RunningService`` subclass
that overrides what it can do, a class with ``can_run``, ``launch`` and ``close``, and a line
in ``stack/backends/__init__.py``.

Example:
    >>> address_of_url("https://billing.example.com/api/").port
    443
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from interlock.stack.base import Address, RunningService, StackPlace
from interlock.stack.spec import ServiceSpec
from interlock.values import render


def address_of_url(url: str) -> Address:
    """An ``Address`` from a URL (``http://host:port/...``)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme, 0)
    return Address(url.rstrip("/"), parts.hostname or "", parts.port or default)


class ExternalService(RunningService):
    """A service somebody else runs: an address; faults cannot reach it (the base says so)."""

    backend = "external"

    def started_line(self, seconds: float, url: str) -> str:
        """The progress line: where it is."""
        return f"interlock: {self.name} is external at {url}"


class ExternalBackend:
    """Services with an ``external: {url: ...}`` block."""

    name: ClassVar[str] = "external"

    def __init__(self, place: StackPlace) -> None:
        self.place = place

    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """Whether the spec has an ``external:`` block."""
        return spec.external is not None

    def launch(self, spec: ServiceSpec) -> RunningService:
        """The service at its rendered URL (``{env.X}``, a peer's address…)."""
        assert spec.external is not None
        scope = self.place.scope_for(spec, 0, self.place.run_dir)
        service = ExternalService(spec.name, address_of_url(render(spec.external.url, scope,
                                                                   spec.where)))
        self.place.launched(service)
        return service

    def close(self) -> list[str]:
        """Nothing is held."""
        return []

    @classmethod
    def sweep(cls, wanted: bool) -> list[str]:
        """Nothing is ever left."""
        return []
