"""The Docker backend against a real engine: readiness, addresses, labels, errors."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
import requests

from interlock._core.errors import InterlockError
from interlock.stack.backends.docker import (
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SERVICE,
    LABEL_STACK,
    ContainerSpec,
    DockerEngine,
    DockerService,
    Removed,
    address_for,
    addresses_seen_from,
    owner_is_alive,
    this_owner,
)
from interlock.stack.base import Address, ReadyCheck, RunningService

if TYPE_CHECKING:  # imported by pytest_plugins below, so that pytest rewrites its asserts
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

docker = pytest.mark.docker


def app(images: Images, name: str, mode: str = "http", **kwargs: object) -> ContainerSpec:
    """The test app in one of its modes."""
    return ContainerSpec(name, image=images.app, command=(mode,), **kwargs)  # type: ignore[arg-type]


# --- without an engine ---------------------------------------------------------------------


def test_unreachable_engine_says_what_was_tried_and_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    socket_path = tmp_path / "nowhere" / "docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    with pytest.raises(InterlockError) as caught:
        DockerEngine.connect(where="environment/interlock.yaml:3")
    text = str(caught.value)
    assert text.startswith("Cannot reach the Docker engine")
    assert f"unix://{socket_path} (from DOCKER_HOST)" in text
    assert "does not exist: no Docker engine is running there" in text
    assert "make docker-setup" in text and "DOCKER_HOST" in text
    assert "where: environment/interlock.yaml:3" in text
    assert "Traceback" not in text and caught.value.__suppress_context__


def test_address_seen_from_the_host_and_from_the_stack_network() -> None:
    published = {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40001"}]}
    container = SimpleNamespace(attrs={"NetworkSettings": {"Ports": published}})
    auth = DockerService("auth", container, network="interlock-r1-default", container_port=8000,
                         url_template="http://{host}:{port}", ready=None)
    web = RunningService("web", Address("http://127.0.0.1:40002", "127.0.0.1", 40002))
    assert address_for(auth, "interlock-r1-default").url == "http://auth:8000"
    assert address_for(auth, None).url == "http://127.0.0.1:40001"
    assert address_for(auth, "interlock-r2-default").url == "http://127.0.0.1:40001"
    assert address_for(web, "interlock-r1-default").port == 40002
    seen = addresses_seen_from({"auth": auth, "web": web}, "interlock-r1-default")
    assert (seen["auth"]("url"), seen["auth"]("port"), seen["web"]("host")) == (
        "http://auth:8000", "8000", "127.0.0.1")


def test_a_spec_needs_an_image_or_a_build() -> None:
    with pytest.raises(InterlockError, match='"orders" has neither a docker image nor a build'):
        ContainerSpec("orders")


def test_owner_labels_tell_a_live_owner_from_a_gone_one() -> None:
    assert owner_is_alive(this_owner())
    host, pid, started = this_owner().split("/")
    assert not owner_is_alive(f"{host}/{pid}/{int(started) - 1000}")  # same pid, other process
    assert owner_is_alive(f"some-other-host/{pid}/{started}")  # cannot tell: keep it
    assert str(Removed()) == "nothing to remove"
    assert str(Removed(["c1"], ["n1"])) == "removed 1 container (c1), 1 network (n1)"


# --- readiness -----------------------------------------------------------------------------


@docker
def test_http_ready_published_on_loopback_only_from_an_offline_build(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    started = time.monotonic()
    web = engine.start(
        app(images, "web", port=8000, env={"GREETING": "interlock"},
            ready=ReadyCheck("http", path="/health")),
        run_id=run_id,
    )
    print(f"\ncold start to ready (http): {time.monotonic() - started:.2f} s")
    assert web.address.url == f"http://127.0.0.1:{web.address.port}"
    assert web.network_address == Address("http://web:8000", "web", 8000)
    # The package came from the wheelhouse, installed with no network in the build.
    answer = requests.get(f"{web.address.url}/greeting", timeout=5)
    assert answer.text == "hello, interlock (greeting 1.0)"
    bindings = web.container.attrs["NetworkSettings"]["Ports"]["8000/tcp"]
    assert [(b["HostIp"], int(b["HostPort"])) for b in bindings] == [
        ("127.0.0.1", web.address.port)]


@docker
def test_tcp_ready_waits_for_the_server_not_for_dockers_proxy(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    # Docker's proxy accepts on the published port before the server listens: a plain
    # connect would say "ready" a second too early, and the echo below would fail.
    echo = engine.start(
        app(images, "echo", "echo", port=7000, env={"PORT": "7000", "DELAY": "1"},
            ready=ReadyCheck("tcp")),
        run_id=run_id,
    )
    with socket.create_connection(("127.0.0.1", echo.address.port), timeout=5) as conn:
        conn.sendall(b"ping")
        assert conn.recv(4) == b"ping"


@docker
def test_log_ready_waits_for_the_line(engine: DockerEngine, images: Images, run_id: str) -> None:
    logger = engine.start(
        app(images, "logger", "log", env={"DELAY": "0.5"},
            ready=ReadyCheck("log", pattern=r"^ready to serve$")),
        run_id=run_id,
    )
    assert "ready to serve" in logger.log()


@docker
def test_command_ready_runs_inside_the_container(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    marker = f"/tmp/ready-{uuid.uuid4().hex}"
    toucher = engine.start(
        app(images, "toucher", "touch", env={"DELAY": "0.5", "READY_FILE": marker},
            ready=ReadyCheck("command", command=("test", "-f", marker))),
        run_id=run_id,
    )
    assert toucher.container.exec_run(["cat", marker]).output == b"ready"
    assert not Path(marker).exists()  # the check did not look on the host


@docker
def test_image_healthcheck_is_waited_for(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    web = engine.start(
        ContainerSpec("web", image=images.health, port=8000, env={"HEALTHY_AFTER": "1.5"}),
        run_id=run_id,
    )
    assert web.ready is None and web.has_healthcheck()
    web.container.reload()
    assert web.container.attrs["State"]["Health"]["Status"] == "healthy"


@docker
def test_unhealthy_image_fails_with_its_healthcheck_output(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    with pytest.raises(InterlockError) as caught:
        engine.start(
            ContainerSpec("web", image=images.health, port=8000, env={"HEALTHY_AFTER": "999"}),
            run_id=run_id, log_dir=images.context / "logs",
        )
    text = str(caught.value)
    assert 'Service "web" reports unhealthy' in text
    assert "HTTP Error 503" in text and "listening on 8000" in text


@docker
def test_readiness_timeout_names_service_check_address_and_log(
    engine: DockerEngine, images: Images, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(InterlockError) as caught:
        engine.start(
            app(images, "orders", "silent", port=8000,
                ready=ReadyCheck("http", path="/health", timeout=1.5)),
            run_id=run_id, log_dir=tmp_path,
        )
    err = caught.value
    assert err.title == 'Service "orders" was not ready within 1.5 seconds'
    assert "check:   HTTP GET /health answers 200" in err.details
    assert "address: 127.0.0.1:" in err.details
    assert "| never listening" in err.details
    assert err.where == 'service "orders"'
    # The half-started container is gone; its log was kept.
    assert not engine.client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})
    assert "never listening" in (tmp_path / "orders.log").read_text()


@docker
def test_exit_before_ready_is_reported_at_once(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    with pytest.raises(InterlockError) as caught:
        engine.start(
            app(images, "quitter", "exit", port=8000, ready=ReadyCheck("tcp", timeout=60)),
            run_id=run_id,
        )
    assert caught.value.title == 'Service "quitter" exited before it was ready (exit code 3)'
    assert "| giving up" in caught.value.details


@docker
def test_build_failure_shows_the_last_build_lines(
    engine: DockerEngine, images: Images, tmp_path: Path
) -> None:
    spec = ContainerSpec("broken", build=str(images.context), dockerfile="Dockerfile.broken",
                         build_args={"BASE_IMAGE": "interlock/python-base:bookworm"})
    with pytest.raises(InterlockError) as caught:
        engine.build(spec, stack="tests", log_dir=tmp_path)
    err = caught.value
    assert err.title.startswith('Building the image of service "broken" failed')
    assert "returned a non-zero code: 1" in err.title
    assert "| about to fail" in err.details
    assert "about to fail" in (tmp_path / "broken.build.log").read_text()


@docker
def test_missing_image_is_not_pulled_by_default(engine: DockerEngine, run_id: str) -> None:
    with pytest.raises(InterlockError, match="is not on this machine") as caught:
        engine.start(ContainerSpec("ghost", image=f"interlock/absent-{run_id}:1"), run_id=run_id)
    assert "docker pull" in caught.value.hint


# --- networks and labels -------------------------------------------------------------------


@docker
def test_services_reach_each_other_by_name_on_the_stack_network(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    auth = engine.start(app(images, "auth", port=8000, env={"GREETING": "from auth"},
                            ready=ReadyCheck("http", path="/health")), run_id=run_id)
    network = engine.network_name(run_id)
    auth_url = address_for(auth, network).url  # what {auth.url} renders to in a container
    assert auth_url == "http://auth:8000"
    orders = engine.start(app(images, "orders", port=8000, env={"AUTH_URL": auth_url},
                              ready=ReadyCheck("http", path="/health")), run_id=run_id)
    answer = requests.get(f"{orders.address.url}/call?url={auth_url}/greeting", timeout=10)
    assert answer.text == "hello, from auth (greeting 1.0)"


@docker
def test_labels_on_every_container_network_and_volume(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    svc = engine.start(
        app(images, "store", "log", volumes={"data": "/data"},
            ready=ReadyCheck("log", pattern="ready to serve")),
        run_id=run_id, stack="payments",
    )
    expected = {LABEL_RUN: run_id, LABEL_STACK: "payments", LABEL_OWNER: this_owner()}
    network = engine.client.networks.get(engine.network_name(run_id, "payments"))
    volume = engine.client.volumes.get(f"{engine.network_name(run_id, 'payments')}-data")
    assert svc.container.name == f"interlock-{run_id}-payments-store"
    assert svc.container.labels.items() >= {**expected, LABEL_SERVICE: "store"}.items()
    assert network.attrs["Labels"].items() >= expected.items()
    assert volume.attrs["Labels"].items() >= {**expected, LABEL_SERVICE: "store"}.items()
    assert any(m["Name"] == volume.name for m in svc.container.attrs["Mounts"])
    removed = engine.remove_run(run_id)
    assert (removed.containers, removed.networks, removed.volumes) == (
        [svc.container.name], [network.name], [volume.name])


@docker
def test_starting_a_service_twice_in_a_run_is_explained(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    spec = app(images, "once", "log", ready=ReadyCheck("log", pattern="ready to serve"))
    engine.start(spec, run_id=run_id)
    with pytest.raises(InterlockError) as caught:
        engine.start(spec, run_id=run_id)
    assert caught.value.title == 'Cannot create the container of service "once"'
    assert f"interlock-{run_id}-default-once already exists" in caught.value.hint
