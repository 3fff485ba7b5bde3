"""Step language 1.1 ("Changes in 1.1" in STEPS.md), run by behave against a real HTTP server
(the tests' own app) and a real SQLite file: variables in every quoted text, expected values
as docstrings, substring "contains", backslashes, durations, and SQL inserts cleaned up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite
from tests.http.app import LocalApp


@pytest.fixture
def app() -> Iterator[LocalApp]:
    with LocalApp() as running:
        yield running


def suite_for(root: Path, app: LocalApp) -> MiniSuite:
    return mini_suite(root, f"""
variables:
  field: status
services:
  app:
    external: "{app.url}"
databases:
  shop: {{url: "sqlite:///{root}/shop.db", cleanup: tracked}}
""")


PASSING = """
Feature: language 1.1
  Scenario: variables in JSONPaths, docstring values, substring contains
    When I send POST "/echo" to "app" with JSON:
      \"\"\"
      {"customerId": "c-1", "items": [{"id": "p-1", "qty": 2}, {"id": "p-2", "qty": 5}],
       "status": "pending", "url": "http://x/customers/c-1"}
      \"\"\"
    Then the response JSON at "$.json.{field}" is "pending"
    Given I remember the response JSON at "$.json.items[1].id" as "wanted"
    Then the response JSON at "$.json.items[?@.id == {wanted}].qty" is 5
    Then the response JSON at "$.json.items[?@.id == '{wanted}'].qty" is 5
    Then I remember the response JSON at "$.json.{field}" as "{field}_copy"
    Then the response JSON at "$.json.status" is "{status_copy}"
    Then the response JSON at "$.json" is:
      \"\"\"
      {"customerId": "c-1", "items": "#[2]", "status": "pending", "url": "#uri"}
      \"\"\"
    Then the response JSON at "$.json.items" contains:
      \"\"\"
      [{"id": "p-2"}]
      \"\"\"
    Then the response JSON at "$.json.url" contains "customers/c-1"
    Then the response body contains:
      \"\"\"
      customers/c-1
      \"\"\"
    Then the response header "Content-Type" contains:
      \"\"\"
      json
      \"\"\"
    Then within 0.5 minutes, the response status is 200
    Then within 1.5 seconds, the response JSON at "$.json.customerId" contains "c-"

  Scenario Outline: literal hashes and regexes, in JSON and in plain cells
    When I send POST "/echo" to "app" with JSON:
      \"\"\"
      {"rank": "#1 in sales", "code": "A-42"}
      \"\"\"
    Then the response JSON at "$.json.rank" is "\\\\#1 in sales"
    Then the response JSON at "$.json.code" is "#regex ^A-\\\\d+$"

    Examples:
      | n |
      | 1 |

  Scenario: rows a SQL insert adds are removed after the scenario
    Given I run the SQL:
      \"\"\"
      CREATE TABLE IF NOT EXISTS customers (id text PRIMARY KEY, name text)
      \"\"\"
    When I run the SQL:
      \"\"\"
      INSERT INTO customers (id, name) VALUES ('c-1', 'Alice'), ('c-2', 'Bob')
      \"\"\"
    Then the table "customers" has 2 rows
"""


def test_the_1_1_sentences_work_and_sql_inserts_do_not_leak(tmp_path: Path, app: LocalApp) -> None:
    suite = suite_for(tmp_path, app)
    suite.write("features/one_one.feature", PASSING)
    for attempt in (1, 2):  # the second run would hit UNIQUE constraint failed if rows leaked
        result = suite.run()
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"run {attempt}:\n" + output[-4000:]
        assert "3 scenarios passed, 0 failed" in output


def _failing(suite: MiniSuite, steps: str) -> str:
    suite.write("features/wrong.feature", "Feature: wrong\n  Scenario: one\n" + steps)
    result = suite.run("features/wrong.feature")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    return output


def test_a_substring_mismatch_says_so(tmp_path: Path, app: LocalApp) -> None:
    output = _failing(suite_for(tmp_path, app), """
    When I send GET "/orders/7" to "app"
    Then the response JSON at "$.status" contains "done"
""")
    assert "does not contain the expected text" in output
    assert 'expected "done", got "pending" (not a substring)' in output


def test_a_single_backslash_in_json_is_explained(tmp_path: Path, app: LocalApp) -> None:
    output = _failing(suite_for(tmp_path, app), r"""
    When I send GET "/orders/7" to "app"
    Then the response JSON at "$.id" is "#regex ^\d+$"
""")
    assert "a single backslash inside a JSON string" in output
    assert r'"#regex ^\\d+$"' in output  # the corrected text is shown
    assert "wrong.feature:5" in output


def test_a_dashed_member_name_gets_the_bracket_form(tmp_path: Path, app: LocalApp) -> None:
    output = _failing(suite_for(tmp_path, app), """
    When I send GET "/echo" to "app"
    Then the response JSON at "$.headers.X-Trace" is "x"
""")
    assert "$.headers['X-Trace']" in output


def test_an_unknown_duration_unit_lists_the_units(tmp_path: Path, app: LocalApp) -> None:
    output = _failing(suite_for(tmp_path, app), """
    When I send GET "/orders/7" to "app"
    Then within 5 hours, the response status is 200
""")
    assert "undefined" not in output.lower()
    assert 'Unknown unit "hours"' in output
    assert '"<n> ms", "<n> seconds", "<n> minutes"' in output


def test_a_statement_the_strategy_cannot_undo_is_named_in_the_report(
    tmp_path: Path, app: LocalApp
) -> None:
    suite = suite_for(tmp_path, app)
    suite.write("features/update.feature", """
        Feature: update
          Scenario: an update under the tracked strategy
            Given I run the SQL:
              \"\"\"
              CREATE TABLE IF NOT EXISTS stock (id text PRIMARY KEY, n integer);
              \"\"\"
            When I run the SQL:
              \"\"\"
              UPDATE stock SET n = 0
              \"\"\"
    """)
    result = suite.run()
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    texts = [p.read_text(errors="replace") for p in suite.results.glob("*-attachment*")]
    notes = [t for t in texts if "Not undone after the scenario" in t]
    assert notes and "UPDATE stock SET n = 0" in notes[0]
    assert "cleanup: truncate" in notes[0]
