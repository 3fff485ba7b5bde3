"""The ``Then the table …`` and ``Then the query …`` checks, and failures worth reading.

A failure shows the expected row(s), the nearest actual row as a small aligned table and
every mismatch in it (the query's attachment lists the few next nearest):

    Table "orders" in "orders-db" has no row matching (3 rows in the table)
      expected:
        | id    | status    |
        | "o-1" | "pending" |
      closest row:
        | row | id    | status      |
        | 1   | "o-1" | "cancelled" |
      mismatches:
        row 1: status: expected "pending", got "cancelled"

Example:
    >>> from interlock.db.database import Databases
    >>> from interlock.db.config import DatabaseConfig
    >>> db = Databases({"m": DatabaseConfig("m", "sqlite://")}).get()
    >>> _ = db.run_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT); "
    ...                "INSERT INTO t VALUES (1, 'a')")
    >>> db.expect_row_matching("t", {"id": "1", "s": "#string"})
    >>> db.expect_row_count("t", 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    interlock._core.errors.Failure: Table "t" in "m" has 1 row, expected 0
    ...
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from interlock._core.errors import Failure, InterlockError
from interlock._core.match import Mismatch, compare, format_mismatches, split_path
from interlock._core.values import parse_cell
from interlock.db.cells import ColumnKind, aligned_table, column_kind, comparable
from interlock.db.schema import closest_first

if TYPE_CHECKING:
    from interlock._core.secrets import Secrets
    from interlock.db.database import Database

CLOSEST = 10  # actual rows shown in a failure


@dataclass
class _Scan:
    """The rows a SELECT gave, sorted into matching ones and the closest others."""

    text: str = ""
    columns: list[str] = field(default_factory=list)
    total: int = 0
    matched: list[dict[str, Any]] = field(default_factory=list)
    # (-(key columns wrong, columns wrong), -row number, row, mismatches): a heap of the few
    # nearest, where the nearest is the row meant (its key right) with the fewest columns wrong
    closest: list[tuple[tuple[int, int], int, dict[str, Any], list[Mismatch]]] = field(
        default_factory=list)


def _nearest_first(closest: list[tuple[tuple[int, int], int, dict[str, Any], list[Mismatch]]],
                   ) -> list[tuple[tuple[int, int], int, dict[str, Any], list[Mismatch]]]:
    """The heap of near rows, nearest first (then in the table's order)."""
    return sorted(closest, key=lambda e: (-e[0][0], -e[0][1], -e[1]))


def _attach_looked_at(db: Database, scan: _Scan) -> None:
    """The query's attachment: the rows that matched, marked, then (when too few did) the
    nearest others; not every row of the table."""
    near = [e[2] for e in _nearest_first(scan.closest)]
    shown = [{"match": "✓", **row} for row in scan.matched[:CLOSEST]]
    shown += [{"match": "", **row} for row in near[: max(0, 3 - len(shown))]]
    note = f"  -- {_rows(scan.total)} looked at, {len(scan.matched)} matching"
    db.attach(scan.text + note, ["match", *scan.columns], shown)


def rows_matching(db: Database, table: str, n: int | None, row: Mapping[str, Any]) -> None:
    """At least one row (``n`` None) or exactly ``n`` rows of ``table`` match ``row``."""
    with db.transaction() as conn:
        t = db.table(conn, table)
        names = db.schema.columns(t, row.keys())
        kinds: dict[str, ColumnKind] = {c: column_kind(t.columns[c].type) for c in names}
        expected = {c: _cell(v, c) for c, v in zip(names, row.values(), strict=True)}
        keys = frozenset(c.name for c in t.primary_key.columns) & set(names)
        compare(expected, expected)  # an unknown marker is an error even in an empty table
        # Plain text and integer cells narrow the SELECT: every row that matches satisfies the
        # WHERE (it may be looser, e.g. a case-insensitive collation; Python decides). Only
        # when the check fails is the whole table read, to show the closest rows.
        narrow = {c: v for c, v in expected.items() if _exact_in_sql(kinds[c], t.columns[c], v)}
        scan: _Scan | None = None
        if narrow:
            condition = sa.and_(*(t.columns[c] == v for c, v in narrow.items()))
            text = f"SELECT * FROM {t.name} WHERE " + " AND ".join(
                f"{c} = {_sql_literal(v)}" for c, v in narrow.items()
            )
            scan = _scan(db, conn, sa.select(t).where(condition), text, names, expected, kinds,
                         keys)
            if not _holds(n, len(scan.matched)):
                scan = None
        if scan is None:
            text = f"SELECT * FROM {t.name}"
            scan = _scan(db, conn, sa.select(t), text, names, expected, kinds, keys)
    total, matched, closest = scan.total, scan.matched, scan.closest
    count = len(matched)
    _attach_looked_at(db, scan)
    if _holds(n, count):
        return
    shown_columns = names + [c.name for c in t.primary_key.columns if c.name not in names]
    where = f'Table "{t.name}" in "{db.name}"'
    lines = ["expected:", _indent(_expected_table(names, [expected], db.secrets))]
    if n is None or count < n:
        title = (
            f"{where} has no row matching ({_rows(total)} in the table)"
            if n is None
            else f"{where} has {_rows(count)} matching, expected {n}"
        )
        if closest:  # the nearest row says it
            _, _, row, mismatches = _nearest_first(closest)[0]
            lines += ["closest row:", _indent(_actual_table(shown_columns, [row], db.secrets))]
            lines.append("mismatches:")
            lines += [f"  row 1: {line}" for line in _mismatch_lines(mismatches, db.secrets)]
            others = total - count - 1
            if others > 0:
                lines.append(f"(and {others} other {'row' if others == 1 else 'rows'}: the "
                             "query's attachment lists the next nearest)")
        else:
            lines.append("the table is empty")
    else:
        title = f"{where} has {_rows(count)} matching, expected {n}"
        lines += [
            "matching rows:",
            _indent(_actual_table(shown_columns, matched[:CLOSEST], db.secrets)),
        ]
        if count > CLOSEST:
            lines.append(f"  … and {count - CLOSEST} more")
    raise Failure(title, db.secrets.redact("\n".join(lines)))


def _sql_literal(value: Any) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)


def _holds(n: int | None, count: int) -> bool:
    return count >= 1 if n is None else count == n


def _exact_in_sql(kind: ColumnKind, column: sa.Column[Any], value: Any) -> bool:
    if kind == "text" and isinstance(value, str):
        return not value.startswith(("#", "\\#"))
    return (
        kind == "number"
        and isinstance(column.type, sa.Integer)
        and isinstance(value, int)
        and not isinstance(value, bool)
    )


def _scan(
    db: Database,
    conn: sa.Connection,
    statement: sa.Select[Any],
    text: str,
    names: list[str],
    expected: dict[str, Any],
    kinds: dict[str, ColumnKind],
    keys: frozenset[str] = frozenset(),
) -> _Scan:
    """Run the SELECT; sort its rows into those matching ``expected`` and the nearest others
    (``keys``: the primary key's columns among ``names``, which say which row was meant)."""
    result = db.execute(conn, statement, text)
    scan = _Scan(text, list(result.keys()))
    for scan.total, record in enumerate(result, start=1):
        values = dict(record._mapping)
        actual = {c: comparable(values[c], expected[c], kinds[c]) for c in names}
        mismatches = compare(expected, actual)
        if not mismatches:
            scan.matched.append(values)
            continue
        wrong = {(split_path(m.path) or [""])[0] for m in mismatches}  # the columns at fault
        distance = (len(wrong & keys), len(wrong))
        entry = ((-distance[0], -distance[1]), -scan.total, values, mismatches)
        if len(scan.closest) < CLOSEST:
            heapq.heappush(scan.closest, entry)
        else:
            heapq.heappushpop(scan.closest, entry)
    return scan


def row_count(db: Database, table: str, n: int) -> None:
    """``table`` holds exactly ``n`` rows."""
    with db.transaction() as conn:
        t = db.table(conn, table)
        text = f"SELECT count(*) FROM {t.name}"
        count = int(db.execute(conn, sa.select(sa.func.count()).select_from(t), text).scalar_one())
        sample = []
        if count != n:
            sample = [
                dict(r._mapping)
                for r in db.execute(conn, sa.select(t).limit(CLOSEST), f"SELECT * FROM {t.name}")
            ]
    db.attach(f"{text}  -- {count}", [], [])
    if count == n:
        return
    details = ""
    if sample:
        columns = [c.name for c in t.columns]
        more = f"\n  … and {count - len(sample)} more" if count > len(sample) else ""
        details = "rows:\n" + _indent(_actual_table(columns, sample, db.secrets)) + more
    raise Failure(
        f'Table "{t.name}" in "{db.name}" has {_rows(count)}, expected {n}',
        db.secrets.redact(details),
    )


def query_returns(db: Database, sql: str, rows: list[Mapping[str, Any]]) -> None:
    """The query returns exactly these rows, in this order (the listed columns only)."""
    with db.transaction() as conn:
        result = db.execute(conn, sa.text(sql), sql)
        if not result.returns_rows:
            raise InterlockError(
                f'The query on "{db.name}" returns no rows to compare',
                details=sql,
                hint="Use a SELECT (or a statement with RETURNING) here; "
                'run other SQL with "When I run the SQL:".',
            )
        columns = list(result.keys())
        records = [dict(r._mapping) for r in result]
    db.attach(sql, columns, records)
    listed = list(dict.fromkeys(name for row in rows for name in row))
    real = {}
    for name in listed:
        found = [c for c in columns if c == name] or [
            c for c in columns if c.lower() == name.lower()
        ]
        if len(found) != 1:
            raise InterlockError(
                f'The query on "{db.name}" has no column "{name}"',
                details=sql,
                hint=closest_first(name, columns, "Its columns"),
            )
        real[name] = found[0]
    expected = [{c: _cell(v, c) for c, v in row.items()} for row in rows]
    actual = []
    for index, record in enumerate(records):
        want = expected[index] if index < len(expected) else dict.fromkeys(listed)
        actual.append({c: comparable(record[real[c]], want[c]) for c in want})
    mismatches = compare(expected, actual)
    if not mismatches:
        return
    noun = "mismatch" if len(mismatches) == 1 else "mismatches"
    lines = [
        "expected:",
        _indent(_expected_table(listed, expected, db.secrets)),
        "actual:" if actual else "actual: no rows",
    ]
    if actual:
        lines.append(_indent(_expected_table(listed, actual[: CLOSEST * 2], db.secrets)))
        if len(actual) > CLOSEST * 2:
            lines.append(f"  … and {len(actual) - CLOSEST * 2} more")
    lines += ["mismatches:"] + ["  " + line for line in _mismatch_lines(mismatches, db.secrets)]
    raise Failure(
        f'The query on "{db.name}" returned other rows ({len(mismatches)} {noun})',
        db.secrets.redact(sql.strip() + "\n" + "\n".join(lines)),
    )


def _cell(value: Any, column: str) -> Any:
    return parse_cell(value, column) if isinstance(value, str) else value


def _json_cell(value: Any) -> str:
    if isinstance(value, str) and value.startswith("#"):
        return value  # a marker, shown bare as the author wrote it
    return json.dumps(value, ensure_ascii=False, default=str)


# Cells are redacted before the columns are aligned: a column as wide as a secret tells its
# length.
def _expected_table(columns: list[str], rows: list[dict[str, Any]], secrets: Secrets) -> str:
    cells = [[secrets.redact(_json_cell(r.get(c))) for c in columns] for r in rows]
    return aligned_table(columns, cells)


def _actual_table(columns: list[str], rows: list[dict[str, Any]], secrets: Secrets) -> str:
    cells = [
        [str(i)] + [secrets.redact(_json_cell(comparable(r.get(c)))) for c in columns]
        for i, r in enumerate(rows, start=1)
    ]
    return aligned_table(["row", *columns], cells)


_ROW_PATH = re.compile(r"^\$\[(\d+)\]\.?")


def _mismatch_lines(mismatches: list[Mismatch], secrets: Secrets) -> list[str]:
    """Mismatch lines with column names instead of JSON paths (``row 2: status: …``)."""
    out = []
    for line in format_mismatches(mismatches, secrets=secrets).splitlines():
        row = _ROW_PATH.match(line)
        if row:
            line = f"row {int(row.group(1)) + 1}: " + line[row.end() :]
        elif line.startswith("$."):
            line = line[2:]
        elif line.startswith("$:"):
            line = "rows:" + line[2:]
        out.append(line)
    return out


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
