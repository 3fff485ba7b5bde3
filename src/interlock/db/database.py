"""One database as the steps see it: seed rows, empty tables, run SQL, query.

The expectations (``expect_row_matching`` …) live in ``expectations.py`` and are methods here
too. A ``Database`` shares its engine and reflected schema with every other ``Database`` of
the same name in the run (``Databases`` hands them out); what it inserts or empties is
written to its ``Ledger`` (a ``ScenarioData``), which undoes it after the scenario.

Example:
    >>> from interlock.db.config import DatabaseConfig
    >>> dbs = Databases({"main": DatabaseConfig("main", "sqlite://")})
    >>> db = dbs.get()
    >>> _ = db.run_sql("CREATE TABLE customers (id TEXT PRIMARY KEY, tier TEXT)")
    >>> db.insert_rows("customers", [{"id": "c-1", "tier": '"gold"'}])
    >>> db.query("SELECT id, tier FROM customers")
    [{'id': 'c-1', 'tier': 'gold'}]
    >>> dbs.close()
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa

from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.report import Reporter
from interlock._core.secrets import Secrets
from interlock._core.traffic import DATABASE, TEST, note
from interlock._core.values import parse_cell
from interlock.db import expectations
from interlock.db.cells import aligned_table, shown, to_column
from interlock.db.config import DatabaseConfig
from interlock.db.connection import create_engine, redact_url, server_message, url_password
from interlock.db.results import SqlResult, StatementResult
from interlock.db.schema import Schema
from interlock.db.statements import changed_table, split_statements

MAX_RESTORED_ROWS = 10_000  # `is empty` keeps the rows it deletes, to put them back after
SHOWN_ROWS = 50  # rows of a result attached to the report


class Ledger(Protocol):
    """Where a ``Database`` writes down what it changed, so that it can be undone."""

    def inserted(self, database: Database, table: sa.Table, key: dict[str, Any]) -> None:
        """A row was inserted; ``key`` identifies it (its primary key, or all its values)."""

    def emptied(self, database: Database, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """A table was emptied; ``rows`` are what it held."""

    def keeps_rows(self, database: Database, table: sa.Table) -> bool:
        """Whether the rows of ``table`` need to be tracked to be undone (not truncated)."""


class _Engine:
    """A database's run-wide parts: its engine (made on first use) and reflected schema."""

    def __init__(self, config: DatabaseConfig, secrets: Secrets, reporter: Reporter | None):
        self.config = config
        self.secrets = secrets
        self.reporter = reporter
        self.schema = Schema(config.name)
        self._engine: sa.Engine | None = None
        secrets.add(url_password(config.url))

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = create_engine(self.config.url)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class Database:
    """One configured database, as the data steps use it.

    Example:
        >>> Databases({"main": DatabaseConfig("main", "sqlite://")}).get("main").name
        'main'
    """

    def __init__(self, shared: _Engine, ledger: Ledger | None = None) -> None:
        self._shared = shared
        self.ledger = ledger

    # -- who am I ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._shared.config.name

    @property
    def config(self) -> DatabaseConfig:
        return self._shared.config

    @property
    def engine(self) -> sa.Engine:
        return self._shared.engine

    @property
    def dialect(self) -> str:
        """``postgresql``, ``mysql`` (MariaDB too) or ``sqlite``."""
        return self.engine.dialect.name

    @property
    def schema(self) -> Schema:
        return self._shared.schema

    @property
    def secrets(self) -> Secrets:
        return self._shared.secrets

    def bound(self, ledger: Ledger | None) -> Database:
        """This database, writing what it changes to ``ledger``."""
        return Database(self._shared, ledger)

    # -- connections and errors ----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A connection in a transaction, committed at the end (rolled back on error)."""
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as err:
            raise self.unreachable(err) from None
        with conn, conn.begin():
            yield conn

    def unreachable(self, err: BaseException) -> InterlockError:
        """The error for a database that does not answer."""
        return InterlockError(
            f'Database "{self.name}" is unreachable',
            details=self.secrets.redact(server_message(err)),
            where=f"database {self.name}: {redact_url(self.config.url)}",
            hint="Is it running? Check the URL in the stack file and that the service for it "
            "started (see its log).",
        )

    def sql_error(self, statement: str, err: BaseException) -> InterlockError:
        """The error for a statement the server refused: the statement and what it said."""
        if isinstance(err, sa.exc.DBAPIError) and err.connection_invalidated:
            return self.unreachable(err)
        return InterlockError(
            f'SQL failed on database "{self.name}"',
            details=self.secrets.redact(
                f"statement:\n{_indent(statement)}\nserver says:\n{_indent(server_message(err))}"
            ),
            hint="Check the statement against the schema; nothing of it was committed.",
        )

    def execute(self, conn: sa.Connection, statement: Any, text: str, params: Any = None) -> Any:
        """Run one statement, turning the server's refusal into an ``InterlockError``."""
        try:
            return (
                conn.execute(statement, params) if params is not None else conn.execute(statement)
            )
        except sa.exc.DBAPIError as err:
            raise self.sql_error(text, err) from None

    def attach(self, statement: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """Show a statement and its rows in the report."""
        reporter = self._shared.reporter
        if reporter is None:
            return
        body = statement.strip()
        first = " ".join(body.split())
        note(reporter, TEST, self.name, first, source_kind=TEST, target_kind=DATABASE,
             detail=self.secrets.redact(first))
        if columns:
            note(reporter, self.name, TEST, f"{len(rows)} row" + ("" if len(rows) == 1 else "s"),
                 reply=True, source_kind=DATABASE, target_kind=TEST)
        if columns:
            cells = [[shown(row.get(c)) for c in columns] for row in rows]
            noun = "row" if len(rows) == 1 else "rows"
            body += f"\n\n{aligned_table(columns, cells, SHOWN_ROWS)}\n({len(rows)} {noun})"
        reporter.attach(f"SQL {self.name}", self.secrets.redact(body))

    # -- the sentences -------------------------------------------------------------------

    def table(self, conn: sa.Connection, name: str) -> sa.Table:
        """The reflected table ``name``, or an error naming the tables there are."""
        return self.schema.table(conn, name)

    def insert_rows(self, table: str, rows: list[Mapping[str, Any]], *, cells: bool = True) -> None:
        """``Given the table "customers" contains:`` — insert rows, remember them for cleanup.

        With ``cells`` (the default) string values are table cells: JSON literals where they
        parse as one, else text. Fixture files pass ``cells=False`` (their values are typed).
        """
        inserted: list[tuple[sa.Table, dict[str, Any]]] = []
        shown_rows: list[dict[str, Any]] = []
        with self.transaction() as conn:
            t = self.table(conn, table)
            for number, row in enumerate(rows, start=1):
                names = self.schema.columns(t, row.keys())
                values = {
                    real: to_column(
                        parse_cell(value, real) if cells and isinstance(value, str) else value,
                        t.columns[real],
                    )
                    for real, value in zip(names, row.values(), strict=True)
                }
                try:
                    result = conn.execute(t.insert().values(values))
                except sa.exc.DBAPIError as err:
                    raise self.sql_error(
                        f"INSERT INTO {t.name} (row {number}: {_row_text(values)})", err
                    ) from None
                inserted.append((t, _identity(t, values, result)))
                shown_rows.append(values)
        if inserted:
            columns = list(dict.fromkeys(c for row in shown_rows for c in row))
            self.attach(f"INSERT INTO {inserted[0][0].name}", columns, shown_rows)
        if self.ledger is not None:
            for t, key in inserted:
                self.ledger.inserted(self, t, key)

    def empty_table(self, table: str) -> None:
        """``Given the table "audit_log" is empty`` — delete every row.

        The deleted rows are kept (up to ``MAX_RESTORED_ROWS``) and put back after the
        scenario, unless the table is one the cleanup strategy resets anyway.
        """
        with self.transaction() as conn:
            t = self.table(conn, table)
            keep = self.ledger is not None and self.ledger.keeps_rows(self, t)
            saved: list[dict[str, Any]] = []
            if keep:
                select = sa.select(t).limit(MAX_RESTORED_ROWS + 1)
                saved = [dict(r._mapping) for r in self.execute(conn, select, f"SELECT {t.name}")]
                if len(saved) > MAX_RESTORED_ROWS:
                    raise InterlockError(
                        f'Table "{t.name}" in "{self.name}" has more than {MAX_RESTORED_ROWS} '
                        "rows to put back after the scenario",
                        hint=f'Configure "cleanup: truncate" with "{t.name}" in its tables, '
                        'or "cleanup: template", for this database.',
                    )
            try:
                conn.execute(sa.delete(t))
            except sa.exc.IntegrityError as err:
                raise InterlockError(
                    f'Cannot empty table "{t.name}" in "{self.name}": other rows refer to it',
                    details=self.secrets.redact(server_message(err)),
                    hint="Empty the tables that refer to it first (children before parents).",
                ) from None
            except sa.exc.DBAPIError as err:
                raise self.sql_error(f"DELETE FROM {t.name}", err) from None
        self.attach(f"DELETE FROM {t.name}  -- {len(saved)} rows kept to restore", [], [])
        if keep and self.ledger is not None:
            self.ledger.emptied(self, t, saved)

    def run_sql(self, sql: str) -> SqlResult:
        """``When I run the SQL:`` — every statement in one transaction, then commit.

        Statements are separated by ``;`` (quotes, comments and ``$$`` bodies respected).
        Rows an ``INSERT`` adds are recorded like rows from table steps (found by comparing
        the table's keys before and after the statement), so the tracked strategy removes
        them; a statement the strategy cannot undo (an ``UPDATE`` under ``tracked``) is named
        in the report with the strategy that would.
        """
        statements = split_statements(sql, backslash_escapes=self.dialect == "mysql")
        if not statements:
            raise InterlockError(
                f'No SQL statement to run on "{self.name}"', hint="The docstring is empty."
            )
        results: list[StatementResult] = []
        inserted: list[tuple[sa.Table, dict[str, Any]]] = []
        not_undone: list[str] = []
        try:
            with self.transaction() as conn:
                for statement in statements:
                    change = changed_table(statement)
                    table = self._tracked_table(conn, change)
                    before = _row_keys(conn, table) if table is not None else None
                    result = self.execute(conn, sa.text(statement), statement)
                    columns = list(result.keys()) if result.returns_rows else []
                    rows = [dict(r._mapping) for r in result] if result.returns_rows else []
                    results.append(StatementResult(statement, result.rowcount, columns, rows))
                    if table is not None and before is not None:
                        added = _row_keys(conn, table) - before
                        inserted.extend((table, dict(key)) for key in added)
                    elif self._not_undone(conn, change):
                        not_undone.append(statement)
        finally:
            self.schema.forget()  # the SQL may have created, dropped or altered tables
        for done in results:
            self.attach(done.sql, done.columns, done.rows)
        if self.ledger is not None:
            for t, key in inserted:
                self.ledger.inserted(self, t, key)
        if not_undone:
            self._attach_not_undone(not_undone)
        return SqlResult(results)

    def _tracked_table(
        self, conn: sa.Connection, change: tuple[str, str] | None
    ) -> sa.Table | None:
        """The table whose new rows an INSERT statement adds, when the ledger tracks them."""
        if change is None or change[0] != "insert" or self.ledger is None:
            return None
        try:
            with conn.begin_nested():
                table = self.table(conn, change[1])
        except (InterlockError, sa.exc.SQLAlchemyError):
            return None  # a table the same SQL creates first: the server will say if it is wrong
        return table if self.ledger.keeps_rows(self, table) else None

    def _not_undone(self, conn: sa.Connection, change: tuple[str, str] | None) -> bool:
        """Whether a statement changed data that the cleanup strategy will not put back."""
        if change is None or change[0] in ("insert", "schema") or self.ledger is None:
            return False
        if self.config.cleanup == "template":
            return False
        try:
            with conn.begin_nested():
                table = self.table(conn, change[1])
        except (InterlockError, sa.exc.SQLAlchemyError):
            return True
        return self.ledger.keeps_rows(self, table)

    def _attach_not_undone(self, statements: list[str]) -> None:
        reporter = self._shared.reporter
        if reporter is None:
            return
        listed = "\n\n".join(statements)
        body = (
            f'Not undone after the scenario by the "{self.config.cleanup}" cleanup of '
            f'"{self.name}":\n\n{listed}\n\n'
            "The tracked strategy removes rows the scenario inserted; it cannot undo an UPDATE "
            "or a DELETE. To undo these, configure this database with \"cleanup: truncate\" "
            "listing the tables (the tables are emptied after each scenario), or \"cleanup: "
            'template" (PostgreSQL: the database is recreated from a snapshot).'
        )
        reporter.attach(f"SQL {self.name}: not undone", self.secrets.redact(body))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of one query, as dicts of the driver's own values (``Decimal``, ``datetime``).

        Example:
            >>> db = Databases({"m": DatabaseConfig("m", "sqlite://")}).get()
            >>> db.query("SELECT :n + 1 AS n", {"n": 1})
            [{'n': 2}]
        """
        with self.transaction() as conn:
            result = self.execute(conn, sa.text(sql), sql, dict(params or {}))
            columns = list(result.keys())
            rows = [dict(r._mapping) for r in result]
        self.attach(sql, columns, rows)
        return rows

    # -- expectations (see expectations.py) ----------------------------------------------

    def expect_row_matching(self, table: str, row: Mapping[str, Any]) -> None:
        """``Then the table "orders" has a row matching:`` — at least one row matches."""
        expectations.rows_matching(self, table, None, row)

    def expect_rows_matching(self, table: str, n: int, row: Mapping[str, Any]) -> None:
        """``Then the table "orders" has 2 rows matching:`` — exactly ``n`` rows match."""
        expectations.rows_matching(self, table, n, row)

    def expect_row_count(self, table: str, n: int) -> None:
        """``Then the table "orders" has 0 rows``."""
        expectations.row_count(self, table, n)

    def expect_query_returns(self, sql: str, rows: list[Mapping[str, Any]]) -> None:
        """``Then the query "…" returns:`` — the listed columns, these rows, in this order."""
        expectations.query_returns(self, sql, rows)


class Databases:
    """Every configured database of a run: engines made on first use, disposed by ``close``.

    Example:
        >>> dbs = Databases({"a": DatabaseConfig("a", "sqlite://")})
        >>> dbs.get("b")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Unknown database "b"
    """

    def __init__(
        self,
        configs: Mapping[str, DatabaseConfig],
        *,
        secrets: Secrets | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self.secrets = secrets or Secrets()
        self.reporter = reporter
        self._shared = {
            name: _Engine(config, self.secrets, reporter) for name, config in configs.items()
        }
        self.templates_ready: set[str] = set()  # template snapshots taken (lifecycle.py)

    @property
    def names(self) -> list[str]:
        return sorted(self._shared)

    def get(self, name: str | None = None, ledger: Ledger | None = None) -> Database:
        """The database ``name``; with one database configured the name may be left out."""
        if name is None:
            if len(self._shared) == 1:
                return Database(next(iter(self._shared.values())), ledger)
            raise InterlockError(
                "Which database? "
                + (
                    "None is configured"
                    if not self._shared
                    else f"{len(self._shared)} are configured"
                ),
                hint='Say in "<db>" in the step'
                + (f": {', '.join(self.names)}" if self._shared else "")
                + "; databases are declared under databases: in the stack file.",
            )
        if name not in self._shared:
            raise InterlockError(
                f'Unknown database "{name}"',
                hint=did_you_mean(name, self.names)
                + ". Databases are declared under databases: in the stack file.",
            )
        return Database(self._shared[name], ledger)

    def dispose(self, name: str) -> None:
        """Close the pooled connections of one database (before it is dropped)."""
        self._shared[name].dispose()

    def close(self) -> None:
        """Drop the template snapshots and dispose every engine; the run is over."""
        from interlock.db.lifecycle import drop_templates  # lifecycle builds on this module

        try:
            drop_templates(self)
        finally:
            for shared in self._shared.values():
                shared.dispose()


def _identity(table: sa.Table, values: dict[str, Any], result: Any) -> dict[str, Any]:
    """How to find an inserted row again: its primary key, else the values given."""
    pk = [c.name for c in table.primary_key.columns]
    if pk:
        inserted = result.inserted_primary_key
        if inserted is not None and all(v is not None for v in inserted):
            return dict(zip(pk, inserted, strict=True))
        if all(values.get(c) is not None for c in pk):
            return {c: values[c] for c in pk}
    # no key: find it by every plain value it was given (JSON documents compare badly in SQL)
    return {k: v for k, v in values.items() if v is not None and not isinstance(v, dict | list)}


def _row_keys(conn: sa.Connection, table: sa.Table) -> set[tuple[tuple[str, Any], ...]]:
    """Every row of ``table`` as the key that finds it again: its primary key, or (a table
    without one) its plain values, as in ``_identity``."""
    pk = [c for c in table.primary_key.columns]
    columns = pk or [c for c in table.columns]
    keys: set[tuple[tuple[str, Any], ...]] = set()
    for row in conn.execute(sa.select(*columns)):
        values = dict(row._mapping)
        keys.add(tuple(
            (name, value) for name, value in values.items()
            if pk or (value is not None and not isinstance(value, dict | list))
        ))
    return keys


def _row_text(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in values.items())


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
