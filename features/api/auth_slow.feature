@api @allure.label.epic:Resilience @allure.label.owner:platform-team
Feature: Orders stay honest when the auth service is slow
  The orders service cannot tell who is calling without the auth service. When auth is
  slow, orders says "try again later" within its own timeout instead of hanging, and says
  in its log why. Only this scenario's calls are slowed, so the features running at the
  same time are served at the usual speed.

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
