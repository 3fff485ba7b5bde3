"""Test data that does not leak: what a scenario (or a feature) wrote is undone after it.

One ``ScenarioData`` per scenario (and, for ``@data.<name>`` on a feature, one per feature
with ``level="feature"``). Each database's configured ``cleanup`` says how:

* ``tracked``: the rows the scope inserted (steps and fixture files) are deleted by primary
  key, last inserted first, so children go before their parents; tables it emptied get
  their rows back. Rows the system under test wrote are not touched.
* ``truncate``: the configured tables are truncated (PostgreSQL: ``RESTART IDENTITY CASCADE``;
  MariaDB: with foreign key checks off); rows the scope inserted elsewhere are tracked.
* ``template`` (PostgreSQL): the database is snapshotted as ``<db>_template`` before the first
  scope and recreated from it after each one (connections to it are terminated first).

``truncate`` and ``template`` happen when a scope of the database's ``reset`` level ends.

Example:
    >>> from interlock.db.config import DatabaseConfig
    >>> from interlock.db.database import Databases
    >>> dbs = Databases({"m": DatabaseConfig("m", "sqlite://")})
    >>> _ = dbs.get().run_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    >>> data = ScenarioData(dbs)
    >>> data.database().insert_rows("t", [{"id": "1"}])
    >>> data.close()
    >>> dbs.get().query("SELECT count(*) AS n FROM t")
    [{'n': 0}]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from interlock._core.errors import InterlockError
from interlock.db import fixtures
from interlock.db.config import Level
from interlock.db.connection import server_message
from interlock.db.database import Database, Databases


@dataclass
class _Undo:
    """One thing to undo: a row to delete, or a table's rows to put back."""

    database: str
    table: sa.Table
    action: Literal["delete", "restore"]
    rows: list[dict[str, Any]] = field(default_factory=list)


class ScenarioData:
    """The data one scenario (or feature) wrote, and how to take it back.

    Example:
        >>> from interlock.db.config import DatabaseConfig
        >>> dbs = Databases({"m": DatabaseConfig("m", "sqlite://")})
        >>> with ScenarioData(dbs) as data:
        ...     _ = data.database("m").query("SELECT 1 AS one")
    """

    def __init__(
        self,
        databases: Databases,
        *,
        level: Level = "scenario",
        fixtures_dir: str | Path | None = None,
    ) -> None:
        self.databases = databases
        self.level = level
        self.fixtures_dir = Path(fixtures_dir) if fixtures_dir else None
        self._undo: list[_Undo] = []
        self.reset_seconds: dict[str, float] = {}  # how long each reset took, by database
        prepare_templates(databases)

    def __enter__(self) -> ScenarioData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def database(self, name: str | None = None) -> Database:
        """The database ``name`` (or the only one), recording what it changes here."""
        return self.databases.get(name, ledger=self)

    # -- the Ledger protocol -------------------------------------------------------------

    def inserted(self, database: Database, table: sa.Table, key: dict[str, Any]) -> None:
        if self.keeps_rows(database, table):
            self._undo.append(_Undo(database.name, table, "delete", [key]))

    def emptied(self, database: Database, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        self._undo.append(_Undo(database.name, table, "restore", rows))

    def keeps_rows(self, database: Database, table: sa.Table) -> bool:
        config = database.config
        if config.cleanup == "template":
            return False
        if config.cleanup == "truncate":
            return table.name.lower() not in {t.rpartition(".")[2].lower() for t in config.tables}
        return True

    # -- fixtures ------------------------------------------------------------------------

    def load_fixture(self, name: str) -> None:
        """Load ``@data.<name>``: ``<name>.sql``, ``.yaml``/``.yml`` or ``.json`` from the
        fixture folder (``<folder>/<database>/<name>.*`` for one of several databases)."""
        if self.fixtures_dir is None:
            raise InterlockError(
                f'No fixture folder configured for "@data.{name}"',
                hint="Set data: {fixtures: environment/data/fixtures} in the stack file.",
            )
        fixtures.load(self, self.fixtures_dir, name)

    # -- undo ----------------------------------------------------------------------------

    def close(self) -> None:
        """Reset the databases of this level, then undo everything else this scope did.

        Every step is tried even when one fails; the first failure is raised at the end.
        """
        problems: list[InterlockError] = []
        # Resets first: truncated child tables no longer hold rows that refer to tracked
        # parent rows, so those can then be deleted.
        for name in self.databases.names:
            db = self.databases.get(name)
            if db.config.reset != self.level or db.config.cleanup == "tracked":
                continue
            started = time.perf_counter()
            try:
                if db.config.cleanup == "truncate":
                    truncate(db)
                else:
                    recreate_from_template(self.databases, name)
            except InterlockError as err:
                problems.append(err)
            self.reset_seconds[name] = time.perf_counter() - started
        undo, self._undo = self._undo, []
        # One transaction a database: a run sharing it never reads half the removal (an order
        # whose items are gone). If it fails, each is tried alone: what can go goes, and each
        # problem is said.
        by_database: dict[str, list[_Undo]] = {}
        for item in reversed(undo):  # latest first, within each database
            by_database.setdefault(item.database, []).append(item)
        for items in by_database.values():
            try:
                self._apply(items)
            except InterlockError:
                for item in items:
                    try:
                        self._apply([item])
                    except InterlockError as err:
                        problems.append(err)
        if problems:
            first = problems[0]
            if len(problems) > 1:
                first.details = "\n".join(
                    [first.details, f"and {len(problems) - 1} more cleanup problems:"]
                    + ["  " + p.title for p in problems[1:]]
                ).strip()
            raise first

    def _apply(self, items: list[_Undo]) -> None:
        """Undo ``items`` (of one database) in one transaction."""
        db = self.databases.get(items[0].database)
        with db.transaction() as conn:
            for item in items:
                self._apply_one(db, conn, item)

    @staticmethod
    def _apply_one(db: Database, conn: Any, item: _Undo) -> None:
        if item.action == "delete":
            for key in item.rows:
                condition = sa.and_(*(item.table.c[k] == v for k, v in key.items()))
                statement = sa.delete(item.table).where(condition)
                try:
                    conn.execute(statement)
                except sa.exc.IntegrityError as err:
                    raise _cleanup_error(db, item.table, key, err) from None
                except sa.exc.DBAPIError as err:
                    text = f"DELETE FROM {item.table.name} WHERE {key}"
                    raise db.sql_error(text, err) from None
        elif item.rows:
            db.execute(conn, sa.insert(item.table), f"restore {item.table.name}", item.rows)


def _cleanup_error(
    db: Database, table: sa.Table, key: dict[str, Any], err: Exception
) -> InterlockError:
    return InterlockError(
        f'Cannot remove a row the scenario inserted into "{table.name}" in "{db.name}"',
        details=db.secrets.redact(f"row: {key}\nserver says: {server_message(err)}"),
        hint="Rows written by the system under test refer to it. Configure "
        f'"cleanup: truncate" with those tables (or "cleanup: template") for "{db.name}".',
    )


def truncate(db: Database) -> None:
    """Empty the database's configured tables (and restart their id sequences)."""
    with db.transaction() as conn:
        tables = [db.table(conn, name) for name in db.config.tables]
        names = [_quoted(db, t) for t in tables]
        if db.dialect == "postgresql":
            statements = [f"TRUNCATE TABLE {', '.join(names)} RESTART IDENTITY CASCADE"]
        elif db.dialect == "mysql":
            statements = ["SET FOREIGN_KEY_CHECKS=0"]
            statements += [f"TRUNCATE TABLE {n}" for n in names]
            statements += ["SET FOREIGN_KEY_CHECKS=1"]
        else:
            statements = [f"DELETE FROM {n}" for n in names]
        for statement in statements:
            db.execute(conn, sa.text(statement), statement)
    db.attach("\n".join(statements), [], [])


def _quoted(db: Database, table: sa.Table) -> str:
    prepare = db.engine.dialect.identifier_preparer
    return prepare.format_table(table)


def template_name(database: str) -> str:
    """The snapshot's name: ``<db>_template`` (cut to PostgreSQL's 63 characters)."""
    return (database[: 63 - len("_template")]) + "_template"


def _server(db: Database) -> tuple[str, sa.Engine]:
    """The database's own name on the server, and an engine on the maintenance database."""
    if db.dialect != "postgresql":
        raise InterlockError(
            f'cleanup: template works on PostgreSQL only; "{db.name}" is {db.dialect}',
            where=f"databases.{db.name}.cleanup",
            hint='Use "cleanup: truncate" (with tables) or "cleanup: tracked".',
        )
    url = db.engine.url
    own = url.database or ""
    if not own:
        raise InterlockError(
            f'The URL of "{db.name}" names no database to snapshot',
            where=f"databases.{db.name}.url",
            hint="Write postgresql://user:pw@host:port/<database>.",
        )
    maintenance = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    return own, maintenance


def prepare_templates(databases: Databases) -> None:
    """Snapshot every ``cleanup: template`` database once per run, before any scope writes."""
    for name in databases.names:
        db = databases.get(name)
        if db.config.cleanup != "template" or name in databases.templates_ready:
            continue
        own, maintenance = _server(db)
        template = template_name(own)
        databases.dispose(name)
        try:
            with maintenance.connect() as conn:
                _drop(db, conn, template)
                _snapshot(db, conn, own, template)
        except sa.exc.DBAPIError as err:
            raise db.unreachable(err) from None
        finally:
            maintenance.dispose()
        databases.templates_ready.add(name)


def recreate_from_template(databases: Databases, name: str) -> None:
    """Drop the database and create it again from its snapshot."""
    db = databases.get(name)
    own, maintenance = _server(db)
    databases.dispose(name)
    try:
        with maintenance.connect() as conn:
            _drop(db, conn, own)
            _run(db, conn, f'CREATE DATABASE "{own}" TEMPLATE "{template_name(own)}"')
    except sa.exc.DBAPIError as err:
        raise db.unreachable(err) from None
    finally:
        maintenance.dispose()
    db.schema.forget()


def drop_templates(databases: Databases) -> None:
    """Remove the snapshots at the end of the run."""
    for name in sorted(databases.templates_ready):
        db = databases.get(name)
        own, maintenance = _server(db)
        try:
            with maintenance.connect() as conn:
                _drop(db, conn, template_name(own))
        finally:
            maintenance.dispose()
        databases.templates_ready.discard(name)


def _drop(db: Database, conn: sa.Connection, database: str) -> None:
    # WITH (FORCE) (PostgreSQL 13+) terminates the sessions of the system under test too
    _run(db, conn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _snapshot(db: Database, conn: sa.Connection, own: str, template: str) -> None:
    """CREATE DATABASE … TEMPLATE needs the source to have no sessions; a system under test
    with a pool may reconnect between our terminate and our create, so try a few times."""
    terminate = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()"
    )
    create = f'CREATE DATABASE "{template}" TEMPLATE "{own}"'
    for attempt in range(_SNAPSHOT_ATTEMPTS):
        db.execute(conn, sa.text(terminate), terminate, {"name": own})
        try:
            conn.execute(sa.text(create))
            return
        except sa.exc.OperationalError as err:
            if "being accessed by other users" not in str(err) or attempt + 1 == _SNAPSHOT_ATTEMPTS:
                raise db.sql_error(create, err) from None


_SNAPSHOT_ATTEMPTS = 5


def _run(db: Database, conn: sa.Connection, statement: str) -> None:
    db.execute(conn, sa.text(statement), statement)
