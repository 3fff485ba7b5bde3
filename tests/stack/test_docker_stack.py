"""The Docker backend inside a ``Stack``: services as containers that find each other by name,
a built-in kind with a ``docker:`` override, the delay proxy as a container, healing, cleanup.

Every stack here is a real one on the real engine (see docker_fixtures.py), with its own run
id; nothing labelled with it may remain afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
import requests

from interlock._core.errors import InterlockError
from interlock.stack.backends.docker import ContainerSpec, DockerEngine
from interlock.stack.backends.docker.service import DockerService
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack

if TYPE_CHECKING:  # imported by pytest_plugins below, so that pytest rewrites its asserts
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_CONTEXT = ROOT / "environment" / "images" / "postgres"


@pytest.fixture
def make_stack(
    engine: DockerEngine, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Build Stacks on the Docker backend for this test's run id; stopped and checked after."""
    from tests.stack.docker_fixtures import BASE_IMAGE

    monkeypatch.setenv("INTERLOCK_BASE_IMAGE", BASE_IMAGE)  # the delay proxy's image
    stacks: list[Stack] = []

    def make(services: dict[str, dict[str, Any]]) -> Stack:
        specs = {name: ServiceSpec.from_dict(name, data, f"test: {name}")
                 for name, data in services.items()}
        stack = Stack("default", specs, run_dir=tmp_path / "run", backend="docker", root=ROOT,
                      registry=RunRegistry(tmp_path / "runs", run_id=run_id),
                      progress=lambda line: None)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
    assert run_id not in engine.runs(), "the stopped stack left containers or networks"


def app(images: Images, **more: Any) -> dict[str, Any]:
    """A service of the test app image, answering HTTP on 8000 inside its container."""
    return {"docker": {"image": images.app, "port": 8000, "command": ["http"]},
            "ready": {"http": "/health"}, **more}


def env_of(service: Any) -> dict[str, str]:
    assert isinstance(service, DockerService)
    return dict(item.split("=", 1) for item in service.container.attrs["Config"]["Env"])


def call(stack: Stack, caller: str, url: str, timeout: float = 30) -> requests.Response:
    """``caller`` (a container) fetches ``url``: what another service of the stack sees."""
    return requests.get(f"{stack.address(caller).url}/call?url={url}", timeout=timeout)


def test_two_containers_get_each_others_address_by_name(
    make_stack: Any, images: Images
) -> None:
    stack = make_stack({
        "greeter": app(images, env={"GREETING": "from greeter"}),
        "caller": app(images, env={"GREETER_URL": "{greeter.url}", "GREETER": "{greeter.host}"
                                   ":{greeter.port}"}, depends_on=["greeter"]),
    })
    stack.start()
    env = env_of(stack.service("caller"))
    assert env["GREETER_URL"] == "http://greeter:8000"  # in-network address, not the host's
    assert env["GREETER"] == "greeter:8000"
    assert stack.address("greeter").url.startswith("http://127.0.0.1:")  # the host's view
    answer = call(stack, "caller", f"{env['GREETER_URL']}/greeting")
    assert answer.text == "hello, from greeter (greeting 1.0)"


def write_pgserver_wheel(folder: Path) -> None:
    """A wheel of the pgserver installed here (its PostgreSQL binaries), so the test builds
    environment/images/postgres offline without the wheelhouse that script downloads."""
    import pgserver

    site = Path(pgserver.__file__).resolve().parent.parent
    version = "0.1.4"
    info = f"pgserver-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    with zipfile.ZipFile(folder / f"pgserver-{version}-py3-none-any.whl", "w") as wheel:
        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # same bytes each time
            entry.external_attr = (0o100000 | mode) << 16  # pip keeps the executable bits
            wheel.writestr(entry, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{name},sha256={digest.decode()},{len(data)}")

        for top in ("pgserver", "pgserver.libs"):
            for path in sorted((site / top).rglob("*")):
                relative = path.relative_to(site).as_posix()
                if path.is_file() and "__pycache__" not in relative and "/include/" not in relative:
                    add(relative, path.read_bytes(), path.stat().st_mode & 0o777)
        add(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: pgserver\nVersion: {version}\n"
            .encode())
        add(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: interlock-tests\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(zipfile.ZipInfo(f"{info}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)),
                       "\n".join([*records, f"{info}/RECORD,,"]) + "\n")


def test_a_kind_with_a_docker_override_runs_its_plan_on_the_given_image(
    make_stack: Any, images: Images, tmp_path: Path
) -> None:
    from tests.stack.docker_fixtures import BASE_IMAGE

    context = tmp_path / "postgres-image"
    context.mkdir()
    shutil.copy(POSTGRES_CONTEXT / "Dockerfile", context / "Dockerfile")  # the suite's own
    (context / "requirements.txt").write_text("pgserver\n")
    write_pgserver_wheel(context / "wheels")
    stack = make_stack({
        "db": {"kind": "postgres", "options": {"databases": ["orders", "shop"]},
               "docker": {"build": str(context), "build_args": {"BASE_IMAGE": BASE_IMAGE}}},
        "orders": app(images, env={"DATABASE_URL": "{db.url}/orders"}, depends_on=["db"]),
    })
    stack.start()
    db = stack.service("db")
    assert isinstance(db, DockerService)
    assert "interlock/default-db:latest" in db.container.image.tags  # built, not postgres:16
    # the plan's port, URL and readiness, on the override's image
    assert env_of(stack.service("orders"))["DATABASE_URL"] == "postgresql://postgres@db:5432/orders"
    url = stack.address("db").url
    assert url == f"postgresql://postgres@127.0.0.1:{db.published_port}"
    # the plan's setup created the databases of its options before anyone could use them
    for name in ("orders", "shop"):
        with psycopg.connect(f"{url}/{name}", connect_timeout=10) as connection:
            row = connection.execute("SELECT current_database()").fetchone()
            assert row == (name,)


def test_delay_proxy_slows_the_service_for_containers_and_host_alike(
    make_stack: Any, engine: DockerEngine, images: Images
) -> None:
    stack = make_stack({
        "auth": app(images, env={"GREETING": "from auth"}, delay_proxy=True),
        "orders": app(images, env={"AUTH_URL": "{auth.url}"}, depends_on=["auth"]),
    })
    stack.start()
    auth = stack.service("auth")
    assert isinstance(auth, DockerService)
    auth_url = env_of(stack.service("orders"))["AUTH_URL"]
    assert auth_url == "http://auth:8000"  # the name now belongs to the proxy container
    aliases = auth.container.attrs["NetworkSettings"]["Networks"][auth.network]["Aliases"]
    assert "auth-direct" in aliases and "auth" not in aliases
    host_url = stack.address("auth").url
    assert host_url != auth.address.url  # the host also goes through the proxy
    assert stack.address("auth").extra["direct_url"] == auth.address.url

    stack.delay("auth", 2.0)
    began = time.monotonic()
    answer = call(stack, "orders", f"{auth_url}/greeting")
    from_container = time.monotonic() - began
    began = time.monotonic()
    direct = requests.get(f"{host_url}/greeting", timeout=30)
    from_host = time.monotonic() - began
    assert answer.text == direct.text == "hello, from auth (greeting 1.0)"
    # a lower bound only: nothing can answer sooner than the delay it was given
    assert from_container >= 2.0 and from_host >= 2.0

    assert stack.heal() == ["auth delay removed"]
    assert stack.proxies["auth"].delay == 0.0
    assert call(stack, "orders", f"{auth_url}/greeting").text == "hello, from auth (greeting 1.0)"
    proxy_name = f"interlock-{stack.run_id}-default-auth-delay"
    assert engine.client.containers.get(proxy_name).status == "running"
    stack.stop()
    assert not engine.client.containers.list(all=True, filters={"name": proxy_name})


def test_a_scenarios_delay_slows_only_the_requests_that_carry_its_id(
    make_stack: Any, images: Images
) -> None:
    """delay_proxy: {scenario_header: traceparent} in a container: the proxy reads the header
    of every request, from a container or the host, and a sharing run's control port is the
    published one."""
    stack = make_stack({
        "auth": app(images, env={"GREETING": "from auth"},
                    delay_proxy={"scenario_header": "traceparent"}),
    })
    stack.start()
    mine, other = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"
    url = f"{stack.address('auth').url}/greeting"
    stack.delay("auth", 30, scenario=mine)
    traced = {"traceparent": f"00-{other}-00f067aa0ba902b7-01"}
    assert requests.get(url, headers=traced, timeout=10).text.startswith("hello, from auth")
    traced = {"traceparent": f"00-{mine}-00f067aa0ba902b7-01"}
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=traced, timeout=1)
    assert stack.heal() == ["auth delay removed"]
    assert requests.get(url, headers=traced, timeout=10).text.startswith("hello, from auth")
    control = stack.proxies["auth"].control_url()
    assert control.startswith("http://127.0.0.1:") and control.endswith("/delay")


def test_setting_a_delay_without_a_proxy_says_how_to_get_one(
    make_stack: Any, images: Images
) -> None:
    stack = make_stack({"auth": app(images)})
    stack.start()
    with pytest.raises(InterlockError) as caught:
        stack.delay("auth", 3.0)
    assert "delay_proxy: true" in caught.value.hint


def test_a_killed_service_is_healed_on_its_address_and_found_by_name_again(
    make_stack: Any, images: Images
) -> None:
    stack = make_stack({
        "auth": app(images, env={"GREETING": "again"}, delay_proxy=True),
        "orders": app(images, env={"AUTH_URL": "{auth.url}"}, depends_on=["auth"]),
    })
    stack.start()
    before = stack.address("auth").url
    stack.service("auth").kill()
    assert not stack.service("auth").is_running()
    with pytest.raises(requests.RequestException):
        requests.get(f"{before}/greeting", timeout=5).raise_for_status()
    assert stack.heal() == ["auth restarted"]
    assert stack.address("auth").url == before
    assert requests.get(f"{before}/greeting", timeout=10).text == "hello, again (greeting 1.0)"
    auth_url = env_of(stack.service("orders"))["AUTH_URL"]
    assert call(stack, "orders", f"{auth_url}/greeting").text == "hello, again (greeting 1.0)"


def test_an_unchanged_context_is_not_built_again_and_a_changed_one_is(
    engine: DockerEngine, images: Images, tmp_path: Path
) -> None:
    from tests.stack.docker_fixtures import BASE_IMAGE

    context = tmp_path / "context"
    shutil.copytree(images.context, context, ignore=shutil.ignore_patterns("logs"))
    spec = ContainerSpec("app", build=str(context), build_args={"BASE_IMAGE": BASE_IMAGE})
    lines: list[str] = []
    first = engine.build(spec, stack="tests", progress=lines.append)
    fresh = DockerEngine.connect()  # no memory of the first build but the image's label
    try:
        second = fresh.build(spec, stack="tests", progress=lines.append)
    finally:
        fresh.close()
    assert first == second == images.app  # same files, same base: the session's image
    assert lines[-1] == f"interlock: app: image of {context} is up to date"
    with (context / "interlock_test_app.py").open("a") as source:
        source.write("\n# changed\n")
    lines.clear()
    third = engine.build(spec, stack="tests", progress=lines.append)
    assert third != first
    assert lines == [f"interlock: app: building {context} (Dockerfile)"]
    engine.client.images.remove(third)
