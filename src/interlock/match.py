"""Comparing JSON: markers, the **is** and **contains** modes, and the mismatch report.

An expected value is plain JSON in which a string starting with ``#`` is a *marker*
(``#uuid``, ``#regex p-\\d+``, ``#[2]``...), ``##<marker>`` makes a key optional, and ``\\#``
starts a literal string with ``#``. ``compare`` returns **every** mismatch; ``expect_match``
raises a ``Failure`` that lists them, the text users read most.

Example:
    >>> expected = {"id": "#uuid", "status": "pending", "items": "#[1]"}
    >>> actual = {"id": "nope", "status": "cancelled", "items": []}
    >>> for m in compare(expected, actual):
    ...     print(m.path, "|", m.reason)
    $.id | not a uuid
    $.status | differs
    $.items | array length 0, expected 1
    >>> compare({"a": 1}, {"a": 1.0, "b": 2}, mode="contains")
    []
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jsonpath_rfc9535 as jsonpath

from interlock.errors import Failure, InterlockError, did_you_mean
from interlock.secrets import MASK, Secrets

MODES: Final = ("is", "contains")


class _Missing:
    """The value of a key that is not there (distinct from ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_ARRAY_MARKER = re.compile(r"#\[(\d*)\](?:\s+(#.+))?")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _valid_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _text_like(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.fullmatch(value))


# marker -> (test on a present value, reason when it fails)
_VALUE_MARKERS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "#string": (lambda v: isinstance(v, str), "not a string"),
    "#number": (_is_number, "not a number"),
    "#integer": (
        lambda v: _is_number(v) and float(v).is_integer(),
        "not an integer",
    ),
    "#boolean": (lambda v: isinstance(v, bool), "not a boolean"),
    "#array": (lambda v: isinstance(v, list), "not an array"),
    "#object": (lambda v: isinstance(v, dict), "not an object"),
    "#null": (lambda v: v is None, "not null"),
    "#notnull": (lambda v: v is not None, "is null"),
    "#present": (lambda v: True, ""),
    "#ignore": (lambda v: True, ""),
    "#absent": (lambda v: False, "present, expected absent"),
    "#uuid": (_text_like(_UUID), "not a uuid"),
    "#datetime": (_valid_datetime, "not an RFC 3339 date-time"),
    "#date": (_valid_date, "not a YYYY-MM-DD date"),
    "#email": (_text_like(_EMAIL), "not an email address"),
    "#uri": (_text_like(_URI), "not a URI"),
}
KNOWN_MARKERS: Final = (*_VALUE_MARKERS, "#regex <pattern>", "#[<n>]", "#[]")


@dataclass(frozen=True)
class Mismatch:
    """One difference between an expected and an actual JSON value.

    Example:
        >>> compare({"n": 2}, {"n": "2"})[0]
        Mismatch(path='$.n', expected=2, actual='2', reason='string, not number')
    """

    path: str
    expected: Any
    actual: Any
    reason: str


# ---------------------------------------------------------------------------------------
# Comparing


def compare(expected: Any, actual: Any, mode: str = "is", path: str = "$") -> list[Mismatch]:
    """Every mismatch between ``expected`` (with markers) and ``actual``, in document order.

    ``mode="is"``: same keys, same array order. ``mode="contains"``: objects need only the
    listed keys and arrays the listed elements in any order, each matched by its own element.
    An unknown marker is an ``InterlockError``.

    Example:
        >>> compare([{"a": 1, "b": 2}, {"a": 1}], [{"a": 1}, {"a": 1, "b": 2}], "contains")
        []
        >>> compare({"tags": ["x", "y"]}, {"tags": ["y", "z", "x"]}, "contains")
        []
        >>> [m.reason for m in compare({"a": "##string"}, {"a": 3})]
        ['not a string']
    """
    if mode not in MODES:
        raise InterlockError(
            f'Unknown comparison mode "{mode}"', hint=did_you_mean(mode, list(MODES))
        )
    _check_markers(expected, path)
    found: list[Mismatch] = []
    _compare(expected, actual, mode, path, found)
    return found


def _check_markers(expected: Any, path: str) -> None:
    """Reject a misspelt marker up front, even one in a branch the data never reaches."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            _check_markers(value, child_path(path, key))
    elif isinstance(expected, list):
        for index, value in enumerate(expected):
            _check_markers(value, child_path(path, index))
    elif isinstance(expected, str) and expected.startswith("#"):
        _marker_test(expected.removeprefix("#") if expected.startswith("##") else expected, path)


def _compare(expected: Any, actual: Any, mode: str, path: str, found: list[Mismatch]) -> None:
    if isinstance(expected, str) and expected.startswith("#"):
        reason = _check_marker(expected, actual, path)
        if reason:
            found.append(Mismatch(path, expected, actual, reason))
        return
    if actual is MISSING:
        found.append(Mismatch(path, expected, MISSING, "missing key"))
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            found.append(Mismatch(path, expected, actual, _type_reason(expected, actual)))
            return
        for key, value in expected.items():
            _compare(value, actual.get(key, MISSING), mode, child_path(path, key), found)
        if mode == "is":
            found.extend(
                Mismatch(child_path(path, key), MISSING, value, "unexpected key")
                for key, value in actual.items()
                if key not in expected
            )
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            found.append(Mismatch(path, expected, actual, _type_reason(expected, actual)))
        elif mode == "contains":
            _contains_elements(expected, actual, path, found)
        else:
            if len(expected) != len(actual):
                reason = f"array length {len(actual)}, expected {len(expected)}"
                found.append(Mismatch(path, expected, actual, reason))
            for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
                _compare(want, got, mode, child_path(path, index), found)
    elif not _same_scalar(_unescape(expected), actual):
        found.append(Mismatch(path, expected, actual, _type_reason(expected, actual)))


def _same_scalar(expected: Any, actual: Any) -> bool:
    if _is_number(expected):
        return _is_number(actual) and expected == actual
    if isinstance(expected, bool):
        return isinstance(actual, bool) and expected is actual
    return type(expected) is type(actual) and expected == actual


def _unescape(expected: Any) -> Any:
    if isinstance(expected, str) and expected.startswith("\\#"):
        return expected[1:]
    return expected


def _type_reason(expected: Any, actual: Any) -> str:
    want, got = _type_name(_unescape(expected)), _type_name(actual)
    return "differs" if want == got else f"{got}, not {want}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _contains_elements(
    expected: list[Any], actual: list[Any], path: str, found: list[Mismatch]
) -> None:
    """Give each expected element its own actual element (a maximum bipartite matching,
    so an early, loose expectation cannot take the one element a later one needs)."""
    fits: list[list[int]] = []
    nearest: list[tuple[int, list[Mismatch]] | None] = []
    for want in expected:
        ok, best = [], None
        for index, got in enumerate(actual):
            diff: list[Mismatch] = []
            _compare(want, got, "contains", child_path(path, index), diff)
            if not diff:
                ok.append(index)
            elif best is None or len(diff) < len(best[1]):
                best = (index, diff)
        fits.append(ok)
        nearest.append(best)
    owner: dict[int, int] = {}  # actual index -> expected index

    def assign(want: int, seen: set[int]) -> bool:
        for index in fits[want]:
            if index not in seen:
                seen.add(index)
                if index not in owner or assign(owner[index], seen):
                    owner[index] = want
                    return True
        return False

    for want in range(len(expected)):
        if assign(want, set()):
            continue
        if fits[want]:
            taken = ", ".join(f"[{i}]" for i in fits[want])
            verb = "is" if len(fits[want]) == 1 else "are"
            reason = f"no element left: {taken} {verb} taken by other expected elements"
            found.append(Mismatch(path, expected[want], actual, reason))
        elif nearest[want] is None:
            found.append(Mismatch(path, expected[want], actual, "no element matches (empty)"))
        else:
            index, diff = nearest[want]  # type: ignore[misc]
            near = "; ".join(_line(m, 40).strip() for m in diff[:2])
            more = f"; +{len(diff) - 2} more" if len(diff) > 2 else ""
            reason = f"no element matches (closest {near}{more})"
            found.append(Mismatch(path, expected[want], actual[index], reason))


# ---------------------------------------------------------------------------------------
# Markers


def _check_marker(expected: str, actual: Any, path: str) -> str:
    """Why ``actual`` does not satisfy the marker, or "" when it does."""
    optional = expected.startswith("##")
    marker = expected[1:] if optional else expected
    if actual is MISSING:
        return "" if optional or marker in ("#absent", "#ignore") else "missing key"
    return _marker_test(marker, path)(actual)


@functools.lru_cache(maxsize=512)
def _marker_test(marker: str, path: str = "$") -> Callable[[Any], str]:
    """A function giving the failure reason for a present value; raises on unknown markers."""
    if marker in _VALUE_MARKERS:
        test, reason = _VALUE_MARKERS[marker]
        return lambda value: "" if test(value) else reason
    if marker.startswith("#regex"):
        pattern = marker.removeprefix("#regex").strip()
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise InterlockError(
                f'Invalid regular expression in marker "{marker}" at {path}: {err}',
                hint="Write #regex <pattern>; the whole string must match, e.g. #regex p-\\d+",
            ) from None
        return lambda value: (
            ""
            if isinstance(value, str) and compiled.fullmatch(value)
            else f"does not match {pattern}"
        )
    array = _ARRAY_MARKER.fullmatch(marker)
    if array:
        return _array_test(array.group(1), array.group(2), path)
    name = marker.split()[0]
    raise InterlockError(
        f'Unknown marker "{name}" at {path}',
        hint=did_you_mean(name, list(KNOWN_MARKERS))
        + '. Write "\\#..." for a literal string that starts with #.',
    )


def _array_test(length: str, each: str | None, path: str) -> Callable[[Any], str]:
    element = _marker_test(each, path) if each else None

    def test(value: Any) -> str:
        if not isinstance(value, list):
            return f"{_type_name(value)}, not array"
        if length and len(value) != int(length):
            return f"array length {len(value)}, expected {length}"
        for index, item in enumerate(value):
            reason = element(item) if element else ""
            if reason:
                return f"element [{index}] {reason}"
        return ""

    return test


# ---------------------------------------------------------------------------------------
# Reporting


def expect_match(
    expected: Any,
    actual: Any,
    mode: str = "is",
    *,
    what: str = "response JSON",
    where: str = "",
    secrets: Secrets | None = None,
) -> None:
    """Raise a ``Failure`` listing every mismatch, or return quietly when ``actual`` matches.

    Example:
        >>> expect_match({"status": "pending", "id": "#uuid"}, {"status": "done", "id": 7})
        Traceback (most recent call last):
        interlock.errors.Failure: response JSON does not match (2 mismatches)
          $.status: expected "pending", got "done"
          $.id: expected #uuid, got 7 (not a uuid)
          actual: {"status": "done", "id": 7}
    """
    try:
        mismatches = compare(expected, actual, mode)
    except InterlockError as err:
        err.located(where)
        raise
    if not mismatches:
        return
    count = f" ({len(mismatches)} mismatches)" if len(mismatches) > 1 else ""
    verb = "does not contain the expected values" if mode == "contains" else "does not match"
    title = f"{what} {verb}{count}"
    details = format_mismatches(mismatches, actual, secrets)
    if secrets is not None:
        details = secrets.redact(details)
    raise Failure(title, details, where=where)


_MAX_LINES = 50


def format_mismatches(
    mismatches: list[Mismatch], actual: Any | None = None, secrets: Secrets | None = None
) -> str:
    """One line per mismatch, then the actual document (an excerpt when it is long).

    Example:
        >>> print(format_mismatches(compare({"a": 1, "b": "#absent"}, {"b": 2})))
        $.a: expected 1, got nothing (missing key)
        $.b: expected #absent, got 2 (present, expected absent)
    """
    hidden = secrets or Secrets(headers=(), fields=())
    lines = [_line(_masked(m, hidden)) for m in mismatches[:_MAX_LINES]]
    if len(mismatches) > _MAX_LINES:
        lines.append(f"… and {len(mismatches) - _MAX_LINES} more mismatches")
    if actual is not None:
        shown = hidden.redact_json(actual)
        text = _compact(shown, limit=None)
        if len(text) <= 100:
            lines.append(f"actual: {text}")
        else:
            lines.append("actual (excerpt):")
            tree = _path_tree([m.path for m in mismatches[:_MAX_LINES]])
            lines.extend("  " + line for line in _cut(_excerpt(shown, tree)))
    return "\n".join(lines)


def _masked(m: Mismatch, secrets: Secrets) -> Mismatch:
    last = _path_segments(m.path)[-1:] if m.path != "$" else []
    if last and isinstance(last[0], str) and secrets.is_sensitive_field(last[0]):
        actual = m.actual if m.actual is MISSING or m.actual is None else MASK
        return Mismatch(m.path, m.expected, actual, m.reason)
    return m


def _line(m: Mismatch, width: int = 80) -> str:
    expected = _show_expected(m.expected, width)
    if m.actual is MISSING:
        return f"{m.path}: expected {expected}, got nothing ({m.reason})"
    actual = _compact(m.actual, width)
    if m.expected is MISSING:
        return f"{m.path}: unexpected key, got {actual}"
    if m.reason.startswith("array length") and isinstance(m.expected, list):
        return f"{m.path}: {m.reason}"
    if m.reason.startswith("no element"):
        return f"{m.path}: expected an element matching {expected}, {m.reason}"
    suffix = "" if m.reason == "differs" else f" ({m.reason})"
    return f"{m.path}: expected {expected}, got {actual}{suffix}"


def _show_expected(value: Any, width: int) -> str:
    if isinstance(value, str) and value.startswith("#"):
        return value  # a marker, shown bare so it cannot be mistaken for a literal string
    if isinstance(value, str) and value.startswith("\\#"):
        return '"\\' + _compact(value[1:], width)[1:]
    return _compact(value, width)


def _compact(value: Any, limit: int | None = 80) -> str:
    if value is MISSING:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


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
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def _path_segments(path: str) -> list[str | int]:
    """Undo ``child_path``: "$.a[0]['b c']" -> ["a", 0, "b c"]."""
    segments: list[str | int] = []
    for match in _SEGMENT.finditer(path, 1):
        name, index, quoted = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(name if name is not None else re.sub(r"\\(.)", r"\1", quoted))
    return segments


_Tree = dict[Any, "_Tree"]
_MAX_EXCERPT = 40


def _cut(lines: list[str]) -> list[str]:
    if len(lines) <= _MAX_EXCERPT:
        return lines
    return [*lines[: _MAX_EXCERPT - 1], f"… {len(lines) - _MAX_EXCERPT + 1} more lines"]


def _path_tree(paths: list[str]) -> _Tree:
    tree: _Tree = {}
    for path in paths:
        node = tree
        for segment in _path_segments(path):
            node = node.setdefault(segment, {})
    return tree


def _excerpt(value: Any, tree: _Tree, depth: int = 0) -> list[str]:
    """Pretty-print the branches leading to mismatches (``tree``); siblings of a mismatch stay
    visible as the context a reader needs, everything else is folded into "… n more".
    A mismatch is marked with ``←``."""
    if not isinstance(value, dict | list) or depth > 8:
        return [_folded(value)]
    if not tree and len(_compact(value, None)) <= 60:
        return [_compact(value)]
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    context = not tree or any(not sub for sub in tree.values())
    rows: list[list[str]] = []
    skipped = 0
    for key, item in items:
        label = f"{json.dumps(key, ensure_ascii=False)}: " if isinstance(value, dict) else ""
        if tree and key in tree:
            body = _excerpt(item, tree[key], depth + 1)
            if not tree[key]:
                body[-1] += "  ←"
        elif context and len(rows) < 10:
            body = [_folded(item)]
        else:
            skipped += 1
            continue
        rows.append([label + body[0], *body[1:]])
    if skipped:
        rows.append([f"… {skipped} more"])
    open_, close = ("{", "}") if isinstance(value, dict) else ("[", "]")
    lines = [open_]
    for number, row in enumerate(rows):
        comma = "," if number < len(rows) - 1 and not row[0].startswith("…") else ""
        last = row[-1]
        if comma and last.endswith("  ←"):
            last = last[: -len("  ←")] + ",  ←"
        elif comma:
            last += comma
        lines.extend("  " + line for line in [*row[:-1], last])
    lines.append(close)
    return lines


def _folded(value: Any) -> str:
    text = _compact(value, None)
    if len(text) <= 60 or not isinstance(value, dict | list):
        return _compact(value, 60)
    return f"{{… {len(value)} keys}}" if isinstance(value, dict) else f"[… {len(value)} items]"


# ---------------------------------------------------------------------------------------
# JSONPath


@functools.lru_cache(maxsize=256)
def _query(path: str) -> jsonpath.JSONPathQuery:
    return jsonpath.compile(path)


def select(document: Any, path: str, where: str = "") -> list[Any]:
    """Every value that a JSONPath (RFC 9535) selects, in document order.

    Example:
        >>> select({"items": [{"id": 1}, {"id": 2}]}, "$.items[*].id")
        [1, 2]
    """
    try:
        query = _query(path)
    except jsonpath.JSONPathError as err:
        token = getattr(err, "token", None)
        column = token.index if token is not None else 0
        raise InterlockError(
            f'Invalid JSONPath "{path}": {err.args[0] if err.args else err}',
            details=f"{path}\n{' ' * column}^",
            where=where,
            hint='A JSONPath starts with $: "$.status", "$.items[0].productId", '
            '"$[\'first name\']", "$.items[?@.qty > 1]".',
        ) from None
    return [node.value for node in query.find(document)]


def select_one(
    document: Any,
    path: str,
    where: str = "",
    what: str = "response JSON",
    secrets: Secrets | None = None,
) -> Any:
    """The single value at ``path``; a ``Failure`` that shows what *is* there otherwise.

    Example:
        >>> select_one({"order": {"id": "o-1"}}, "$.order.id")
        'o-1'
        >>> select_one({"order": {"id": "o-1"}}, "$.order.state")
        Traceback (most recent call last):
        interlock.errors.Failure: no value at $.order.state in response JSON
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
            hidden.redact(f"values: {_compact(hidden.redact_json(values), 200)}"),
            where=where,
            hint="Narrow the path, e.g. with an index [0] or a filter [?@.id == 'x'].",
        )
    parent, location = _nearest_parent(document, path)
    lines = [parent] if parent else []
    text = _compact(shown, None)
    if len(text) <= 100:
        lines.append(f"document: {text}")
    else:
        tree: _Tree = {}
        node = tree
        for segment in location:
            node = node.setdefault(segment, {})
        lines.append("document (excerpt):")
        lines.extend("  " + line for line in _cut(_excerpt(shown, tree)))
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
            text = f"{shown} is {_compact(value, 60)} ({_type_name(value)})"
        return text, location
    return "", ()


def _pretty_path(query_text: str) -> str:
    # The library prints $['a'][0]; users wrote $.a[0].
    return re.sub(r"\['([A-Za-z_][A-Za-z0-9_]*)'\]", r".\1", query_text)
