"""Runs that end in an unusual way leave nothing behind (issue 9 §3).

Stopping at interpreter exit must not need a thread pool (``concurrent.futures`` refuses new
work then), and the run record stays until every process it names is gone, so that the next
run's sweep finds what a killed run left.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
  api:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
"""

SCENARIOS = "".join(f"""
  Scenario: health {n}
    When I send GET "/health" to "web"
    Then the response status is 200
""" for n in range(8))


def tiny_processes() -> set[int]:
    found = set()
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "tiny_service.py" in cmdline and "--port" in cmdline:
            found.add(process.pid)
    return found


def records(suite: MiniSuite) -> list[Path]:
    return list((suite.root / ".interlock" / "runs").glob("*.json"))


def assert_nothing_left(suite: MiniSuite, before: set[int]) -> None:
    mine = [psutil.Process(pid) for pid in tiny_processes() - before if psutil.pid_exists(pid)]
    _gone, alive = psutil.wait_procs(mine, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "services left running"
    assert records(suite) == []


@pytest.fixture
def suite(tmp_path: Path) -> MiniSuite:
    made = mini_suite(tmp_path, SERVICES)
    made.write("features/many.feature", "Feature: many\n" + SCENARIOS)
    return made


def test_a_run_whose_output_pipe_closes_stops_everything(suite: MiniSuite) -> None:
    """``behave | head -5``: BrokenPipe at exit; the services still stop."""
    before = tiny_processes()
    run = subprocess.Popen(suite.command(), cwd=suite.root, env=suite.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.stdout is not None and run.stderr is not None
    for _ in range(5):
        run.stdout.readline()
    run.stdout.close()  # what `head -5` does after its fifth line
    errors = run.stderr.read()
    run.wait(timeout=120)
    assert "cannot schedule new futures" not in errors
    assert "problems while stopping" not in errors, errors[-2000:]
    assert_nothing_left(suite, before)


def test_an_exception_in_after_all_still_stops_everything(suite: MiniSuite) -> None:
    suite.write("environment.py", """
        from interlock.behave.hooks import *  # noqa


        def after_all(context):
            raise RuntimeError("the suite's own after_all fails")
    """)
    before = tiny_processes()
    result = suite.run()
    assert "the suite's own after_all fails" in result.stdout + result.stderr
    assert "cannot schedule new futures" not in result.stderr
    assert_nothing_left(suite, before)


def test_a_sigterm_while_the_run_stops_its_services_waits_until_they_are_stopped(
        suite: MiniSuite) -> None:
    """A CI runner's stop reaches the run while it closes (every process of a run is sent
    SIGTERM, one after the other): the services, the run's folder and its record are gone
    before the signal ends the run."""
    suite.write("environment.py", """
        import os
        import signal

        from interlock.behave import hooks
        from interlock.behave.hooks import *  # noqa


        def before_all(context):
            hooks.before_all(context)
            context.interlock_suite.on_close(lambda: os.kill(os.getpid(), signal.SIGTERM))
    """)
    before = tiny_processes()
    folders = set(Path("/dev/shm").glob("interlock-*"))
    try:
        result = suite.run()
        said = result.stdout + result.stderr
        assert_nothing_left(suite, before)
        assert set(Path("/dev/shm").glob("interlock-*")) <= folders
        assert result.returncode != 0 and "stopping what this run started first" in said, said
        assert said.index("stopping what this run started first") < said.index(
            "KeyboardInterrupt")  # (the run's own answer to SIGTERM, once all is stopped)
    finally:
        for pid in tiny_processes() - before:
            psutil.Process(pid).kill()


def test_services_of_a_killed_run_are_swept_by_the_next_run(suite: MiniSuite) -> None:
    """SIGKILL to behave alone: its services are orphaned; the next run removes them."""
    suite.write("features/slow.feature", """
        Feature: slow
          Scenario: waits
            When I send GET "/health" to "web"
            Then within 60 seconds, the response status is 599
    """)
    before = tiny_processes()
    run = suite.start("features/slow.feature")
    assert run.stdout is not None
    for line in run.stdout:  # wait until the scenario is running
        if "When I send GET" in line:
            break
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    orphans = tiny_processes() - before
    assert len(orphans) == 2, "both services outlive the killed run"
    assert len(records(suite)) == 1

    result = suite.run("features/many.feature")

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr.count("interlock: swept process") == 2
    assert_nothing_left(suite, before)
