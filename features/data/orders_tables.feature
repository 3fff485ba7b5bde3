@data @allure.label.epic:Data @allure.label.owner:orders-team
Feature: An order is stored as the API shows it
  What the orders service answers is what it keeps: the order, each of its lines and an
  audit entry for every step, with the same times. Lines never outlive their order.

  @critical
  Scenario: Placing an order stores the order, its lines and its audit entry
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 2}, {"productId": "bits", "quantity": 10}],
       "address": "1 Main Street"}
      """
    Then the response status is 201
    And I remember the response JSON at "$.id" as "order_id"
    And I remember the response JSON at "$.createdAt" as "created_at"
    And the table "orders" in "orders-db" has a row matching:
      | id         | customer_id | status  | address       | technician_id | created_at   | assigned_at |
      | {order_id} | alice       | pending | 1 Main Street | null          | {created_at} | null        |
    And the query "SELECT line, product_id, quantity FROM order_items WHERE order_id = '{order_id}' ORDER BY line" in "orders-db" returns:
      | line | product_id | quantity |
      | 1    | drill      | 2        |
      | 2    | bits       | 10       |
    And the table "order_events" in "orders-db" has 1 row matching:
      | order_id   | type         | event_id | at           |
      | {order_id} | OrderCreated | #uuid    | {created_at} |

  Scenario: Each step of the order's life leaves one audit entry, in order
    Given a customer has placed an order for 2 drills
    And the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When the technician completes the order
    Then the query "SELECT type FROM order_events WHERE order_id = '{order_id}' ORDER BY id" in "orders-db" returns:
      | type           |
      | OrderCreated   |
      | OrderAssigned  |
      | OrderStarted   |
      | OrderCompleted |
    And the table "orders" in "orders-db" has a row matching:
      | id         | status    | technician_id | assigned_at | started_at | completed_at |
      | {order_id} | completed | tom           | #notnull    | #notnull   | #notnull     |

  @critical
  Scenario: An order's lines and audit entries go when the order goes
    Given a customer has placed an order for 2 drills
    When I run the SQL in "orders-db":
      """
      DELETE FROM orders WHERE id = '{order_id}'
      """
    Then the table "order_items" in "orders-db" has 0 rows matching:
      | order_id   |
      | {order_id} |
    And the table "order_events" in "orders-db" has 0 rows matching:
      | order_id   |
      | {order_id} |
    And the query "SELECT count(*) AS orphans FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL" in "orders-db" returns:
      | orphans |
      | 0       |
