"""How much does ``expect_row_matching`` cost over a hand-written SQLAlchemy SELECT + compare?

One PostgreSQL (pgserver, unix socket, removed at the end), one table of ``ROWS`` orders,
``ITERATIONS`` checks of each kind, interleaved so that both see the same machine state.

    PYTHONPATH=src:. python bench/table_assert.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from interlock._core.match import compare
from interlock.db import DatabaseConfig, Databases
from interlock.db.connection import sqlalchemy_url

ITERATIONS = 300
ROWS = 50


def main() -> None:
    import pgserver

    with tempfile.TemporaryDirectory(prefix="interlock-bench-") as folder:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="delete")
        try:
            run(server.get_uri())
        finally:
            server.cleanup()


def run(url: str) -> None:
    databases = Databases({"bench": DatabaseConfig("bench", url)})
    db = databases.get()
    db.run_sql(
        "DROP TABLE IF EXISTS orders;"
        "CREATE TABLE orders (id TEXT PRIMARY KEY, customer_id TEXT, status TEXT,"
        " total NUMERIC(10, 2), created_at TIMESTAMPTZ DEFAULT now())"
    )
    db.insert_rows(
        "orders",
        [
            {"id": f"o-{i}", "customer_id": f"c-{i % 7}", "status": "pending", "total": str(i)}
            for i in range(ROWS)
        ],
    )
    engine = sa.create_engine(sqlalchemy_url(url))
    table = sa.Table("orders", sa.MetaData(), autoload_with=engine)
    target = f"o-{ROWS // 2}"

    def by_hand() -> None:
        with engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == target)).mappings().one()
        mismatches = compare(
            {"id": target, "status": "pending", "total": ROWS // 2},
            {"id": row["id"], "status": row["status"], "total": int(row["total"])},
        )
        assert not mismatches

    def interlock() -> None:
        db.expect_row_matching(
            "orders", {"id": target, "status": '"pending"', "total": str(ROWS // 2)}
        )

    for warm in (by_hand, interlock):  # connections pooled, table reflected
        warm()
    hand: list[float] = []
    ours: list[float] = []
    for _ in range(ITERATIONS):
        for fn, into in ((by_hand, hand), (interlock, ours)):
            started = time.perf_counter()
            fn()
            into.append(time.perf_counter() - started)
    engine.dispose()
    databases.close()
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"{ITERATIONS} iterations each, interleaved, table of {ROWS} rows, PostgreSQL (pgserver)")
    print(
        f"  hand-written SELECT … WHERE id + compare: median {h * 1e3:.3f} ms, "
        f"mean {statistics.mean(hand) * 1e3:.3f} ms"
    )
    print(
        f"  expect_row_matching:                     median {o * 1e3:.3f} ms, "
        f"mean {statistics.mean(ours) * 1e3:.3f} ms"
    )
    print(f"  ratio (median): {o / h:.2f}x, overhead {(o - h) * 1e3:.3f} ms per check")


if __name__ == "__main__":
    main()
