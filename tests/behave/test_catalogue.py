"""The HTTP, Auth, Events and Databases sentences of STEPS.md, run by behave against real
servers: the tests' own HTTP app (an external service), NATS and PostgreSQL (built-in kinds
started by the stack), with the Allure report checked for the evidence and for secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite
from tests.http.app import Account, LocalApp

CANARY_PASSWORD = "canary-password-8d1f"


@pytest.fixture
def app() -> Iterator[LocalApp]:
    with LocalApp(accounts={"alice": Account(CANARY_PASSWORD, "customer")}) as running:
        yield running


def http_suite(root: Path, app: LocalApp) -> MiniSuite:
    suite = mini_suite(root, f"""
suite: {{data: data}}
secrets:
  alice: "{CANARY_PASSWORD}"
  signing: "{app.keys.hs_secret}"
variables:
  legacy_token: "{app.issue_token({"sub": "legacy", "role": "admin"})}"
services:
  app:
    external: "{app.url}"
    openapi: data/app.openapi.yaml
auth:
  signing: {{algorithm: HS256, secret: "{{secrets.signing}}"}}
  users:
    alice:
      login: {{service: app, path: /auth/login, json: {{username: alice, password: "{{secrets.alice}}"}}, token: "$.access_token"}}
    robot:
      jwt: {{claims: {{sub: robot, role: technician}}}}
""")
    suite.write("data/payloads/order.json", '{"status": "pending", "items": []}\n')
    suite.write("data/order.schema.json", """
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
         "required": ["id", "status", "items"],
         "properties": {"id": {"type": "string"}, "status": {"enum": ["pending", "done"]},
                        "items": {"type": "array"}}}
    """)
    suite.write("data/app.openapi.yaml", """
        openapi: 3.1.0
        info: {title: app, version: "1"}
        paths:
          /orders/{id}:
            get:
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses:
                "200":
                  description: an order
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [id, status]
                        properties: {id: {type: string}, status: {type: string}}
    """)
    return suite


HTTP_FEATURE = """
Feature: the HTTP sentences
  Scenario: requests, responses, contracts and remembering
    Given the request header "X-Request-Id" is "{uuid}"
    Given the request headers are:
      | name   | value            |
      | Accept | application/json |
    Given the query parameters are:
      | name  | value |
      | limit | 10    |
    When I send GET "/echo" to "app"
    Then the response status is 200
    Then the response status is one of 200, 204
    Then the response header "Content-Type" is "application/json"
    Then the response header "Content-Type" contains "json"
    Then the response body contains "limit"
    Then the response JSON at "$.query.limit" is "10"
    Then the response JSON at "$.headers.Accept" is "application/json"
    Then the response JSON at "$.headers['X-Request-Id']" is "#uuid"
    When I send POST "/orders" to "app" with JSON:
      \"\"\"
      {"customerId": "c-1", "items": [{"productId": "p-1", "quantity": 2}]}
      \"\"\"
    Then the response status is 201
    Then the response JSON at "$.status" is "pending"
    Then the response JSON at "$.items" contains [{"productId": "p-1"}]
    Then the response JSON is:
      \"\"\"
      {"id": "#uuid", "status": "pending", "customerId": "c-1", "items": "#[1]", "createdAt": "#datetime"}
      \"\"\"
    Then the response JSON contains:
      \"\"\"
      {"status": "pending"}
      \"\"\"
    Then the response matches the schema "order.schema.json"
    Then the response time is under 5000 ms
    Then I remember the response JSON at "$.id" as "order_id"
    Then I remember the response header "Location" as "order_url"
    When I send GET "{order_url}"
    Then the response JSON at "$.id" is "{order_id}"
    And the response satisfies the OpenAPI contract
    When I send PUT "/echo" to "app" with the body file "payloads/order.json"
    Then the response JSON at "$.json.status" is "pending"
    When I send POST "/echo" to "app" with form:
      | name     | value |
      | username | alice |
    Then the response JSON at "$.form.username" is "alice"
    When I send PATCH "/echo"
    Then the response JSON at "$.method" is "PATCH"
    When I send DELETE "/orders/{order_id}"
    Then the response status is 200
    When I send OPTIONS "/echo"
    Then the response status is 200
    When I send HEAD "/echo"
    Then the response status is 200
    When I send GET "{app.url}/orders/1"
    Then within 2 seconds, the response JSON at "$.status" is "pending"

  Scenario: who the requests are sent as
    Given I am logged in as "alice"
    When I send GET "/me" to "app"
    Then the response JSON at "$.claims.sub" is "alice"
    Given I am not logged in
    When I send GET "/me"
    Then the response status is 401
    Given I use an expired token for "alice"
    When I send GET "/me"
    Then the response JSON at "$.error" is "token expired"
    Given I use a token for "alice" signed with the wrong key
    When I send GET "/me"
    Then the response JSON at "$.error" is "invalid signature"
    Given I use a token for "alice" with claims:
      | claim | value        |
      | role  | "technician" |
    When I send GET "/me"
    Then the response JSON at "$.claims.role" is "technician"
    Given I use the bearer token "{legacy_token}"
    When I send GET "/me"
    Then the response JSON at "$.claims.sub" is "legacy"
    Given I use basic auth as "alice" with password "{env.ALICE_PASSWORD}"
    When I send GET "/me"
    Then the response JSON at "$.scheme" is "basic"
    Given I am logged in as "robot"
    When I send GET "/me"
    Then the response JSON at "$.claims.role" is "technician"
"""


def test_http_and_auth_sentences_against_a_real_server(tmp_path: Path, app: LocalApp,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    suite = http_suite(tmp_path, app)
    suite.write("features/http.feature", HTTP_FEATURE)
    monkeypatch.setenv("ALICE_PASSWORD", CANARY_PASSWORD)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "2 scenarios passed, 0 failed" in output
    assert app.hits["/auth/login"] == 1  # one login per user per run
    attachments = list(suite.results.glob("*-attachment*"))
    assert any("POST http://127.0.0.1" in p.read_text(errors="replace") for p in attachments)
    everything = "".join(p.read_text(errors="replace") for p in suite.results.iterdir())
    assert CANARY_PASSWORD not in everything + output
    assert app.keys.hs_secret not in everything + output


def test_a_failing_response_check_lists_every_mismatch(tmp_path: Path, app: LocalApp) -> None:
    suite = http_suite(tmp_path, app)
    suite.write("features/wrong.feature", """
        Feature: wrong
          Scenario: two fields differ
            When I send GET "/orders/7" to "app"
            Then the response JSON contains:
              \"\"\"
              {"status": "done", "customerId": "c-2", "id": "7"}
              \"\"\"
    """)
    result = suite.run()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert '$.status: expected "done", got "pending"' in output
    assert '$.customerId: expected "c-2", got "c-1"' in output
    assert "features/wrong.feature:4" in output


EVENTS_AND_DB = """
services:
  nats: {kind: nats}
  db: {kind: postgres, options: {databases: [shop]}}
brokers:
  nats: {type: nats, url: "{nats.url}"}
events: {timeout: 3 seconds, settle: 200 ms}
databases:
  shop: {url: "{db.url}/shop", cleanup: tracked}
"""

EVENTS_FEATURE = """
Feature: the Events and Databases sentences
  Background:
    Given I run the SQL:
      \"\"\"
      CREATE TABLE IF NOT EXISTS customers (id text PRIMARY KEY, name text, tier text);
      CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, customer_id text, status text);
      CREATE TABLE IF NOT EXISTS audit_log (id serial PRIMARY KEY, note text)
      \"\"\"

  Scenario: events
    Given I listen for events on "orders.created"
    Given I listen for events on "orders.>" from "nats"
    Given I listen for events on "payments.received"
    Given I listen for events on "notifications.sent"
    Given I listen for events on "orders.dlq"
    When I publish to "payments.received":
      \"\"\"
      {"eventId": "evt-1", "orderId": "o-1", "amount": 120}
      \"\"\"
    Then an event on "payments.received" matches:
      \"\"\"
      {"eventId": "evt-1", "amount": 120}
      \"\"\"
    And I remember the event JSON at "$.orderId" as "event_order_id"
    When I publish to "orders.created":
      \"\"\"
      {"type": "OrderCreated", "orderId": "{event_order_id}"}
      \"\"\"
    Then an event on "orders.created" matches:
      \"\"\"
      {"type": "OrderCreated", "orderId": "o-1"}
      \"\"\"
    Then within 2 seconds, an event on "orders.created" matches:
      \"\"\"
      {"orderId": "o-1"}
      \"\"\"
    And the event matches the schema "created.schema.json"
    When I publish to "orders.assigned":
      \"\"\"
      {"type": "OrderAssigned", "orderId": "o-1"}
      \"\"\"
    Then the events on "orders.>" arrive in this order:
      | type          | $.orderId |
      | OrderCreated  | o-1       |
      | OrderAssigned | o-1       |
    When I publish to "notifications.sent" twice:
      \"\"\"
      {"orderId": "o-1"}
      \"\"\"
    Then exactly 2 events on "notifications.sent" match:
      \"\"\"
      {"orderId": "o-1"}
      \"\"\"
    Then no event on "orders.dlq" matches:
      \"\"\"
      {"orderId": "o-1"}
      \"\"\"
    Then no event arrives on "orders.completed" within 300 ms

  Scenario: databases
    Given the table "customers" contains:
      | id  | name  | tier   |
      | c-1 | Alice | "gold" |
    Given the table "audit_log" in "shop" is empty
    When I run the SQL:
      \"\"\"
      INSERT INTO orders (id, customer_id, status) VALUES ('o-9', 'c-1', 'pending');
      INSERT INTO orders (id, customer_id, status) VALUES ('o-8', 'c-1', 'pending')
      \"\"\"
    Then the table "customers" has a row matching:
      | id  | tier |
      | c-1 | gold |
    Then the table "orders" has 2 rows matching:
      | customer_id |
      | c-1         |
    Then the table "audit_log" has 0 rows
    Then the query "SELECT status, count(*) AS n FROM orders GROUP BY status" returns:
      | status    | n |
      | "pending" | 2 |
    When I run the SQL:
      \"\"\"
      DELETE FROM orders WHERE id IN ('o-9', 'o-8')
      \"\"\"

  Scenario: a fixture loaded by a step
    Given the data "vip" is loaded
    Then the table "customers" has a row matching:
      | id  | tier       |
      | c-7 | "platinum" |

  @data.vip
  Scenario: a fixture loaded by a tag
    Then the table "customers" has 1 row

  Scenario: rows a scenario inserted are gone
    Then the table "customers" has 0 rows
"""


FEATURE_DATA = """
@data.vip
Feature: a fixture for the whole feature
  Background:
    Given I run the SQL:
      \"\"\"
      CREATE TABLE IF NOT EXISTS customers (id text PRIMARY KEY, name text, tier text)
      \"\"\"

  Scenario: the first scenario changes the feature's row
    When I run the SQL:
      \"\"\"
      UPDATE customers SET tier = 'diamond' WHERE id = 'c-7'
      \"\"\"
    Then the table "customers" has 1 row

  Scenario: the next scenario sees the same row, changed
    Then the table "customers" has a row matching:
      | id  | tier      |
      | c-7 | "diamond" |
"""


def test_events_and_database_sentences_against_nats_and_postgres(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, EVENTS_AND_DB)
    suite.write("environment/data/created.schema.json", """
        {"type": "object", "required": ["type", "orderId"],
         "properties": {"type": {"const": "OrderCreated"}, "orderId": {"type": "string"}}}
    """)
    suite.write("features/events.feature", EVENTS_FEATURE)
    suite.write("features/feature_data.feature", FEATURE_DATA)
    suite.write("environment/data/fixtures/vip.yaml",
                "customers:\n  - {id: c-7, name: Vera, tier: platinum}\n")
    result = suite.run(timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "7 scenarios passed, 0 failed" in output
    names = " ".join(p.read_text(errors="replace")[:200] for p in suite.results.glob("*-result.json"))
    assert names
    attachments = "".join(p.read_text(errors="replace") for p in suite.results.glob("*-attachment*"))
    assert "OrderAssigned" in attachments  # the events are in the report
    assert "SELECT status" in attachments  # so are the queries


