"""Typed cells: what a table cell means for a column, and what a column's value means to a cell.

A step's cells are JSON literals where they parse as one, otherwise text
(``interlock._core.values.parse_cell``). Databases answer in their own types, so before comparing,
each actual value is turned into the JSON value the author would have written:

* ``Decimal`` (numeric columns) → a number; ``2.50`` equals ``2.5``;
* MariaDB ``tinyint(1)`` / ``BOOLEAN`` 0/1 → ``false``/``true``;
* JSON columns (and JSON text where an object or array is expected) → parsed;
* timestamps → RFC 3339 text, equal to any expected text naming the same instant
  (a timestamp without a zone is taken as UTC), dates → ``YYYY-MM-DD``;
* UUIDs → lower-case text, equal to the same UUID in any case;
* a number expected in a text column equals the same number written as text.

Example:
    >>> from decimal import Decimal
    >>> comparable(Decimal("2.50"), 2.5, "number")
    2.5
    >>> comparable(1, True, "boolean")
    True
    >>> comparable('{"a": 1}', {"a": 1}, "text")
    {'a': 1}
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import sqlalchemy as sa

ColumnKind = Literal["boolean", "json", "uuid", "datetime", "date", "time", "number", "text", ""]


def column_kind(column_type: Any) -> ColumnKind:
    """What kind of value a reflected SQLAlchemy column type holds ("" when unknown)."""
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    # MariaDB and MySQL spell BOOLEAN as tinyint(1)
    if type(column_type).__name__ == "TINYINT" and getattr(column_type, "display_width", 0) == 1:
        return "boolean"
    if isinstance(column_type, sa.JSON):
        return "json"
    if isinstance(column_type, sa.Uuid):
        return "uuid"
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Time):
        return "time"
    if isinstance(column_type, sa.Integer | sa.Numeric):
        return "number"
    if isinstance(column_type, sa.String):
        return "text"
    return ""


def comparable(actual: Any, expected: Any = None, kind: ColumnKind = "") -> Any:
    """``actual`` (from the database) as the JSON value to compare with ``expected``."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        return actual
    if isinstance(actual, int):
        if kind == "boolean" or (kind == "" and isinstance(expected, bool) and actual in (0, 1)):
            return bool(actual)
        return actual
    if isinstance(actual, Decimal):
        return _number(actual)
    if isinstance(actual, float):
        return actual
    if isinstance(actual, dt.datetime):
        return _datetime(actual, expected)
    if isinstance(actual, dt.date):
        if isinstance(expected, str) and expected == actual.isoformat():
            return expected
        return actual.isoformat()
    if isinstance(actual, dt.time):
        return actual.isoformat()
    if isinstance(actual, dt.timedelta):
        return str(actual)
    if isinstance(actual, uuid.UUID):
        text = str(actual)
        if isinstance(expected, str) and expected.lower() == text:
            return expected
        return text
    if isinstance(actual, bytes | bytearray | memoryview):
        raw = bytes(actual)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "\\x" + raw.hex()
    if isinstance(actual, str):
        return _text(actual, expected, kind)
    if isinstance(actual, dict):
        sub = expected if isinstance(expected, dict) else {}
        return {str(k): comparable(v, sub.get(k)) for k, v in actual.items()}
    if isinstance(actual, list | tuple):
        items = expected if isinstance(expected, list) else []
        return [comparable(v, items[i] if i < len(items) else None) for i, v in enumerate(actual)]
    return str(actual)


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _datetime(actual: dt.datetime, expected: Any) -> str:
    if isinstance(expected, str) and not expected.startswith("#"):
        parsed = _parse_datetime(expected)
        if parsed is not None and _as_utc(parsed) == _as_utc(actual):
            return expected
    if actual.tzinfo is None:
        return actual.isoformat() + "Z"  # stored without a zone: interlock reads it as UTC
    return actual.isoformat()


def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _text(actual: str, expected: Any, kind: ColumnKind) -> Any:
    if kind == "json" or (isinstance(expected, dict | list) and actual[:1] in ("{", "[")):
        try:
            return comparable(json.loads(actual), expected)
        except ValueError:
            return actual
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            if Decimal(actual) == Decimal(str(expected)):
                return expected
        except InvalidOperation:
            pass
    if kind == "uuid" and isinstance(expected, str) and expected.lower() == actual.lower():
        return expected
    return actual


def to_column(value: Any, column: sa.Column[Any]) -> Any:
    """A cell value (already parsed) as what the column's driver accepts on insert.

    Example:
        >>> to_column({"a": 1}, sa.Column("doc", sa.Text()))
        '{"a": 1}'
        >>> to_column("2024-05-01T10:00:00Z", sa.Column("at", sa.DateTime()))
        datetime.datetime(2024, 5, 1, 10, 0)
    """
    if value is None:
        return None
    kind = column_kind(column.type)
    if kind == "json":
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    if kind in ("datetime", "date", "time") and isinstance(value, str):
        return _temporal(value, kind, column.type)
    if kind == "uuid" and isinstance(value, str) and getattr(column.type, "as_uuid", False):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value  # the server names the bad value better than we would
    if kind == "boolean" and isinstance(value, int) and value in (0, 1):
        return bool(value)
    if kind == "text" and isinstance(value, bool | int | float):
        return json.dumps(value)
    return value


def _temporal(value: str, kind: ColumnKind, column_type: Any) -> Any:
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "time":
            return dt.time.fromisoformat(value)
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is not None and not getattr(column_type, "timezone", False):
        # a column without a zone stores UTC wall time (and `comparable` reads it back so)
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def shown(value: Any) -> str:
    """A value as one table cell: text as is, everything else as JSON.

    Example:
        >>> shown("Alice"), shown(None), shown({"a": 1}), shown(2.5)
        ('Alice', 'null', '{"a": 1}', '2.5')
    """
    if isinstance(value, str):
        return value
    return json.dumps(comparable(value), ensure_ascii=False, default=str)


def aligned_table(columns: list[str], rows: list[list[str]], limit: int = 50) -> str:
    """An aligned text table of at most ``limit`` rows (the rest counted, not shown).

    Example:
        >>> print(aligned_table(["id", "name"], [["1", "Alice"], ["22", "Bob"]]))
        | id | name  |
        | 1  | Alice |
        | 22 | Bob   |
    """
    shown_rows = rows[:limit]
    widths = [len(c) for c in columns]
    for row in shown_rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(columns)) + " |"]
    for row in shown_rows:
        lines.append("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(row)) + " |")
    if len(rows) > limit:
        lines.append(f"… and {len(rows) - limit} more rows")
    return "\n".join(lines)
