@event @allure.label.epic:Messaging @allure.label.owner:orders-team
Feature: An order's events arrive in the order things happened
  A consumer that sees "completed" before "assigned" would tell a wrong story; the
  events of one order arrive in the order of its life.

  @critical
  Scenario: Created, assigned, started, completed
    Given a customer has placed an order for 2 drills
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When the technician completes the order
    Then the events on "orders.>" arrive in this order:
      | type           | orderId    |
      | OrderCreated   | {order_id} |
      | OrderAssigned  | {order_id} |
      | OrderStarted   | {order_id} |
      | OrderCompleted | {order_id} |
