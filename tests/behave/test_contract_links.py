"""Each contract check links to its OpenAPI operation (issue 16, item 5): a scenario whose
exchange is checked against its service's OpenAPI document links to the operation's line of
that document in the repository, once per operation. HTTP exchanges are attached under the
service's name, without its address (item 2), and ``interlock docs`` still counts them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from interlock.contracts._documents import key_line
from interlock.living_docs import write_integration_doc
from tests.behave.suite_builder import MiniSuite, mini_suite

SERVICES = """
services:
  web:
    process: {command: "{tiny} --port {port}"}
    ready: {http: /health}
    openapi: contracts/web.openapi.yaml
    check_contract: true
"""

OPENAPI = """
openapi: 3.1.0
info: {title: web, version: "1"}
paths:
  /health:
    get:
      responses:
        "200": {description: up}
  /orders/{id}:
    # an order, as its customer sees it
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      responses:
        "200":
          description: the order
          content:
            application/json:
              schema: {type: object, required: [path]}
"""

FEATURE = """
    Feature: Orders
      Scenario: two orders read
        When I send GET "/orders/1" to "web"
        And I send GET "/orders/2" to "web"
        Then the response status is 200
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[MiniSuite, dict[str, Any]]:
    suite = mini_suite(tmp_path_factory.mktemp("contract-links"), SERVICES)
    suite.write("contracts/web.openapi.yaml", OPENAPI)
    suite.write("features/orders.feature", FEATURE)
    with mock.patch.dict(os.environ, {"INTERLOCK_REPOSITORY_URL": "https://git.example/shop"}):
        run = suite.run()
    assert run.returncode == 0, run.stdout + run.stderr
    results: list[dict[str, Any]] = [json.loads(p.read_text())
                                     for p in suite.results.glob("*-result.json")]
    [result] = [r for r in results if r["name"] == "two orders read"]
    return suite, result


def test_a_checked_exchange_links_to_its_operation_line(
    ran: tuple[MiniSuite, dict[str, Any]],
) -> None:
    _suite, result = ran
    operation_links = [link for link in result["links"] if "openapi" in link["name"]]
    assert operation_links == [{  # GET /orders/{id} on line 12, linked once for two checks
        "type": "link", "name": "GET /orders/{id} (web.openapi.yaml)",
        "url": "https://git.example/shop/contracts/web.openapi.yaml#L12"}]


def test_an_exchange_is_named_for_its_service_and_answer_without_its_address(
    ran: tuple[MiniSuite, dict[str, Any]],
) -> None:
    suite, result = ran
    names = [a["name"] for step in result["steps"] for a in step.get("attachments", [])]
    assert "GET /orders/1 → web: 200 OK" in names
    assert "GET /orders/2 → web: 200 OK" in names
    assert not [n for n in names if re.search(r"127\.0\.0\.1|:\d{4,5}\b", n)], names
    # interlock docs reads the address from the body and counts the operation covered.
    summary = write_integration_doc(suite.root / "environment" / "interlock.yaml",
                                    suite.results, suite.root / "INTEGRATION-TEST.md")
    text = (suite.root / "INTEGRATION-TEST.md").read_text()
    assert "| web | GET /orders/{id} | Orders (1) | 200 | — |" in text, text
    assert "web: GET /orders/{id}" in text  # the scenarios table names the operation
    assert summary.operations_covered == 1


def test_an_operation_line_is_found_in_json_with_tabs(tmp_path: Path) -> None:
    document = tmp_path / "a.json"
    document.write_text('{\n\t"paths": {\n\t\t"/a": {\n\t\t\t"get": {},\n\t\t\t"post": {}}}}\n')
    assert key_line(document, "paths", "/a", "post") == 5
    assert key_line(document, "paths", "/a", "put") is None
    assert key_line(tmp_path / "missing.json", "paths") is None
