"""The hooks with a real behave run: cleanup on Ctrl-C and SIGTERM, hook errors, a service
that crashes mid-scenario, a bad stack file, and user mistakes without tracebacks."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import psutil
import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
"""


def started_services(output: str) -> list[int]:
    return [int(line.split("port")[-1]) for line in output.splitlines() if "ready at" in line]


def tiny_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "tiny_service.py" in cmdline and "--port" in cmdline:
            found.append(process)
    return found


@pytest.fixture
def suite(tmp_path: Path) -> MiniSuite:
    return mini_suite(tmp_path, SERVICES)


def test_a_passing_run_starts_and_stops_its_services(suite: MiniSuite) -> None:
    suite.write("features/ok.feature", """
        Feature: ok
          Scenario: health
            When I send GET "/health" to "web"
            Then the response status is 200
            And the response JSON at "$.status" is "ok"
    """)
    before = {p.pid for p in tiny_processes()}
    result = suite.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "interlock: web ready at http://127.0.0.1:" in result.stderr
    assert {p.pid for p in tiny_processes()} - before == set()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_everything(suite: MiniSuite, sig: signal.Signals) -> None:
    suite.write("features/slow.feature", """
        Feature: slow
          Scenario: waits
            When I send GET "/health" to "web"
            Then within 60 seconds, the response status is 599
    """)
    before = {p.pid for p in tiny_processes()}
    run = suite.start()
    assert run.stdout is not None
    for line in run.stdout:  # wait until the scenario is running
        if "When I send GET" in line:
            break
    mine = [p for p in tiny_processes() if p.pid not in before]
    assert mine, "the service should be running during the scenario"
    run.send_signal(sig)
    run.wait(timeout=60)
    assert run.returncode != 0
    _gone, alive = psutil.wait_procs(mine, timeout=10)
    assert not alive
    assert not any((suite.root / ".interlock" / "runs").glob("*.json"))


def test_a_service_that_dies_mid_scenario_fails_it_and_is_healed(suite: MiniSuite) -> None:
    suite.write("features/crash.feature", """
        Feature: crash
          Scenario: the service dies under us
            When I send GET "/crash" to "web"
            Then the response status is 200

          Scenario: later scenarios get a healthy stack
            When I send GET "/health" to "web"
            Then the response status is 200
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Service "web" stopped unexpectedly' in output
    assert "crashing on purpose" in output  # its log tail is shown
    assert "interlock: healed web restarted" in output
    assert "1 scenario passed" in output


def test_a_bad_stack_file_names_the_field_and_line_without_traceback(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    redy: {http: /health}
""")
    suite.write("features/x.feature", "Feature: x\n  Scenario: y\n    Given I am not logged in\n")
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Unknown field "redy"' in output
    assert "interlock.yaml:4 (services.web.redy)" in output
    assert 'did you mean "ready"' in output
    assert "Traceback" not in output


def test_a_start_failure_is_reported_broken_in_allure_and_exits_non_zero(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, """
services:
  web:
    process: {command: "{tiny} --port {port} --exit-at-start"}
    ready: {http: /health}
""")
    suite.write("features/x.feature", """
        Feature: x
          Scenario: y
            When I send GET "/health" to "web"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Service "web" exited before it was ready' in output
    assert "configuration missing" in output  # the log tail
    statuses = [json.loads(p.read_text())["status"]
                for p in suite.results.glob("*-result.json")]
    assert statuses and all(s in ("broken", "failed", "skipped") for s in statuses)


def test_a_user_mistake_in_a_step_reads_cleanly(suite: MiniSuite) -> None:
    suite.write("features/typo.feature", """
        Feature: typo
          Scenario: unknown variable and service
            When I send GET "/orders/{ordr_id}" to "web"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert 'Suite error: Unknown variable "{ordr_id}"' in output
    assert "features/typo.feature:3" in output
    assert "Traceback" not in output


def test_isolated_and_named_stacks(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
  other:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
stacks:
  small: [other]
""")
    for name, tags in (("a", ""), ("b", "@isolated"), ("c", "@stack.small")):
        suite.write(f"features/{name}.feature", f"""
            {tags}
            Feature: {name}
              Scenario: {name}
                When I send GET "/health" to "{'other' if name == 'c' else 'web'}"
                Then the response status is 200
                And I remember the response header "Content-Type" as "x"
        """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "starting an isolated stack for features/b.feature" in output
    web_lines = [line for line in output.splitlines() if "interlock: web ready at" in line]
    assert len(web_lines) == 2  # the shared stack, and the isolated feature's own
    assert len({line.split("ready at ")[1].split()[0] for line in web_lines}) == 2
    assert "stack 'small' ready: 1 services" in output


SECRET_SERVICES = """
secrets: {key: "{uuid}"}
services:
  web:
    process: {command: "{tiny} --port {port}"}
    env: {TINY_SECRET: "{secrets.key}"}
    ready: {http: /health}
"""


def test_a_kept_up_stack_is_reused(tmp_path: Path) -> None:
    """With its secrets: the reusing run's {secrets.key} is the one the service was started
    with (else logins against a kept-up auth service get 401), and `stack logs` hides it."""
    import subprocess
    import sys

    suite = mini_suite(tmp_path, SECRET_SERVICES)
    suite.write("features/ok.feature", """
        Feature: ok
          Scenario: health
            When I send GET "/health" to "web"
            Then the response status is 200
            When I send GET "/env/TINY_SECRET" to "web"
            Then the response JSON at "$.value" is "{secrets.key}"
    """)
    env = suite.env()
    keeper = subprocess.Popen([sys.executable, "-m", "interlock.cli", "stack", "up"],
                              cwd=suite.root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert keeper.stdout is not None
        for line in keeper.stdout:
            if "is up" in line:
                break
        ps = subprocess.run([sys.executable, "-m", "interlock.cli", "stack", "ps"],
                            cwd=suite.root, env=env, capture_output=True, text=True, check=True)
        assert "web" in ps.stdout and "http://127.0.0.1:" in ps.stdout
        reuse = subprocess.run(suite.command(), cwd=suite.root,
                               env={**env, "INTERLOCK_REUSE": "1"},
                               capture_output=True, text=True, timeout=120, check=False)
        output = reuse.stdout + reuse.stderr
        assert reuse.returncode == 0, output[-3000:]
        assert "reusing the stack kept up by pid" in output
        assert "web ready at" not in output  # nothing was started
        state = suite.root / ".interlock" / "stack.json"
        assert state.stat().st_mode & 0o077 == 0  # it holds the secrets: its owner's only
        key = json.loads(state.read_text())["secrets"]["key"]
        logs = subprocess.run([sys.executable, "-m", "interlock.cli", "stack", "logs", "web"],
                              cwd=suite.root, env=env, capture_output=True, text=True,
                              check=True)
        assert "starting tiny service, secret=" in logs.stdout
        assert key not in logs.stdout
        subprocess.run([sys.executable, "-m", "interlock.cli", "stack", "down"],
                       cwd=suite.root, env=env, check=True, capture_output=True)
        keeper.wait(timeout=30)
    finally:
        if keeper.poll() is None:
            keeper.kill()
    assert not (suite.root / ".interlock" / "stack.json").exists()
