@event @allure.label.epic:Messaging @allure.label.owner:notifications-team
Feature: Events nobody can use are put aside, not lost
  An event that cannot be acted on (garbled, or missing what it needs) is moved to the
  dead-letter channel "orders.dlq" with the reason, so that someone can look at it,
  and it does not block the events behind it.

  @critical
  Scenario: An assignment without a technician is dead-lettered
    Given a customer has placed an order for 1 ladder
    And I listen for events on "notifications.sent"
    When I publish to "orders.assigned":
      """
      {"eventId": "{uuid}", "type": "OrderAssigned", "orderId": "{order_id}"}
      """
    Then an event on "orders.dlq" matches:
      """
      {"reason": "missing or empty technicianId", "orderId": "{order_id}",
       "subject": "orders.assigned", "service": "notifications"}
      """
    And within 500 ms, no event on "notifications.sent" matches:
      """
      {"orderId": "{order_id}"}
      """

  Scenario: A message that is not JSON is dead-lettered with its original text
    When I publish to "orders.assigned":
      """
      garbled: assign order 42 to tom
      """
    Then an event on "orders.dlq" matches:
      """
      {"reason": "not a JSON object", "original": "garbled: assign order 42 to tom",
       "subject": "orders.assigned", "service": "notifications"}
      """
