@api @allure.label.epic:Orders @allure.label.owner:orders-team
Feature: Placing an order
  A customer who is logged in places an order for products and can read it back.
  Nobody who is not logged in can place one.

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

  Scenario: Placing an order without a token is refused
    Given I am not logged in
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 2}]}
      """
    Then the response status is 401
