"""SQLite (a file in tmp), statement splitting and typed cells: no server needed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from interlock._core.errors import Failure, InterlockError
from interlock.db import DatabaseConfig, Databases, ScenarioData
from interlock.db.cells import column_kind, comparable, to_column
from interlock.db.connection import redact_url, sqlalchemy_url
from interlock.db.statements import inserted_tables, split_statements


@pytest.fixture
def sqlite(tmp_path: Path) -> Databases:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    databases = Databases({"shop": DatabaseConfig("shop", url, "truncate", ("orders",))})
    databases.get().run_sql(
        """
        CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, vip BOOLEAN);
        CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT,
                             total NUMERIC(10, 2));
        """
    )
    return databases


def test_sqlite_sentences_and_cleanup(sqlite: Databases) -> None:
    with ScenarioData(sqlite) as data:
        db = data.database()
        db.insert_rows("customers", [{"id": "c-1", "name": "Alice", "vip": "true"}])
        db.run_sql("INSERT INTO orders (customer_id, total) VALUES ('c-1', 12.5), ('c-1', 3)")
        db.expect_row_matching("customers", {"id": "c-1", "vip": "true"})
        db.expect_rows_matching("orders", 2, {"customer_id": "c-1"})
        db.expect_query_returns(
            "SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id",
            [{"customer_id": "c-1", "n": "2"}],
        )
        with pytest.raises(Failure):
            db.expect_row_count("orders", 0)
    db = sqlite.get()
    db.expect_row_count("orders", 0)  # truncated
    db.expect_row_count("customers", 0)  # tracked
    sqlite.close()


def test_split_statements_respects_quotes_comments_and_dollars() -> None:
    sql = """
        INSERT INTO t VALUES ('it''s; fine', "a;b");
        /* block; comment */ UPDATE t SET x = 1;
        CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
        -- only a comment;
    """
    assert split_statements(sql) == [
        "INSERT INTO t VALUES ('it''s; fine', \"a;b\")",
        "/* block; comment */ UPDATE t SET x = 1",
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
    ]
    assert split_statements(r"SELECT 'a\'; b'; SELECT 2", backslash_escapes=True) == [
        r"SELECT 'a\'; b'",
        "SELECT 2",
    ]
    assert inserted_tables("insert ignore into `shop`.`orders` values (1)") == ["shop.orders"]


def test_comparable_values() -> None:
    assert comparable(Decimal("7.00"), 7) == 7
    assert comparable(Decimal("0.10"), 0.1) == 0.1
    assert comparable(1, True, "boolean") is True
    assert comparable(1, True, "number") == 1  # a number column is not a boolean
    assert comparable(1, True) is True  # query results: no column type, the expectation decides
    stamp = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert comparable(stamp, "2024-05-01T12:00:00+02:00") == "2024-05-01T12:00:00+02:00"
    assert comparable(stamp.replace(tzinfo=None), "#datetime") == "2024-05-01T10:00:00Z"
    assert comparable(stamp, "2024-05-01T10:00:01Z") == "2024-05-01T10:00:00+00:00"
    assert comparable(dt.date(2024, 5, 1)) == "2024-05-01"
    value = uuid.UUID("5b0c2f7e-9d43-4c55-a0a4-1c6f3d2e8a10")
    assert comparable(value, str(value).upper()) == str(value).upper()
    assert comparable("42", 42, "text") == 42
    assert comparable("42", "43", "text") == "42"
    assert comparable('[1, {"a": 2}]', [1, {"a": 2}]) == [1, {"a": 2}]
    assert comparable(b"\xff") == "\\xff"


def test_column_kinds_and_insert_values() -> None:
    assert column_kind(sa.Boolean()) == "boolean"
    assert column_kind(mysql.TINYINT(display_width=1)) == "boolean"
    assert column_kind(mysql.TINYINT(display_width=4)) == "number"
    assert column_kind(postgresql.JSONB()) == "json"
    assert column_kind(postgresql.UUID()) == "uuid"
    stamp = sa.Column("at", sa.DateTime(timezone=True))
    assert to_column("2024-05-01T10:00:00Z", stamp) == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert to_column(42, sa.Column("code", sa.String())) == "42"
    assert to_column(1, sa.Column("flag", sa.Boolean())) is True
    ref = to_column("5b0c2f7e-9d43-4c55-a0a4-1c6f3d2e8a10", sa.Column("ref", sa.Uuid()))
    assert isinstance(ref, uuid.UUID)


def test_urls() -> None:
    assert sqlalchemy_url("postgres://u:p@h:1/d") == "postgresql+psycopg://u:p@h:1/d"
    assert sqlalchemy_url("mysql://u@h/d?x=1") == "mysql+pymysql://u@h/d?x=1&charset=utf8mb4"
    assert redact_url("mysql://u:p%40ss@h/d") == "mysql://u:***@h/d"
    assert redact_url("postgresql://u@h/d") == "postgresql://u@h/d"
    with pytest.raises(InterlockError):
        sqlalchemy_url("no-scheme")
