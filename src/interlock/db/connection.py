"""Turning a configured URL into a SQLAlchemy engine, and server trouble into plain words.

* ``postgresql://`` uses psycopg 3, ``mysql://`` and ``mariadb://`` use PyMySQL, ``sqlite:///``
  the standard library.
* Passwords never leave this module in clear: ``redact_url`` hides them, and ``Databases`` adds
  them to the run's ``Secrets``.

Example:
    >>> sqlalchemy_url("mariadb://app:pw@127.0.0.1:3306/orders")
    'mysql+pymysql://app:pw@127.0.0.1:3306/orders?charset=utf8mb4'
    >>> redact_url("postgresql://app:s3cret@127.0.0.1:5432/orders")
    'postgresql://app:***@127.0.0.1:5432/orders'
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from interlock._core.errors import InterlockError

CONNECT_TIMEOUT = 5  # seconds: an unreachable database should fail a step quickly


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL (with its driver) for a URL written in the stack file."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _bad_url(url)
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql+psycopg://" + rest
    if scheme in ("mysql", "mariadb", "mysql+pymysql", "mariadb+pymysql"):
        full = "mysql+pymysql://" + rest
        # utf8mb4 so that any text a test writes comes back the same
        return (
            full if "charset=" in rest else full + ("&" if "?" in rest else "?") + "charset=utf8mb4"
        )
    if scheme == "sqlite":
        return url
    raise _bad_url(url)


def _bad_url(url: str) -> InterlockError:
    return InterlockError(
        f'Unsupported database URL "{redact_url(url)}"',
        hint="Use postgresql://user:pw@host:port/db, mysql://… (or mariadb://…), "
        "or sqlite:///path/to/file.db",
    )


_PASSWORD = re.compile(r"^([a-zA-Z0-9+.-]+://[^:/@]*:)([^@]*)(@)")


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    return _PASSWORD.sub(lambda m: m.group(1) + ("***" if m.group(2) else "") + m.group(3), url)


def url_password(url: str) -> str | None:
    """The password in a URL, so that the run's Secrets can hide it everywhere."""
    try:
        return make_url(sqlalchemy_url(url)).password
    except Exception:  # a URL SQLAlchemy cannot parse has no password we could find
        return None


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; nothing connects until first use."""
    full = sqlalchemy_url(url)
    connect_args: dict[str, Any] = {}
    if full.startswith("postgresql") or full.startswith("mysql"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    try:
        return sa.create_engine(full, connect_args=connect_args, pool_pre_ping=True)
    except sa.exc.ArgumentError as err:
        raise InterlockError(
            f'Invalid database URL "{redact_url(url)}"', details=str(err), hint=_bad_url(url).hint
        ) from None


def server_message(err: BaseException) -> str:
    """What the server said, without SQLAlchemy's wrapping, SQL echo and links."""
    orig = getattr(err, "orig", None) or err
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    # PyMySQL: (code, message)
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"({args[0]}) {args[1]}"
    text = str(orig).strip()
    # SQLAlchemy appends "(Background on this error at: https://sqlalche.me/…)"
    text = re.sub(r"\s*\(Background on this error at:[^)]*\)\s*$", "", text)
    text = re.sub(r"\n\[SQL:.*", "", text, flags=re.DOTALL)
    return text
