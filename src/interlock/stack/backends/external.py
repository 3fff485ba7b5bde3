"""The external backend: a service somebody else runs, at a URL; nothing to start or stop.

It is the smallest backend, and the pattern for a new one: this one file (its block of the
stack file, read by ``read_form``; a ``RunningService`` subclass that overrides what it can
do; a class with ``can_run``, ``launch`` and ``close``), a line in
``stack/backends/__init__.py``, and its block's fields in the stack file's one definition
(``stackfile/fields.py``, which the reference and the JSON Schema are made from).

Example:
    >>> address_of_url("https://billing.example.com/api/").port
    443
    >>> ExternalBackend.read_form("https://billing.example.com", "interlock.yaml:9").url
    'https://billing.example.com'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from interlock._core.config import check_keys
from interlock._core.errors import InterlockError
from interlock._core.stackfile import block
from interlock._core.values import render
from interlock.stack.base import Address, RunningService, StackPlace

if TYPE_CHECKING:
    from interlock.stack.spec import ServiceSpec


@dataclass(frozen=True)
class ExternalForm:
    """``external:`` — a service somebody else runs (a staging system): a URL only."""

    url: str


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
    def read_form(cls, data: Any, where: str) -> ExternalForm:
        """The ``external:`` block: a URL, or ``{url: ...}``."""
        if isinstance(data, str):
            data = {"url": data}
        if not isinstance(data, dict):
            raise InterlockError("external must be a URL or a mapping with url:", where=where,
                                 hint='external: "https://staging.example.com"')
        check_keys(data, block("services.<service>.external").names, where, "external")
        if not data.get("url"):
            raise InterlockError("external needs a url", where=where,
                                 hint='external: {url: "https://staging.example.com"}')
        return ExternalForm(str(data["url"]))

    @classmethod
    def can_run(cls, spec: ServiceSpec) -> bool:
        """Whether the spec has an ``external:`` block."""
        return "external" in spec.forms

    def launch(self, spec: ServiceSpec) -> RunningService:
        """The service at its rendered URL (``{env.X}``, a peer's address…)."""
        url = spec.forms["external"].url
        scope = self.place.scope_for(spec, 0, self.place.run_dir)
        service = ExternalService(spec.name, address_of_url(render(url, scope, spec.where)))
        self.place.launched(service)
        return service

    def close(self) -> list[str]:
        """Nothing is held."""
        return []

    @classmethod
    def sweep(cls) -> list[str]:
        """Nothing is ever left."""
        return []
