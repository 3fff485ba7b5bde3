"""Databases: seed rows, run SQL, check tables, and undo what each scenario wrote.

Example:
    >>> from interlock.db import DatabasesConfig, Databases, ScenarioData
    >>> config = DatabasesConfig.from_dict({"databases": {"main": {"url": "sqlite://"}}}, "x")
    >>> dbs = Databases(config.databases)
    >>> with ScenarioData(dbs) as data:
    ...     data.database().query("SELECT 1 AS one")
    [{'one': 1}]
    >>> dbs.close()
"""

from typing import TYPE_CHECKING

from interlock._core.plugins import lazy_names
from interlock.db.config import DatabaseConfig, DatabasesConfig

# The configuration is light; the rest loads SQLAlchemy, so it is imported on first use.
__getattr__, __dir__ = lazy_names(__name__, {
    "Database": "interlock.db.database",
    "Databases": "interlock.db.database",
    "SqlResult": "interlock.db.database",
    "StatementResult": "interlock.db.database",
    "ScenarioData": "interlock.db.lifecycle",
    "drop_templates": "interlock.db.lifecycle",
})

if TYPE_CHECKING:
    from interlock.db.database import Database, Databases, SqlResult, StatementResult
    from interlock.db.lifecycle import ScenarioData, drop_templates

__all__ = [
    "Database",
    "DatabaseConfig",
    "Databases",
    "DatabasesConfig",
    "ScenarioData",
    "SqlResult",
    "StatementResult",
    "drop_templates",
]
