@event @allure.label.epic:Messaging @allure.label.owner:orders-team
Feature: Every step of an order is announced as an event
  Other systems (notifications, analytics, and any that come later) learn about orders
  only from events. Each step of an order's life is announced once it is saved, with
  the same facts and times the order shows; a refused step announces nothing.

  @critical
  Scenario: Placing an order announces OrderCreated with the order's items
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 2}], "address": "1 Main Street"}
      """
    Then I remember the response JSON at "$.id" as "order_id"
    And I remember the response JSON at "$.createdAt" as "created_at"
    And an event on "orders.created" matches:
      """
      {"eventId": "#uuid", "type": "OrderCreated", "orderId": "{order_id}",
       "customerId": "alice", "occurredAt": "{created_at}",
       "items": [{"productId": "drill", "quantity": 2}], "address": "1 Main Street"}
      """

  @critical
  Scenario: Assigning an order announces OrderAssigned with the technician
    Given a customer has placed an order for 1 ladder
    When the dispatcher assigns the order to technician "tom"
    Then an event on "orders.assigned" matches:
      """
      {"eventId": "#uuid", "type": "OrderAssigned", "orderId": "{order_id}",
       "customerId": "alice", "technicianId": "tom", "occurredAt": "#datetime"}
      """

  @critical
  Scenario: Starting the work announces OrderStarted
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    When the technician starts the work
    Then an event on "orders.started" matches:
      """
      {"type": "OrderStarted", "orderId": "{order_id}", "technicianId": "tom"}
      """

  @critical
  Scenario: Completing the order announces OrderCompleted with the time it was completed
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When I send POST "/orders/{order_id}/complete" to "orders"
    Then I remember the response JSON at "$.completedAt" as "completed_at"
    And an event on "orders.completed" matches:
      """
      {"type": "OrderCompleted", "orderId": "{order_id}", "technicianId": "tom",
       "completedAt": "{completed_at}", "occurredAt": "{completed_at}"}
      """

  Scenario: A refused assignment announces nothing
    Given a customer has placed an order for 1 ladder
    When the customer tries to assign the order to technician "tom"
    Then the customer is refused
    And no event arrives on "orders.assigned" within 1 second
