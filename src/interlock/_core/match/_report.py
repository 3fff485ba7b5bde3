"""The mismatch report: one line per mismatch, then an excerpt of the actual document that
shows the branches leading to them. Private to ``interlock._core.match``; its callers use
``format_mismatches`` from there.

Example:
    >>> print(format_mismatches([Mismatch("$.a", 1, MISSING, "missing key")], {"b": 2}))
    $.a: expected 1, got nothing (missing key)
    actual: {"b": 2}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from interlock._core.secrets import MASK, Secrets


class _Missing:
    """The value of a key that is not there (distinct from ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class Mismatch:
    """One difference between an expected and an actual JSON value.

    Example:
        >>> Mismatch("$.n", 2, "2", "string, not number").path
        '$.n'
    """

    path: str
    expected: Any
    actual: Any
    reason: str
    # For "no element matches": the differences of the closest element, kept whole so the
    # reason can be written again with secrets hidden before its values are cut.
    near: tuple[Mismatch, ...] = field(default=(), compare=False, repr=False)


def is_number(value: Any) -> bool:
    """A JSON number (``True`` is not one, although Python says it is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    """The JSON type of a value, as users read it: "null", "boolean", "number"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_MAX_LINES = 50


def format_mismatches(
    mismatches: list[Mismatch], actual: Any | None = None, *, secrets: Secrets | None = None
) -> str:
    """One line per mismatch, then the actual document (an excerpt when it is long).

    Example:
        >>> print(format_mismatches([Mismatch("$.b", "#absent", 2, "present, expected absent")]))
        $.b: expected #absent, got 2 (present, expected absent)
    """
    hidden = secrets or Secrets(headers=(), fields=())
    lines = [mismatch_line(m, secrets=hidden) for m in mismatches[:_MAX_LINES]]
    if len(mismatches) > _MAX_LINES:
        lines.append(f"… and {len(mismatches) - _MAX_LINES} more mismatches")
    if actual is not None:
        shown = hidden.redact_json(actual)
        text = compact(shown, limit=None)
        if len(text) <= 100:
            lines.append(f"actual: {text}")
        else:
            lines.append("actual (excerpt):")
            tree = path_tree([m.path for m in mismatches[:_MAX_LINES]])
            lines.extend("  " + line for line in cut(excerpt(shown, tree)))
    return "\n".join(lines)


def _masked(m: Mismatch, secrets: Secrets) -> Mismatch:
    """The mismatch with every secret hidden: values of sensitive fields, known secret values
    anywhere in expected, actual and reason. Done on whole values, before any is cut."""
    last = split_path(m.path)[-1:] if m.path != "$" else []
    actual, expected = m.actual, m.expected
    if last and isinstance(last[0], str) and secrets.is_sensitive_field(last[0]):
        actual = actual if actual is MISSING or actual is None else MASK
    actual = actual if actual is MISSING else secrets.redact_json(actual)
    expected = expected if expected is MISSING else secrets.redact_json(expected)
    reason = closest_reason(m.near, secrets) if m.near else secrets.redact(m.reason)
    return Mismatch(m.path, expected, actual, reason)


def closest_reason(diff: tuple[Mismatch, ...] | list[Mismatch],
                   secrets: Secrets | None = None) -> str:
    """Why no element matched, naming how the closest one differs (at most two of its
    differences, values cut short, secrets hidden first).

    Example:
        >>> closest_reason([Mismatch("$[1].n", 2, 5, "differs")])
        'no element matches (closest $[1].n: expected 2, got 5)'
    """
    near = "; ".join(mismatch_line(m, 40, secrets).strip() for m in diff[:2])
    more = f"; +{len(diff) - 2} more" if len(diff) > 2 else ""
    return f"no element matches (closest {near}{more})"


def mismatch_line(m: Mismatch, width: int = 80, secrets: Secrets | None = None) -> str:
    """One mismatch on one line: path, expected, actual, why (with ``secrets`` hidden before
    long values are cut)."""
    if secrets is not None:
        m = _masked(m, secrets)
    expected = _show_expected(m.expected, width)
    if m.actual is MISSING:
        return f"{m.path}: expected {expected}, got nothing ({m.reason})"
    actual = compact(m.actual, width)
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
        return '"\\' + compact(value[1:], width)[1:]
    return compact(value, width)


def compact(value: Any, limit: int | None = 80) -> str:
    """A value as one line of JSON, cut at ``limit`` characters."""
    if value is MISSING:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def split_path(path: str) -> list[str | int]:
    """Undo ``jsonpaths.child_path``: "$.a[0]['b c']" -> ["a", 0, "b c"]."""
    segments: list[str | int] = []
    for match in _SEGMENT.finditer(path, 1):
        name, index, quoted = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(
                name
                if name is not None
                else re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _unescape_char, quoted)
            )
    return segments


def _unescape_char(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


Tree = dict[Any, "Tree"]
_MAX_EXCERPT = 40


def cut(lines: list[str]) -> list[str]:
    """At most ``_MAX_EXCERPT`` lines, the last one saying how many were left out."""
    if len(lines) <= _MAX_EXCERPT:
        return lines
    return [*lines[: _MAX_EXCERPT - 1], f"… {len(lines) - _MAX_EXCERPT + 1} more lines"]


def path_tree(paths: list[str]) -> Tree:
    """The normalized paths as a tree of their segments, for ``excerpt``."""
    tree: Tree = {}
    for path in paths:
        node = tree
        for segment in split_path(path):
            node = node.setdefault(segment, {})
    return tree


def excerpt(value: Any, tree: Tree, depth: int = 0) -> list[str]:
    """Pretty-print the branches leading to mismatches (``tree``); siblings of a mismatch stay
    visible as the context a reader needs, everything else is folded into "… n more".
    A mismatch is marked with ``←``."""
    if not isinstance(value, dict | list) or depth > 8:
        return [_folded(value)]
    if not tree and len(compact(value, None)) <= 60:
        return [compact(value)]
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    context = not tree or any(not sub for sub in tree.values())
    rows: list[list[str]] = []
    skipped = 0
    for key, item in items:
        label = f"{json.dumps(key, ensure_ascii=False)}: " if isinstance(value, dict) else ""
        if tree and key in tree:
            body = excerpt(item, tree[key], depth + 1)
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
    text = compact(value, None)
    if len(text) <= 60 or not isinstance(value, dict | list):
        return compact(value, 60)
    return f"{{… {len(value)} keys}}" if isinstance(value, dict) else f"[… {len(value)} items]"

