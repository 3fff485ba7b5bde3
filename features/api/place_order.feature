@api @allure.label.epic:Orders @allure.label.owner:orders-team
Feature: Placing an order
  A customer who is logged in places an order for products and can read it back.
  The order always belongs to the customer who placed it, and the dispatcher sees it
  among the orders waiting to be assigned.

  @critical
  Scenario: A logged-in customer places an order and reads it back as pending
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 2}]}
      """
    Then the response status is 201
    And the response JSON at "$.status" is "pending"
    And I remember the response JSON at "$.id" as "order_id"
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 200
    And the response JSON at "$.id" is "{order_id}"
    And the response JSON at "$.status" is "pending"
    And the response JSON at "$.items[0].productId" is "p-1"

  @critical
  Scenario: A new order shows every field, with nothing assigned yet
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 2}, {"productId": "bits", "quantity": 10}],
       "address": "1 Main Street"}
      """
    Then the response status is 201
    And the response JSON is:
      """
      {"id": "#uuid", "customerId": "alice", "status": "pending",
       "items": [{"productId": "drill", "quantity": 2}, {"productId": "bits", "quantity": 10}],
       "address": "1 Main Street", "technicianId": null, "createdAt": "#datetime",
       "assignedAt": null, "startedAt": null, "completedAt": null}
      """
    And I remember the response JSON at "$.id" as "order_id"
    And the response header "Location" is "/orders/{order_id}"

  Scenario: The order belongs to the logged-in customer, whatever the body says
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"customerId": "bob", "items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 201
    And the response JSON at "$.customerId" is "alice"

  Scenario: The dispatcher finds a customer's pending orders
    Given I am logged in as "other-customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "ladder", "quantity": 1}]}
      """
    Then I remember the response JSON at "$.id" as "order_id"
    Given I am logged in as "dispatcher"
    And the query parameters are:
      | name       | value   |
      | status     | pending |
      | customerId | bob     |
    When I send GET "/orders" to "orders"
    Then the response status is 200
    And the response JSON contains:
      """
      [{"id": "{order_id}", "customerId": "bob", "status": "pending"}]
      """

  @minor
  Scenario: A list is refused a limit it cannot honour
    Given I am logged in as "dispatcher"
    And the query parameters are:
      | name  | value |
      | limit | 0     |
    When I send GET "/orders" to "orders"
    Then the response status is 422
    And the response JSON at "$.errors[0].field" is "limit"

  Scenario: Placing an order without a token is refused
    Given I am not logged in
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 2}]}
      """
    Then the response status is 401
