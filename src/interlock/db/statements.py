"""Splitting a SQL docstring into statements, the way a SQL shell would.

A ``;`` ends a statement unless it is inside a string (``'…'``), a quoted name (``"…"``,
```…```), a comment (``-- …``, ``/* … */``) or a PostgreSQL dollar-quoted body
(``$$ … $$``, ``$fn$ … $fn$``), so function definitions and data with semicolons survive.

Example:
    >>> split_statements("INSERT INTO t VALUES ('a;b'); -- done;\\nDELETE FROM t;")
    ["INSERT INTO t VALUES ('a;b')", '-- done;\\nDELETE FROM t']
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_INSERT_INTO = re.compile(
    r"\binsert\s+(?:ignore\s+)?into\s+((?:[`\"]?[\w$]+[`\"]?\.)?[`\"]?[\w$]+[`\"]?)", re.IGNORECASE
)
_ONLY_COMMENTS = re.compile(r"^(\s|--[^\n]*(\n|$)|/\*.*?\*/)*$", re.DOTALL)


def split_statements(sql: str, backslash_escapes: bool = False) -> list[str]:
    """The statements in ``sql``, stripped, without their ``;`` and without empty ones.

    ``backslash_escapes``: ``\\'`` escapes a quote inside a string (MariaDB does this;
    PostgreSQL, SQLite and the SQL standard do not).
    """
    statements: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            i = _end_of_quoted(sql, i, ch, backslash_escapes)
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif ch == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not _inside_word(sql, i):
            close = sql.find(tag.group(0), tag.end())
            i = n if close < 0 else close + len(tag.group(0))
        elif ch == ";":
            statements.append(sql[start:i])
            i += 1
            start = i
        else:
            i += 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if not _ONLY_COMMENTS.match(s)]


def _end_of_quoted(sql: str, i: int, quote: str, backslash_escapes: bool) -> int:
    """Index just past the quoted text opened at ``i``; a doubled quote is an escaped one."""
    j = i + 1
    while j < len(sql):
        if backslash_escapes and sql[j] == "\\" and quote == "'":
            j += 2
            continue
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _inside_word(sql: str, i: int) -> bool:
    # `a$b$` is a name with dollars in it (allowed by both servers), not a dollar quote
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")


def inserted_tables(sql: str) -> list[str]:
    """Tables named by ``INSERT INTO`` statements, in order of first appearance.

    Example:
        >>> inserted_tables('insert into customers values (1); INSERT INTO "orders" VALUES (2)')
        ['customers', 'orders']
    """
    names: list[str] = []
    for match in _INSERT_INTO.finditer(sql):
        name = match.group(1).replace('"', "").replace("`", "")
        if name not in names:
            names.append(name)
    return names


_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_NAME = r"((?:[`\"]?[\w$]+[`\"]?\.)?[`\"]?[\w$]+[`\"]?)"
_CHANGES = re.compile(
    r"(?:(insert)\s+(?:ignore\s+)?into|(update)(?:\s+only)?|(delete)\s+from|(truncate)(?:\s+table)?)"
    r"\s+" + _NAME,
    re.IGNORECASE,
)
_SCHEMA_CHANGE = re.compile(r"(create|alter|drop|rename)\b", re.IGNORECASE)


def changed_table(statement: str) -> tuple[str, str] | None:
    r"""What one statement changes: ``("insert", table)``, ``("update", table)``,
    ``("delete", table)``, ``("truncate", table)``, ``("schema", "")`` for DDL, or None
    (a query, or a statement this cannot read, such as one starting with ``WITH``).

    Example:
        >>> changed_table("-- seed\nINSERT INTO \"orders\" (id) VALUES (1)")
        ('insert', 'orders')
        >>> changed_table("update orders set status = 'x'"), changed_table("SELECT 1")
        (('update', 'orders'), None)
    """
    body = statement[_LEADING_COMMENTS.match(statement).end() :]  # type: ignore[union-attr]
    match = _CHANGES.match(body)
    if match:
        verb = next(group for group in match.groups()[:4] if group).lower()
        return verb, match.group(5).replace('"', "").replace("`", "")
    if _SCHEMA_CHANGE.match(body):
        return "schema", ""
    return None
