"""A set-up error (a service that does not start, a bad stack file) in a real behave run: printed
once with the scenarios it stopped; in Allure each of them broken with the whole message, a
trace that does not grow from one scenario to the next and holds no framework frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.behave.suite_builder import MiniSuite, mini_suite


def _web_suite(root: Path, flags: str = "", ready: str = "ready") -> MiniSuite:
    """A suite of one service, "web" (the tiny service, with ``flags``), ready on /health
    (under the key ``ready``)."""
    return mini_suite(root, f"""
services:
  web:
    process: {{command: "{{tiny}} --port {{port}}{flags}"}}
    {ready}: {{http: /health}}
""")


def _features(suite: MiniSuite, step: str) -> list[str]:
    stopped = []
    for feature in ("one", "two"):
        lines = [f"Feature: {feature}"]
        for n, scenario in enumerate(("a", "b", "c")):
            lines += [f"  Scenario: {feature} {scenario}", f"    {step}"]
            stopped.append(f"features/{feature}.feature:{2 + 2 * n}  {feature} {scenario}")
        suite.write(f"features/{feature}.feature", "\n".join(lines) + "\n")
    return stopped


def _results(suite: MiniSuite) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in suite.results.glob("*-result.json")]


def _no_framework_frames(trace: str) -> bool:
    return "interlock/" not in trace and "behave/" not in trace


def test_a_service_that_does_not_start_is_said_once_and_breaks_each_scenario(
        tmp_path: Path) -> None:
    suite = _web_suite(tmp_path, flags=" --exit-at-start")
    stopped = _features(suite, 'When I send GET "/health" to "web"')
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # the whole error (its log tail says "configuration missing") once, with what it stopped
    assert output.count("configuration missing") == 1, output
    assert "interlock: set-up error, which stopped 6 scenarios:" in output
    listing = output.split("stopped:", 1)[1]
    assert all(scenario in listing for scenario in stopped)
    results = _results(suite)
    assert len(results) == 6
    traces = set()
    for found in results:
        assert found["status"] == "broken", found["name"]
        details = found["statusDetails"]
        assert details["message"] == 'Service "web" exited before it was ready'
        # the detail (its log tail) below the one line reports group by
        assert "configuration missing" in details["trace"]
        traces.add(details.get("trace") or "")
        assert _no_framework_frames(details.get("trace") or "")
    assert len(traces) == 1  # the same for every scenario: nothing stacks up


def test_a_bad_stack_file_is_said_once_and_breaks_each_scenario(tmp_path: Path) -> None:
    suite = _web_suite(tmp_path, ready="redy")  # a misspelt key
    stopped = _features(suite, "Given I am not logged in")
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count('did you mean "ready"') == 1, output
    assert "interlock: set-up error, which stopped 6 scenarios:" in output
    assert all(scenario in output for scenario in stopped)
    assert "Traceback" not in output
    for found in _results(suite):
        assert found["status"] == "broken"
        assert 'Unknown field "redy"' in found["statusDetails"]["message"]
        assert _no_framework_frames(found["statusDetails"].get("trace") or "")


def test_a_suite_error_in_a_step_carries_no_framework_frames(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    suite.write("features/typo.feature", """
        Feature: typo
          Scenario: an unknown variable
            When I send GET "http://127.0.0.1:1/{ordr_id}"
    """)
    result = suite.run()
    assert result.returncode != 0
    [found] = _results(suite)
    assert 'Suite error: Unknown variable "{ordr_id}"' in found["statusDetails"]["message"]
    assert _no_framework_frames(found["statusDetails"].get("trace") or "")


def test_a_fault_of_interlock_itself_keeps_its_traceback() -> None:
    from interlock.behave.setup_errors import SetupErrors

    try:
        {}["missing"]  # a bug, not a suite mistake
    except KeyError as err:
        bug = err
    errors = SetupErrors()
    errors.add(bug, "features/a.feature:2  a")
    text = errors.render()
    assert "Traceback (most recent call last)" in text
    assert "KeyError: 'missing'" in text


def test_a_second_allure_formatter_is_said_not_a_traceback(tmp_path: Path) -> None:
    """behave adds ``-f`` formats to the configured ones: a suite configured with Interlock's
    Allure formatter and run with allure-behave's too has two, and allure-behave follows one
    scenario at a time (a KeyError at the end of the first scenario, before). Now: one set-up
    error that names both; the first formatter's results say why each scenario was stopped."""
    suite = _web_suite(tmp_path)
    stopped = _features(suite, 'When I send GET "/health" to "web"')
    other = tmp_path / "other-results"
    result = suite.run("-f", "allure_behave.formatter:AllureFormatter", "-o", str(other))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output and "KeyError" not in output, output[-3000:]
    assert "2 Allure formatters in one run" in output
    assert f"allure_behave.formatter:AllureFormatter (writing to {other})" in output
    assert "leave the Allure formatter out of -f" in output
    assert "web ready" not in output  # nothing started
    listing = output.split("stopped:", 1)[1]
    assert all(scenario in listing for scenario in stopped)
    assert sorted(r["status"] for r in _results(suite)) == ["broken"] * 6
    assert not list(other.glob("*-result.json"))  # the second one wrote nothing
