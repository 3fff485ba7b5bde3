"""Values in feature files: ``{var}`` templates, JSON literals, table cells, durations.

Everything a step receives as text passes through here before it means anything:

* ``{name}`` is a variable the scenario remembered (or the suite configured);
* ``{orders.url}``, ``{orders.host}``, ``{orders.port}`` are a service's address;
* ``{env.NAME}`` is an environment variable;
* ``{uuid}`` and ``{fake.email}`` (any Faker provider) are fresh generated data on every use;
* ``{name|default}`` is ``name``'s value, or the text after ``|`` when ``name`` has none
  (``{env.BASE_IMAGE|}``: that variable, or empty);
* ``{{`` and ``}}`` are literal braces.

Example:
    >>> scope = Scope({"order_id": "o-1"})
    >>> render("/orders/{order_id}", scope)
    '/orders/o-1'
    >>> render_json('{"id": "{order_id}", "n": {n}}', Scope({"order_id": "o-1", "n": 2}))
    {'id': 'o-1', 'n': 2}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from interlock._core.errors import InterlockError, did_you_mean

Resolver = Callable[[str], Any]
"""Answers the part after the dot (``url`` for ``{orders.url}``); raises KeyError if unknown."""

# {name} or {name|default}: a name is a word with dots and dashes (order_id, orders-db.url,
# env.API_KEY, fake.email), so JSON's own braces ({"a": {"b": 1}}) are never taken for one;
# a default may hold spaces.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w.\-]*(?:\|[^{}]*)?)\}")


class Scope:
    """Where ``{names}`` come from: variables, then dotted namespaces (``env``, ``fake``, services).

    Variables are looked up first, so a remembered ``{order_id}`` always wins. A dotted name
    ``{a.b}`` asks the resolver registered for ``a``.

    Example:
        >>> s = Scope({"x": 1}, {"svc": {"url": "http://127.0.0.1:1"}.__getitem__})
        >>> render("{x} {svc.url}", s)
        '1 http://127.0.0.1:1'
    """

    def __init__(
        self,
        variables: Mapping[str, Any] | None = None,
        namespaces: Mapping[str, Resolver] | None = None,
    ) -> None:
        self.variables: dict[str, Any] = dict(variables or {})
        self.namespaces: dict[str, Resolver] = {
            "env": _environment,
            "fake": _fake,
            **(namespaces or {}),
        }

    def child(self, variables: Mapping[str, Any] | None = None) -> Scope:
        """A scope that sees this one's names but keeps its own new variables."""
        scope = Scope(self.variables, self.namespaces)
        scope.variables.update(variables or {})
        return scope

    def set(self, name: str, value: Any) -> None:
        """Remember ``value`` as ``{name}``."""
        self.variables[name] = value

    def lookup(self, name: str, where: str = "") -> Any:
        """The value of ``{name}``; an ``InterlockError`` naming the known names if unknown.

        ``name|default`` gives ``default`` (as text) where ``name`` alone would be unknown.

        Example:
            >>> Scope({"a": 1}).lookup("a|2"), Scope().lookup("env.SURELY_NOT_SET_42|none")
            (1, 'none')
        """
        base, bar, default = name.partition("|")
        if bar:
            try:
                return self.lookup(base, where)
            except InterlockError:
                return default
        if name in self.variables:
            return self.variables[name]
        if name == "uuid":
            import uuid  # only here: 3 ms at start-up otherwise

            return str(uuid.uuid4())
        head, dot, rest = name.partition(".")
        if dot and head in self.namespaces:
            try:
                return self.namespaces[head](rest)
            except KeyError as err:
                detail = err.args[0] if err.args and isinstance(err.args[0], str) else ""
                raise InterlockError(
                    f'Unknown value "{{{name}}}"' + (f": {detail}" if detail else ""),
                    where=where,
                    hint=_namespace_hint(head),
                ) from None
        known = sorted(self.variables) + ["uuid"] + [f"{ns}.…" for ns in sorted(self.namespaces)]
        raise InterlockError(
            f'Unknown variable "{{{name}}}"',
            where=where,
            hint=did_you_mean(name, known)
            + '. Remember one with: Then I remember the response JSON at "$.id" as "'
            + name
            + '"; write {{ and }} for literal braces.',
        )


def _namespace_hint(head: str) -> str:
    if head == "env":
        return "Set the environment variable before running behave (or in the stage's env)."
    if head == "fake":
        return "Use a Faker provider name, e.g. {fake.email}, {fake.name}, {fake.city}."
    if head == "secrets":
        return "Declare it under secrets: in the stack file (environment/interlock.yaml)."
    return f'"{head}" has: url, host, port (for a service) or the names it defines.'


def _environment(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise KeyError(f"environment variable {name} is not set") from None


_faker: Any = None


def _fake(provider: str) -> Any:
    global _faker  # one Faker per process: building it costs ~100 ms, it holds no test state
    if _faker is None:
        from faker import Faker

        _faker = Faker()
    try:
        method = getattr(_faker, provider)
    except AttributeError:
        raise KeyError(f"Faker has no provider {provider!r}") from None
    return method() if callable(method) else method


def render(text: str, scope: Scope, where: str = "") -> str:
    """Replace every ``{name}`` in ``text`` with its value as text.

    Example:
        >>> render("{{literal}} {a}", Scope({"a": "b"}))
        '{literal} b'
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return _as_text(scope.lookup(match.group(1), where))

    return _PLACEHOLDER.sub(replace, text)


def preview(text: str, scope: Scope) -> str:
    """``text`` with the scenario's remembered variables filled in, and every other name
    (``{uuid}``, ``{fake.email}``: fresh on each use; ``{env.X}``; a service's address) left
    as written: what a report shows of a step's argument, without drawing new values.

    Example:
        >>> preview('{"id": "{order_id}", "ref": "{uuid}"}', Scope({"order_id": "o-1"}))
        '{"id": "o-1", "ref": "{uuid}"}'
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        base = name.partition("|")[0]
        return _as_text(scope.variables[base]) if base in scope.variables else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def render_json_text(text: str, scope: Scope, where: str = "") -> str:
    """Render a JSON document's template: inside strings values are escaped, outside they
    are written as JSON literals, so ``"n": {count}`` gives a number and a name with a quote
    in it cannot break the document.
    """
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string and ch == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
            out.append(ch)
            i += 1
            continue
        match = _PLACEHOLDER.match(text, i) if ch in "{}" else None
        if match:
            token = match.group(0)
            if token in ("{{", "}}"):
                # In a string a doubled brace is a literal one; outside strings braces are
                # the document's own structure ({"a": {"b": 1}}) and stay as written.
                out.append(token[0] if in_string else token)
            else:
                value = scope.lookup(match.group(1), where)
                if in_string:
                    out.append(json.dumps(_as_text(value))[1:-1])
                else:
                    out.append(json.dumps(value))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def render_jsonpath(text: str, scope: Scope, where: str = "") -> str:
    """Fill ``{names}`` into a JSONPath: as the text of a member name or index
    (``$.{field}``, ``$.items[{i}]``), escaped inside a quoted name (``$['{field}']``), and as a
    JSON literal where a filter compares it (``$[?@.id == {id}]`` gives ``"o-1"`` or ``7``).

    Example:
        >>> scope = Scope({"field": "status", "id": "o-1", "n": 2})
        >>> render_jsonpath("$.{field}", scope), render_jsonpath("$[?@.id == {id}]", scope)
        ('$.status', '$[?@.id == "o-1"]')
        >>> render_jsonpath("$.items[?@.qty > {n}].id", scope)
        '$.items[?@.qty > 2].id'
    """
    out: list[str] = []
    quote = ""  # the quote a name or string literal is open with, if any
    filters: list[bool] = []  # for each open bracket: does it hold a filter (?...)
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            filters.append(text[i + 1 : i + 2] == "?" or text[i + 1 : i + 3] == " ?")
        elif ch == "]" and filters:
            filters.pop()
        match = _PLACEHOLDER.match(text, i) if ch in "{}" else None
        if match:
            token = match.group(0)
            if token in ("{{", "}}"):
                out.append(token[0])
            else:
                value = scope.lookup(match.group(1), where)
                previous = "".join(out).rstrip()[-1:]
                if quote:
                    plain = _as_text(value).replace("\\", "\\\\")
                    out.append(plain.replace(quote, "\\" + quote))
                elif any(filters) and previous != ".":
                    out.append(json.dumps(value))
                else:
                    out.append(_as_text(value))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def render_json(text: str, scope: Scope, where: str = "") -> Any:
    """Render a JSON template and parse it; invalid JSON is an error with line and column."""
    return parse_json(render_json_text(text, scope, where), where)


def parse_json(text: str, where: str = "", what: str = "JSON") -> Any:
    """Parse JSON, or raise an ``InterlockError`` that points at the line and column.

    Example:
        >>> parse_json('{"a": 1,}', "order.feature:12")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Invalid JSON at line 1, column 9: ...
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        lines = text.splitlines() or [""]
        bad = lines[err.lineno - 1] if err.lineno - 1 < len(lines) else ""
        pointer = " " * (err.colno - 1) + "^"
        if err.msg.startswith("Invalid \\escape"):
            raise InterlockError(
                f"Invalid {what} at line {err.lineno}, column {err.colno}: a single backslash "
                "inside a JSON string",
                details=f"{bad}\n{pointer}\nwrite it as:\n{_doubled_backslashes(bad)}",
                where=where,
                hint="Expected values are JSON, and JSON doubles a backslash inside a string: "
                '"#regex ^\\\\d+$", "\\\\#1 in sales". In a table cell that is not a JSON '
                "literal (no quotes around it) one backslash is enough.",
            ) from None
        raise InterlockError(
            f"Invalid {what} at line {err.lineno}, column {err.colno}: {err.msg}",
            details=f"{bad}\n{pointer}",
            where=where,
            hint='Strings need double quotes ("pending"), no trailing commas; '
            "write a literal brace as {{ or }}.",
        ) from None


_VALID_ESCAPE = set('"\\/bfnrtu')


def _doubled_backslashes(line: str) -> str:
    r"""``line`` with every backslash that JSON would refuse doubled (inside strings only).

    Example:
        >>> print(_doubled_backslashes(r'{"id": "#regex ^\d+$", "ok": "a\"b"}'))
        {"id": "#regex ^\\d+$", "ok": "a\"b"}
    """
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string and ch == "\\":
            following = line[i + 1 : i + 2]
            if following and following in _VALID_ESCAPE:
                out.append(line[i : i + 2])
                i += 2
                continue
            out.append("\\\\")
            i += 1
            continue
        if ch == '"':
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def parse_literal(text: str, where: str = "") -> Any:
    """An expected value written in a step: a JSON literal (``"pending"``, ``2``, ``null``).

    Example:
        >>> parse_literal('"pending"'), parse_literal("2"), parse_literal("[1, 2]")
        ('pending', 2, [1, 2])
    """
    return parse_json(text, where, what="JSON value")


# A cell that opens an object or an array ({"a": 1 / [1, 2) was meant as JSON; "[draft]" or
# "{name}" left as text is not (a JSON array or object opens with one of these).
_LOOKS_LIKE_JSON = re.compile(r'^(?:\{\s*(?:"|\}|$)|\[\s*(?:[-\d"\[\]{]|true|false|null|$))')


def parse_cell(text: str, column: str = "") -> Any:
    """A table cell: a JSON literal where it parses as one, otherwise the plain text.

    A cell that opens a JSON object or array but does not parse is an error naming the cell
    (and its ``column``), not text that would then never match.

    Example:
        >>> parse_cell('"gold"'), parse_cell("gold"), parse_cell("2"), parse_cell("[draft]")
        ('gold', 'gold', 2, '[draft]')
        >>> parse_cell('{"a": 1', column="payload")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: The cell {"a": 1 (column "payload") is not valid JSON
    """
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return json.loads(stripped)
    except ValueError as err:
        if not _LOOKS_LIKE_JSON.match(stripped):
            return stripped
        message = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        place = f' (column "{column}")' if column else ""
        raise InterlockError(
            f"The cell {stripped}{place} is not valid JSON: {message}",
            hint="Fix the JSON (close every { and [, double-quote the strings), or write the "
            f"cell as a JSON string to mean the text itself: {json.dumps(stripped)}",
        ) from None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]+)\s*$")
_UNITS = {
    "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "minute": 60.0, "minutes": 60.0,
}
DURATION_UNITS = ("ms", "seconds", "minutes")
"""The units a duration is written in (singular forms and ``s``/``min`` work too)."""


def parse_duration(text: str, where: str = "") -> float:
    """``500 ms``, ``5 seconds``, ``1 second``, ``1.5 seconds`` or ``2 minutes`` as seconds.

    An unknown unit is an error that lists the units there are.

    Example:
        >>> parse_duration("500 ms"), parse_duration("2 seconds"), parse_duration("1.5 minutes")
        (0.5, 2.0, 90.0)
        >>> parse_duration("5 hours")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Unknown unit "hours" in the duration "5 hours" ...
    """
    match = _DURATION.match(text)
    units = ", ".join(f'"<n> {unit}"' for unit in DURATION_UNITS)
    if not match:
        raise InterlockError(
            f'Not a duration: "{text.strip()}"',
            where=where,
            hint=f"Write {units} (decimals allowed), e.g. \"within 5 seconds\".",
        )
    number, unit = float(match.group(1)), match.group(2)
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise InterlockError(
            f'Unknown unit "{unit}" in the duration "{text.strip()}"',
            where=where,
            hint=f"A duration is written {units} (decimals allowed), e.g. "
            f'"within {_in_known_units(number, unit)}".',
        )
    return number * factor


def _in_known_units(number: float, unit: str) -> str:
    """The nearest spelling in a known unit, for the hint (``5 hours`` → ``300 minutes``)."""
    shown = f"{number:g}"
    if unit.lower().startswith("h"):
        return f"{number * 60:g} minutes"
    if unit.lower().startswith("sec"):
        return f"{shown} seconds"
    if unit.lower().startswith("d"):
        return f"{number * 24 * 60:g} minutes"
    return "5 seconds"


def render_tree(value: Any, scope: Scope, where: str = "") -> Any:
    """Every text inside a configuration tree rendered (mappings and lists walked).

    Example:
        >>> render_tree({"url": "{nats.url}", "n": 1, "l": ["{x}"]},
        ...             Scope({"x": "y"}, {"nats": {"url": "nats://h:1"}.__getitem__}))
        {'url': 'nats://h:1', 'n': 1, 'l': ['y']}
    """
    if isinstance(value, str):
        return render(value, scope, where)
    if isinstance(value, Mapping):
        return {key: render_tree(item, scope, where) for key, item in value.items()}
    if isinstance(value, list):
        return [render_tree(item, scope, where) for item in value]
    return value
