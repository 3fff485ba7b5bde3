"""Plain ``behave`` starts with an empty Allure results folder, so a report and ``interlock
docs`` count this run only; ``-D interlock.keep_results=true`` keeps earlier results."""

from __future__ import annotations

import json
from pathlib import Path

from tests.behave.suite_builder import MiniSuite, mini_suite


def _names(suite: MiniSuite) -> list[str]:
    return sorted(json.loads(p.read_text())["name"] for p in suite.results.glob("*-result.json"))


def _run_with(suite: MiniSuite, scenario: str, *args: str) -> None:
    suite.write("features/only.feature", f"""
        Feature: only
          Scenario: {scenario}
            Given I am not logged in
    """)
    result = suite.run(*args)
    assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]


def test_each_run_starts_with_empty_results_and_keeping_is_a_choice(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    _run_with(suite, "first")
    assert _names(suite) == ["first"]
    (suite.results / "history").mkdir()  # Allure's trend, copied in on purpose
    (suite.results / "notes.txt").write_text("not a result")
    _run_with(suite, "second")
    assert _names(suite) == ["second"]  # the first run is not counted again
    assert (suite.results / "history").is_dir()
    assert (suite.results / "notes.txt").read_text() == "not a result"
    _run_with(suite, "third", "-D", "interlock.keep_results=true")
    assert _names(suite) == ["second", "third"]


def test_a_keep_results_that_is_not_a_boolean_is_a_clear_error(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    suite.write("features/only.feature", """
        Feature: only
          Scenario: one
            Given I am not logged in
    """)
    result = suite.run("-D", "interlock.keep_results=maybe")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'interlock.keep_results="maybe" is neither true nor false' in output
    assert "Traceback" not in output
