"""Contracts: JSON Schema files and OpenAPI documents, checked against what was observed.

* ``check_schema`` / ``SchemaLibrary``: a JSON document against a schema file (JSON or YAML),
  JSON Schema 2020-12 unless the schema's ``$schema`` names another draft; ``$ref`` to other
  local files works. Every violation is listed, sorted by path.
* ``OpenApiContract``: an HTTP exchange (``Observed``) against the operation of an OpenAPI
  3.0/3.1 document that matches its method and path: status, headers and body.

This module knows nothing of the HTTP client: the composition layer turns its ``Exchange``
into an ``Observed``.

Example:
    >>> import json, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "order.schema.json").write_text(json.dumps(
    ...     {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}))
    >>> check_schema({"id": "o-1"}, "order.schema.json", [folder])
    >>> check_schema({"id": 7}, "order.schema.json", [folder])
    Traceback (most recent call last):
    interlock.errors.Failure: response JSON does not match the schema "order.schema.json"
      $.id: 7 is not of type 'string'
          keyword "type" at #/properties/id/type, value: 7
      where: ...order.schema.json
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from interlock.errors import Failure, InterlockError
from interlock.match import child_path
from interlock.secrets import Secrets


def _load_document(path: Path, what: str) -> Any:
    """A JSON or YAML file, or an ``InterlockError`` that points at the bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InterlockError(
            f"Cannot read {what} {path}: {err.strerror}", where=str(path)
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise InterlockError(
            f"Invalid JSON in {what}: {err.msg}", where=f"{path}:{err.lineno}:{err.colno}"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InterlockError(f"Invalid YAML in {what}: {problem}", where=f"{path}{line}") from None


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_path(parts: Sequence[Any] | Iterator[Any]) -> str:
    path = "$"
    for part in parts:
        path = child_path(path, part)
    return path


# ---------------------------------------------------------------------------------------
# JSON Schema


class SchemaLibrary:
    """Schema files found in a list of folders, compiled once each.

    Example:
        >>> library = SchemaLibrary([Path("environment/schemas"), Path("schemas")])
        >>> library.check({"id": "o-1"}, "order.schema.json")  # doctest: +SKIP
    """

    def __init__(self, search_dirs: Sequence[Path]) -> None:
        self.search_dirs = [Path(d) for d in search_dirs]
        self._validators: dict[Path, Any] = {}

    def find(self, schema_file: str, where: str = "") -> Path:
        """The first ``<dir>/<schema_file>`` that exists; an error naming every folder if none."""
        candidate = Path(schema_file)
        if candidate.is_absolute() and candidate.is_file():
            return candidate
        for folder in self.search_dirs:
            if (folder / schema_file).is_file():
                return (folder / schema_file).resolve()
        searched = "\n".join(f"- {folder}" for folder in self.search_dirs) or "- (no folders)"
        raise InterlockError(
            f'Schema file "{schema_file}" not found',
            details=f"searched:\n{searched}",
            where=where,
            hint="Put the file in one of these folders, or fix the name.",
        )

    def validator(self, schema_file: str, where: str = "") -> Any:
        """The compiled validator for a schema file (cached: a suite checks the same few often)."""
        path = self.find(schema_file, where)
        if path not in self._validators:
            self._validators[path] = _compile(path)
        return self._validators[path]

    def check(
        self,
        document: Any,
        schema_file: str,
        *,
        what: str = "response JSON",
        where: str = "",
        secrets: Secrets | None = None,
    ) -> None:
        """Raise a ``Failure`` listing every violation of the schema, or return quietly."""
        from referencing.exceptions import Unresolvable

        validator = self.validator(schema_file, where)
        try:
            errors = sorted(validator.iter_errors(document), key=_error_order)
        except Unresolvable as err:
            raise InterlockError(
                f'Cannot resolve a $ref in schema "{schema_file}": {err}',
                where=where or str(self.find(schema_file)),
                hint="A $ref names a file next to the schema (item.schema.json#/$defs/x); "
                "remote schemas are not fetched.",
            ) from None
        if not errors:
            return
        count = f" ({len(errors)} violations)" if len(errors) > 1 else ""
        lines = [line for error in errors[:50] for line in _violation(error)]
        if len(errors) > 50:
            lines.append(f"… and {len(errors) - 50} more violations")
        details = "\n".join(lines)
        if secrets is not None:
            details = secrets.redact(details)
        raise Failure(
            f'{what} does not match the schema "{schema_file}"{count}',
            details,
            where=where or str(self.find(schema_file)),
        )


def check_schema(
    document: Any,
    schema_file: str,
    search_dirs: Sequence[Path],
    *,
    what: str = "response JSON",
    where: str = "",
    secrets: Secrets | None = None,
) -> None:
    """Check ``document`` against the schema file found first in ``search_dirs``.

    Example:
        >>> check_schema({"id": "o-1"}, "order.schema.json", [Path("schemas")])  # doctest: +SKIP
    """
    SchemaLibrary(search_dirs).check(document, schema_file, what=what, where=where, secrets=secrets)


def _compile(path: Path) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema = _load_document(path, "schema")
    if not isinstance(schema, dict | bool):
        raise InterlockError(
            f"Schema {path.name} is not a JSON Schema (an object or a boolean)", where=str(path)
        )
    cls = validator_for(schema, default=Draft202012Validator)
    if isinstance(schema, dict) and "$schema" in schema and cls is Draft202012Validator:
        known = "https://json-schema.org/draft/2020-12/schema"
        if schema["$schema"].rstrip("#") != known:
            raise InterlockError(
                f"Unknown $schema {schema['$schema']!r} in {path.name}",
                where=str(path),
                hint=f"Use {known} or an older draft, e.g. http://json-schema.org/draft-07/schema#",
            )
    try:
        cls.check_schema(schema)
    except SchemaError as err:
        raise InterlockError(
            f"Invalid schema {path.name}: {err.message}",
            where=f"{path} at {_json_path(err.absolute_path)}",
        ) from None
    base = path.as_uri()
    if isinstance(schema, dict) and "$id" not in schema and "id" not in schema:
        # Without an id, relative $refs would resolve against "" and could not find files.
        schema = {**schema, ("id" if "draft-04" in str(schema.get("$schema")) else "$id"): base}
    root_id = (
        str(schema.get("$id") or schema.get("id") or base) if isinstance(schema, dict) else base
    )
    folder = path.parent

    def retrieve(uri: str) -> Any:
        local = _local_file(uri, root_id, folder)
        contents = _load_document(local, "schema")
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    registry: Any = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _local_file(uri: str, root_id: str, folder: Path) -> Path:
    """The file a $ref means: a file URI, or an id under the root schema's id mapped to the
    schema's folder (schemas often carry https ids that must never be fetched)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        local = Path(unquote(parts.path))
    else:
        root = root_id.rsplit("/", 1)[0] + "/"
        relative = uri[len(root) :] if uri.startswith(root) else parts.path.rsplit("/", 1)[-1]
        local = folder / unquote(relative)
    if not local.is_file():
        raise FileNotFoundError(f"{uri} (looked for {local})")
    return local


def _error_order(error: Any) -> tuple[Any, ...]:
    return (
        [(isinstance(p, str), p) for p in error.absolute_path],
        list(map(str, error.absolute_schema_path)),
    )


def _violation(error: Any) -> list[str]:
    from jsonschema.exceptions import best_match

    message = error.message if len(error.message) <= 160 else error.message[:159] + "…"
    schema_path = "#/" + "/".join(str(p) for p in error.absolute_schema_path)
    lines = [
        f"{_json_path(error.absolute_path)}: {message}",
        f'    keyword "{error.validator}" at {schema_path}, value: {_short(error.instance)}',
    ]
    if error.context:
        deepest = best_match(error.context)
        lines.append(
            f"    closest alternative: {_json_path(deepest.absolute_path)}: {deepest.message}"
        )
    return lines


# ---------------------------------------------------------------------------------------
# OpenAPI


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


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    variables: dict[str, str]
    path: str  # the request path with any server prefix removed

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"


class OpenApiContract:
    """An OpenAPI 3.0/3.1 document that exchanges are checked against.

    The operation is found by method and path template; the document's ``servers`` only
    contribute a path prefix (``/v1`` of ``https://api.example.com/v1``) that may be removed
    first, since the service under test runs on a loopback address of its own.

    Example:
        >>> contract = OpenApiContract.load(Path("orders.openapi.yaml"))  # doctest: +SKIP
        >>> contract.check(observed)  # doctest: +SKIP
    """

    def __init__(self, path: Path, document: dict[str, Any], app: Any) -> None:
        self.path = path
        self.document = document
        self._app = app
        self._prefixes = _server_prefixes(document)

    @classmethod
    def load(cls, path: Path) -> OpenApiContract:
        """Read and validate the document; an ``InterlockError`` says what is wrong where."""
        from jsonschema_path import SchemaPath
        from openapi_core import Config, OpenAPI
        from openapi_spec_validator.shortcuts import get_validator_cls
        from openapi_spec_validator.validation.exceptions import ValidatorDetectError

        path = Path(path).resolve()
        if not path.is_file():
            raise InterlockError(
                f"OpenAPI document {path.name} not found",
                where=str(path),
                hint="Check the service's contract setting in the stack file.",
            )
        document = _load_document(path, "OpenAPI document")
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
        try:
            spec_validator = get_validator_cls(document)
        except ValidatorDetectError:
            raise InterlockError(
                f"Unknown OpenAPI version in {path.name}", where=str(path)
            ) from None
        spec = SchemaPath.from_dict(document, base_uri=path.as_uri())
        problems = [
            f"{_json_path(error.absolute_path)}: {error.message[:200]}"
            for error in spec_validator(spec).iter_errors()
        ]
        if problems:
            raise InterlockError(
                f"Invalid OpenAPI document {path.name} ({len(problems)} problems)",
                details="\n".join(problems[:20]),
                where=str(path),
            )
        # Servers are removed so that openapi-core matches on the path alone: the exchange
        # goes to 127.0.0.1:<free port>, never to the host the document names.
        app = OpenAPI.from_dict(
            _without_servers(document),
            config=Config(spec_validator_cls=None),
            base_uri=path.as_uri(),
        )
        return cls(path, document, app)

    @property
    def operations(self) -> list[str]:
        """Every documented operation, e.g. ``["GET /orders/{id}", "POST /orders"]``."""
        return [
            f"{method.upper()} {template}"
            for template, item in (self.document.get("paths") or {}).items()
            for method in _METHODS
            if isinstance(item, dict) and method in item
        ]

    def operation(self, method: str, url_path: str, where: str = "") -> _Operation:
        """The documented operation for a request, or a ``Failure`` listing those that exist."""
        paths = self.document.get("paths") or {}
        method = method.lower()
        candidates = [url_path[len(p) :] or "/" for p in self._prefixes if url_path.startswith(p)]
        for candidate in [*candidates, url_path]:
            for template, variables in _matching_templates(paths, candidate):
                item = paths[template]
                if method in item:
                    return _Operation(method, template, variables, candidate)
                documented = ", ".join(m.upper() for m in _METHODS if m in item)
                raise Failure(
                    f"no operation for {method.upper()} {url_path} in {self.path.name}",
                    f"{template} documents: {documented}",
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
            _explain(error, observed)
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


def _server_prefixes(document: dict[str, Any]) -> list[str]:
    """Path prefixes of every server URL (variables at their defaults), longest first."""
    servers: list[Any] = list(document.get("servers") or [])
    for item in (document.get("paths") or {}).values():
        if isinstance(item, dict):
            servers.extend(item.get("servers") or [])
            for method in _METHODS:
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


def _without_servers(document: dict[str, Any]) -> dict[str, Any]:
    copy = {key: value for key, value in document.items() if key != "servers"}
    paths = {}
    for template, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if k != "servers"}
            for method in _METHODS:
                if isinstance(item.get(method), dict):
                    item[method] = {k: v for k, v in item[method].items() if k != "servers"}
        paths[template] = item
    copy["paths"] = paths
    return copy


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


class _Request:
    """The request half as openapi-core's ``Request`` protocol wants it."""

    def __init__(self, observed: Observed, operation: _Operation) -> None:
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


def _explain(error: Exception, observed: Observed) -> list[str]:
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
        return [f'header "{error.name}": {_cause_text(cause)}']
    if isinstance(error, InvalidData):
        schema_errors = list(getattr(cause, "schema_errors", None) or [])
        if not schema_errors:
            return [f"body: {_cause_text(cause)}"]
        lines = []
        for schema_error in sorted(schema_errors, key=_error_order):
            where = _json_path(schema_error.absolute_path)
            lines.append(f"body {where}: {schema_error.message[:160]}")
            lines.append(
                f'    keyword "{schema_error.validator}", value: {_short(schema_error.instance)}'
            )
        return lines
    if isinstance(error, DataValidationError):
        return [f"body: {_cause_text(cause or error)}"]
    return [_cause_text(cause or error)]


def _cause_text(error: BaseException | None) -> str:
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound

    if isinstance(error, MediaTypeNotFound):
        documented = ", ".join(error.availableMimetypes)
        return f'content type "{error.mimetype or "(none)"}" is not documented ({documented})'
    if isinstance(error, MediaTypeDeserializeError):
        return f"not valid {error.mimetype}: {_short(error.value.decode('utf-8', 'replace'))}"
    text = str(error) if error is not None else ""
    return text[:200]
