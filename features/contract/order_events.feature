@contract @allure.label.epic:Contracts @allure.label.owner:orders-team
Feature: Every event keeps its published schema
  Whoever listens to the order events relies on their JSON Schemas (demo/contracts/
  *.schema.json): every event the system publishes must match its schema exactly.

  @blocker
  Scenario: OrderCreated matches its schema
    Given a customer has placed an order for 2 drills
    Then an event on "orders.created" matches:
      """
      {"orderId": "{order_id}"}
      """
    And the event matches the schema "order-created.schema.json"

  @blocker
  Scenario: OrderAssigned matches its schema
    Given a customer has placed an order for 2 drills
    When the dispatcher assigns the order to technician "tom"
    Then an event on "orders.assigned" matches:
      """
      {"orderId": "{order_id}"}
      """
    And the event matches the schema "order-assigned.schema.json"

  @blocker
  Scenario: OrderStarted matches its schema
    Given a customer has placed an order for 2 drills
    And the dispatcher has assigned the order to technician "tom"
    When the technician starts the work
    Then an event on "orders.started" matches:
      """
      {"orderId": "{order_id}"}
      """
    And the event matches the schema "order-started.schema.json"

  @blocker
  Scenario: OrderCompleted matches its schema
    Given a customer has placed an order for 2 drills
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When the technician completes the order
    Then an event on "orders.completed" matches:
      """
      {"orderId": "{order_id}"}
      """
    And the event matches the schema "order-completed.schema.json"

  @critical
  Scenario: A notification announcement matches its schema
    Given a customer has placed an order for 2 drills
    When the dispatcher assigns the order to technician "tom"
    Then an event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}"}
      """
    And the event matches the schema "notification-sent.schema.json"

  Scenario: A dead letter matches its schema
    When I publish to "orders.assigned":
      """
      {"eventId": "", "orderId": "contract-check"}
      """
    Then an event on "orders.dlq" matches:
      """
      {"orderId": "contract-check"}
      """
    And the event matches the schema "dead-letter.schema.json"
