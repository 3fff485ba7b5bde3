@data @allure.label.epic:Data @allure.label.owner:platform-team
Feature: The services agree on the facts
  Notifications and analytics keep their own copies of what happened to an order. Those
  copies name the same order, technician, event and times as the orders service.

  @critical
  Scenario: The technician's notification is stored against the assignment event
    Given a customer has placed an order for 1 ladder
    When the dispatcher assigns the order to technician "tom"
    Then an event on "orders.assigned" matches:
      """
      {"orderId": "{order_id}"}
      """
    And I remember the event JSON at "$.eventId" as "event_id"
    And the table "order_events" in "orders-db" has a row matching:
      | order_id   | event_id   | type          |
      | {order_id} | {event_id} | OrderAssigned |
    And within 5 seconds, the table "notifications" in "notifications-db" has 1 row matching:
      | order_id   | technician_id | event_id   | message                                    |
      | {order_id} | tom           | {event_id} | Order {order_id} has been assigned to you. |

  @critical
  Scenario: Analytics keeps the same timeline as the order
    Given a customer has placed an order for 2 drills
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When the technician completes the order
    And I am logged in as "dispatcher"
    And I send GET "/orders/{order_id}" to "orders"
    Then I remember the response JSON at "$.createdAt" as "created_at"
    And I remember the response JSON at "$.assignedAt" as "assigned_at"
    And I remember the response JSON at "$.startedAt" as "started_at"
    And I remember the response JSON at "$.completedAt" as "completed_at"
    And within 5 seconds, the table "order_timelines" in "analytics-db" has a row matching:
      | order_id   | customer_id | technician_id | created_at   | assigned_at   | started_at   | completed_at   |
      | {order_id} | alice       | tom           | {created_at} | {assigned_at} | {started_at} | {completed_at} |
