"""Ctrl-C and SIGTERM to a behave run on the Docker backend: every container, network and
volume of the run is gone afterwards (found by the owner label the run put on them)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from interlock.stack.backends.docker import DockerEngine
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


def test_a_container_dying_during_a_passing_scenario_fails_it(tmp_path: Path, engine: DockerEngine,
                                                              images: Images) -> None:
    suite = mini_suite(tmp_path, f"""
suite: {{backend: docker}}
services:
  web:
    docker: {{image: "{images.app}", port: 8000, command: [http]}}
    ready: {{http: /health}}
""")
    suite.write("steps/behind_our_back.py", """
        from behave import when

        @when("the web container dies behind our back")
        def dies(context):
            context.interlock_world.stack.running["web"].container.kill()
    """)
    suite.write("features/dies.feature", """
        Feature: dies
          Scenario: every step passes, but a service died
            When I send GET "/health" to "web"
            And the web container dies behind our back
            Then the response status is 200

          Scenario: the next one has it back
            When I send GET "/health" to "web"
            Then the response status is 200
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Service "web" stopped unexpectedly during this scenario' in output
    assert "features/dies.feature:2" in output
    assert "interlock: healed web restarted" in output
    assert "1 scenario passed" in output
