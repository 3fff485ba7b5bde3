"""Where a run finds its stack file, and what it says when the file or path is wrong."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
"""

HEALTH = """
    Feature: ok
      Scenario: health
        When I send GET "/health" to "web"
        Then the response status is 200
"""


@pytest.fixture
def suite(tmp_path: Path) -> MiniSuite:
    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/ok.feature", HEALTH)
    return suite


def test_behave_run_from_inside_features_finds_the_suites_stack_file(suite: MiniSuite) -> None:
    result = subprocess.run(suite.command(), cwd=suite.root / "features", env=suite.env(),
                            capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 scenario passed" in output


@pytest.mark.parametrize(("setting", "message"), [
    ("", "The setting interlock.config is empty"),
    ("environment", "The configuration path is a folder, not a file"),
])
def test_a_bad_config_setting_is_a_clear_error(suite: MiniSuite, setting: str,
                                               message: str) -> None:
    result = suite.run("-D", f"interlock.config={setting}")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output
    assert "Traceback" not in output


def test_a_missing_stack_file_names_where_it_was_looked_for(suite: MiniSuite) -> None:
    (suite.root / "environment" / "interlock.yaml").unlink()
    result = subprocess.run(suite.command(), cwd=suite.root / "features", env=suite.env(),
                            capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Configuration file not found: environment/interlock.yaml" in output
    assert f"- {suite.root / 'environment' / 'interlock.yaml'}" in output
    assert "Traceback" not in output


def test_a_bad_section_stops_the_run_before_any_service_starts(suite: MiniSuite) -> None:
    suite.write("environment/interlock.yaml", SERVICES.replace("{tiny}", "python3 -c pass") + """
databases:
  main: {url: "sqlite://", cleanup: trackd}
""")
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Unknown cleanup "trackd" for database "main"' in output
    assert "interlock.yaml:7 (databases.main.cleanup)" in output
    assert "starting" not in output and "ready at" not in output
    assert "Traceback" not in output


def test_a_malformed_json_cell_names_the_cell(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, "brokers:\n  hooks: {type: webhook}\n")
    suite.write("features/cell.feature", """
        Feature: cells
          Scenario: an order table with a broken cell
            Then the events on "orders" arrive in this order:
              | type         | payload  |
              | OrderCreated | {"a": 1  |
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'The cell {"a": 1 (column "payload") is not valid JSON' in output
    assert "cell.feature:3" in output
    assert "Traceback" not in output


def test_steps_in_features_find_the_stack_file_above(tmp_path: Path) -> None:
    # behave's own layout: features/steps/ and features/environment.py, so behave's base
    # dir is features/; the stack file stays in the project's environment/ folder.
    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/ok.feature", HEALTH)
    (suite.root / "environment.py").rename(suite.root / "features" / "environment.py")
    (suite.root / "steps").rename(suite.root / "features" / "steps")
    result = subprocess.run(suite.command("features"), cwd=suite.root, env=suite.env(),
                            capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 scenario passed" in output
