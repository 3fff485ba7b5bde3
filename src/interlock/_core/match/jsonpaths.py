"""JSONPath (RFC 9535): selecting values in a document, and naming the place of a value.

``select`` returns every value a path selects; ``select_one`` insists on exactly one and,
when there is none, says what *is* there. ``child_path`` builds the normalized paths that
mismatch reports print.

Example:
    >>> select({"items": [{"id": 1}, {"id": 2}]}, "$.items[*].id")
    [1, 2]
    >>> child_path("$.items", 0)
    '$.items[0]'
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from interlock._core.errors import Failure, InterlockError
from interlock._core.match._report import Tree, compact, cut, excerpt, type_name
from interlock._core.secrets import Secrets

if TYPE_CHECKING:
    import jsonpath_rfc9535 as jsonpath

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A path of plain member names and array indexes ($.order.items[0].id), the most written kind,
# is walked here; any other goes to the library (imported then: it costs 35 ms to load).
_SIMPLE_PATH = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:0|[1-9][0-9]*)\])*")
_SIMPLE_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def canonical_string(text: str) -> str:
    """A member name as RFC 9535 writes it in brackets: ``'first name'``."""
    from jsonpath_rfc9535.serialize import canonical_string as library

    return str(library(text))


def child_path(path: str, key: str | int) -> str:
    """The normalized path of a member or element (brackets only where a name needs them).

    Example:
        >>> child_path("$", "items"), child_path("$.items", 0), child_path("$", "first name")
        ('$.items', '$.items[0]', "$['first name']")
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_NAME.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{canonical_string(key)}]"


@functools.lru_cache(maxsize=256)
def _query(path: str) -> jsonpath.JSONPathQuery:
    import jsonpath_rfc9535 as jsonpath

    return jsonpath.compile(path)


@functools.lru_cache(maxsize=256)
def _simple_segments(path: str) -> tuple[str | int, ...] | None:
    """The member names and indexes of a simple path; None for any other path.

    Example:
        >>> _simple_segments("$.items[0].id"), _simple_segments("$.items[*]")
        (('items', 0, 'id'), None)
    """
    if not _SIMPLE_PATH.fullmatch(path):
        return None
    return tuple(name if index == "" else int(index)
                 for name, index in _SIMPLE_SEGMENT.findall(path))


def _walk(document: Any, segments: tuple[str | int, ...]) -> list[Any]:
    """What a simple path selects: a name only in an object, an index only in an array."""
    node = document
    for segment in segments:
        if isinstance(segment, int):
            if not isinstance(node, list) or segment >= len(node):
                return []
        elif not isinstance(node, dict) or segment not in node:
            return []
        node = node[segment]
    return [node]


def select(document: Any, path: str, where: str = "") -> list[Any]:
    """Every value that a JSONPath (RFC 9535) selects, in document order.

    Example:
        >>> select({"items": [{"id": 1}, {"id": 2}]}, "$.items[*].id")
        [1, 2]
    """
    segments = _simple_segments(path)
    if segments is not None:
        return _walk(document, segments)
    import jsonpath_rfc9535 as jsonpath

    try:
        query = _query(path)
    except jsonpath.JSONPathError as err:
        token = getattr(err, "token", None)
        column = token.index if token is not None else 0
        raise InterlockError(
            f'Invalid JSONPath "{path}": {err.args[0] if err.args else err}',
            details=f"{path}\n{' ' * column}^",
            where=where,
            hint=_bracket_hint(path)
            or 'A JSONPath starts with $: "$.status", "$.items[0].productId", '
            '"$[\'first name\']", "$.items[?@.qty > 1]".',
        ) from None
    return [node.value for node in query.find(document)]


_DASHED_NAME = re.compile(r"\.([A-Za-z_][\w]*(?:-[\w]+)+)")


def _bracket_hint(path: str) -> str:
    """For a member name with a dash (``$.headers.X-Trace``): the bracket form that works.

    Example:
        >>> _bracket_hint("$.headers.X-Trace")
        "A member name that is not an identifier goes in brackets: $.headers['X-Trace']"
    """
    if not _DASHED_NAME.search(path):
        return ""
    fixed = _DASHED_NAME.sub(lambda m: f"[{canonical_string(m.group(1))}]", path)
    return f"A member name that is not an identifier goes in brackets: {fixed}"


def select_one(
    document: Any,
    path: str,
    where: str = "",
    what: str = "response JSON",
    *,
    secrets: Secrets | None = None,
) -> Any:
    """The single value at ``path``; a ``Failure`` that shows what *is* there otherwise.

    Example:
        >>> select_one({"order": {"id": "o-1"}}, "$.order.id")
        'o-1'
        >>> select_one({"order": {"id": "o-1"}}, "$.order.state")
        Traceback (most recent call last):
        interlock._core.errors.Failure: no value at $.order.state in response JSON
          $.order has keys: "id"
          document: {"order": {"id": "o-1"}}
    """
    values = select(document, path, where)
    if len(values) == 1:
        return values[0]
    hidden = secrets or Secrets()
    shown = hidden.redact_json(document)
    if values:
        raise Failure(
            f"{len(values)} values at {path} in {what}, expected exactly one",
            hidden.redact(f"values: {compact(hidden.redact_json(values), 200)}"),
            where=where,
            hint="Narrow the path, e.g. with an index [0] or a filter [?@.id == 'x'].",
        )
    parent, location = _nearest_parent(shown, path)  # redacted before it is cut
    lines = [parent] if parent else []
    text = compact(shown, None)
    if len(text) <= 100:
        lines.append(f"document: {text}")
    else:
        tree: Tree = {}
        node = tree
        for segment in location:
            node = node.setdefault(segment, {})
        lines.append("document (excerpt):")
        lines.extend("  " + line for line in cut(excerpt(shown, tree)))
    raise Failure(f"no value at {path} in {what}", hidden.redact("\n".join(lines)), where=where)


def _nearest_parent(document: Any, path: str) -> tuple[str, tuple[str | int, ...]]:
    """What the longest existing prefix of ``path`` holds, and where it is."""
    segments = [str(s) for s in _query(path).segments]
    for end in range(len(segments) - 1, -1, -1):
        prefix = "$" + "".join(segments[:end])
        found = _query(prefix).find(document)
        if not found:
            continue
        shown = _pretty_path(prefix)
        value, location = found[0].value, tuple(found[0].location)
        if isinstance(value, dict):
            keys = ", ".join(json.dumps(k) for k in list(value)[:20])
            more = f" … ({len(value)} keys)" if len(value) > 20 else ""
            text = f"{shown} has keys: {keys}{more}" if value else f"{shown} is an empty object"
        elif isinstance(value, list):
            text = f"{shown} is an array of {len(value)} items"
        else:
            text = f"{shown} is {compact(value, 60)} ({type_name(value)})"
        return text, location
    return "", ()


def _pretty_path(query_text: str) -> str:
    # The library prints $['a'][0]; users wrote $.a[0].
    return re.sub(r"\['([A-Za-z_][A-Za-z0-9_]*)'\]", r".\1", query_text)
