@data @allure.label.epic:Data @allure.label.owner:orders-team
Feature: Orders already in the system are served like new ones
  Orders that exist before a change (migrated, imported, placed last year) must read,
  list and move on exactly like orders placed today.

  Scenario: An order written straight into the database reads back through the API
    Given the table "orders" in "orders-db" contains:
      | id                                   | customer_id | status  | address       | created_at               |
      | 9e4d7f5a-2222-4b4b-9c9c-000000000001 | alice       | pending | 2 Side Street | 2025-01-31T09:30:00.123Z |
    And the table "order_items" in "orders-db" contains:
      | order_id                             | line | product_id | quantity |
      | 9e4d7f5a-2222-4b4b-9c9c-000000000001 | 1    | saw        | 1        |
    And I am logged in as "customer"
    When I send GET "/orders/9e4d7f5a-2222-4b4b-9c9c-000000000001" to "orders"
    Then the response status is 200
    And the response JSON contains:
      """
      {"customerId": "alice", "status": "pending", "address": "2 Side Street",
       "items": [{"productId": "saw", "quantity": 1}], "createdAt": "2025-01-31T09:30:00.123Z"}
      """

  @critical @data.assigned_order
  Scenario: A technician starts a job that was assigned before
    Given I am logged in as "technician"
    When I send POST "/orders/5b0c2a8e-6f0d-4c7e-9a51-3d2f8e7b1c01/start" to "orders"
    Then the response status is 200
    And the response JSON contains:
      """
      {"status": "in_progress", "customerId": "bob", "technicianId": "tom",
       "assignedAt": "2025-01-31T09:45:00.000Z", "startedAt": "#datetime"}
      """
    And an event on "orders.started" matches:
      """
      {"orderId": "5b0c2a8e-6f0d-4c7e-9a51-3d2f8e7b1c01", "customerId": "bob"}
      """
    And the table "orders" in "orders-db" has a row matching:
      | id                                   | status      | started_at |
      | 5b0c2a8e-6f0d-4c7e-9a51-3d2f8e7b1c01 | in_progress | #notnull   |

  @data.customer_history
  Scenario: The dispatcher lists a customer's orders, newest first, and filters them by state
    Given I am logged in as "dispatcher"
    And the query parameters are:
      | name       | value |
      | customerId | carol |
    When I send GET "/orders" to "orders"
    Then the response status is 200
    And the response JSON at "$" is "#[3]"
    And the response JSON at "$[0].id" is "c0a7e4f2-1111-4a4a-8b8b-000000000003"
    And the response JSON at "$[1].id" is "c0a7e4f2-1111-4a4a-8b8b-000000000002"
    And the response JSON at "$[2].id" is "c0a7e4f2-1111-4a4a-8b8b-000000000001"
    Given the query parameters are:
      | name       | value     |
      | customerId | carol     |
      | status     | completed |
    When I send GET "/orders" to "orders"
    Then the response JSON is:
      """
      [{"id": "c0a7e4f2-1111-4a4a-8b8b-000000000003", "customerId": "carol",
        "status": "completed", "address": "3 Carol Court", "technicianId": "tom",
        "items": [{"productId": "shower", "quantity": 1}, {"productId": "tiles", "quantity": 40}],
        "createdAt": "2025-02-03T08:00:00.000Z", "assignedAt": "2025-02-03T09:00:00.000Z",
        "startedAt": "2025-02-03T10:00:00.000Z", "completedAt": "2025-02-03T11:30:00.000Z"}]
      """
