"""Fixtures for the Docker backend's tests: a real engine, tiny images, a run id per test.

The engine is the real one (``make docker-setup`` starts it). Without it the tests skip with
the reason, unless INTERLOCK_REQUIRE_DOCKER=1 (CI), where they fail.

The images are built once per session from ``docker_app/`` on ``interlock/python-base:bookworm``
with no network in the build: the one Python package they need comes from a wheel written
here into the build context (a wheelhouse), the way a suite ships its services' dependencies.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from interlock._core.errors import InterlockError
from interlock.stack.backends.docker import ContainerSpec, DockerEngine

BASE_IMAGE = os.environ.get("INTERLOCK_BASE_IMAGE", "interlock/python-base:bookworm")
APP = Path(__file__).parent / "docker_app"
SESSION = f"t{uuid.uuid4().hex[:6]}"  # every run id of this test session starts with it


def _unavailable(reason: str) -> None:
    if os.environ.get("INTERLOCK_REQUIRE_DOCKER") == "1":
        pytest.fail(f"INTERLOCK_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    short = "; ".join(line.strip() for line in reason.splitlines() if "hint:" not in line)
    pytest.skip(f"{short} (start one with `make docker-setup`)")


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    """The local engine; at the end, nothing labelled by this session may remain."""
    try:
        engine = DockerEngine.connect(build_network="none")
    except InterlockError as err:
        _unavailable(str(err))
    try:
        engine.client.images.get(BASE_IMAGE)
    except Exception:
        _unavailable(f"the base image {BASE_IMAGE} is missing")
    yield engine
    left = [run for run in engine.runs() if run.startswith(SESSION)]
    for run in left:
        engine.remove_run(run)
    engine.close()
    assert not left, f"runs left behind by the Docker tests: {left}"


@dataclass(frozen=True)
class Images:
    """Image ids built for the session, and how long each build took."""

    app: str
    health: str
    context: Path
    seconds: dict[str, float]


def write_wheel(folder: Path, name: str = "greeting", version: str = "1.0") -> Path:
    """A real, minimal pure-Python wheel (what `pip wheel` would make), written by hand.

    It keeps the session offline: the image installs it with `pip install --no-index`.
    """
    files = {
        f"{name}/__init__.py": f'VERSION = "{version}"\n\n\ndef greet(who):\n'
        '    return f"hello, {who}"\n',
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"
        f"Version: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: interlock-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        lines.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[record] = "\n".join([*lines, f"{record},,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            # A fixed date makes the same bytes every session, so Docker's build cache holds.
            archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return wheel


@pytest.fixture(scope="session")
def images(engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Images:
    """The test app image (offline build from a wheelhouse) and one with a HEALTHCHECK."""
    context = tmp_path_factory.mktemp("docker-app")
    shutil.copytree(APP, context, dirs_exist_ok=True)
    write_wheel(context / "wheelhouse")
    logs = context / "logs"
    seconds = {}
    started = time.monotonic()
    app = engine.build(
        ContainerSpec("app", build=str(context), build_args={"BASE_IMAGE": BASE_IMAGE}),
        stack="tests", log_dir=logs,
    )
    seconds["app"] = time.monotonic() - started
    started = time.monotonic()
    health = engine.build(
        ContainerSpec("app-health", build=str(context), dockerfile="Dockerfile.health",
                      build_args={"APP_IMAGE": app}),
        stack="tests", log_dir=logs,
    )
    seconds["health"] = time.monotonic() - started
    print(f"\nimage builds: {', '.join(f'{k} {v:.2f} s' for k, v in seconds.items())}")
    return Images(app, health, context, seconds)


@pytest.fixture
def run_id(engine: DockerEngine) -> Iterator[str]:
    """A fresh run id; everything labelled with it is removed after the test, and checked gone."""
    run = f"{SESSION}-{uuid.uuid4().hex[:6]}"
    yield run
    engine.remove_run(run)
    assert run not in engine.runs(), f"run {run} still has containers, networks or volumes"
