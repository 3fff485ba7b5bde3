"""Every database sentence's function, on PostgreSQL and on MariaDB."""

from __future__ import annotations

import re

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.report import MemoryReporter
from interlock.db import ScenarioData
from tests.db.conftest import MakeDatabases

ORDER_ID = "5b0c2f7e-9d43-4c55-a0a4-1c6f3d2e8a10"


def seed(data: ScenarioData) -> None:
    db = data.database()
    db.insert_rows(
        "customers",
        [
            {"id": "c-1", "name": "Alice", "tier": '"gold"', "vip": "true"},
            {"id": "c-2", "name": "Bob", "tier": "silver"},
        ],
    )
    db.insert_rows(
        "orders",
        [
            {
                "id": "o-1",
                "customer_id": "c-1",
                "status": "pending",
                "total": "120.50",
                "paid": "true",
                "details": '{"items": [{"sku": "p-1", "qty": 2}], "note": null}',
                "created_at": "2024-05-01T10:00:00Z",
                "ref": ORDER_ID,
            },
            {"id": "o-2", "customer_id": "c-1", "status": "pending", "total": "7"},
            {"id": "o-3", "customer_id": "c-2", "status": "shipped", "total": "0.10"},
        ],
    )


def test_insert_then_row_matching(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        db.expect_row_matching("customers", {"id": "c-1", "name": "Alice", "tier": '"gold"'})
        db.expect_row_matching("orders", {"id": "o-3", "status": '"shipped"'})
        with pytest.raises(Failure) as failed:
            db.expect_row_matching("orders", {"id": "o-1", "status": '"cancelled"'})
        text = str(failed.value)
        assert 'Table "orders" in "shop" has no row matching (3 rows in the table)' in text
        assert "closest row:" in text
        # the closest row first: o-1 differs only by status
        assert re.search(r'\| 1 +\| "o-1" +\| "pending" +\|', text), text
        assert 'row 1: status: expected "cancelled", got "pending"' in text


def test_rows_matching_counts_exactly(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        db.expect_rows_matching("orders", 2, {"customer_id": "c-1"})
        db.expect_rows_matching("orders", 0, {"customer_id": "c-9"})
        with pytest.raises(Failure) as too_many:
            db.expect_rows_matching("orders", 1, {"status": "pending"})
        assert "has 2 rows matching, expected 1" in str(too_many.value)
        assert "matching rows:" in str(too_many.value)
        with pytest.raises(Failure) as too_few:
            db.expect_rows_matching("orders", 3, {"status": "pending"})
        assert "has 2 rows matching, expected 3" in str(too_few.value)


def test_row_count(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        db = data.database()
        db.expect_row_count("orders", 0)
        seed(data)
        db.expect_row_count("orders", 3)
        with pytest.raises(Failure) as failed:
            db.expect_row_count("customers", 0)
        text = str(failed.value)
        assert 'Table "customers" in "shop" has 2 rows, expected 0' in text
        assert '"Alice"' in text and '"Bob"' in text


def test_typed_comparisons(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        # numeric: 120.50 in a DECIMAL column equals 120.5; 7 equals 7.00
        db.expect_row_matching("orders", {"id": "o-1", "total": "120.5"})
        db.expect_row_matching("orders", {"id": "o-2", "total": "7"})
        # boolean: MariaDB's tinyint 1 is true
        db.expect_row_matching("orders", {"id": "o-1", "paid": "true"})
        db.expect_row_matching("orders", {"id": "o-2", "paid": "false"})
        db.expect_row_matching("customers", {"id": "c-1", "vip": "true"})
        # JSON columns are parsed
        db.expect_row_matching(
            "orders",
            {"id": "o-1", "details": '{"items": [{"sku": "p-1", "qty": 2}], "note": null}'},
        )
        # timestamps against ISO text, in any zone, and #datetime
        db.expect_row_matching("orders", {"id": "o-1", "created_at": "2024-05-01T10:00:00Z"})
        db.expect_row_matching("orders", {"id": "o-1", "created_at": "2024-05-01T12:00:00+02:00"})
        db.expect_row_matching("orders", {"id": "o-1", "created_at": "#datetime"})
        # UUIDs in any case, and #uuid
        db.expect_row_matching("orders", {"id": "o-1", "ref": ORDER_ID.upper()})
        db.expect_row_matching("orders", {"id": "o-1", "ref": "#uuid"})
        with pytest.raises(Failure) as wrong:
            db.expect_row_matching(
                "orders",
                {
                    "id": "o-1",
                    "total": "120.51",
                    "paid": "false",
                    "details": '{"items": []}',
                    "created_at": "2024-05-01T10:00:01Z",
                },
            )
        text = str(wrong.value)
        assert "total: expected 120.51, got 120.5" in text
        assert "paid: expected false, got true" in text
        assert "details.items: array length 1, expected 0" in text
        assert "details.note: unexpected key" in text
        assert 'created_at: expected "2024-05-01T10:00:01Z", got "2024-05-01T10:00:00' in text


def test_markers_in_cells(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        db.expect_row_matching(
            "orders",
            {"id": r"#regex o-\d", "total": "#number", "details": "#object", "ref": "#notnull"},
        )
        db.expect_rows_matching("orders", 2, {"details": "#null"})
        db.expect_rows_matching("orders", 3, {"created_at": "#ignore"})
        with pytest.raises(Failure) as failed:
            db.expect_row_matching("orders", {"id": "o-2", "ref": "#uuid"})
        assert "ref: expected #uuid, got null (not a uuid)" in str(failed.value)
        with pytest.raises(InterlockError) as unknown:
            db.expect_row_matching("orders", {"id": "#uuidd"})
        assert 'Unknown marker "#uuidd"' in str(unknown.value)


def test_run_sql_commits_all_statements(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        result = db.run_sql(
            """
            UPDATE orders SET status = 'cancelled' WHERE id = 'o-1';
            -- a comment; with a semicolon
            INSERT INTO events (kind) VALUES ('a;b');
            SELECT id, status FROM orders WHERE customer_id = 'c-1' ORDER BY id
            """
        )
        assert [s.rowcount for s in result.statements[:2]] == [1, 1]
        assert result.rows == [
            {"id": "o-1", "status": "cancelled"},
            {"id": "o-2", "status": "pending"},
        ]
        db.expect_row_matching("orders", {"id": "o-1", "status": "cancelled"})
        db.expect_row_matching("events", {"kind": "a;b"})


def test_run_sql_error_rolls_back_and_names_statement(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        with pytest.raises(InterlockError) as failed:
            db.run_sql("UPDATE orders SET status = 'x' WHERE id = 'o-1'; SELEC 1")
        text = str(failed.value)
        assert text.startswith('SQL failed on database "shop"')
        assert "statement:\n    SELEC 1" in text
        assert "server says:" in text and "syntax" in text.lower()
        assert "sqlalche.me" not in text and "Traceback" not in text and "[SQL:" not in text
        db.expect_row_matching("orders", {"id": "o-1", "status": "pending"})  # rolled back


def test_query_returns_driver_values(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        rows = data.database().query(
            "SELECT id, status FROM orders WHERE customer_id = :c ORDER BY id", {"c": "c-1"}
        )
        assert rows == [{"id": "o-1", "status": "pending"}, {"id": "o-2", "status": "pending"}]


def test_query_returns_listed_columns_in_order(make_databases: MakeDatabases) -> None:
    with ScenarioData(make_databases()) as data:
        seed(data)
        db = data.database()
        sql = (
            "SELECT status, count(*) AS n, sum(total) AS s "
            "FROM orders GROUP BY status ORDER BY status"
        )
        db.expect_query_returns(
            sql, [{"status": '"pending"', "n": "2"}, {"status": "shipped", "n": "1"}]
        )
        db.expect_query_returns(sql, [{"S": "127.5"}, {"S": "0.1"}])  # names in any case
        with pytest.raises(Failure) as failed:
            db.expect_query_returns(sql, [{"status": "shipped"}, {"status": "pending"}])
        text = str(failed.value)
        assert "returned other rows (2 mismatches)" in text
        assert 'row 1: status: expected "shipped", got "pending"' in text
        assert "expected:" in text and "actual:" in text
        with pytest.raises(Failure) as short:
            db.expect_query_returns(sql, [{"status": "pending"}])
        assert "array length 2, expected 1" in str(short.value)
        with pytest.raises(InterlockError) as unknown:
            db.expect_query_returns(sql, [{"count": "2"}])
        assert 'has no column "count"' in str(unknown.value)
        assert "Its columns: " in str(unknown.value)


def test_queries_and_rows_reach_the_report(make_databases: MakeDatabases) -> None:
    databases = make_databases()
    with ScenarioData(databases) as data:
        seed(data)
        data.database().expect_row_matching("customers", {"id": "c-2"})
    assert isinstance(databases.reporter, MemoryReporter)
    attachments = databases.reporter.attachments
    assert all(name == "SQL shop" for name, _, _ in attachments)
    select = [body for _, body, _ in attachments if body.startswith("SELECT * FROM customers")]
    assert select, attachments
    assert re.search(r"\| id +\| name +\| tier +\| vip +\|", select[-1])
    assert select[-1].startswith("SELECT * FROM customers WHERE id = 'c-2'")
    assert re.search(r"\| c-2 +\| Bob +\| silver", select[-1])
    assert select[-1].endswith("(1 row)")
    password = databases.get().engine.url.password
    if password:  # MariaDB has one: it never reaches a report
        assert all(password not in body for _, body, _ in attachments)
