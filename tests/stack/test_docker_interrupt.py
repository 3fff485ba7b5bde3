"""Ctrl-C and SIGTERM to a behave run on the Docker backend: every container, network and
volume of the run is gone afterwards (found by the owner label the run put on them)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from interlock.stack.docker import DockerEngine
from tests.behave.suite_builder import mini_suite

if TYPE_CHECKING:
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

pytestmark = pytest.mark.docker


def owned_by(engine: DockerEngine, pid: int) -> list[str]:
    prefix = f"{socket.gethostname()}/{pid}/"
    found = []
    for kind in (engine.client.containers.list(all=True), engine.client.networks.list(),
                 engine.client.volumes.list()):
        for item in kind:
            labels = (getattr(item, "labels", None) or item.attrs.get("Labels") or {})
            if str(labels.get("interlock.owner", "")).startswith(prefix):
                found.append(getattr(item, "name", "?"))
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_docker_run_leaves_nothing(tmp_path: Path, engine: DockerEngine,
                                                  images: Images, sig: signal.Signals) -> None:
    suite = mini_suite(tmp_path, f"""
suite: {{backend: docker}}
services:
  web:
    docker: {{image: "{images.app}", port: 8000, command: [http]}}
    ready: {{http: /health}}
""")
    suite.write("features/slow.feature", """
        Feature: slow
          Scenario: waits
            When I send GET "/health" to "web"
            Then within 60 seconds, the response status is 599
    """)
    run = suite.start()
    assert run.stdout is not None
    for line in run.stdout:
        if "When I send GET" in line:
            break
    assert owned_by(engine, run.pid), "the run's container should exist while it runs"
    run.send_signal(sig)
    run.wait(timeout=90)
    assert run.returncode != 0
    deadline = time.monotonic() + 10
    while owned_by(engine, run.pid) and time.monotonic() < deadline:
        time.sleep(0.2)  # removal is asynchronous on the engine's side
    assert owned_by(engine, run.pid) == []
