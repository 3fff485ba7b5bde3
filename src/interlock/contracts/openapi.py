"""OpenAPI 3.0/3.1: an HTTP exchange (``Observed``) against the operation of the document that
matches its method and path: status, headers and body, every problem listed.

This module knows nothing of the HTTP client: the composition layer turns its ``Exchange``
into an ``Observed``.

Example:
    >>> contract = OpenApiContract.load(Path("orders.openapi.yaml"))  # doctest: +SKIP
    >>> contract.check(Observed("GET", "http://127.0.0.1:8000/orders/1", {}, b"", 200,
    ...     {"Content-Type": "application/json"}, b'{"id": "1"}'))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from interlock.contracts._documents import error_order, json_path, load_document, short
from interlock.contracts.operations import METHODS, Operation, Operations
from interlock.errors import Failure, InterlockError
from interlock.secrets import Secrets


@dataclass(frozen=True)
class Observed:
    """One HTTP exchange as the contract sees it: what went out and what came back.

    Example:
        >>> Observed("GET", "http://127.0.0.1:8000/orders/1", {}, b"", 200,
        ...          {"Content-Type": "application/json"}, b'{"id": "1"}').path
        '/orders/1'
    """

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"



def _references(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _fingerprint(path: Path, document: Any) -> str:
    """A hash of the document, the files it refers to (and theirs), and the validator."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("openapi-spec-validator").encode())
    seen: set[Path] = set()
    todo = [(path, document)]
    while todo:
        current, content = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        digest.update(str(current).encode() + b"\0" + current.read_bytes())
        for ref in _references(content):
            target = ref.split("#", 1)[0]
            if target and "://" not in target:
                other = (current.parent / target).resolve()
                if other.is_file() and other not in seen:
                    try:
                        todo.append((other, load_document(other, "referenced document")))
                    except InterlockError:
                        digest.update(b"unreadable " + str(other).encode())
    return digest.hexdigest()[:32]


class OpenApiContract:
    """An OpenAPI 3.0/3.1 document that exchanges are checked against.

    The operation is found by method and path template; the document's ``servers`` only
    contribute a path prefix (``/v1`` of ``https://api.example.com/v1``) that may be removed
    first, since the service under test runs on a loopback address of its own.

    Example:
        >>> contract = OpenApiContract.load(Path("orders.openapi.yaml"))  # doctest: +SKIP
        >>> contract.check(observed)  # doctest: +SKIP
    """

    def __init__(self, path: Path, document: dict[str, Any], app: Any = None) -> None:
        self.path = path
        self.document = document
        self._built = app
        self.index = Operations(document)

    @property
    def _app(self) -> Any:
        """openapi-core's view of the document, built on the first check (it takes a while)."""
        if self._built is None:
            from openapi_core import Config, OpenAPI

            # Servers are removed so that openapi-core matches on the path alone: the exchange
            # goes to 127.0.0.1:<free port>, never to the host the document names.
            self._built = OpenAPI.from_dict(
                _without_servers(self.document),
                config=Config(spec_validator_cls=None),
                base_uri=self.path.as_uri(),
            )
        return self._built

    @classmethod
    def load(cls, path: Path, valid_cache: Path | None = None) -> OpenApiContract:
        """Read and validate the document; an ``InterlockError`` says what is wrong where.

        Validating a document against the OpenAPI specification takes about half a second;
        with ``valid_cache`` (a folder), a document found valid once is not validated again
        until it, a file it refers to, or the validator changes (every worker of a parallel
        run, and every run after the first, skips it)."""
        from jsonschema_path import SchemaPath
        from openapi_spec_validator.shortcuts import get_validator_cls
        from openapi_spec_validator.validation.exceptions import ValidatorDetectError

        path = Path(path).resolve()
        if not path.is_file():
            raise InterlockError(
                f"OpenAPI document {path.name} not found",
                where=str(path),
                hint="Check the service's contract setting in the stack file.",
            )
        document = load_document(path, "OpenAPI document")
        version = str(document.get("openapi", "")) if isinstance(document, dict) else ""
        if isinstance(document, dict) and "swagger" in document:
            version = f"swagger {document['swagger']}"
        if not re.match(r"3\.[01]\.", version):
            raise InterlockError(
                f"{path.name} is not an OpenAPI 3.0 or 3.1 document"
                + (f" (openapi: {version})" if version else " (no openapi: field)"),
                where=str(path),
                hint='Start the document with openapi: "3.1.0" (or 3.0.3).',
            )
        assert isinstance(document, dict)  # for mypy: version is only set for a dict
        marker = valid_cache / f"openapi-{_fingerprint(path, document)}" if valid_cache else None
        if marker is not None and marker.exists():
            return cls(path, document)
        try:
            spec_validator = get_validator_cls(document)
        except ValidatorDetectError:
            raise InterlockError(
                f"Unknown OpenAPI version in {path.name}", where=str(path)
            ) from None
        spec = SchemaPath.from_dict(document, base_uri=path.as_uri())
        problems = [
            f"{json_path(error.absolute_path)}: {error.message[:200]}"
            for error in spec_validator(spec).iter_errors()
        ]
        if problems:
            raise InterlockError(
                f"Invalid OpenAPI document {path.name} ({len(problems)} problems)",
                details="\n".join(problems[:20]),
                where=str(path),
            )
        if marker is not None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            except OSError:
                pass  # a read-only checkout validates every time
        return cls(path, document)

    @property
    def operations(self) -> list[str]:
        """Every documented operation, e.g. ``["GET /orders/{id}", "POST /orders"]``."""
        return [str(documented) for documented in self.index.documented()]

    def operation(self, method: str, url_path: str, where: str = "") -> Operation:
        """The documented operation for a request, or a ``Failure`` listing those that exist."""
        found = self.index.find(method, url_path)
        if found is not None:
            return found
        matched = self.index.template_for(url_path)
        if matched is not None:
            item = self.index.paths[matched[0]]
            documented = ", ".join(m.upper() for m in METHODS if m in item)
            raise Failure(
                f"no operation for {method.upper()} {url_path} in {self.path.name}",
                f"{matched[0]} documents: {documented}",
                where=where,
                hint="Document the method, or check the request.",
            )
        listing = "\n".join(f"- {op}" for op in self.operations) or "- (no paths)"
        raise Failure(
            f"no operation for {method.upper()} {url_path} in {self.path.name}",
            f"documented operations:\n{listing}",
            where=where,
            hint="Document the path, or check the request URL and the servers' base path.",
        )

    def check(self, observed: Observed, *, where: str = "", secrets: Secrets | None = None) -> None:
        """Raise a ``Failure`` listing every way the response breaks the contract."""
        operation = self.operation(observed.method, observed.path, where)
        request = _Request(observed, operation)
        response = _Response(observed)
        problems = [
            _explain(error, observed, secrets or Secrets())
            for error in self._app.iter_apicall_response_errors(request, response)
        ]
        if not problems:
            return
        lines = [line for explained in problems for line in explained]
        total = sum(1 for line in lines if not line.startswith(" "))
        count = f" ({total} problems)" if total > 1 else ""
        details = "\n".join(lines)
        if secrets is not None:
            details = secrets.redact(details)
        raise Failure(
            f"response to {operation} (status {observed.status}) breaks the contract "
            f"{self.path.name}{count}",
            details,
            where=where,
        )


def _without_servers(document: dict[str, Any]) -> dict[str, Any]:
    copy = {key: value for key, value in document.items() if key != "servers"}
    paths = {}
    for template, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if k != "servers"}
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    item[method] = {k: v for k, v in item[method].items() if k != "servers"}
        paths[template] = item
    copy["paths"] = paths
    return copy


class _Request:
    """The request half as openapi-core's ``Request`` protocol wants it."""

    def __init__(self, observed: Observed, operation: Operation) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = "http://localhost"  # never contacted: only the path is matched
        self.path = operation.path
        self.path_pattern = operation.template
        self.method = operation.method
        self.body: bytes | None = observed.request_body or None
        headers = Headers(list(observed.request_headers.items()))
        self.content_type = (headers.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            path=operation.variables,
            query=ImmutableMultiDict(parse_qsl(urlsplit(observed.url).query)),
            header=headers,
        )


class _Response:
    """The response half as openapi-core's ``Response`` protocol wants it."""

    def __init__(self, observed: Observed) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = observed.status
        self.headers = Headers(list(observed.response_headers.items()))
        self.content_type = (self.headers.get("Content-Type") or "").lower()
        self.data: bytes | None = observed.response_body or None


def _explain(error: Exception, observed: Observed, secrets: Secrets) -> list[str]:
    """Lines for one openapi-core error, with the JSON path of each body violation."""
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.validation.response.exceptions import (
        DataValidationError,
        InvalidData,
        InvalidHeader,
        MissingData,
        MissingRequiredHeader,
    )

    cause = error.__cause__
    if isinstance(error, ResponseNotFound):
        documented = ", ".join(str(s) for s in error.availableresponses)
        return [f"status {observed.status} is not documented (documented: {documented})"]
    if isinstance(error, MissingData):
        return ["the response has no body, the contract documents one"]
    if isinstance(error, MissingRequiredHeader):
        return [f'header "{error.name}": missing, the contract requires it']
    if isinstance(error, InvalidHeader):
        return [f'header "{error.name}": {_cause_text(cause, secrets)}']
    if isinstance(error, InvalidData):
        schema_errors = list(getattr(cause, "schema_errors", None) or [])
        if not schema_errors:
            return [f"body: {_cause_text(cause, secrets)}"]
        lines = []
        for schema_error in sorted(schema_errors, key=error_order):
            where = json_path(schema_error.absolute_path)
            # The messages quote values: hidden before they are cut.
            lines.append(f"body {where}: {secrets.shorten(schema_error.message, 160)}")
            value = short(schema_error.instance, secrets=secrets)
            lines.append(f'    keyword "{schema_error.validator}", value: {value}')
        return lines
    if isinstance(error, DataValidationError):
        return [f"body: {_cause_text(cause or error, secrets)}"]
    return [_cause_text(cause or error, secrets)]


def _cause_text(error: BaseException | None, secrets: Secrets) -> str:
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound

    if isinstance(error, MediaTypeNotFound):
        documented = ", ".join(error.availableMimetypes)
        return f'content type "{error.mimetype or "(none)"}" is not documented ({documented})'
    if isinstance(error, MediaTypeDeserializeError):
        body = error.value.decode("utf-8", "replace")
        return f"not valid {error.mimetype}: {short(body, secrets=secrets)}"
    return secrets.shorten(str(error) if error is not None else "", 200)
