"""The mariadb kind: a real server from Debian's package, its users and databases."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa

from interlock.db.connection import sqlalchemy_url
from interlock.stack.base import KindContext
from interlock.stack.kinds import mariadb
from tests.db.servers import free_port, running


def test_plan_options_and_docker_plan() -> None:
    ctx = KindContext(
        "orders-db",
        Path("/nonexistent"),
        4000,
        {"databases": ["orders", "audit"], "user": "app", "password": "pw"},
    )
    plan = mariadb.plan(ctx)
    assert plan.url == "mysql://app:pw@127.0.0.1:4000/orders"
    assert "--bind-address=127.0.0.1" in plan.command and "--port=4000" in plan.command
    assert not any("skip-grant-tables" in arg for arg in plan.command)
    generated = mariadb.plan(KindContext("x", Path("/nonexistent"), 1)).url
    assert len(generated.split(":")[2].split("@")[0]) >= 20  # a generated password
    docker = mariadb.docker_plan(ctx)
    assert docker.image == "mariadb:11" and docker.env["MARIADB_DATABASE"] == "orders"
    with pytest.raises(ValueError, match="not a plain name"):
        mariadb.plan(KindContext("x", Path("/n"), 1, {"databases": ["a;drop"]}))


def test_server_users_databases_and_restart() -> None:
    folder = Path(tempfile.mkdtemp(prefix="interlock-mariadb-kind-"))
    try:
        port = free_port()
        ctx = KindContext(
            "orders-db",
            folder / "server",
            port,
            {"databases": ["orders", "audit"], "password": "Pa'ss\\word1"},
        )
        ctx.workdir.mkdir()
        plan = mariadb.plan(ctx)
        for _ in range(2):  # the second start reuses the data and finds root's password set
            with running(plan, folder / "log"):
                engine = sa.create_engine(sqlalchemy_url(plan.url))
                with engine.begin() as conn:
                    names = {r[0] for r in conn.exec_driver_sql("SHOW DATABASES")}
                    assert {"orders", "audit"} <= names
                    assert conn.exec_driver_sql("SELECT DATABASE()").scalar() == "orders"
                    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS kept (id INT)")
                engine.dispose()
                # root is not left without a password, over TCP or over the socket
                with pytest.raises(pymysql.err.OperationalError):
                    pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
                with pytest.raises(pymysql.err.OperationalError):
                    pymysql.connect(unix_socket=str(ctx.workdir / "mysqld.sock"), user="root")
        engine = sa.create_engine(sqlalchemy_url(plan.url))
        with pytest.raises(sa.exc.OperationalError):  # stopped: nothing answers
            engine.connect()
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
