"""The operations of an OpenAPI document, found by method and request path.

This is the part of a contract that needs no validator: which operation a request is for
(concrete path templates before templated ones, as the OpenAPI spec says; a ``servers`` path
prefix such as ``/v1`` may be left out), and what each operation documents. The contract
check (``openapi.py``) and the living documentation both use it.

Example:
    >>> ops = Operations({"openapi": "3.1.0", "servers": [{"url": "https://x.example/v1"}],
    ...     "paths": {"/orders/{id}": {"get": {"responses": {"200": {}, "404": {}}}},
    ...               "/orders/mine": {"get": {"responses": {"200": {}}}}}})
    >>> str(ops.find("GET", "/v1/orders/o-1")), ops.find("GET", "/orders/o-1").variables
    ('GET /orders/{id}', {'id': 'o-1'})
    >>> str(ops.find("GET", "/orders/mine")), ops.find("DELETE", "/orders/o-1")
    ('GET /orders/mine', None)
    >>> [(str(d), d.statuses) for d in ops.documented()]
    [('GET /orders/{id}', ('200', '404')), ('GET /orders/mine', ('200',))]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from interlock._core.errors import InterlockError
from interlock.contracts._documents import load_document

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """The operation a request is for: method, path template, the template's values."""

    method: str
    template: str
    variables: dict[str, str]
    path: str  # the request path with any server prefix removed

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


@dataclass(frozen=True)
class Documented:
    """An operation as the document describes it: summary and documented response statuses
    (``"200"``, ``"4XX"``, ``"default"``), in the document's order."""

    method: str
    template: str
    summary: str
    statuses: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


class Operations:
    """The paths of an OpenAPI document (not validated: see ``OpenApiContract`` for that)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        paths = document.get("paths")
        self.paths: Mapping[str, Any] = paths if isinstance(paths, Mapping) else {}
        self.prefixes = _server_prefixes(document)

    @classmethod
    def read(cls, path: Path) -> Operations:
        """The operations of the document at ``path`` (JSON or YAML)."""
        document = load_document(path, "OpenAPI document")
        if not isinstance(document, dict) or not isinstance(document.get("paths", {}), dict):
            raise InterlockError(
                f"{path.name} is not an OpenAPI document (no paths: mapping)", where=str(path),
                hint='Start the document with openapi: "3.1.0" and list its paths: under it.',
            )
        return cls(document)

    def documented(self) -> list[Documented]:
        """Every operation, in the document's order."""
        found = []
        for template, item in self.paths.items():
            if not isinstance(item, Mapping):
                continue
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                responses = operation.get("responses")
                if not isinstance(responses, Mapping):
                    responses = {}
                statuses = tuple(str(status) for status in responses)
                summary = str(operation.get("summary") or operation.get("operationId") or "")
                found.append(Documented(method, str(template), summary, statuses))
        return found

    def template_for(self, url_path: str) -> tuple[str, str, dict[str, str]] | None:
        """The template that a request path is for, the path it matched (server prefix
        removed) and the template's values; ``None`` when no template matches."""
        candidates = [url_path[len(p) :] or "/" for p in self.prefixes if url_path.startswith(p)]
        for candidate in [*candidates, url_path]:
            for template, variables in _matching_templates(self.paths, candidate):
                return template, candidate, variables
        return None

    def find(self, method: str, url_path: str) -> Operation | None:
        """The documented operation for a request, or ``None``."""
        found = self.template_for(url_path)
        if found is None:
            return None
        template, candidate, variables = found
        if method.lower() not in self.paths[template]:
            return None
        return Operation(method.lower(), template, variables, candidate)


def documented_status(status: int, documented: tuple[str, ...]) -> str:
    """Which documented response a status falls under: ``"404"``, ``"4XX"``, ``"default"``,
    or "" when none (so the response breaks the contract).

    Example:
        >>> documented_status(404, ("200", "4XX")), documented_status(500, ("200",))
        ('4XX', '')
    """
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in documented:
            return key
    return ""


def _server_prefixes(document: Mapping[str, Any]) -> list[str]:
    """Path prefixes of every server URL (variables at their defaults), longest first."""
    servers: list[Any] = list(document.get("servers") or [])
    for item in (document.get("paths") or {}).values():
        if isinstance(item, dict):
            servers.extend(item.get("servers") or [])
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    servers.extend(item[method].get("servers") or [])
    prefixes = set()
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"]
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
        prefix = urlsplit(url).path.rstrip("/")
        if prefix:
            prefixes.add(prefix)
    return sorted(prefixes, key=len, reverse=True)


def _matching_templates(
    paths: Mapping[str, Any], url_path: str
) -> list[tuple[str, dict[str, str]]]:
    """Templates that match a path, concrete ones first (as the OpenAPI spec requires)."""
    found = []
    for template in paths:
        pattern = re.sub(
            r"\\\{([^}]+)\\\}", lambda m: f"(?P<{_group(m.group(1))}>[^/]+)", re.escape(template)
        )
        match = re.fullmatch(pattern, url_path.rstrip("/") or "/") or re.fullmatch(
            pattern, url_path
        )
        if match:
            names = re.findall(r"\{([^}]+)\}", template)
            values = {name: unquote(match.group(_group(name))) for name in names}
            found.append((template, values))
    return sorted(found, key=lambda pair: len(pair[1]))


def _group(name: str) -> str:
    return "v_" + re.sub(r"\W", "_", name)
