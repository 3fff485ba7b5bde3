"""What a scenario is told about a service it cannot reach (issue 9 §4): one it broke on
purpose says which step did; one that died by itself is a failure of the system (not a suite
error), with what it logged during this scenario only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.behave.suite_builder import mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
"""


def test_a_service_the_scenario_stopped_says_which_step_stopped_it(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/fault.feature", """
        Feature: faults
          Scenario: calls what it stopped
            When the "web" service is stopped
            And I send GET "/health" to "web"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert ('Cannot reach the "web" service: GET /health' in output
            and "GET http://127.0.0.1:" in output
            and "it was stopped by this scenario at features/fault.feature:3" in output), output


def test_a_service_that_died_by_itself_is_a_failure_with_this_scenarios_log(
    tmp_path: Path,
) -> None:
    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/crash.feature", """
        Feature: crash
          Scenario: an earlier scenario leaves lines in the log
            When I send GET "/from-the-earlier-scenario" to "web"
            Then the response status is 200

          Scenario: the service dies under us
            When I send GET "/crash" to "web"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Service "web" stopped unexpectedly during this step' in output
    assert "Suite error" not in output
    assert "crashing on purpose" in output
    assert "/from-the-earlier-scenario" not in output.split("stopped unexpectedly")[1]
    statuses = {}
    for path in suite.results.glob("*-result.json"):
        result_json = json.loads(path.read_text())
        statuses[result_json["name"]] = result_json["status"]
    assert statuses["the service dies under us"] == "failed"  # the system's fault, not broken
