@api @allure.label.epic:Resilience @allure.label.owner:platform-team
Feature: Orders stay honest when the auth service is down
  The orders service cannot tell who is calling without the auth service. When auth is
  gone, orders says "try again later" at once instead of failing obscurely, says in its log
  why, and serves again as soon as auth is back. (A slow auth: auth_slow.feature.)

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

  # Runs after the one above: the stack was healed between scenarios.
  Scenario: Orders are served again once auth is back
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 201
