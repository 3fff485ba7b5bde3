"""Fixture files: ``@data.<name>`` loads ``<name>.sql``, ``<name>.yaml`` or ``<name>.json``.

* ``.sql`` is run like ``When I run the SQL:``; the rows its ``INSERT INTO`` statements add
  are found (by primary key, before and after) and cleaned up like step-inserted rows.
* ``.yaml`` / ``.json`` hold ``{table: [row, …]}``, tables in insert order (parents first);
  values are typed (``true``, ``2``, ``{"a": 1}``), not table cells.

With several databases, a fixture lives in ``<folder>/<database>/<name>.*``; with one, it
may sit in ``<folder>/<name>.*``.

Example (a YAML fixture):

    customers:
      - {id: c-1, name: Alice, tier: gold}
    orders:
      - {id: o-1, customer_id: c-1, status: pending, total: 120.5}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml

from interlock._core.errors import InterlockError
from interlock.db.database import Database
from interlock.db.schema import closest_first
from interlock.db.statements import inserted_tables

if TYPE_CHECKING:
    from interlock.db.lifecycle import ScenarioData

SUFFIXES = (".sql", ".yaml", ".yml", ".json")


def find(folder: Path, name: str, databases: list[str]) -> tuple[Path, str | None]:
    """The fixture file for ``name`` and the database it belongs to (None: the only one)."""
    found: list[tuple[Path, str | None]] = []
    for database in databases:
        found += [(folder / database / (name + s), database) for s in SUFFIXES]
    found += [(folder / (name + s), None) for s in SUFFIXES]
    existing = [(p, d) for p, d in found if p.is_file()]
    if not existing:
        known = sorted({p.stem for p in folder.rglob("*") if p.suffix in SUFFIXES})
        raise InterlockError(
            f'No fixture "{name}" in {folder}',
            hint=closest_first(name, known, "Fixtures")
            + f". Write {folder / name}.sql (or .yaml/.json)"
            + (", or put it under <folder>/<database>/" if len(databases) > 1 else ""),
        )
    if len(existing) > 1:
        raise InterlockError(
            f'Fixture "{name}" is ambiguous',
            details="\n".join(str(p) for p, _ in existing),
            hint="Keep one file per fixture name (per database).",
        )
    return existing[0]


def load(data: ScenarioData, folder: Path, name: str) -> None:
    """Load the fixture ``name`` into its database, recording its rows in ``data``."""
    path, database = find(folder, name, data.databases.names)
    db = data.database(database)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".sql":
        load_sql(db, text)
        return
    document = _parse(path, text)
    for table, rows in document.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InterlockError(
                f'Fixture table "{table}" must be a list of rows',
                where=str(path),
                hint=f"{table}:\n  - {{id: 1, name: Alice}}",
            )
        try:
            db.insert_rows(str(table), rows, cells=False)
        except InterlockError as err:
            err.located(f"{path}: {table}")
            raise


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise InterlockError(
            f"Invalid fixture file {path.name}", details=str(err), where=str(path)
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InterlockError(
            f"Fixture {path.name} must map table names to rows",
            where=str(path),
            hint="customers:\n  - {id: c-1, name: Alice}",
        )
    return document


def load_sql(db: Database, sql: str) -> None:
    """Run a SQL fixture; the rows it inserts are recorded for cleanup."""
    ledger = db.ledger
    names = inserted_tables(sql)
    before: dict[str, set[tuple[Any, ...]]] = {}
    if ledger is not None:
        with db.transaction() as conn:
            for name in names:
                try:
                    table = db.table(conn, name)
                except InterlockError:
                    continue  # the fixture creates it
                if ledger.keeps_rows(db, table):
                    before[name] = _keys(db, conn, table)[1]
    db.run_sql(sql)
    if ledger is None:
        return
    with db.transaction() as conn:
        for name in names:
            table = db.table(conn, name)
            if not ledger.keeps_rows(db, table):
                continue
            columns, keys = _keys(db, conn, table)
            for key in sorted(keys - before.get(name, set()), key=repr):
                ledger.inserted(db, table, dict(zip(columns, key, strict=True)))


def _keys(
    db: Database, conn: sa.Connection, table: sa.Table
) -> tuple[list[str], set[tuple[Any, ...]]]:
    """How each row of the table is identified: its primary key, else its plain columns."""
    columns = [c for c in table.primary_key.columns] or [
        c for c in table.columns if not isinstance(c.type, sa.JSON | sa.LargeBinary)
    ]
    statement = sa.select(*columns)
    rows = db.execute(conn, statement, f"SELECT keys FROM {table.name}")
    return [c.name for c in columns], {tuple(r) for r in rows}
