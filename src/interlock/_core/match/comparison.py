"""Comparing JSON: markers, the **is** and **contains** modes, ``expect_match``.

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
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from interlock._core.errors import Failure, InterlockError, did_you_mean
from interlock._core.match._report import (
    MISSING,
    Mismatch,
    closest_reason,
    format_mismatches,
    is_number,
    type_name,
)
from interlock._core.match.jsonpaths import child_path
from interlock._core.secrets import Secrets

MODES: Final = ("is", "contains")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_ARRAY_MARKER = re.compile(r"#\[(\d*)\](?:\s+(#.+))?")


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
    "#number": (is_number, "not a number"),
    "#integer": (
        lambda v: is_number(v) and float(v).is_integer(),
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
    if mode == "contains" and _is_text(expected) and isinstance(actual, str):
        # Between two strings, "contains" is a substring test (STEPS.md 1.1). Inside objects
        # and arrays a string still compares whole: {"status": "pend"} is no match for
        # "pending", or every event match would loosen.
        if _unescape(expected) not in actual:
            found.append(Mismatch(path, expected, actual, "not a substring"))
        return found
    _compare(expected, actual, mode, path, found)
    return found


def _is_text(expected: Any) -> bool:
    """A plain expected string: not a marker (a ``\\#`` escape is text)."""
    return isinstance(expected, str) and not expected.startswith("#")


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
    if is_number(expected):
        return is_number(actual) and expected == actual
    if isinstance(expected, bool):
        return isinstance(actual, bool) and expected is actual
    return type(expected) is type(actual) and expected == actual


def _unescape(expected: Any) -> Any:
    if isinstance(expected, str) and expected.startswith("\\#"):
        return expected[1:]
    return expected


def _type_reason(expected: Any, actual: Any) -> str:
    want, got = type_name(_unescape(expected)), type_name(actual)
    return "differs" if want == got else f"{got}, not {want}"



def _contains_elements(
    expected: list[Any], actual: list[Any], path: str, found: list[Mismatch]
) -> None:
    """Give each expected element its own actual element (a maximum bipartite matching,
    so an early, loose expectation cannot take the one element a later one needs)."""
    if _greedy_fit(expected, actual):
        return
    fits = [[i for i, got in enumerate(actual) if _fits(want, got)] for want in expected]
    for want in _unassigned(fits):
        if fits[want]:
            taken = ", ".join(f"[{i}]" for i in fits[want])
            verb = "is" if len(fits[want]) == 1 else "are"
            reason = f"no element left: {taken} {verb} taken by other expected elements"
            found.append(Mismatch(path, expected[want], actual, reason))
            continue
        # Only now pay for full diffs: to name the element that came closest.
        nearest: tuple[int, list[Mismatch]] | None = None
        for index, got in enumerate(actual):
            diff: list[Mismatch] = []
            _compare(expected[want], got, "contains", child_path(path, index), diff)
            if nearest is None or len(diff) < len(nearest[1]):
                nearest = (index, diff)
        if nearest is None:
            found.append(Mismatch(path, expected[want], actual, "no element matches (empty)"))
            continue
        index, diff = nearest
        found.append(Mismatch(path, expected[want], actual[index], closest_reason(diff),
                              near=tuple(diff)))


def _greedy_fit(expected: list[Any], actual: list[Any]) -> bool:
    """Whether first-free-fit already places every expected element: the usual case, and
    much cheaper than the full matching (which runs only when this fails)."""
    free = list(range(len(actual)))
    for want in expected:
        index = next((i for i in free if _fits(want, actual[i])), None)
        if index is None:
            return False
        free.remove(index)
    return True


def _unassigned(fits: list[list[int]]) -> list[int]:
    """Expected elements left without an actual one by a maximum matching (augmenting paths
    found breadth-first, without recursion, so long arrays cannot exhaust the stack)."""
    owner: dict[int, int] = {}  # actual index -> expected index
    holds: dict[int, int] = {}  # expected index -> actual index
    left = []
    for start in range(len(fits)):
        parent: dict[int, int] = {}
        queue = deque([start])
        done = False
        while queue and not done:
            want = queue.popleft()
            for index in fits[want]:
                if index in parent:
                    continue
                parent[index] = want
                if index in owner:
                    queue.append(owner[index])
                    continue
                while True:  # flip the path back to start
                    want = parent[index]
                    previous = holds.get(want)
                    owner[index], holds[want] = want, index
                    if previous is None:
                        break
                    index = previous
                done = True
                break
        if not done:
            left.append(start)
    return left


def _fits(expected: Any, actual: Any) -> bool:
    """``compare(expected, actual, "contains") == []``, without building any report."""
    if isinstance(expected, str) and expected.startswith("#"):
        return not _check_marker(expected, actual, "$")
    if actual is MISSING:
        return False
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _fits(value, actual.get(key, MISSING)) for key, value in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) > len(actual):
            return False
        if _greedy_fit(expected, actual):
            return True
        fits = [[i for i, got in enumerate(actual) if _fits(want, got)] for want in expected]
        return not _unassigned(fits)
    return _same_scalar(_unescape(expected), actual)


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
        + '. For a literal string that starts with #, put a backslash before it: "\\\\#..." '
        "inside JSON (JSON doubles it), \\#... in a plain table cell.",
    )


def _array_test(length: str, each: str | None, path: str) -> Callable[[Any], str]:
    element = _marker_test(each, path) if each else None

    def test(value: Any) -> str:
        if not isinstance(value, list):
            return f"{type_name(value)}, not array"
        if length and len(value) != int(length):
            return f"array length {len(value)}, expected {length}"
        for index, item in enumerate(value):
            reason = element(item) if element else ""
            if reason:
                return f"element [{index}] {reason}"
        return ""

    return test


# ---------------------------------------------------------------------------------------
# Expecting


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
        interlock._core.errors.Failure: response JSON does not match (2 mismatches)
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
    verb = "does not match"
    if mode == "contains":
        text = _is_text(expected) and isinstance(actual, str)
        verb = f"does not contain the expected {'text' if text else 'values'}"
    title = f"{what} {verb}{count}"
    details = format_mismatches(mismatches, actual, secrets=secrets)
    if secrets is not None:
        details = secrets.redact(details)
    raise Failure(title, details, where=where)
