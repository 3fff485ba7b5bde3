@event @allure.label.epic:Messaging @allure.label.owner:notifications-team
Feature: An event that comes twice has effect once
  Brokers deliver at least once: a consumer may see the same event again (a retry, a
  replay). A technician is still notified only once per assignment.

  @critical
  Scenario: The same assignment event published twice notifies once
    Given a customer has placed an order for 1 ladder
    And I listen for events on "notifications.sent"
    When I publish to "orders.assigned" twice:
      """
      {"eventId": "{uuid}", "type": "OrderAssigned", "orderId": "{order_id}",
       "occurredAt": "2025-01-31T09:30:00.123Z", "customerId": "alice", "technicianId": "tom"}
      """
    Then exactly 1 event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}", "technicianId": "tom"}
      """

  Scenario: A replayed assignment is ignored, and the next assignment still gets through
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    And an event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}", "technicianId": "tom"}
      """
    And I remember the event JSON at "$.eventId" as "event_id"
    When I publish to "orders.assigned":
      """
      {"eventId": "{event_id}", "type": "OrderAssigned", "orderId": "{order_id}",
       "occurredAt": "2025-01-31T09:30:00.123Z", "customerId": "alice", "technicianId": "tom"}
      """
    And I publish to "orders.assigned":
      """
      {"eventId": "{uuid}", "type": "OrderAssigned", "orderId": "{order_id}",
       "occurredAt": "2025-01-31T09:31:00.123Z", "customerId": "alice", "technicianId": "tina"}
      """
    # Events are handled in the order they come: once tina is told, the replay was handled.
    Then an event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}", "technicianId": "tina"}
      """
    And exactly 1 event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}", "technicianId": "tom"}
      """
