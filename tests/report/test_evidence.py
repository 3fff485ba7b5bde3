"""Evidence a reader can use: a row check's attachment shows the rows it looked at and marks
the ones that matched (not every row of the table); its failure shows the nearest row."""

from __future__ import annotations

import pytest

from interlock._core.errors import Failure
from interlock._core.report import MemoryReporter
from interlock.db import Databases
from interlock.db.config import DatabaseConfig


@pytest.fixture
def shop() -> tuple[MemoryReporter, Databases]:
    reporter = MemoryReporter()
    databases = Databases({"shop": DatabaseConfig("shop", "sqlite://")}, reporter=reporter)
    db = databases.get("shop")
    values = ", ".join(f"('o-{i}', '{'paid' if i % 2 else 'pending'}', {i})" for i in range(40))
    db.run_sql("CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT, total INTEGER); "
               f"INSERT INTO orders VALUES {values}")
    reporter.attachments.clear()
    yield reporter, databases
    databases.close()


def test_a_row_check_shows_the_rows_it_looked_at_and_marks_the_match(
    shop: tuple[MemoryReporter, Databases],
) -> None:
    reporter, databases = shop
    databases.get("shop").expect_row_matching("orders", {"id": "o-7", "status": "paid"})
    [(name, body, _)] = reporter.attachments
    assert name == "SQL shop"
    assert "WHERE id = 'o-7' AND status = 'paid'  -- 1 row looked at, 1 matching" in body
    lines = [line for line in body.splitlines() if "o-" in line and "|" in line]
    assert len(lines) == 1 and "✓" in lines[0]


def test_a_failed_row_check_shows_the_nearest_row_not_ten(
    shop: tuple[MemoryReporter, Databases],
) -> None:
    reporter, databases = shop
    with pytest.raises(Failure) as failed:
        databases.get("shop").expect_row_matching("orders", {"id": "o-7", "total": "8"})
    text = str(failed.value)
    assert "closest row:" in text
    shown = text.split("closest row:", 1)[1].split("mismatches:", 1)[0]
    rows = [line for line in shown.splitlines() if '"o-' in line]
    assert len(rows) == 1 and '"o-7"' in rows[0], text
    assert "row 1: total: expected 8, got 7" in text
    assert "(and 39 other rows" in text
    # The attachment: the whole table was read, but only the nearest rows are shown.
    body = reporter.attachments[-1][1]
    assert "-- 40 rows looked at, 0 matching" in body
    assert sum(1 for line in body.splitlines() if "o-" in line and "|" in line) == 3
