@contract @allure.label.epic:Contracts @allure.label.owner:platform-team
Feature: The auth, notifications and analytics services keep their contracts
  The apps log in through auth and read notifications and figures; each of those
  answers must match the service's OpenAPI document in demo/contracts.

  @blocker
  Scenario: Logging in with a form answers as the auth contract says
    When I send POST "/auth/login" to "auth" with form:
      | name     | value              |
      | username | alice              |
      | password | {secrets.password} |
    Then the response status is 200
    And the response satisfies the OpenAPI contract
    And the response header "Cache-Control" is "no-store"

  @blocker
  Scenario: Logging in with JSON answers as the auth contract says
    When I send POST "/auth/login" to "auth" with JSON:
      """
      {"username": "dora", "password": "{secrets.password}"}
      """
    Then the response status is 200
    And the response satisfies the OpenAPI contract
    And the response JSON at "$.role" is "dispatcher"

  @critical
  Scenario: A wrong password is refused as the auth contract says
    When I send POST "/auth/login" to "auth" with JSON:
      """
      {"username": "alice", "password": "not-her-password"}
      """
    Then the response status is 401
    And the response satisfies the OpenAPI contract

  Scenario: A login without a password names the missing field, as the auth contract says
    When I send POST "/auth/login" to "auth" with JSON:
      """
      {"username": "alice"}
      """
    Then the response status is 422
    And the response satisfies the OpenAPI contract

  @critical
  Scenario: Verifying a token answers its claims as the auth contract says
    Given I am logged in as "technician"
    When I send POST "/auth/verify" to "auth"
    Then the response status is 200
    And the response satisfies the OpenAPI contract
    And the response JSON contains:
      """
      {"sub": "tom", "role": "technician"}
      """
    Given I use an expired token for "technician"
    When I send POST "/auth/verify" to "auth"
    Then the response status is 401
    And the response satisfies the OpenAPI contract

  Scenario: A technician's notifications follow the notifications contract
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    And I am logged in as "technician"
    When I send GET "/notifications/tom" to "notifications"
    Then within 5 seconds, the response JSON contains:
      """
      [{"orderId": "{order_id}"}]
      """
    And the response satisfies the OpenAPI contract
    When I send GET "/notifications/tina" to "notifications"
    Then the response status is 403

  Scenario: An order's figures follow the analytics contract, before and after completion
    Given a customer has placed an order for 1 ladder
    And I am logged in as "dispatcher"
    When I send GET "/metrics/orders/{order_id}" to "analytics"
    Then the response status is 404
    Given the dispatcher has assigned the order to technician "tom"
    And the technician has started the work
    When the technician completes the order
    And I send GET "/metrics/orders/{order_id}" to "analytics"
    Then within 5 seconds, the response status is 200
    And the response satisfies the OpenAPI contract
