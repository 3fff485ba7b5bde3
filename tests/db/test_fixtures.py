"""Fixture files (@data.<name>): .sql, .yaml, .json, loaded and cleaned up like step rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interlock._core.errors import InterlockError
from interlock.db import DatabaseConfig, Databases, ScenarioData
from tests.db.conftest import MakeDatabases

YAML = """
customers:
  - {id: c-1, name: Alice, tier: gold, vip: true}
orders:
  - id: o-1
    customer_id: c-1
    status: pending
    total: 120.5
    details: {items: [{sku: p-1, qty: 2}]}
    created_at: "2024-05-01T10:00:00Z"
"""

SQL = """
INSERT INTO customers (id, name) VALUES ('c-1', 'Alice; the first'), ('c-2', 'Bob');
INSERT INTO orders (id, customer_id, status) VALUES ('o-1', 'c-1', 'pending');
INSERT INTO events (kind) VALUES ('seeded');
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "shop_yaml.yaml").write_text(YAML)
    (tmp_path / "shop_sql.sql").write_text(SQL)
    document = {
        "customers": [{"id": "c-1", "name": "Alice", "vip": False}],
        "orders": [{"id": "o-1", "customer_id": "c-1", "status": "new", "details": [1, 2]}],
    }
    (tmp_path / "shop_json.json").write_text(json.dumps(document))
    return tmp_path


@pytest.mark.parametrize("fixture", ["shop_yaml", "shop_sql", "shop_json"])
def test_fixture_loads_and_is_cleaned_up(
    make_databases: MakeDatabases, folder: Path, fixture: str
) -> None:
    databases = make_databases("tracked")
    with ScenarioData(databases, fixtures_dir=folder) as data:
        data.load_fixture(fixture)
        db = data.database()
        db.expect_row_matching("customers", {"id": "c-1"})
        db.expect_row_count("orders", 1)
        if fixture == "shop_yaml":
            db.expect_row_matching(
                "orders",
                {
                    "id": "o-1",
                    "total": "120.5",
                    "details": '{"items": [{"sku": "p-1", "qty": 2}]}',
                    "created_at": "2024-05-01T10:00:00Z",
                },
            )
            db.expect_row_matching("customers", {"id": "c-1", "vip": "true", "tier": "gold"})
        if fixture == "shop_json":
            db.expect_row_matching("orders", {"id": "o-1", "details": "[1, 2]"})
        if fixture == "shop_sql":
            db.expect_row_matching("customers", {"name": "Alice; the first"})
            db.expect_row_count("events", 1)
    db = databases.get()
    for table in ("customers", "orders", "events"):
        db.expect_row_count(table, 0)


def test_fixture_per_database_folder(
    database_url: str, make_databases: MakeDatabases, tmp_path: Path
) -> None:
    make_databases()  # the schema
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "alice.yaml").write_text("customers:\n  - {id: c-1, name: Alice}\n")
    databases = Databases(
        {
            "shop": DatabaseConfig("shop", database_url),
            "other": DatabaseConfig("other", "sqlite://"),
        }
    )
    try:
        with ScenarioData(databases, fixtures_dir=tmp_path) as data:
            data.load_fixture("alice")
            data.database("shop").expect_row_count("customers", 1)
        databases.get("shop").expect_row_count("customers", 0)
    finally:
        databases.close()


def test_unknown_fixture_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "customers.yaml").write_text("{}")
    (tmp_path / "orders.sql").write_text("SELECT 1")
    databases = Databases({"m": DatabaseConfig("m", "sqlite://")})
    with pytest.raises(InterlockError) as failed:
        ScenarioData(databases, fixtures_dir=tmp_path).load_fixture("customer")
    text = str(failed.value)
    assert 'No fixture "customer"' in text
    assert 'did you mean "customers"? Fixtures: customers, orders' in text


def test_fixture_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("customers: {id: 1}\n")
    (tmp_path / "broken.json").write_text('{"customers": [}')
    databases = Databases({"m": DatabaseConfig("m", "sqlite://")})
    data = ScenarioData(databases, fixtures_dir=tmp_path)
    with pytest.raises(InterlockError) as bad:
        data.load_fixture("bad")
    assert 'Fixture table "customers" must be a list of rows' in str(bad.value)
    assert "bad.yaml" in str(bad.value)
    with pytest.raises(InterlockError) as broken:
        data.load_fixture("broken")
    assert "Invalid fixture file broken.json" in str(broken.value)
