"""Docker Compose files as stacks (stack/compose.py): every supported key, and every bad
input, read from real files; the compose services run on the real engine.

``compose_app/docker-compose.yaml`` uses what the demo's compose file does not: long-form
depends_on with service_completed_successfully (a migration job) and service_healthy, a
named volume, env_file, interpolation with .env, a bind mount, aliases, profiles.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from interlock._core.config import load_config
from interlock._core.errors import InterlockError
from interlock.stack.backends.docker import DockerEngine
from interlock.stack.backends.docker.service import DockerService
from interlock.stack.compose import load_compose
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec, layered, stack_services
from interlock.stack.stack import Stack

if TYPE_CHECKING:
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

APP = Path(__file__).parent / "compose_app"


def write(folder: Path, text: str, name: str = "docker-compose.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(folder: Path, text: str, **kwargs: Any) -> InterlockError:
    with pytest.raises(InterlockError) as caught:
        load_compose([write(folder, text)], environ=kwargs.pop("environ", {}), **kwargs)
    return caught.value


# --- reading: no engine needed ---------------------------------------------------------------


def test_every_supported_key_of_the_test_file_is_read() -> None:
    specs = load_compose([APP / "docker-compose.yaml"], environ={"APP_IMAGE": "app:1"})
    assert set(specs) == {"migrate", "api", "caller"}  # debug is in a profile not enabled
    api = specs["api"].docker
    assert api is not None and api.literal
    assert api.image == "app:1" and api.command == ("http",)
    assert api.port == 8000 and api.more_ports == ()
    assert api.env == {"API_MODE": "from-env-file", "GREETING": "compose", "FROM_LIST": "yes"}
    assert api.volumes == {"data": "/data:ro", str(APP / "static"): "/static:ro"}
    assert api.healthcheck == {"test": ["CMD-SHELL", "test -f /data/marker"],
                               "interval": 200_000_000, "timeout": 2_000_000_000, "retries": 50}
    assert api.aliases == ("api-alias",)
    assert specs["api"].depends_on == ("migrate",) and specs["api"].started_is_enough == ()
    assert specs["migrate"].job and not specs["api"].job
    migrate = specs["migrate"].docker
    assert migrate is not None
    assert migrate.entrypoint == ("sh", "-c", "echo migrated-7 > /data/marker")  # from .env
    assert specs["caller"].docker is not None and specs["caller"].docker.port == 8000


def test_profiles_enable_services_and_the_environment_wins_over_dot_env() -> None:
    specs = load_compose([APP / "docker-compose.yaml"], profiles=["debug"],
                         environ={"APP_IMAGE": "app:1", "SCHEMA_VERSION": "9"})
    assert "debug" in specs
    assert specs["migrate"].docker is not None
    assert "migrated-9" in specs["migrate"].docker.entrypoint[-1]
    more = load_compose([APP / "docker-compose.yaml"],
                        environ={"APP_IMAGE": "a", "COMPOSE_PROFILES": "debug"})
    assert "debug" in more


def test_files_merge_in_order(tmp_path: Path) -> None:
    base = write(tmp_path, """\
        services:
          web:
            image: web:1
            command: serve
            ports: ["8000"]
            environment: [A=1, B=2]
        """)
    over = write(tmp_path, """\
        services:
          web:
            command: [serve, --debug]
            ports: ["9000:9001"]
            environment: {B: "3"}
        """, "override.yaml")
    web = load_compose([base, over], environ={})["web"].docker
    assert web is not None
    assert web.command == ("serve", "--debug") and web.env == {"A": "1", "B": "3"}
    assert (web.port, web.more_ports) == (8000, (9001,))


def test_interpolation_forms(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        services:
          web:
            image: "${IMAGE-web}:${TAG:-latest}"
            environment:
              EMPTY_DEFAULT: "${EMPTY:-fallback}"
              EMPTY_KEPT: "${EMPTY-kept}"
              ALT: "${IMAGE:+yes}"
              DOLLAR: "$$HOME"
              PLAIN: "$TAG"
              NESTED: "${MISSING:-${TAG:-x}}"
              FROM_HOST:
        """)
    said: list[str] = []
    web = load_compose([path], environ={"EMPTY": "", "TAG": "2", "FROM_HOST": "h"},
                       warn=said.append)["web"]
    assert web.docker is not None
    assert web.docker.image == "web:2"
    assert web.docker.env == {"EMPTY_DEFAULT": "fallback", "EMPTY_KEPT": "", "ALT": "",
                              "DOLLAR": "$HOME", "PLAIN": "2", "NESTED": "2", "FROM_HOST": "h"}
    assert said == []  # every unset variable had a default
    load_compose([write(tmp_path, "services:\n  web:\n    image: web:${TAG}\n")], environ={},
                 warn=said.append)
    assert len(said) == 1 and "${TAG} is not set, so it is empty" in said[0]
    assert f"{tmp_path / 'docker-compose.yaml'}:3 (services.web.image)" in said[0]


def test_a_stack_file_names_compose_files_and_lays_its_settings_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(APP, tmp_path / "app")
    (tmp_path / "environment").mkdir()
    path = write(tmp_path / "environment", """\
        compose: {files: [app/docker-compose.yaml], profiles: [debug]}
        services:
          api:
            process: "{python} -m api"     # the process stage's way: not used here
            ready: {http: /health}
            env: {EXTRA: "{caller.url}"}
            openapi: api.yaml
          local: {process: "{python} -m local"}
        """, "interlock.yaml")
    monkeypatch.setenv("APP_IMAGE", "app:1")
    services = stack_services(load_config(path))
    assert set(services) == {"migrate", "api", "caller", "debug", "local"}
    api = services["api"]
    assert api.process is None and api.docker is not None
    assert api.ready is not None and api.ready.kind == "http"
    assert api.openapi == "api.yaml" and api.env == {"EXTRA": "{caller.url}"}
    assert api.where.endswith("(services.api)") and "docker-compose.yaml" in api.where


def _stack_file(tmp_path: Path, text: str) -> Path:
    shutil.copytree(APP, tmp_path / "app", dirs_exist_ok=True)
    (tmp_path / "environment").mkdir(exist_ok=True)
    return write(tmp_path / "environment", text, "interlock.yaml")


def test_passwords_written_in_a_compose_file_are_secrets(tmp_path: Path) -> None:
    from interlock.suite import Suite

    (tmp_path / "environment").mkdir()
    write(tmp_path, """\
        services:
          db: {image: x, environment: {DB_PASSWORD: hunter2-compose, DB_USER: app}}
        """)
    path = write(tmp_path / "environment", "compose: docker-compose.yaml\n", "interlock.yaml")
    suite = Suite.load(path, progress=lambda line: None)
    try:
        assert suite.secrets.redact("pw hunter2-compose, user app") == "pw ***, user app"
    finally:
        suite.close()


@pytest.mark.parametrize(("text", "title", "line"), [
    ("compose: app/missing.yaml\n", "Compose file not found", 1),
    ("compose: {files: app/docker-compose.yaml, profile: [x]}\n",
     'Unknown field "profile" in compose', 1),
    ("compose: app/docker-compose.yaml\nservices:\n  api:\n    depends_on: [nowhere]\n",
     'Service "api" depends on unknown service "nowhere"', 4),
    ("compose: app/docker-compose.yaml\nservices:\n  api:\n    openapi: none.yaml\n",
     'Service "api"', 4),
    ("compose: app/docker-compose.yaml\nservices:\n  api:\n    redy: {http: /}\n",
     'Unknown field "redy"', 4),
])
def test_the_stack_file_s_compose_mistakes_name_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, title: str,
        line: int) -> None:
    from interlock.suite import Suite

    monkeypatch.setenv("APP_IMAGE", "app:1")
    path = _stack_file(tmp_path, text)
    with pytest.raises(InterlockError) as caught:
        Suite.load(path, progress=lambda line: None).close()
    assert title in caught.value.title, caught.value.render()
    assert f"{path}:{line}" in caught.value.where, caught.value.render()


@pytest.mark.parametrize(("text", "title", "line", "hint"), [
    ("services:\n  web:\n    image: x\n    restart: always\n",
     'The compose key "restart" is not supported', 4, "image, build, command"),
    ("services:\n  web:\n    image: x\n    depends_on: [db]\n",
     'depends on unknown service "db"', 4, ""),
    ("services:\n  web:\n    image: x\n    build: ./nowhere\n",
     "The build context", 4, "relative to the compose file"),
    ("services:\n  web:\n    image: ${IMAGE:?give the image}\n",
     "Variable IMAGE is unset or empty: give the image", 3, "Set IMAGE"),
    ("services:\n  web:\n    image: x\n    ports: ['53:53/udp']\n",
     "only TCP ports", 4, ""),
    ("services:\n  web:\n    image: x\n    volumes: ['cache:/cache']\n",
     'Volume "cache" is not declared', 4, "volumes:"),
    ("services:\n  web:\n    image: x\nvolumes:\n  data: {external: true}\n",
     'The compose key "volumes.data.external" is not supported', 5, "one per run"),
    ("services:\n  web:\n    image: x\nsecrets: {}\n",
     'The compose top-level key "secrets" is not supported', 4, ""),
    ("services:\n  web:\n    image: x\n    depends_on: {db: {condition: service_ready}}\n"
     "  db:\n    image: y\n", 'Unknown depends_on condition "service_ready"', 4, ""),
    ("services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: y\n"
     "    profiles: [extra]\n", 'whose profiles are not enabled', 4, "COMPOSE_PROFILES"),
    ("services:\n  web: [\n", "not valid YAML", 0, ""),
    ("services:\n  Web_App:\n    image: x\n", "is not a plain name", 2, "rename"),
    ("services:\n  web:\n    image: x\n    enviroment: {A: b}\n",
     'The compose key "enviroment" is not supported', 4, 'Did you mean "environment"?'),
    ("services:\n  web:\n    image: x\n    healthcheck: {test: [CMD, x], retries: many}\n",
     "healthcheck.retries must be a whole number, not 'many'", 4, "retries: 5"),
])
def test_bad_input_names_what_where_and_how(tmp_path: Path, text: str, title: str, line: int,
                                            hint: str) -> None:
    error = refused(tmp_path, text)
    assert title in error.title
    path = str(tmp_path / "docker-compose.yaml")
    assert path in error.where
    if line:
        assert f"{path}:{line}" in error.where, error.render()
    assert hint in error.hint


def test_a_cycle_is_refused_by_the_stack(tmp_path: Path) -> None:
    specs = load_compose([write(tmp_path, """\
        services:
          a: {image: x, depends_on: [b]}
          b: {image: x, depends_on: {a: {condition: service_healthy}}}
        """)], environ={})
    with pytest.raises(InterlockError, match="in a circle: a → b → a"):
        Stack("default", specs, run_dir=tmp_path / "run", progress=lambda line: None)


# --- on the real engine ----------------------------------------------------------------------


@pytest.fixture
def compose_stack(engine: DockerEngine, images: Images, run_id: str, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("APP_IMAGE", images.app)
    stacks: list[Stack] = []

    def make(specs: dict[str, ServiceSpec], backend: str = "process") -> Stack:
        stack = Stack("default", specs, run_dir=tmp_path / "run", backend=backend,
                      registry=RunRegistry(tmp_path / "runs", run_id=run_id),
                      progress=lambda line: None)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
    assert run_id not in engine.runs(), "the compose stack left containers, networks or volumes"


@pytest.mark.docker
def test_the_compose_stack_runs_on_the_engine(compose_stack: Any, images: Images,
                                             engine: DockerEngine) -> None:
    # The process backend: compose services fall back to the Docker backend by themselves.
    stack = compose_stack(load_compose([APP / "docker-compose.yaml"]))
    stack.start()
    api = stack.service("api")
    assert isinstance(api, DockerService)
    # the fixed host port 8080 is not taken: a free one on 127.0.0.1
    assert api.address.host == "127.0.0.1" and api.address.port != 8080
    answer = requests.get(f"{api.address.url}/greeting", timeout=10)
    assert answer.text.startswith("hello, compose")
    env = dict(item.split("=", 1) for item in api.container.attrs["Config"]["Env"])
    assert env["API_MODE"] == "from-env-file" and env["FROM_LIST"] == "yes"
    # the job ran to completion before api started, and wrote into the named volume
    assert api.run(["cat", "/data/marker"]).strip() == "migrated-7"
    assert api.run(["cat", "/static/index.txt"]).strip() == "hello"
    assert stack.service("migrate").is_running()  # done counts: it is not restarted
    assert stack.heal() == []
    # everything is labelled with the run: a killed run's sweep finds it
    run = {"label": f"interlock.run={stack.run_id}"}
    assert len(engine.client.containers.list(all=True, filters=run)) == 3
    assert [v.name for v in engine.client.volumes.list(filters=run)] == [
        f"interlock-{stack.run_id}-default-data"]
    # its alias on the stack network, from another compose service
    caller = stack.service("caller")
    seen = requests.get(f"{caller.address.url}/call?url=http://api-alias:8000/health",
                        timeout=10)
    assert seen.text == "ok"
    # faults reach compose services as they reach the others
    api.pause()
    assert api.paused
    stack.heal()
    assert not api.paused


@pytest.mark.docker
def test_a_failing_job_stops_the_start_and_leaves_nothing(compose_stack: Any,
                                                          tmp_path: Path) -> None:
    specs = load_compose([write(tmp_path, """\
        services:
          migrate:
            image: ${APP_IMAGE}
            command: exit
          api:
            image: ${APP_IMAGE}
            depends_on: {migrate: {condition: service_completed_successfully}}
        """)])
    stack = compose_stack(specs)
    with pytest.raises(InterlockError) as caught:
        stack.start()
    assert 'Service "migrate" exited before it was ready (exit code 3)' in caught.value.title
    assert "giving up" in caught.value.details
    assert "api" not in stack.running


@pytest.mark.docker
def test_an_image_not_on_this_machine_is_an_error_not_a_pull(compose_stack: Any,
                                                             tmp_path: Path) -> None:
    specs = load_compose([write(tmp_path, """\
        services:
          web: {image: "interlock-tests/not-here:0"}
        """)])
    with pytest.raises(InterlockError, match='Image "interlock-tests/not-here:0" of service '
                       '"web" is not on this machine'):
        compose_stack(specs, backend="docker").start()


@pytest.mark.docker
def test_a_build_with_dockerfile_args_and_target(compose_stack: Any, tmp_path: Path) -> None:
    from tests.stack.docker_fixtures import BASE_IMAGE

    context = tmp_path / "svc"
    context.mkdir()
    (context / "Dockerfile.compose").write_text(textwrap.dedent("""\
        ARG BASE_IMAGE=python:3.11-slim
        FROM ${BASE_IMAGE} AS base
        ARG FLAVOUR=plain
        RUN echo "$FLAVOUR" > /flavour
        FROM base AS test
        RUN echo test > /stage
        FROM base AS release
        RUN echo release > /stage
        """))
    specs = load_compose([write(tmp_path, f"""\
        services:
          svc:
            build:
              context: ./svc
              dockerfile: Dockerfile.compose
              args: [BASE_IMAGE={BASE_IMAGE}, FLAVOUR=mint]
              target: test
            entrypoint: sh -c
            command: ["cat /flavour /stage; sleep 600"]
            ports: [{{target: 9000, published: 9000}}]
        """)])
    assert specs["svc"].docker is not None and specs["svc"].docker.port == 9000
    # Nothing listens on 9000: the stack file's readiness check, laid over, says when it is.
    specs["svc"] = layered(specs["svc"], {"ready": {"log": "^test$"}}, "interlock.yaml:1")
    stack = compose_stack(specs)
    stack.start()
    svc = stack.service("svc")
    assert svc.address.port not in (0, 9000)
    assert svc.run(["cat", "/flavour", "/stage"]).split() == ["mint", "test"]


@pytest.mark.docker
def test_the_sweep_removes_what_a_killed_compose_run_left(
        engine: DockerEngine, images: Images, run_id: str, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    script = textwrap.dedent(f"""
        import pathlib, threading
        from interlock.stack.compose import load_compose
        from interlock.stack.registry import RunRegistry
        from interlock.stack.stack import Stack
        specs = load_compose([pathlib.Path({str(APP / "docker-compose.yaml")!r})])
        registry = RunRegistry(pathlib.Path({str(tmp_path / "runs")!r}), run_id={run_id!r})
        stack = Stack("default", specs, run_dir=pathlib.Path({str(tmp_path / "run")!r}),
                      registry=registry, progress=lambda line: None)
        stack.start()
        print("UP", flush=True)
        threading.Event().wait()
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "APP_IMAGE": images.app}
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert owner.stdout is not None
    line = owner.stdout.readline()
    while line and not line.startswith("UP"):
        line = owner.stdout.readline()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert line.startswith("UP"), "the compose stack did not start"
    assert run_id in engine.runs()  # the killed run left its containers behind

    removed = engine.sweep()  # by the owner label: its process is gone

    def mine(names: list[str]) -> list[str]:  # another killed run may be swept too
        return sorted(name for name in names if run_id in name)

    assert mine(removed.containers) == sorted(
        f"interlock-{run_id}-default-{name}" for name in ("migrate", "api", "caller"))
    assert mine(removed.volumes) == [f"interlock-{run_id}-default-data"]
    assert mine(removed.networks) == [f"interlock-{run_id}-default"]
    assert run_id not in engine.runs()


def test_the_demo_compose_stage_reads_as_the_demo_system() -> None:
    """INTERLOCK_STAGE=compose (make demo-compose): demo/docker-compose.yaml with the stack
    file's settings laid over; the reference suite runs on it in CI."""
    root = Path(__file__).resolve().parents[2]
    services = stack_services(load_config(root / "environment" / "interlock.yaml",
                                          stage="compose"))
    assert {"db", "db-init", "nats", "auth", "orders", "notifications", "analytics",
            "orders-limited"} <= set(services)
    assert services["db-init"].job
    orders = services["orders"]
    assert orders.docker is not None and orders.docker.literal and orders.process is None
    assert orders.docker.env["NATS_URL"] == "nats://nats:4222" and orders.env == {}
    assert orders.ready is not None and orders.ready.kind == "http" and orders.check_contract
    assert services["auth"].delay_proxy and "AUTH_JWT_SECRET" in services["auth"].env
    assert "db-init" in services["orders-limited"].depends_on
