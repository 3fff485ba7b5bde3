"""The "HTTP stubs" sentences of STEPS.md, run by behave against a real stub (``kind: stub``
under the process backend): answers, once, delays, body files, the checks of what it
received, no leak between scenarios, each request in the report under its step (redacted),
and the OpenAPI document's side: examples, the consumer's request checked, answers refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite

OPENAPI = """
openapi: "3.1.0"
info: {title: payments, version: "1"}
paths:
  /charges:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [amount, currency]
              properties:
                amount: {type: integer, minimum: 1}
                currency: {type: string, enum: [EUR, USD]}
      responses:
        "201":
          description: charged
          content:
            application/json:
              schema:
                type: object
                required: [id, status]
                properties:
                  id: {type: string, example: ch-example}
                  status: {type: string, enum: [succeeded, declined]}
        "402": {description: declined}
        "503": {description: provider down}
  /charges/{charge_id}:
    get:
      parameters:
        - {name: charge_id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: the charge
          content:
            application/json:
              example: {id: ch-1, status: succeeded}
        "404": {description: unknown}
  /refunds:
    post:
      responses:
        "202": {description: accepted}
"""


def stub_suite(root: Path, openapi: bool = False) -> MiniSuite:
    suite = mini_suite(root, f"""
secrets:
  card: "tok_visa_4242_secret"
services:
  payments:
    kind: stub
{"    openapi: payments.openapi.yaml" if openapi else ""}
""")
    suite.write("payments.openapi.yaml", OPENAPI)
    suite.write("environment/data/stubs/charge.json", '{"id": "ch-file", "status": "succeeded"}')
    return suite


SENTENCES = """
Feature: payments provider stub

  Scenario: answers, once, delays and body files
    Given the "payments" stub answers POST "/charges" with status 201 and JSON:
      \"\"\"
      {"id": "ch-{uuid}", "status": "succeeded"}
      \"\"\"
    Given the "payments" stub answers POST "/charges" with status 503 once
    Given the "payments" stub answers GET "/charges/{charge_id}" with status 404
    Given the "payments" stub answers POST "/refunds" after a delay of 0.2 seconds
    Given the "payments" stub answers GET "/receipts/*" with the body file "stubs/charge.json"
    Given the request header "Authorization" is "Bearer {secrets.card}"
    When I send POST "/charges" to "payments" with JSON:
      \"\"\"
      {"amount": 120, "currency": "EUR", "card": "{secrets.card}"}
      \"\"\"
    Then the response status is 503
    When I send POST "/charges" to "payments" with JSON:
      \"\"\"
      {"amount": 120, "currency": "EUR"}
      \"\"\"
    Then the response status is 201
    And the response JSON at "$.id" contains "ch-"
    When I send GET "/charges/ch-42" to "payments"
    Then the response status is 404
    When I send GET "/receipts/r-1" to "payments"
    Then the response JSON at "$.id" is "ch-file"
    When I send POST "/refunds" to "payments"
    Then the response status is 200
    Then the "payments" stub received POST "/charges" with JSON containing:
      \"\"\"
      {"amount": 120, "currency": "EUR"}
      \"\"\"
    Then the "payments" stub received 2 requests to POST "/charges"
    Then the "payments" stub received no request to POST "/payouts"
    Then within 5 seconds, the "payments" stub received POST "/refunds"
    Then the "payments" stub received GET "/charges/{charge_id}"

  Scenario: nothing of the first scenario is left
    Then the "payments" stub received no request to POST "/charges"
    Given the "payments" stub answers GET "/receipts/r-1" with status 200
      | header       | value       |
      | Content-Type | text/plain  |
      | X-Trace      | t-{uuid}    |
    When I send GET "/receipts/r-1" to "payments"
    Then the response header "X-Trace" contains "t-"
    And the response header "Content-Type" is "text/plain"
"""


def test_every_stub_sentence_works_and_nothing_leaks(tmp_path: Path) -> None:
    suite = stub_suite(tmp_path)
    suite.write("features/stub.feature", SENTENCES)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "2 scenarios passed" in output

    steps = _steps_with_attachments(suite)
    stub_steps = {name: [a for a in attached if a.startswith('stub "payments" received')]
                  for name, attached in steps}
    charged = [n for n, found in stub_steps.items()
               if n.startswith('I send POST "/charges"') and found]
    assert charged, stub_steps  # each request under the step during which it arrived
    assert all(not found for n, found in stub_steps.items() if n.startswith("the "))
    texts = "\n".join(p.read_text() for p in suite.results.glob("*-attachment*"))
    assert "POST http://127.0.0.1:" in texts and "HTTP 503" in texts
    assert "tok_visa_4242_secret" not in texts  # the header and the JSON field, redacted


def _steps_with_attachments(suite: MiniSuite) -> list[tuple[str, list[str]]]:
    found = []
    for path in suite.results.glob("*-result.json"):
        for step in json.loads(path.read_text()).get("steps", []):
            found.append((step["name"].split(" ", 1)[1],
                          [a["name"] for a in step.get("attachments", [])]))
    return found


def test_a_failed_check_says_what_the_stub_received(tmp_path: Path) -> None:
    suite = stub_suite(tmp_path)
    suite.write("features/fail.feature", """
        Feature: failing checks
          Scenario: the wrong amount
            Given the "payments" stub answers POST "/charges" with status 201
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 5, "currency": "EUR"}
              \"\"\"
            Then the "payments" stub received POST "/charges" with JSON containing:
              \"\"\"
              {"amount": 120}
              \"\"\"

          Scenario: the wrong count
            Then the "payments" stub received 1 request to POST "/charges"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "$.amount: expected 120, got 5" in output
    assert 'POST /charges {"amount": 5, "currency": "EUR"} -> 201' in output
    assert 'received 0 requests to POST /charges, not 1' in output
    assert "fail.feature:8" in output


def test_mistakes_in_a_stub_step_are_one_clear_message_each(tmp_path: Path) -> None:
    suite = stub_suite(tmp_path)
    suite.write("features/mistakes.feature", """
        Feature: mistakes
          Scenario: an unknown stub
            Given the "payment" stub answers POST "/charges" with status 201

          Scenario: malformed JSON
            Given the "payments" stub answers POST "/charges" with status 201 and JSON:
              \"\"\"
              {"id": "ch-1",}
              \"\"\"

          Scenario: a body file that does not exist
            Given the "payments" stub answers POST "/charges" with the body file "stubs/nope.json"

          Scenario: a request no answer covers
            Given the "payments" stub answers GET "/charges/{id}" with status 200
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 1, "currency": "EUR"}
              \"\"\"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'There is no stub named "payment"' in output and 'did you mean "payments"' in output
    assert "mistakes.feature:3" in output
    assert "mistakes.feature:6" in output and "line 1" in output
    assert 'File not found: "stubs/nope.json"' in output and "mistakes.feature:12" in output
    assert 'The "payments" stub has no answer for POST /charges' in output
    assert "GET /charges/{id} -> 200" in output  # the answers that were set
    assert 'Given the "payments" stub answers POST "/charges" with status 200' in output
    assert "mistakes.feature:16" in output
    assert "Traceback" not in output


def test_with_an_openapi_document_the_stub_answers_examples_and_checks_the_consumer(
    tmp_path: Path,
) -> None:
    suite = stub_suite(tmp_path, openapi=True)
    suite.write("features/contract.feature", """
        Feature: the provider's contract
          Scenario: examples answer what no step set
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 120, "currency": "EUR"}
              \"\"\"
            Then the response status is 201
            And the response JSON at "$.id" is "ch-example"
            When I send GET "/charges/ch-7" to "payments"
            Then the response JSON at "$.status" is "succeeded"

          Scenario: a request that breaks the contract fails the step that sent it
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 0, "currency": "GBP"}
              \"\"\"

          Scenario: an answer the document does not allow is refused
            Given the "payments" stub answers POST "/charges" with status 201 and JSON:
              \"\"\"
              {"id": "ch-1", "status": "maybe"}
              \"\"\"

          Scenario: an allowed answer is taken
            Given the "payments" stub answers POST "/charges" with status 402 once
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 3, "currency": "USD"}
              \"\"\"
            Then the response status is 402
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert "2 scenarios passed, 2 failed" in output, output[-4000:]  # failed, not errored
    assert 'request to the "payments" stub' in output
    assert "breaks the contract payments.openapi.yaml" in output
    assert "request body $.amount: 0 is less than the minimum of 1" in output
    assert "request body $.currency: 'GBP' is not one of" in output
    assert "contract.feature:13" in output
    assert 'cannot answer POST /charges with 201: payments.openapi.yaml does not allow it' \
        in output and "maybe" in output


@pytest.mark.docker
def test_every_stub_sentence_works_under_the_docker_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.stack.docker_fixtures import BASE_IMAGE

    try:
        import docker

        docker.from_env().images.get(BASE_IMAGE)
    except Exception as err:
        pytest.skip(f"no Docker engine with {BASE_IMAGE}: {err}")
    monkeypatch.setenv("INTERLOCK_BACKEND", "docker")
    suite = stub_suite(tmp_path)
    config = suite.root / "environment" / "interlock.yaml"
    config.write_text(config.read_text().replace(
        "    kind: stub\n", f"    kind: stub\n    options: {{image: {BASE_IMAGE}}}\n"))
    suite.write("features/stub.feature", SENTENCES)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "2 scenarios passed" in output
    assert "payments ready at http://127.0.0.1:" in output


def test_a_received_check_without_its_json_says_so(tmp_path: Path) -> None:
    suite = stub_suite(tmp_path)
    suite.write("features/forgot.feature", """
        Feature: forgot
          Scenario: the docstring is missing
            Then the "payments" stub received POST "/charges" with JSON containing:
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The JSON the request should contain is missing" in output
    assert "forgot.feature:3" in output and "Traceback" not in output


def test_a_stub_restarted_by_a_step_gets_its_documents_answers_back(tmp_path: Path) -> None:
    """A restart by a step leaves the stub running but empty: the scenario's reset finds its
    kept defaults gone and sets them again, so the next scenario still gets the examples."""
    suite = stub_suite(tmp_path, openapi=True)
    suite.write("features/restart.feature", """
        Feature: restart
          Scenario: the provider restarts
            When the "payments" service is restarted

          Scenario: the examples still answer
            When I send POST "/charges" to "payments" with JSON:
              \"\"\"
              {"amount": 120, "currency": "EUR"}
              \"\"\"
            Then the response status is 201
            And the response JSON at "$.id" is "ch-example"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "2 scenarios passed, 0 failed" in output


def test_a_scoped_stubs_answer_missed_for_want_of_the_header_says_so(tmp_path: Path) -> None:
    """On a stub that tells scenarios apart, the scenario's requests carry its trace id; a
    request that reaches the stub without one gets none of the scenario's answers, and the
    message says so and what the system must pass on (one carrying another scenario's id is
    that scenario's, and not reported here)."""
    suite = mini_suite(tmp_path, "services:\n  payments:\n    kind: stub\n"
                                 "    options: {scenario_header: traceparent}\n")
    suite.write("features/scoped.feature", """
        Feature: scoped
          Scenario: its own request gets its answer
            Given the "payments" stub answers POST "/charges" with status 201
            When I send POST "/charges" to "payments"
            Then the response status is 201
            And the "payments" stub received 1 request to POST "/charges"

          Scenario: a request without the trace gets none
            Given the "payments" stub answers POST "/charges" with status 201
            And the request header "traceparent" is "not-a-trace"
            When I send POST "/charges" to "payments"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert "1 scenario passed, 1 failed" in output, output[-3000:]
    assert 'The "payments" stub has no answer for POST /charges' in output
    assert "this one carried none: the system must pass the header on" in output
    assert "services.payments.options.scenario_header" in output
    assert "Traceback" not in output
