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

from interlock._core.errors import Failure, InterlockError
from interlock._core.secrets import Secrets
from interlock.contracts._documents import (
    composed,
    error_order,
    json_path,
    line_in,
    load_document,
    short,
)
from interlock.contracts.operations import METHODS, Operation, Operations


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


_UNREAD = object()


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
        self._tree: Any = _UNREAD  # the document's YAML nodes, for the lines of operations

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
        # Imported only to validate (about 0.4 s): a document found valid before needs none.
        from jsonschema_path import SchemaPath
        from openapi_spec_validator.shortcuts import get_validator_cls
        from openapi_spec_validator.validation.exceptions import ValidatorDetectError

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

    def line_of(self, operation: Operation) -> int | None:
        """The line of the document where ``operation``'s method key is written, if found."""
        if self._tree is _UNREAD:  # the document is composed once, on the first link
            self._tree = composed(self.path)
        return line_in(self._tree, "paths", operation.template, operation.method)

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


    def check_request(self, observed: Observed, *, where: str = "",
                      secrets: Secrets | None = None) -> None:
        """Raise a ``Failure`` listing every way the request breaks the contract (method,
        path, parameters, body): the consumer's side, for a stub that received it."""
        secrets = secrets or Secrets()
        operation = self.operation(observed.method, observed.path, where)
        request = _Request(observed, operation)
        lines = [line for error in self._app.iter_request_errors(request)
                 for line in _explain_request(error, observed, secrets)]
        if not lines:
            return
        total = sum(1 for line in lines if not line.startswith(" "))
        count = f" ({total} problems)" if total > 1 else ""
        raise Failure(
            f"the request {observed.method.upper()} {observed.path} breaks the contract "
            f"{self.path.name}{count}",
            secrets.redact("\n".join(lines)),
            where=where,
        )

    def examples(self) -> list[Example]:
        """An answer for every operation that documents one: its first success status
        (else its first status) with the JSON example of that response (``example``, the
        first of ``examples``, or a value built from the schema's examples, defaults and
        types).

        Example:
            >>> contract = OpenApiContract(Path("x.yaml"), {"paths": {"/charges": {"post": {
            ...     "responses": {"201": {"content": {"application/json": {"schema": {
            ...         "type": "object", "required": ["id"],
            ...         "properties": {"id": {"type": "string", "example": "ch-1"}}}}}}}}}}},
            ...     app=None)
            >>> contract.examples()
            [Example(method='POST', template='/charges', status=201, body={'id': 'ch-1'})]
        """
        found = []
        for template, item in self.index.paths.items():
            if not isinstance(item, Mapping):
                continue
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping):
                    continue
                responses = operation.get("responses") or {}
                statuses = [s for s in responses if str(s).isdigit()]
                chosen = next((s for s in statuses if str(s).startswith("2")),
                              statuses[0] if statuses else None)
                if chosen is None:
                    continue
                response = self._resolve(responses[chosen])
                media = (response.get("content") or {}).get("application/json")
                body: Any = None
                if isinstance(media, Mapping):
                    body = _example_of(media, self._resolve)
                found.append(Example(method.upper(), str(template), int(chosen), body))
        return found

    def _resolve(self, node: Any) -> Any:
        """``node`` with a local ``$ref`` followed (``#/components/...``)."""
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 20:
            ref = str(node["$ref"])
            if not ref.startswith("#/"):
                return {}
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) \
                    if isinstance(target, Mapping) else {}
            node, seen = target, seen + 1
        return node if isinstance(node, Mapping) else {}


@dataclass(frozen=True)
class Example:
    """A documented answer: what a stub with this document answers by default."""

    method: str
    template: str
    status: int
    body: Any  # the JSON example; None for an operation that documents no JSON body


def _example_of(media: Mapping[str, Any], resolve: Any) -> Any:
    if "example" in media:
        return media["example"]
    examples = media.get("examples")
    if isinstance(examples, Mapping) and examples:
        first = resolve(next(iter(examples.values())))
        if "value" in first:
            return first["value"]
    return _from_schema(resolve(media.get("schema") or {}), resolve, 0)


_TYPE_VALUES: dict[str, Any] = {"string": "string", "integer": 0, "number": 0, "boolean": True,
                                "null": None}


def _from_schema(schema: Mapping[str, Any], resolve: Any, depth: int) -> Any:
    """A value the schema allows, from its own examples, defaults, enums and types."""
    if depth > 8:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    value = _from_schema(resolve(part), resolve, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return _from_schema(resolve(schema[key][0]), resolve, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: _from_schema(resolve(sub), resolve, depth + 1)
                for name, sub in properties.items()}
    if kind == "array":
        return [_from_schema(resolve(schema.get("items") or {}), resolve, depth + 1)]
    if kind == "string":
        formats = {"date-time": "2024-01-01T00:00:00Z", "date": "2024-01-01",
                   "uuid": "00000000-0000-4000-8000-000000000000", "email": "a@example.com",
                   "uri": "http://example.com"}
        return formats.get(str(schema.get("format")), "string")
    return _TYPE_VALUES.get(str(kind)) if kind else None


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


def _explain_request(error: Exception, observed: Observed, secrets: Secrets) -> list[str]:
    """Lines for one openapi-core request error: parameters and the body, the body's
    violations each with its JSON path."""
    from openapi_core.validation.request.exceptions import (
        InvalidParameter,
        InvalidRequestBody,
        MissingParameterError,
        MissingRequestBodyError,
        ParameterValidationError,
    )

    cause = error.__cause__
    if isinstance(error, MissingRequestBodyError):
        return ["the request has no body, the contract requires one"]
    if isinstance(error, MissingParameterError):
        return [f'{error.location} parameter "{error.name}": missing, the contract requires it']
    if isinstance(error, InvalidParameter | ParameterValidationError):
        problem = _cause_text(cause or error, secrets)
        return [f'{error.location} parameter "{error.name}": {problem}']
    if isinstance(error, InvalidRequestBody):
        schema_errors = list(getattr(cause, "schema_errors", None) or [])
        if not schema_errors:
            return [f"request body: {_cause_text(cause, secrets)}"]
        lines = []
        for schema_error in sorted(schema_errors, key=error_order):
            where = json_path(schema_error.absolute_path)
            lines.append(f"request body {where}: {secrets.shorten(schema_error.message, 160)}")
        return lines
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
