@api @allure.label.epic:Resilience @allure.label.owner:platform-team
Feature: Orders stay honest when the auth service is slow or down
  The orders service cannot tell who is calling without the auth service. When auth is
  slow or gone, orders says "try again later" quickly instead of hanging or failing
  obscurely, and says in its log why.

  @critical
  Scenario: A slow auth service makes orders answer "unavailable" within its timeout
    Given I am logged in as "customer"
    And the "auth" service responds with a delay of 3 seconds
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 503
    And the response JSON is:
      """
      {"error": "auth unavailable"}
      """
    And the response time is under 2500 ms
    And the "orders" service log contains "token verification timed out"

  @critical
  Scenario: A stopped auth service makes orders answer "unavailable"
    Given I am logged in as "customer"
    When the "auth" service is stopped
    And I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 503
    And the response JSON at "$.error" is "auth unavailable"
    And the "orders" service log contains "auth unreachable"

  # Runs after the two above: the stack was healed between scenarios.
  Scenario: Orders are served again once auth is back
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 201
