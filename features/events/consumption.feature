@event @allure.label.epic:Messaging @allure.label.owner:notifications-team
Feature: The other services act on order events
  Notifications tells a technician as soon as an order is assigned to them; analytics
  follows every step of every order. Both learn it from the order events alone.

  @critical
  Scenario: An assignment makes notifications tell the technician
    Given a customer has placed an order for 1 ladder
    And I listen for events on "notifications.sent"
    And I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    Then an event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}", "technicianId": "tom",
       "message": "Order {order_id} has been assigned to you."}
      """
    Given I am logged in as "technician"
    When I send GET "/notifications/tom" to "notifications"
    Then the response status is 200
    And the response JSON contains:
      """
      [{"orderId": "{order_id}", "technicianId": "tom"}]
      """

  Scenario: Analytics follows the order through all its steps
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    And I am logged in as "technician"
    When I send POST "/orders/{order_id}/complete" to "orders"
    And I send GET "/metrics/orders/{order_id}" to "analytics"
    Then within 5 seconds, the response status is 200
    And the response JSON contains:
      """
      {"orderId": "{order_id}", "customerId": "alice", "technicianId": "tom",
       "createdAt": "#datetime", "assignedAt": "#datetime", "startedAt": "#datetime",
       "completedAt": "#datetime",
       "durations": {"toAssignSeconds": "#number", "toStartSeconds": "#number",
                     "workSeconds": "#number", "toCompleteSeconds": "#number"}}
      """
