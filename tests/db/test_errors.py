"""Bad input: each an InterlockError saying what, where and how to fix it."""

from __future__ import annotations

import pytest

from interlock._core.errors import InterlockError
from interlock._core.secrets import Secrets
from interlock.db import DatabaseConfig, Databases, DatabasesConfig, ScenarioData
from tests.db.conftest import MakeDatabases
from tests.db.servers import free_port


def test_unknown_table_lists_tables_closest_first(make_databases: MakeDatabases) -> None:
    db = make_databases().get()
    with pytest.raises(InterlockError) as failed:
        db.expect_row_matching("ordrs", {"id": "o-1"})
    text = str(failed.value)
    assert text.startswith('Unknown table "ordrs" in database "shop"')
    assert 'did you mean "orders"? Tables: orders,' in text
    assert "customers" in text and "audit_log" in text and "events" in text


def test_table_created_by_sql_is_found(make_databases: MakeDatabases) -> None:
    db = make_databases().get()
    with pytest.raises(InterlockError):
        db.expect_row_count("late", 0)
    db.run_sql("CREATE TABLE late (id INT PRIMARY KEY)")
    db.expect_row_count("late", 0)
    db.run_sql("DROP TABLE late")


def test_unknown_column_lists_the_columns(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data, pytest.raises(InterlockError) as failed:
        data.database().insert_rows("customers", [{"id": "c-1", "nmae": "Alice"}])
    text = str(failed.value)
    assert 'Unknown column "nmae" in table "customers" of database "shop"' in text
    assert 'did you mean "name"? Columns: name, ' in text
    assert "tier" in text and "vip" in text


def test_insert_error_names_the_row_and_server_message(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        db = data.database()
        db.insert_rows("customers", [{"id": "c-1", "name": "Alice"}])
        with pytest.raises(InterlockError) as failed:
            db.insert_rows("customers", [{"id": "c-2", "name": "Bob"}, {"id": "c-1", "name": "X"}])
        text = str(failed.value)
        assert "INSERT INTO customers (row 2: id=c-1, name=X)" in text
        assert "server says:" in text and "uplicate" in text
        assert "sqlalche.me" not in text
        db.expect_row_count("customers", 1)  # row 1 of the failed step was rolled back


def test_unknown_database_lists_the_configured_ones() -> None:
    databases = Databases(
        {
            "orders-db": DatabaseConfig("orders-db", "sqlite://"),
            "analytics-db": DatabaseConfig("analytics-db", "sqlite://"),
        }
    )
    with pytest.raises(InterlockError) as failed:
        databases.get("order-db")
    assert 'Unknown database "order-db"' in str(failed.value)
    assert 'did you mean "orders-db"?' in str(failed.value)
    with pytest.raises(InterlockError) as which:
        databases.get()
    assert "Which database? 2 are configured" in str(which.value)
    assert "analytics-db, orders-db" in str(which.value)


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_unreachable_database(scheme: str) -> None:
    port = free_port()  # nothing listens there
    url = f"{scheme}://app:s3cret-pw@127.0.0.1:{port}/orders"
    secrets = Secrets()
    databases = Databases({"orders-db": DatabaseConfig("orders-db", url)}, secrets=secrets)
    with pytest.raises(InterlockError) as failed:
        databases.get().query("SELECT 1")
    text = str(failed.value)
    assert text.startswith('Database "orders-db" is unreachable')
    assert f"{scheme}://app:***@127.0.0.1:{port}/orders" in text
    assert "s3cret-pw" not in text
    assert "Is it running?" in text
    assert "Traceback" not in text and "sqlalche.me" not in text
    databases.close()


def test_unsupported_url() -> None:
    databases = Databases({"x": DatabaseConfig("x", "oracle://u:pw1234@h/db")})
    with pytest.raises(InterlockError) as failed:
        databases.get().query("SELECT 1")
    assert 'Unsupported database URL "oracle://u:***@h/db"' in str(failed.value)


@pytest.mark.parametrize(
    ("block", "message", "where"),
    [
        ({"databases": {"a": {"cleanup": "tracked"}}}, 'Database "a" needs a "url"', "a.url"),
        (
            {"databases": {"a": {"url": "sqlite://", "cleanup": "wipe"}}},
            'Unknown cleanup "wipe"',
            "a.cleanup",
        ),
        (
            {"databases": {"a": {"url": "sqlite://", "cleanup": "truncate"}}},
            "no tables to truncate",
            "a.tables",
        ),
        (
            {"databases": {"a": {"url": "sqlite://", "tabels": ["x"]}}},
            'Unknown field "tabels"',
            "a.tabels",
        ),
        (
            {"databases": {"a": {"url": "sqlite://", "reset": "run"}}},
            'Unknown reset "run"',
            "a.reset",
        ),
        ({"data": {"fixture": "x"}}, 'Unknown field "fixture" in data', "data.fixture"),
    ],
)
def test_config_errors_name_the_field(block: dict[str, object], message: str, where: str) -> None:
    with pytest.raises(InterlockError) as failed:
        DatabasesConfig.from_dict(block, "environment/interlock.yaml")
    assert message in str(failed.value)
    assert failed.value.where.endswith(f"{where})")  # file:line (databases.a.url)


def test_config_reads_both_blocks() -> None:
    config = DatabasesConfig.from_dict(
        {
            "databases": {
                "orders-db": {"url": "{orders-db.url}/orders", "cleanup": "template"},
                "analytics-db": {
                    "url": "postgresql://u@h/a",
                    "cleanup": "truncate",
                    "tables": ["metrics"],
                    "reset": "feature",
                },
                "short": "sqlite:///x.db",
            },
            "data": {"fixtures": "environment/data/fixtures"},
        },
        "interlock.yaml",
    )
    assert config.databases["orders-db"].cleanup == "template"
    assert config.databases["analytics-db"].reset == "feature"
    assert config.databases["short"].url == "sqlite:///x.db"
    assert config.fixtures == "environment/data/fixtures"
