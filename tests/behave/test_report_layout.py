"""What a reader of the Allure report sees (issue 16): failures of the same cause in one
group, suite errors broken and system failures failed, outline scenarios named from their
examples, the feature's description, a step's arguments named and filled in, an event under
the step during which it arrived, a traffic diagram on every scenario."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from unittest import mock

import pytest

from interlock.behave.allure_files import CATEGORIES
from tests.behave.suite_builder import mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
brokers:
  bus: {type: memory}
"""

FIRST = """
    Feature: Orders
      What the orders service promises a customer.

      Scenario: an order's path
        When I send GET "/orders/{uuid}" to "web"
        Then the response JSON at "$.path" is "/orders/1"

      Scenario Outline: statuses
        When I send GET "/orders/<n>" to "web"
        Then the response status is <status>
        Examples:
          | n | status |
          | 1 | 200    |

      Scenario: a variable nobody remembered
        When I send GET "/orders/{nope}" to "web"

      Scenario: an event shown where it arrived
        Given I listen for events on "orders.created"
        When I send GET "/orders/7" to "web"
        And I remember the response JSON at "$.path" as "p"
        And I publish to "orders.created":
          \"\"\"
          {"path": "{p}", "ref": "{uuid}"}
          \"\"\"
        And I send GET "/health" to "web"
        Then an event on "orders.created" matches:
          \"\"\"
          {"path": "/orders/7"}
          \"\"\"
"""

SECOND = """
    Feature: More orders
      Scenario: another order's path
        When I send GET "/orders/{uuid}" to "web"
        Then the response JSON at "$.path" is "/orders/2"
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    suite = mini_suite(tmp_path_factory.mktemp("layout"), SERVICES)
    suite.write("features/orders.feature", FIRST)
    suite.write("features/more.feature", SECOND)
    suite.write("GLOSSARY.md", "# Glossary\n")
    ci = {"INTERLOCK_REPOSITORY_URL": "https://git.example/shop/blob/main",
          "INTERLOCK_BUILD_URL": "https://ci.example/builds/7"}
    with mock.patch.dict(os.environ, ci):
        run = suite.run()
    assert run.returncode != 0, run.stdout + run.stderr
    executor = json.loads((suite.results / "executor.json").read_text())
    assert executor["buildUrl"] == "https://ci.example/builds/7"  # the executor names the build
    found = {}
    for path in suite.results.glob("*-result.json"):
        result = json.loads(path.read_text())
        result["_folder"] = suite.results
        found[result["name"]] = result
    return found


def category_of(result: dict[str, Any]) -> str | None:
    """The category Allure 2 files a result in (its rules: Java regexes, whole message)."""
    message = (result.get("statusDetails") or {}).get("message") or ""
    for rule in CATEGORIES:
        if result["status"] not in rule["matchedStatuses"]:
            continue
        regex = rule.get("messageRegex")
        if regex is None or re.fullmatch(regex, message):
            return str(rule["name"])
    return None


def test_two_failures_of_the_same_cause_in_different_scenarios_fall_in_one_group(
    results: dict[str, dict[str, Any]],
) -> None:
    first, second = results["an order's path"], results["another order's path"]
    assert first["status"] == second["status"] == "failed"
    # Allure 2 and 3 group a category's results by the whole message.
    assert first["statusDetails"]["message"] == second["statusDetails"]["message"]
    assert category_of(first) == category_of(second) == "Product defects: the system did not behave"
    message = first["statusDetails"]["message"]
    assert "\n" not in message and "Failure" not in message and "interlock." not in message
    assert not re.search(r"[0-9a-f]{8}-|127\.0\.0\.1|:\d{4,5}\b", message), message
    # The varying detail is below it: the id actually seen, and where.
    assert "got \"/orders/" in first["statusDetails"]["trace"]
    assert "features/orders.feature:6" in first["statusDetails"]["trace"]


def test_a_suite_error_is_broken_and_a_test_defect(results: dict[str, dict[str, Any]]) -> None:
    result = results["a variable nobody remembered"]
    assert result["status"] == "broken"
    assert result["statusDetails"]["message"] == 'Suite error: Unknown variable "{nope}"'
    assert category_of(result) == "Test defects: the suite is wrong"
    assert "Traceback" not in (result["statusDetails"].get("trace") or "")


def test_outline_scenarios_are_named_from_their_examples_and_show_the_feature_description(
    results: dict[str, dict[str, Any]],
) -> None:
    assert "statuses (n=1, status=200)" in results
    assert results["statuses (n=1, status=200)"]["description"] == (
        "What the orders service promises a customer.")


def test_an_event_is_attached_under_the_step_during_which_it_arrived(
    results: dict[str, dict[str, Any]],
) -> None:
    steps = results["an event shown where it arrived"]["steps"]
    names = {step["name"]: [a["name"] for a in step.get("attachments", [])] for step in steps}
    publish = names['And I publish to "orders.created":']
    assert "event orders.created (published)" in publish
    assert any(n.startswith("event orders.created") and "published" not in n for n in publish)
    assert names['Then an event on "orders.created" matches:'] == ["expected event"]


def test_a_steps_argument_is_named_for_what_it_is_with_variables_filled_in(
    results: dict[str, dict[str, Any]],
) -> None:
    result = results["an event shown where it arrived"]
    step = next(s for s in result["steps"] if s["name"].startswith("And I publish"))
    attachment = next(a for a in step["attachments"] if a["name"] == "body of the event to publish")
    text = (result["_folder"] / attachment["source"]).read_text()
    assert '"path": "/orders/7"' in text  # a remembered variable, filled in
    assert '"ref": "{uuid}"' in text  # a fresh value is not drawn a second time
    every = [a["name"] for r in results.values() for s in r["steps"]
             for a in s.get("attachments", [])]
    assert ".text" not in every and ".table" not in every


def test_every_scenario_has_its_traffic_diagram(results: dict[str, dict[str, Any]]) -> None:
    for name, result in results.items():
        diagrams = [a for a in result.get("attachments", []) if a["name"] == "traffic diagram"]
        assert len(diagrams) == 1 and diagrams[0]["type"] == "image/svg+xml", name
    svg = next(a for a in results["an event shown where it arrived"]["attachments"]
               if a["name"] == "traffic diagram")
    text = (results["an event shown where it arrived"]["_folder"] / svg["source"]).read_text()
    for party in ("web", "bus", "publish orders.created", "deliver orders.created"):
        assert party in text


def test_each_scenario_links_to_its_feature_file_and_line(
    results: dict[str, dict[str, Any]],
) -> None:
    links = results["another order's path"]["links"]
    assert {"type": "link", "name": "features/more.feature:2",
            "url": "https://git.example/shop/blob/main/features/more.feature#L2"} in links
    assert {"type": "link", "name": "glossary",
            "url": "https://git.example/shop/blob/main/GLOSSARY.md"} in links
