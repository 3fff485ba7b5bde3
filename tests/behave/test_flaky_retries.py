"""``@flaky``: a failed scenario runs again after its cleanup, up to ``-D interlock.tries``;
one that passes on a retry is passed, marked flaky in Allure and JUnit, and counted in the
summary; one that fails every try stays failed. A real behave run of a tiny suite whose
scenario counts its tries in a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from tests.behave.suite_builder import MiniSuite, mini_suite

# A domain step: fails until the scenario has been tried `n` times (the count is a file, so it
# survives the fresh world each try gets); writes a row-like marker that cleanup must remove.
STEPS = '''
from pathlib import Path
from behave import given, then

@given('the service answers on try {n:d}')
def answers_on_try(context, n):
    counter = Path("tries.txt")
    tries = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(tries))
    marker = Path("left-by-try.txt")
    assert not marker.exists(), "the last try was not cleaned up"
    marker.write_text(str(tries))
    context.add_cleanup(marker.unlink)
    assert tries >= n, f"not yet: try {tries}"
'''


def _suite(tmp_path: Path, feature: str) -> MiniSuite:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    suite.write("steps/domain.py", STEPS)
    suite.write("features/flaky.feature", feature)
    return suite


def _results(suite: MiniSuite) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in suite.results.glob("*-result.json")]
    return sorted(found, key=lambda r: r["start"])


def _testcase(suite: MiniSuite) -> ElementTree.Element:
    files = list((suite.root / "junit").glob("TESTS-*.xml"))
    assert len(files) == 1, files
    cases = ElementTree.parse(files[0]).getroot().findall("testcase")
    assert len(cases) == 1
    return cases[0]


def _run(suite: MiniSuite, *args: str) -> tuple[int, str]:
    done = suite.run("--junit", "--junit-directory", str(suite.root / "junit"), *args)
    return done.returncode, done.stdout + done.stderr


def test_a_flaky_scenario_that_passes_on_its_second_try_is_passed_and_marked(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path, """
        Feature: unreliable
          @flaky
          Scenario: passes the second time
            Given the service answers on try 2
    """)
    code, output = _run(suite)
    assert code == 0, output[-3000:]
    assert (suite.root / "tries.txt").read_text() == "2"
    assert "failed on try 1 of 2; running it again after its cleanup" in output
    first, last = _results(suite)
    assert first["status"] == "failed" and "not yet: try 1" in first["statusDetails"]["message"]
    assert last["status"] == "passed"
    assert last["statusDetails"]["flaky"] is True
    assert first["historyId"] == last["historyId"]  # Allure shows the first under Retries
    case = _testcase(suite)
    assert case.get("status") == "passed"
    assert case.find("failure") is None and case.find("error") is None
    flaky = case.findall("flakyFailure")
    assert len(flaky) == 1 and flaky[0].get("message") == "not yet: try 1"
    assert flaky[0].get("type") == "AssertionError"
    assert "Failing step: Given the service answers on try 2" in (
        flaky[0].findtext("stackTrace") or "")
    assert "1 scenario passed (1 flaky), 0 failed" in output
    assert "Flaky scenarios (passed on a retry):" in output
    assert "features/flaky.feature:3  passes the second time (passed on try 2 of 2)" in output


def test_a_flaky_scenario_that_fails_every_try_stays_failed(tmp_path: Path) -> None:
    suite = _suite(tmp_path, """
        Feature: unreliable
          @flaky
          Scenario: never passes
            Given the service answers on try 9
    """)
    code, output = _run(suite, "-D", "interlock.tries=3")
    assert code != 0
    assert (suite.root / "tries.txt").read_text() == "3"
    results = _results(suite)
    assert [r["status"] for r in results] == ["failed", "failed", "failed"]
    assert not any((r.get("statusDetails") or {}).get("flaky") for r in results)
    case = _testcase(suite)
    assert case.get("status") == "failed"
    assert case.find("failure") is not None and not case.findall("flakyFailure")
    reruns = case.findall("rerunFailure")
    assert [r.get("message") for r in reruns] == ["not yet: try 1", "not yet: try 2"]
    assert "Flaky scenarios" not in output and "(1 flaky)" not in output
    assert "0 scenarios passed, 1 failed" in output


def test_only_flaky_scenarios_are_retried_and_one_try_turns_retries_off(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path, """
        Feature: unreliable
          Scenario: not tagged
            Given the service answers on try 2
    """)
    code, _ = _run(suite)
    assert code != 0 and (suite.root / "tries.txt").read_text() == "1"
    (suite.root / "tries.txt").unlink()
    suite.write("features/flaky.feature", """
        @flaky
        Feature: unreliable
          Scenario: tagged through its feature
            Given the service answers on try 2
    """)
    code, _ = _run(suite, "-D", "interlock.tries=1")
    assert code != 0 and (suite.root / "tries.txt").read_text() == "1"


def test_a_suite_mistake_is_not_retried(tmp_path: Path) -> None:
    suite = _suite(tmp_path, """
        Feature: unreliable
          @flaky
          Scenario: uses an unknown variable
            Given the service answers on try 1
            And the request header "X-Id" is "{nope}"
    """)
    code, output = _run(suite, "-D", "interlock.tries=3")
    assert code != 0
    assert (suite.root / "tries.txt").read_text() == "1"
    assert "is @flaky but not tried again: a suite error at features/flaky.feature:5" in output


def test_a_wrong_number_of_tries_is_a_clear_error(tmp_path: Path) -> None:
    suite = _suite(tmp_path, """
        Feature: unreliable
          @flaky
          Scenario: any
            Given the service answers on try 1
    """)
    code, output = _run(suite, "-D", "interlock.tries=often")
    assert code != 0
    assert '-D interlock.tries="often" is not a number of tries' in output
    assert "Traceback" not in output


def test_a_service_that_dies_on_the_first_try_is_healed_and_the_retry_passes(
        tmp_path: Path) -> None:
    from tests.behave.test_hooks import SERVICES

    suite = mini_suite(tmp_path, SERVICES)
    suite.write("steps/crash.py", """
from pathlib import Path
from behave import when

@when("the service is called, crashing it on the first try")
def call(context):
    counter = Path("tries.txt")
    tries = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(tries))
    path = "/crash" if tries == 1 else "/health"
    context.interlock_world.http.send("GET", path, service="web")
""")
    suite.write("features/crash.feature", """
        Feature: crash
          @flaky
          Scenario: the service dies under us once
            When the service is called, crashing it on the first try
            Then the response status is 200
    """)
    code, output = _run(suite)
    assert code == 0, output[-3000:]
    assert 'Service "web" stopped unexpectedly' in output  # the first try's failure
    assert "interlock: healed web restarted" in output  # its cleanup, before the retry
    assert "1 scenario passed (1 flaky)" in output
