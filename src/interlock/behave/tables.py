"""Gherkin tables as plain rows, with a clear error when a column is missing."""

from __future__ import annotations

from typing import Any

from interlock._core.errors import InterlockError


def rows_of(world: Any, *required: str) -> list[dict[str, str]]:
    """The step's table as a list of ``{heading: cell}``; ``required`` headings must exist."""
    table = world.step_table
    if table is None:
        example = " | ".join(required) or "name | value"
        raise InterlockError(
            "This step needs a table", where=world.where,
            hint=f"Add one under the step:\n  | {example} |",
        )
    headings = [h.strip() for h in table.headings]
    missing = [name for name in required if name not in headings]
    if missing:
        raise InterlockError(
            f"The table has no column {', '.join(repr(m) for m in missing)}",
            where=world.where,
            hint=f"Its columns are {', '.join(headings)}; this step wants "
            + " | ".join(required),
        )
    return [{h: str(cell) for h, cell in zip(headings, row.cells, strict=False)} for row in table]


def headings_of(world: Any) -> list[str]:
    """The table's column names (for steps whose columns are the data's own)."""
    rows_of(world)
    return [h.strip() for h in world.step_table.headings]


def table_csv(table: Any) -> str:
    """A Gherkin table as CSV (what Allure shows as a grid)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([h.strip() for h in table.headings])
    writer.writerows([str(cell) for cell in row.cells] for row in table.rows)
    return buffer.getvalue()
