"""Reading contract files (JSON or YAML) and naming places in them, for ``schema`` and
``openapi`` alike.

Example:
    >>> json_path(["items", 0, "first name"])
    "$.items[0]['first name']"
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock._core.match import child_path
from interlock._core.secrets import Secrets


def _yaml() -> tuple[Any, Any]:
    """PyYAML (imported when a YAML contract is read: a run with none never does) and its
    libyaml parser when it was built with it (the wheels are): the same documents, marks and
    errors, about ten times faster than the pure-Python one on an OpenAPI document."""
    import yaml

    return yaml, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document(path: Path, what: str) -> Any:
    """A JSON or YAML file, or an ``InterlockError`` that points at the bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InterlockError(
            f"Cannot read {what} {path}: {err.strerror}", where=str(path)
        ) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InterlockError(
                f"Invalid JSON in {what}: {err.msg}", where=f"{path}:{err.lineno}:{err.colno}"
            ) from None
    yaml, loader = _yaml()
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InterlockError(f"Invalid YAML in {what}: {problem}", where=f"{path}{line}") from None


def short(value: Any, limit: int = 60, secrets: Secrets | None = None) -> str:
    """A value as one line of JSON, ``secrets`` hidden, then cut at ``limit`` characters."""
    hidden = secrets or Secrets()
    text = json.dumps(hidden.redact_json(value), ensure_ascii=False, default=repr)
    return hidden.shorten(text, limit - 1) if len(text) > limit else text


def json_path(parts: Sequence[Any] | Iterator[Any]) -> str:
    """The normalized JSONPath of a jsonschema error's path."""
    path = "$"
    for part in parts:
        path = child_path(path, part)
    return path


def error_order(error: Any) -> tuple[Any, ...]:
    """Sort key for jsonschema errors: by instance path, then schema path."""
    return (
        [(isinstance(p, str), p) for p in error.absolute_path],
        list(map(str, error.absolute_schema_path)),
    )


def key_line(path: Path, *keys: str) -> int | None:
    """The line (1-based) where the key at ``keys`` is written in a JSON or YAML file, or
    ``None`` when the file cannot be read or does not hold it.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     f = Path(d) / "a.yaml"
        ...     _ = f.write_text("paths:\\n  /orders:\\n    get: {}\\n    post: {}\\n")
        ...     key_line(f, "paths", "/orders", "post"), key_line(f, "paths", "/x")
        (4, None)
    """
    return line_in(composed(path), *keys)


def composed(path: Path) -> Any:
    """The YAML node tree of a JSON or YAML file (it knows each key's line), or ``None`` when
    it cannot be read: compose once, then ask ``line_in`` for as many keys as needed."""
    yaml, loader = _yaml()
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":  # JSON is YAML, but for its tabs (never in strings)
            text = text.replace("\t", " ")
        return yaml.compose(text, Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def line_in(node: Any, *keys: str) -> int | None:
    """The line (1-based) of the key at ``keys`` in a ``composed`` tree, or ``None``."""
    yaml, _ = _yaml()
    line = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return None
    return line
