"""Tables and columns as the database has them, looked up once and named kindly when missing.

Example (SQLite in memory):
    >>> import sqlalchemy as sa
    >>> engine = sa.create_engine("sqlite://")
    >>> with engine.begin() as conn:
    ...     _ = conn.exec_driver_sql("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT)")
    >>> schema = Schema("main")
    >>> with engine.connect() as conn:
    ...     schema.table(conn, "Customers").name, schema.columns(schema.table(conn, "customers"),
    ...                                                            ["NAME"])
    ('customers', ['name'])
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import sqlalchemy as sa

from interlock._core.errors import InterlockError


class Schema:
    """The reflected tables of one database, cached until ``forget()`` (after any SQL a
    scenario runs itself, since that may create or alter tables)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._names: dict[str | None, list[str]] = {}
        self._tables: dict[tuple[str | None, str], sa.Table] = {}

    def forget(self) -> None:
        """Drop what was reflected; the next lookup asks the database again."""
        self._names.clear()
        self._tables.clear()

    def table(self, conn: sa.Connection, name: str) -> sa.Table:
        """The table ``name`` (``schema.table`` works too), or an error listing the tables."""
        schema, _, bare = name.rpartition(".")
        key = (schema or None, bare)
        cached = self._tables.get(key)
        if cached is not None:
            return cached
        real = self._resolve(conn, schema or None, bare)
        if real is None:
            self._names.pop(schema or None, None)  # maybe created since: ask once more
            real = self._resolve(conn, schema or None, bare)
        if real is None:
            known = self._names.get(schema or None, [])
            where = f' in schema "{schema}"' if schema else ""
            raise InterlockError(
                f'Unknown table "{name}" in database "{self.database}"{where}',
                hint=closest_first(bare, known, "Tables"),
            )
        table = sa.Table(real, sa.MetaData(), autoload_with=conn, schema=schema or None)
        if conn.dialect.name == "mysql":
            _mark_mariadb_json(conn, table)
        self._tables[key] = table
        return table

    def _resolve(self, conn: sa.Connection, schema: str | None, bare: str) -> str | None:
        if schema not in self._names:
            inspector = sa.inspect(conn)
            names = list(inspector.get_table_names(schema=schema))
            names += list(inspector.get_view_names(schema=schema))
            self._names[schema] = names
        names = self._names[schema]
        if bare in names:
            return bare
        folded = [n for n in names if n.lower() == bare.lower()]
        return folded[0] if len(folded) == 1 else None

    def columns(self, table: sa.Table, names: Iterable[str]) -> list[str]:
        """The table's own spelling of each column name, or an error listing its columns."""
        real = [c.name for c in table.columns]
        out = []
        for name in names:
            if name in real:
                out.append(name)
                continue
            folded = [c for c in real if c.lower() == name.lower()]
            if len(folded) != 1:
                raise InterlockError(
                    f'Unknown column "{name}" in table "{table.name}" of database '
                    f'"{self.database}"',
                    hint=closest_first(name, real, "Columns"),
                )
            out.append(folded[0])
        return out


_JSON_VALID = re.compile(r"json_valid\(\s*`?(\w+)`?\s*\)", re.IGNORECASE)


def _mark_mariadb_json(conn: sa.Connection, table: sa.Table) -> None:
    """MariaDB's JSON is LONGTEXT with a ``json_valid`` column check; say it is JSON, so values
    are parsed on the way out and written as JSON on the way in. (Column checks are not in
    SQLAlchemy's reflection, so information_schema is asked.)"""
    schema = "DATABASE()" if table.schema is None else ":schema"
    query = sa.text(
        "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        f"WHERE CONSTRAINT_SCHEMA = {schema} AND TABLE_NAME = :table"
    )
    params = {"table": table.name, **({"schema": table.schema} if table.schema else {})}
    for (clause,) in conn.execute(query, params):
        for name in _JSON_VALID.findall(str(clause)):
            if name in table.columns:
                table.columns[name].type = sa.JSON()


def closest_first(name: str, known: list[str], what: str) -> str:
    """``known`` listed by likeness to ``name``, the closest first.

    Example:
        >>> closest_first("ordrs", ["customers", "orders", "order_items"], "Tables")
        'did you mean "orders"? Tables: orders, order_items, customers'
    """
    if not known:
        return f"{what}: none (is the schema created? did migrations run?)"
    ranked = sorted(
        known,
        key=lambda k: (-difflib.SequenceMatcher(None, name.lower(), k.lower()).ratio(), k),
    )
    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
    lead = f'did you mean "{ranked[0]}"? ' if close else ""
    return f"{lead}{what}: " + ", ".join(ranked)
