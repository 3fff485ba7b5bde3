@api @allure.label.epic:Resilience @allure.label.owner:orders-team
Feature: Paying for an order
  The orders service charges the customer at the payment provider before it confirms an
  order. The provider is not ours to run: the "payments" stub stands in for it (its OpenAPI
  document answers "succeeded" unless a scenario says otherwise, and checks every charge
  orders sends). A declined charge, a failing provider and a slow one each leave no order
  behind and tell the customer why.

  @critical
  Scenario: An order is charged at the provider, 10.00 EUR a unit, before it is confirmed
    Given the "payments" stub answers POST "/charges" with status 201 and JSON:
      """
      {"id": "ch-{uuid}", "status": "succeeded"}
      """
    And I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 2}, {"productId": "bits", "quantity": 1}]}
      """
    Then the response status is 201
    And the response JSON at "$.status" is "pending"
    And the "payments" stub received 1 request to POST "/charges"
    And the "payments" stub received POST "/charges" with JSON containing:
      """
      {"amount": 3000, "currency": "EUR", "customerId": "alice"}
      """

  @critical
  Scenario: A declined charge places no order and says why
    Given the "payments" stub answers POST "/charges" with status 402 and JSON:
      """
      {"status": "declined", "reason": "insufficient_funds"}
      """
    And I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 1}]}
      """
    Then the response status is 402
    And the response JSON is:
      """
      {"error": "payment declined", "reason": "insufficient_funds"}
      """
    And the "payments" stub received 1 request to POST "/charges"

  Scenario: A provider error is tried once more, and the second try places the order
    Given the "payments" stub answers POST "/charges" with status 503 once
    And I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 1}]}
      """
    Then the response status is 201
    And the "payments" stub received 2 requests to POST "/charges"

  Scenario: A provider that keeps failing is tried twice, then the customer is told
    Given the "payments" stub answers POST "/charges" with status 500
    And I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 1}]}
      """
    Then the response status is 503
    And the response JSON at "$.error" is "payment provider unavailable"
    And the "payments" stub received 2 requests to POST "/charges"

  Scenario: A provider slower than the orders service waits is a timeout, tried once
    Given the "payments" stub answers POST "/charges" with status 201 and JSON after a delay of 2 seconds:
      """
      {"id": "ch-late", "status": "succeeded"}
      """
    And I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 1}]}
      """
    Then the response status is 504
    And the response JSON at "$.error" is "payment provider timed out"
    And the "payments" stub received 1 request to POST "/charges"
    And the "orders" service log contains "payment provider timed out"

  Scenario: An order refused before payment is never charged
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 0}]}
      """
    Then the response status is 422
    And the "payments" stub received no request to POST "/charges"
