"""Sentences of STEPS.md "Databases": seed rows, run SQL, check tables and queries, over
``interlock.db``. Rows a scenario inserts are removed after it (the configured strategy);
table expectations take the ``within`` prefix and run their query again each time.
"""

from __future__ import annotations

from typing import Any

from interlock.behave.binding import q, sentence
from interlock.behave.tables import headings_of, rows_of

IN_DB = r'(?: in "(?P<db>[^"]*)")?'


def _database(world: Any, db: str | None) -> Any:
    """The database named in the step (``{names}`` filled in), or the only one."""
    return world.database(world.render(db) if db else None)


def _rows(world: Any) -> list[dict[str, str]]:
    """The step's table with ``{names}`` rendered; cells stay text (JSON literals parsed later)."""
    headings = headings_of(world)
    return [{h: world.render(row[h]) for h in headings} for row in rows_of(world, *headings)]


@sentence(r"the table " + q("table") + IN_DB + r" contains:",
          serial="it writes rows straight into a table: features running beside it may read "
          "them before the scenario's other rows are there (a parent row before its "
          "children)")
def table_contains(world: Any, table: str, db: str | None = None) -> None:
    """Given the table "customers" contains: (rows removed after the scenario)."""
    _database(world, db).insert_rows(world.render(table), _rows(world))


@sentence(r"the table " + q("table") + IN_DB + r" is empty",
          serial="it empties a table that features running beside it use")
def table_is_empty(world: Any, table: str, db: str | None = None) -> None:
    """Given the table "audit_log" in "orders-db" is empty."""
    _database(world, db).empty_table(world.render(table))


@sentence(r"I run the SQL" + IN_DB + r":")
def run_sql(world: Any, db: str | None = None) -> None:
    """When I run the SQL: (a docstring; several statements separated by ;)."""
    _database(world, db).run_sql(world.render(world.step_text or ""))


@sentence(r"the table " + q("table") + IN_DB + r" has an? rows? matching:", expectation=True)
def has_a_row(world: Any, table: str, db: str | None = None) -> None:
    """Then the table "orders" has a row matching: (each listed row must exist)."""
    database = _database(world, db)
    for row in _rows(world):
        database.expect_row_matching(world.render(table), row)


@sentence(r"the table " + q("table") + IN_DB + r" has (?P<n>\d+) rows? matching:",
          expectation=True)
def has_n_rows_matching(world: Any, table: str, n: str, db: str | None = None) -> None:
    """Then the table "orders" has 2 rows matching: (one row of column values)."""
    rows = _rows(world)
    database = _database(world, db)
    for row in rows:
        database.expect_rows_matching(world.render(table), int(n), row)


@sentence(r"the table " + q("table") + IN_DB + r" has (?P<n>\d+) rows?", expectation=True,
          serial="it counts every row of a table that features running beside it write")
def has_n_rows(world: Any, table: str, n: str, db: str | None = None) -> None:
    """Then the table "orders" has 0 rows."""
    _database(world, db).expect_row_count(world.render(table), int(n))


@sentence(r"the query " + q("sql") + IN_DB + r" returns:", expectation=True,
          serial="its query may read rows that features running beside it write", scoped=True)
def query_returns(world: Any, sql: str, db: str | None = None) -> None:
    """Then the query "SELECT status, count(*) AS n FROM orders GROUP BY status" returns:."""
    _database(world, db).expect_query_returns(world.render(sql), _rows(world))


@sentence(r"the data " + q("fixture") + r" is loaded")
def data_loaded(world: Any, fixture: str) -> None:
    """Given the data "assigned_order" is loaded (a fixture file, like a @data.<name> tag;
    its rows are removed after the scenario)."""
    world.data.load_fixture(world.render(fixture))
