"""JSON Schema: a document against a schema file (JSON or YAML), every violation listed.

JSON Schema 2020-12 unless the schema's ``$schema`` names another draft; ``$ref`` to other
local files works (ids under the root schema's id map to its folder; nothing is fetched).
Violations are sorted by path.

Example:
    >>> import json, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "order.schema.json").write_text(json.dumps(
    ...     {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}))
    >>> check_schema({"id": "o-1"}, "order.schema.json", [folder])
    >>> check_schema({"id": 7}, "order.schema.json", [folder])
    Traceback (most recent call last):
    interlock._core.errors.Failure: response JSON does not match the schema "order.schema.json"
      $.id: 7 is not of type 'string'
          keyword "type" at #/properties/id/type, value: 7
      where: ...order.schema.json
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from interlock._core.errors import Failure, InterlockError
from interlock._core.secrets import Secrets
from interlock.contracts._documents import error_order, json_path, load_document, short


class SchemaLibrary:
    """Schema files found in a list of folders, compiled once each.

    With ``valid_cache`` (a folder, the suite's ``.interlock/cache``), a schema file found
    valid once (against its draft's metaschema: about 8 ms a schema, at every start of a run
    and of every worker) is not checked again until it or jsonschema changes.

    Example:
        >>> library = SchemaLibrary([Path("environment/schemas"), Path("schemas")])
        >>> library.check({"id": "o-1"}, "order.schema.json")  # doctest: +SKIP
    """

    def __init__(self, search_dirs: Sequence[Path], valid_cache: Path | None = None) -> None:
        self.search_dirs = [Path(d) for d in search_dirs]
        self.valid_cache = valid_cache
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
            self._validators[path] = _compile(path, self.valid_cache)
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
            errors = sorted(validator.iter_errors(document), key=error_order)
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
        hidden = secrets or Secrets()
        lines = [line for error in errors[:50] for line in _violation(error, hidden)]
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


@functools.cache
def _checker() -> str:
    """What a schema's check depends on besides the schema: jsonschema, this Python (its
    regular expressions), the format checkers installed ("" when unknown: not cached)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{version('jsonschema')}\n{sys.version_info[:2]}"
    except PackageNotFoundError:
        return ""


def _compile(path: Path, valid_cache: Path | None = None) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema = load_document(path, "schema")
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
    marker = None
    if valid_cache is not None and _checker():  # keyed by what was read, and what checks it
        checked = json.dumps(schema, sort_keys=True, default=str)
        formats = ",".join(sorted(cls.FORMAT_CHECKER.checkers))
        digest = hashlib.sha256(f"{_checker()}\n{cls.__name__}\n{formats}\n{checked}"
                                .encode()).hexdigest()[:32]
        marker = valid_cache / f"schema-{digest}"
    if marker is None or not marker.exists():
        try:
            cls.check_schema(schema)
        except SchemaError as err:
            raise InterlockError(
                f"Invalid schema {path.name}: {err.message}",
                where=f"{path} at {json_path(err.absolute_path)}",
            ) from None
        if marker is not None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            except OSError:  # a read-only checkout: checked again next time
                pass
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
        contents = load_document(local, "schema")
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


def _violation(error: Any, secrets: Secrets) -> list[str]:
    from jsonschema.exceptions import best_match

    # The message quotes the value: hidden before it is cut.
    message = secrets.shorten(error.message, 159)
    schema_path = "#/" + "/".join(str(p) for p in error.absolute_schema_path)
    value = short(error.instance, secrets=secrets)
    lines = [
        f"{json_path(error.absolute_path)}: {message}",
        f'    keyword "{error.validator}" at {schema_path}, value: {value}',
    ]
    if error.context:
        deepest = best_match(error.context)
        lines.append(
            f"    closest alternative: {json_path(deepest.absolute_path)}: {deepest.message}"
        )
    return lines
