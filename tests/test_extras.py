"""A broker, a database or a kind whose extra is not installed: what, where, and the fix."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from interlock._core import extras
from interlock._core.extras import MissingExtra
from interlock.stack.base import KindContext
from interlock.suite import Suite


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):
    """Make these distributions look uninstalled (and their adapters not yet imported)."""

    def hide(*packages: str) -> None:
        real = importlib.metadata.distribution

        def distribution(name: str):
            if name in packages:
                raise importlib.metadata.PackageNotFoundError(name)
            return real(name)

        monkeypatch.setattr(extras.importlib.metadata, "distribution", distribution)
        for module in [m for m in sys.modules if m.startswith("interlock.events.")]:
            if module.rsplit(".", 1)[-1] in ("nats", "rabbitmq", "redis_streams", "mqtt",
                                              "webhook"):
                monkeypatch.delitem(sys.modules, module)

    return hide


def _load(tmp_path: Path, text: str) -> Suite:
    (tmp_path / "environment").mkdir()
    path = tmp_path / "environment" / "interlock.yaml"
    path.write_text(text)
    return Suite.load(path, progress=lambda line: None)


@pytest.mark.parametrize(("type_", "package", "extra", "url"), [
    ("nats", "nats-py", "nats", "nats://127.0.0.1:1"),
    ("rabbitmq", "pika", "rabbitmq", "amqp://127.0.0.1:1"),
    ("redis", "redis", "redis", "redis://127.0.0.1:1"),
    ("mqtt", "paho-mqtt", "mqtt", "mqtt://127.0.0.1:1"),
])
def test_a_broker_without_its_extra_names_the_line_and_the_pip_line(
        tmp_path: Path, without, type_: str, package: str, extra: str, url: str) -> None:
    without(package)
    with pytest.raises(MissingExtra) as caught:
        _load(tmp_path, f"services: {{}}\nbrokers:\n  bus:\n    type: {type_}\n    url: {url}\n")
    err = caught.value
    assert f"The {type_} broker needs the Python package {package}" in err.title
    assert err.where.endswith("interlock.yaml:4 (brokers.bus.type)")
    assert f"pip install 'interlock[{extra}]'" in err.hint


def test_a_webhook_broker_without_cloudevents(tmp_path: Path, without) -> None:
    without("cloudevents")
    with pytest.raises(MissingExtra, match="cloudevents") as caught:
        _load(tmp_path, "brokers:\n  hooks: {type: webhook}\n")
    assert "interlock[webhook]" in caught.value.hint
    assert "interlock.yaml:2" in caught.value.where


@pytest.mark.parametrize(("url", "package", "extra"), [
    ("postgresql://u@127.0.0.1:1/app", "psycopg", "postgres"),
    ("mariadb://u@127.0.0.1:1/app", "pymysql", "mysql"),
])
def test_a_database_without_its_driver(tmp_path: Path, without, url: str, package: str,
                                       extra: str) -> None:
    without(package)
    with pytest.raises(MissingExtra) as caught:
        _load(tmp_path, f"databases:\n  app:\n    cleanup: tracked\n    url: {url}\n")
    assert package in caught.value.title and 'Database "app"' in caught.value.title
    assert caught.value.where.endswith("interlock.yaml:4 (databases.app.url)")
    assert f"interlock[{extra}]" in caught.value.hint


def test_sqlite_needs_no_extra(tmp_path: Path, without) -> None:
    without("psycopg", "pymysql")
    _load(tmp_path, "databases:\n  app: {url: 'sqlite://'}\n").close()


def test_the_postgres_kind_without_pgserver(tmp_path: Path, without) -> None:
    from interlock.stack.kinds import postgres

    without("pgserver")
    with pytest.raises(MissingExtra) as caught:
        postgres.plan(KindContext("db", tmp_path, 5432, {}))
    assert 'Service "db" (kind: postgres) needs the Python package pgserver' in caught.value.title
    assert caught.value.where == "services.db.kind"
    assert "interlock[postgres]" in caught.value.hint
