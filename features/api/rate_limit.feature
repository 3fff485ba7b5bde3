@api @isolated @stack.limited @allure.label.epic:Resilience @allure.label.owner:orders-team
Feature: A customer cannot flood the system with orders
  Each customer may place only so many orders in a minute (here the orders service is
  started with a limit of 2 a minute). Beyond that they are asked to come back later and
  told when (the Retry-After header, which the contract requires to be a whole number of
  seconds); other customers are not affected.

  @critical
  Scenario: The third order within a minute is refused with the time to wait
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders-limited" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 201
    When I send POST "/orders" to "orders-limited" with JSON:
      """
      {"items": [{"productId": "p-2", "quantity": 1}]}
      """
    Then the response status is 201
    When I send POST "/orders" to "orders-limited" with JSON:
      """
      {"items": [{"productId": "p-3", "quantity": 1}]}
      """
    Then the response status is 429
    And the response satisfies the OpenAPI contract
    And I remember the response header "Retry-After" as "wait"
    And the response JSON at "$.error" is "too many orders; retry in {wait} s"

  Scenario: Another customer may still order while the first one waits
    Given I am logged in as "other-customer"
    When I send POST "/orders" to "orders-limited" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 201
