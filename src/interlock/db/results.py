"""What ``run_sql`` hands back: each statement with the rows it changed and returned.

Example:
    >>> result = SqlResult([StatementResult("UPDATE t SET x = 1", 2),
    ...                     StatementResult("SELECT x FROM t", -1, ["x"], [{"x": 1}])])
    >>> result.rowcount, result.rows
    (2, [{'x': 1}])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StatementResult:
    """One executed statement: its text, the rows it changed, the rows it returned."""

    sql: str
    rowcount: int
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SqlResult:
    """What ``run_sql`` did, statement by statement.

    Example:
        >>> SqlResult([StatementResult("DELETE FROM t", 2)]).rowcount
        2
    """

    statements: list[StatementResult]

    @property
    def rowcount(self) -> int:
        """Rows changed by all statements together."""
        return sum(max(s.rowcount, 0) for s in self.statements)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows returned by the last statement that returned rows."""
        returning = [s for s in self.statements if s.columns]
        return returning[-1].rows if returning else []
