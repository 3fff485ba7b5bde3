"""Real PostgreSQL (pgserver's binaries) and MariaDB (Debian's, through the mariadb kind) for
the whole session, and a fresh database on them for each test."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.db import DatabaseConfig, Databases
from interlock.db.config import Cleanup
from interlock.db.connection import sqlalchemy_url
from interlock.stack.base import KindContext
from interlock.stack.kinds import mariadb
from tests.db.servers import free_port, postgres_plan, running

SCHEMA = {
    "postgresql": """
        CREATE TABLE customers (id VARCHAR(20) PRIMARY KEY, name VARCHAR(100) NOT NULL,
                                tier VARCHAR(20), vip BOOLEAN NOT NULL DEFAULT FALSE);
        CREATE TABLE orders (id VARCHAR(40) PRIMARY KEY,
                             customer_id VARCHAR(20) NOT NULL REFERENCES customers(id),
                             status VARCHAR(20) NOT NULL, total NUMERIC(10, 2),
                             paid BOOLEAN NOT NULL DEFAULT FALSE, details JSONB,
                             created_at TIMESTAMPTZ, ref UUID);
        CREATE TABLE events (id SERIAL PRIMARY KEY, kind VARCHAR(40) NOT NULL);
        CREATE TABLE audit_log (message VARCHAR(200), at TIMESTAMP);
    """,
    "mysql": """
        CREATE TABLE customers (id VARCHAR(20) PRIMARY KEY, name VARCHAR(100) NOT NULL,
                                tier VARCHAR(20), vip BOOLEAN NOT NULL DEFAULT FALSE);
        CREATE TABLE orders (id VARCHAR(40) PRIMARY KEY,
                             customer_id VARCHAR(20) NOT NULL REFERENCES customers(id),
                             status VARCHAR(20) NOT NULL, total DECIMAL(10, 2),
                             paid BOOLEAN NOT NULL DEFAULT FALSE, details JSON,
                             created_at DATETIME(6), ref UUID,
                             FOREIGN KEY (customer_id) REFERENCES customers(id));
        CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, kind VARCHAR(40) NOT NULL);
        CREATE TABLE audit_log (message VARCHAR(200), at DATETIME);
    """,
}


@pytest.fixture(scope="session")
def server_folder() -> Iterator[Path]:
    """A private folder for the servers' data, removed at the end.

    Not under pytest's basetemp: other pytest sessions on the machine reset
    /tmp/pytest-of-<user> to mode 0700, which would lock out the servers' system users.
    """
    folder = Path(tempfile.mkdtemp(prefix="interlock-db-tests-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(server_folder: Path) -> Iterator[str]:
    """``postgresql://postgres@127.0.0.1:<port>`` (trust auth), for the session."""
    plan = postgres_plan(server_folder / "postgres", free_port())
    with running(plan, server_folder / "postgres.log"):
        yield plan.url


@pytest.fixture(scope="session")
def mariadb_server(server_folder: Path) -> Iterator[str]:
    """``mysql://interlock:<pw>@127.0.0.1:<port>`` (no database), for the session."""
    ctx = KindContext(
        "test-db", server_folder / "mariadb", free_port(), {"databases": ["interlock"]}
    )
    ctx.workdir.mkdir()
    with running(mariadb.plan(ctx), server_folder / "mariadb.log") as plan:
        yield plan.url.rsplit("/", 1)[0]


@pytest.fixture(params=["postgres", "mariadb"])
def server_url(request: pytest.FixtureRequest) -> str:
    """The URL of a server (no database), once per server kind."""
    return str(request.getfixturevalue(f"{request.param}_server"))


def create_database(server: str, name: str) -> str:
    """Create database ``name`` on ``server``; its URL."""
    admin = sa.create_engine(sqlalchemy_url(_admin_url(server)), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        admin.dispose()
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    admin = sa.create_engine(sqlalchemy_url(_admin_url(server)), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if server.startswith("postgresql") else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
    finally:
        admin.dispose()


def _admin_url(server: str) -> str:
    return server + ("/postgres" if server.startswith("postgresql") else "/")


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database of its own for one test, dropped after it."""
    name = "t_" + uuid.uuid4().hex[:12]
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


MakeDatabases = Callable[..., Databases]


@pytest.fixture
def make_databases(database_url: str) -> Iterator[MakeDatabases]:
    """Build ``Databases`` (one database, "shop") over the test's database with the schema
    created; each is closed after the test. ``make_databases("truncate", ["orders"])``."""
    made: list[Databases] = []
    engine = sa.create_engine(sqlalchemy_url(database_url))
    with engine.begin() as conn:
        for statement in SCHEMA[engine.dialect.name].split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    engine.dispose()

    def make(cleanup: Cleanup = "tracked", tables: tuple[str, ...] = ()) -> Databases:
        config = DatabaseConfig("shop", database_url, cleanup, tuple(tables))
        secrets = Secrets()
        databases = Databases({"shop": config}, secrets=secrets, reporter=MemoryReporter(secrets))
        made.append(databases)
        return databases

    yield make
    for databases in made:
        databases.close()
