"""The ``databases:`` and ``data:`` blocks of the stack file.

Example:
    >>> cfg = DatabasesConfig.from_dict(
    ...     {"databases": {"orders-db": {"url": "{orders-db.url}", "cleanup": "tracked"},
    ...                    "analytics-db": {"url": "sqlite:///a.db", "cleanup": "truncate",
    ...                                     "tables": ["metrics"]}},
    ...      "data": {"fixtures": "environment/data/fixtures"}},
    ...     "interlock.yaml")
    >>> cfg.databases["analytics-db"].tables, cfg.fixtures
    (('metrics',), 'environment/data/fixtures')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self, cast

from interlock._core.config import field_where
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import block as definition

Cleanup = Literal["tracked", "truncate", "template"]
Level = Literal["scenario", "feature"]
CLEANUPS: tuple[Cleanup, ...] = ("tracked", "truncate", "template")
LEVELS: tuple[Level, ...] = ("scenario", "feature")


@dataclass(frozen=True)
class DatabaseConfig:
    """One database the suite reads and writes.

    * ``url``: ``postgresql://…``, ``mysql://…`` / ``mariadb://…`` or ``sqlite:///path``; it may
      hold ``{service.url}`` placeholders, rendered by the caller before connecting.
    * ``cleanup``: how a scenario's data is undone: ``tracked`` (delete the rows it inserted),
      ``truncate`` (empty ``tables``), ``template`` (PostgreSQL: recreate the database from a
      snapshot taken before the first scenario).
    * ``reset``: for ``truncate`` and ``template``, whether the reset happens after every
      ``scenario`` (default) or after every ``feature`` (needed for per-feature fixtures).

    Example:
        >>> DatabaseConfig.from_dict({"url": "sqlite:///x.db"}, "x.yaml: databases.main",
        ...                          name="main").cleanup
        'tracked'
    """

    name: str
    url: str
    cleanup: Cleanup = "tracked"
    tables: tuple[str, ...] = ()
    reset: Level = "scenario"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "") -> Self:
        """Validate one entry of ``databases:``; ``name`` is its key."""
        if isinstance(data, str):  # `orders-db: "postgresql://…"` is a fine shorthand
            data = {"url": data}
        if not isinstance(data, Mapping):
            raise InterlockError(
                f'Database "{name}" must be a mapping',
                where=where,
                hint='Write e.g. {url: "{orders-db.url}", cleanup: tracked}',
            )
        known = definition("databases.<database>").names
        for key in data:
            if key not in known:
                raise InterlockError(
                    f'Unknown field "{key}" in database "{name}"',
                    where=field_where(where, data, str(key)),
                    hint=did_you_mean(str(key), sorted(known)),
                )
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            raise InterlockError(
                f'Database "{name}" needs a "url"',
                where=field_where(where, data, "url"),
                hint='e.g. url: "{orders-db.url}" or "postgresql://app@127.0.0.1:5432/orders"',
            )
        cleanup = data.get("cleanup", "tracked")
        if cleanup not in CLEANUPS:
            raise InterlockError(
                f'Unknown cleanup "{cleanup}" for database "{name}"',
                where=field_where(where, data, "cleanup"),
                hint=did_you_mean(str(cleanup), CLEANUPS),
            )
        reset = data.get("reset", "scenario")
        if reset not in LEVELS:
            raise InterlockError(
                f'Unknown reset "{reset}" for database "{name}"',
                where=field_where(where, data, "reset"),
                hint=did_you_mean(str(reset), LEVELS),
            )
        tables = data.get("tables", [])
        if not isinstance(tables, list) or not all(isinstance(t, str) and t for t in tables):
            raise InterlockError(
                f'"tables" of database "{name}" must be a list of table names',
                where=field_where(where, data, "tables"),
                hint="e.g. tables: [orders, order_items]",
            )
        if cleanup == "truncate" and not tables:
            raise InterlockError(
                f'Database "{name}" has cleanup: truncate but no tables to truncate',
                where=field_where(where, data, "tables"),
                hint="List them (tables: [orders, order_items]); interlock never truncates "
                "every table, so migration bookkeeping tables survive.",
            )
        return cls(
            name=name,
            url=url.strip(),
            cleanup=cast(Cleanup, cleanup),
            tables=tuple(tables),
            reset=cast(Level, reset),
        )


@dataclass(frozen=True)
class DatabasesConfig:
    """All configured databases and the fixture folder.

    Example:
        >>> DatabasesConfig.from_dict({}, "interlock.yaml").databases
        {}
    """

    databases: Mapping[str, DatabaseConfig] = field(default_factory=dict)
    fixtures: str = ""  # folder of @data.<name> files, relative to the suite; "" = none

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        """Read the ``databases:`` and ``data:`` blocks of a whole stack file mapping."""
        block = data.get("databases") or {}
        block_where = field_where(where, data, "databases")
        if not isinstance(block, Mapping):
            raise InterlockError(
                '"databases" must be a mapping of name to database',
                where=block_where,
                hint='databases: {orders-db: {url: "{orders-db.url}"}}',
            )
        databases = {
            str(name): DatabaseConfig.from_dict(
                entry, field_where(block_where, block, str(name)), name=str(name))
            for name, entry in block.items()
        }
        data_block = data.get("data") or {}
        data_where = field_where(where, data, "data")
        if not isinstance(data_block, Mapping):
            raise InterlockError(
                '"data" must be a mapping', where=data_where, hint="data: {fixtures: dir}"
            )
        for key in data_block:
            if key not in definition("data").names:
                raise InterlockError(
                    f'Unknown field "{key}" in data',
                    where=field_where(data_where, data_block, str(key)),
                    hint=did_you_mean(str(key), definition("data").names),
                )
        fixtures = data_block.get("fixtures", "")
        if not isinstance(fixtures, str):
            raise InterlockError(
                '"data.fixtures" must be a folder path',
                where=field_where(data_where, data_block, "fixtures"),
                hint="e.g. fixtures: environment/data/fixtures",
            )
        return cls(databases=databases, fixtures=fixtures)
