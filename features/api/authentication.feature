@api @allure.label.epic:Security @allure.label.owner:platform-team
Feature: Only callers with a valid token are served
  Every request to the orders service carries a token from the auth service. A token
  that is missing, forged, expired or garbled is refused with the reason, and the caller
  is told how to authenticate.

  Background:
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then I remember the response JSON at "$.id" as "order_id"

  @blocker
  Scenario: A valid token is accepted
    Given I am logged in as "customer"
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 200

  @blocker
  Scenario: A token signed with the wrong key is refused
    Given I use a token for "customer" signed with the wrong key
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 401
    And the response JSON at "$.error" is "invalid signature"
    And the response header "WWW-Authenticate" contains "Bearer"

  @critical
  Scenario: An expired token is refused
    Given I use an expired token for "customer"
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 401
    And the response JSON at "$.error" is "token expired"

  @critical
  Scenario: A request without a token is refused and told to use a bearer token
    Given I am not logged in
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 401
    And the response JSON at "$.error" is "missing bearer token"
    And the response header "WWW-Authenticate" is "Bearer"

  Scenario: A garbled token is refused
    Given I use the bearer token "not-a-jwt"
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 401
    And the response JSON at "$.error" is "malformed token"

  Scenario: A token with a role the system does not know is refused
    Given I use a token for "customer" with claims:
      | claim | value      |
      | role  | "plumber"  |
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 401
    And the response JSON at "$.error" is "unknown role 'plumber'"
