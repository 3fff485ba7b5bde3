"""Nothing leaks between scenarios, whatever the cleanup strategy."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from interlock._core.errors import InterlockError
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.db import Databases, ScenarioData
from interlock.db.config import DatabaseConfig
from interlock.db.connection import sqlalchemy_url
from interlock.db.lifecycle import template_name
from tests.db.conftest import SCHEMA, MakeDatabases, create_database, drop_database


def count(databases: Databases, table: str) -> int:
    return int(databases.get().query(f"SELECT count(*) AS n FROM {table}")[0]["n"])


def test_tracked_deletes_children_before_parents(make_databases: MakeDatabases) -> None:
    databases = make_databases("tracked")
    databases.get().run_sql("INSERT INTO customers (id, name) VALUES ('keep', 'Seeded')")
    with ScenarioData(databases) as data:
        db = data.database()
        db.insert_rows("customers", [{"id": "c-1", "name": "Alice"}])
        db.insert_rows("orders", [{"id": "o-1", "customer_id": "c-1", "status": "new"}])
        db.insert_rows("events", [{"kind": "created"}, {"kind": "paid"}])  # ids by the server
        db.insert_rows("audit_log", [{"message": "no primary key", "at": "2024-01-01T00:00:00"}])
        assert count(databases, "events") == 2
    # the next scenario sees only what was there before
    with ScenarioData(databases) as data:
        db = data.database()
        db.expect_row_count("orders", 0)
        db.expect_row_count("events", 0)
        db.expect_row_count("audit_log", 0)
        db.expect_row_count("customers", 1)
        db.expect_row_matching("customers", {"id": "keep"})


def test_tracked_rows_go_in_one_transaction(make_databases: MakeDatabases) -> None:
    """A run sharing the database (interlock run -j) never reads half the removal: an order
    whose customer is gone, or the reverse."""
    databases = make_databases("tracked")
    data = ScenarioData(databases)
    db = data.database()
    db.insert_rows("customers", [{"id": "c-1", "name": "Alice"}])
    db.insert_rows("orders", [{"id": "o-1", "customer_id": "c-1", "status": "new"}])
    db.insert_rows("events", [{"kind": "created"}])
    begun: list[object] = []

    def note(connection: object) -> None:
        begun.append(connection)

    engine = databases.get().engine
    sa.event.listen(engine, "begin", note)
    try:
        data.close()
    finally:
        sa.event.remove(engine, "begin", note)
    assert len(begun) == 1
    assert count(databases, "customers") == count(databases, "orders") == 0


def test_tracked_reports_rows_it_cannot_remove(make_databases: MakeDatabases) -> None:
    databases = make_databases("tracked")
    data = ScenarioData(databases)
    data.database().insert_rows("customers", [{"id": "c-1", "name": "Alice"}])
    # the system under test writes a child row interlock does not know about
    databases.get().run_sql("INSERT INTO orders (id, customer_id, status) VALUES ('o', 'c-1', 'x')")
    with pytest.raises(InterlockError) as failed:
        data.close()
    text = str(failed.value)
    assert 'Cannot remove a row the scenario inserted into "customers" in "shop"' in text
    assert "cleanup: truncate" in text


def test_empty_table_is_restored_after_the_scenario(make_databases: MakeDatabases) -> None:
    databases = make_databases("tracked")
    databases.get().run_sql(
        "INSERT INTO customers (id, name, tier) "
        "VALUES ('c-1', 'Alice', 'gold'), ('c-2', 'Bob', NULL)"
    )
    with ScenarioData(databases) as data:
        db = data.database()
        db.empty_table("customers")
        db.expect_row_count("customers", 0)
        db.insert_rows("customers", [{"id": "c-9", "name": "New"}])
    db = databases.get()
    db.expect_row_count("customers", 2)
    db.expect_row_matching("customers", {"id": "c-1", "name": "Alice", "tier": "gold"})
    db.expect_row_matching("customers", {"id": "c-2", "tier": "null"})


def test_empty_table_with_children_says_so(make_databases: MakeDatabases) -> None:
    databases = make_databases("tracked")
    with ScenarioData(databases) as data:
        db = data.database()
        db.insert_rows("customers", [{"id": "c-1", "name": "Alice"}])
        db.insert_rows("orders", [{"id": "o-1", "customer_id": "c-1", "status": "new"}])
        with pytest.raises(InterlockError) as failed:
            db.empty_table("customers")
        assert "other rows refer to it" in str(failed.value)
        assert "children before parents" in str(failed.value)


def test_truncate_removes_what_the_system_wrote(make_databases: MakeDatabases) -> None:
    databases = make_databases("truncate", ("orders", "events"))
    with ScenarioData(databases) as data:
        db = data.database()
        db.insert_rows("customers", [{"id": "c-1", "name": "Alice"}])  # not truncated: tracked
        # the system under test writes rows of its own
        db.run_sql(
            "INSERT INTO orders (id, customer_id, status) VALUES ('o-1', 'c-1', 'new');"
            "INSERT INTO events (kind) VALUES ('a'), ('b')"
        )
    assert "shop" in data.reset_seconds
    db = databases.get()
    db.expect_row_count("orders", 0)
    db.expect_row_count("events", 0)
    db.expect_row_count("customers", 0)
    # ids start again (RESTART IDENTITY on PostgreSQL, TRUNCATE resets AUTO_INCREMENT on MariaDB)
    with ScenarioData(databases) as data:
        data.database().run_sql("INSERT INTO events (kind) VALUES ('again')")
        data.database().expect_row_matching("events", {"id": "1", "kind": "again"})


def test_truncate_unknown_table_is_named(make_databases: MakeDatabases) -> None:
    databases = make_databases("truncate", ("ordres",))
    data = ScenarioData(databases)
    with pytest.raises(InterlockError) as failed:
        data.close()
    assert 'Unknown table "ordres"' in str(failed.value)
    assert 'did you mean "orders"?' in str(failed.value)


def test_feature_level_reset(database_url: str, make_databases: MakeDatabases) -> None:
    make_databases()  # creates the schema
    config = DatabaseConfig("shop", database_url, "truncate", ("events",), reset="feature")
    databases = Databases({"shop": config})
    try:
        feature = ScenarioData(databases, level="feature")
        with ScenarioData(databases) as scenario:
            scenario.database().run_sql("INSERT INTO events (kind) VALUES ('x')")
        databases.get().expect_row_count("events", 1)  # a scenario ending does not truncate
        feature.close()
        databases.get().expect_row_count("events", 0)
    finally:
        databases.close()


def test_template_recreates_the_database(postgres_server: str) -> None:
    name = "tmpl_" + uuid.uuid4().hex[:10]
    url = create_database(postgres_server, name)
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        for statement in SCHEMA["postgresql"].split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO customers (id, name) VALUES ('seed', 'Seeded')")
    engine.dispose()
    databases = Databases({"shop": DatabaseConfig("shop", url, "template")})
    try:
        costs = []
        for _ in range(3):
            with ScenarioData(databases) as data:
                db = data.database()
                db.expect_row_count("customers", 1)
                db.expect_row_count("orders", 0)
                db.run_sql(
                    "INSERT INTO customers (id, name) VALUES ('c-1', 'A');"
                    "INSERT INTO orders (id, customer_id, status) VALUES ('o-1', 'c-1', 'n');"
                    "DELETE FROM customers WHERE id = 'seed'"
                )
            costs.append(data.reset_seconds["shop"])
        db = databases.get()
        db.expect_row_count("orders", 0)
        db.expect_row_matching("customers", {"id": "seed"})
        print(f"template reset: {', '.join(f'{c * 1000:.0f} ms' for c in costs)}")
    finally:
        databases.close()
        # the snapshot is gone with the run
        admin = sa.create_engine(sqlalchemy_url(postgres_server + "/postgres"))
        with admin.connect() as conn:
            left = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_database WHERE datname = %(n)s",
                {"n": template_name(name)},
            ).scalar_one()
        admin.dispose()
        drop_database(postgres_server, name)
    assert left == 0


def test_template_on_mariadb_is_refused(mariadb_server: str) -> None:
    databases = Databases(
        {"shop": DatabaseConfig("shop", mariadb_server + "/interlock", "template")}
    )
    with pytest.raises(InterlockError) as failed:
        ScenarioData(databases)
    assert "cleanup: template works on PostgreSQL only" in str(failed.value)
    databases.close()


def test_tracked_rows_go_in_one_transaction_a_database_however_interleaved(
        database_url: str, make_databases: MakeDatabases) -> None:
    """Rows written in two databases in turn (a, then b, then a again) are removed in one
    transaction each, not one per run of the same database."""
    make_databases("tracked")  # (the schema)
    secrets = Secrets()
    databases = Databases({name: DatabaseConfig(name, database_url, "tracked", ())
                           for name in ("a", "b")},
                          secrets=secrets, reporter=MemoryReporter(secrets))
    try:
        data = ScenarioData(databases)
        data.database("a").insert_rows("customers", [{"id": "a-1", "name": "Alice"}])
        data.database("b").insert_rows("customers", [{"id": "b-1", "name": "Bob"}])
        data.database("a").insert_rows("orders", [{"id": "o-1", "customer_id": "a-1",
                                                    "status": "new"}])
        begun: list[str] = []
        engines = {name: databases.get(name).engine for name in ("a", "b")}
        listeners = {name: (lambda _conn, name=name: begun.append(name)) for name in engines}
        for name, engine in engines.items():
            sa.event.listen(engine, "begin", listeners[name])
        try:
            data.close()
        finally:
            for name, engine in engines.items():
                sa.event.remove(engine, "begin", listeners[name])
        assert sorted(begun) == ["a", "b"]
        left = databases.get("a").query(
            "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders) AS n")
        assert int(left[0]["n"]) == 0
    finally:
        databases.close()
