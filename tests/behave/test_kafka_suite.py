"""Every Events sentence of STEPS.md, keys and headers included, run by behave against the
embedded Kafka broker (``kind: kafka``) and a real consumer-group service: duplicates dropped,
the dead-letter topic, a consumer that joins after the first events were published. Headers
and the refusal of keys are checked on NATS too."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.behave.suite_builder import mini_suite

pytestmark = pytest.mark.servers

SERVICE = Path(__file__).resolve().parent / "kafka_service.py"

KAFKA_STACK = f"""
services:
  bus: {{kind: kafka}}
  notifier:
    process: {{command: "{sys.executable} {SERVICE} {{bus.url}}"}}
    ready: {{log: "notifier ready"}}
    depends_on: [bus]
brokers:
  bus: {{type: kafka, url: "{{bus.url}}"}}
events:
  timeout: 10 seconds
  settle: 200 ms
  listen: ["notifications.sent"]
"""

KAFKA_FEATURE = '''
Feature: the Events sentences on Kafka

  Scenario: every Events sentence
    Given I listen for events on "orders"
    Given I listen for events on "orders.created" from "bus"
    Given I listen for events on "payments.received"
    Given I listen for events on "orders.completed"
    When I publish to "payments.received":
      """
      {"eventId": "evt-1", "orderId": "o-1", "amount": 120}
      """
    Then an event on "payments.received" matches:
      """
      {"eventId": "evt-1", "amount": 120}
      """
    And I remember the event JSON at "$.orderId" as "event_order_id"
    When I publish to "orders.created":
      """
      {"type": "OrderCreated", "orderId": "{event_order_id}"}
      """
    Then within 2 seconds, an event on "orders.created" matches:
      """
      {"type": "OrderCreated", "orderId": "o-1"}
      """
    And the event matches the schema "created.schema.json"
    When I publish to "orders" with key "o-1":
      """
      {"type": "OrderCreated", "orderId": "o-1"}
      """
    And I publish to "orders" from "bus" with key "o-1":
      """
      {"type": "OrderAssigned", "orderId": "o-1"}
      """
    Then the events on "orders" arrive in this order:
      | type          | $.orderId |
      | OrderCreated  | o-1       |
      | OrderAssigned | o-1       |
    Then an event on "notifications.sent" with key "o-1" matches:
      """
      {"eventId": "evt-1"}
      """
    And the event has the header "ce-type" with "NotificationSent"
    Then no event arrives on "orders.completed" within 300 ms

  Scenario: keys and headers
    Given I listen for events on "payments"
    Given the events I publish carry the headers:
      | name    | value   |
      | ce-type | Payment |
    When I publish to "payments" with key "o-7":
      """
      {"eventId": "evt-7", "orderId": "o-7", "amount": 120}
      """
    When I publish to "payments" with key "o-8":
      """
      {"eventId": "evt-8", "orderId": "o-8", "amount": 80}
      """
    Then an event on "payments" with key "o-8" matches:
      """
      {"eventId": "evt-8"}
      """
    And the event has the header "ce-type" with "Payment"
    Then within 2 seconds, an event on "payments" from "bus" with key "o-7" matches:
      """
      {"amount": 120}
      """
    And the event has the header "ce-type" with "#regex Pay.*"

  Scenario: a duplicate is notified once
    When I publish to "payments.received" twice:
      """
      {"eventId": "evt-2", "orderId": "o-2", "amount": 50}
      """
    Then exactly 1 event on "notifications.sent" matches:
      """
      {"eventId": "evt-2"}
      """

  Scenario: what the service cannot read goes to the dead-letter topic
    Given I listen for events on "payments.dlq"
    When I publish to "payments.received" with key "o-3":
      """
      this is not JSON
      """
    Then an event on "payments.dlq" with key "o-3" matches:
      """
      {"original": "this is not JSON"}
      """
    When I publish to "payments.received":
      """
      {"eventId": "evt-4", "orderId": "o-4", "amount": 10}
      """
    Then an event on "notifications.sent" matches:
      """
      {"eventId": "evt-4"}
      """
    And within 1 seconds, no event on "payments.dlq" matches:
      """
      {"original": "#regex .*evt-4.*"}
      """
'''


def test_every_events_sentence_on_kafka(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, KAFKA_STACK)
    suite.write("environment/data/created.schema.json", """
        {"type": "object", "required": ["type", "orderId"],
         "properties": {"type": {"const": "OrderCreated"}, "orderId": {"type": "string"}}}
    """)
    suite.write("features/kafka.feature", KAFKA_FEATURE)
    result = suite.run(timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "4 scenarios passed, 0 failed" in output
    attachments = "".join(p.read_text(errors="replace")
                          for p in suite.results.glob("*-attachment*"))
    assert "key: o-8\nheaders:\n  ce-type: Payment" in attachments  # key and headers shown
    names = "".join(p.read_text(errors="replace") for p in suite.results.glob("*-result.json"))
    assert 'event notifications.sent (partition 0, offset' in names


NATS_STACK = """
services:
  nats: {kind: nats}
brokers:
  nats: {type: nats, url: "{nats.url}"}
events: {timeout: 3 seconds}
"""

NATS_FEATURE = '''
Feature: headers on NATS; keys are Kafka's

  Scenario: headers travel on NATS
    Given I listen for events on "payments.received"
    Given the events I publish carry the headers:
      | name    | value   |
      | ce-type | Payment |
    When I publish to "payments.received":
      """
      {"eventId": "evt-1"}
      """
    Then an event on "payments.received" matches:
      """
      {"eventId": "evt-1"}
      """
    And the event has the header "ce-type" with "Payment"

  Scenario: a key on NATS is refused
    Given I listen for events on "payments.received"
    When I publish to "payments.received" with key "o-1":
      """
      {"eventId": "evt-1"}
      """
'''


def test_headers_on_nats_and_a_key_refused_with_what_where_and_fix(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, NATS_STACK)
    suite.write("features/nats.feature", NATS_FEATURE)
    result = suite.run(timeout=120)
    output = result.stdout + result.stderr
    assert "1 scenario passed, 1 failed" in output, output[-4000:]
    assert 'cannot publish to "payments.received" with key "o-1": broker "nats" has no ' \
           "message keys" in output
    assert "features/nats.feature:20" in output, output[output.find("cannot publish") - 200:][:800]
    assert "Keys exist on Kafka" in output
    assert "Traceback" not in output
