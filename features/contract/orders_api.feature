@contract @allure.label.epic:Contracts @allure.label.owner:orders-team
Feature: The orders service keeps its published contract
  Mobile and web apps are built against the orders contract (demo/contracts/
  orders.openapi.yaml). Every answer, good or bad, must look the way it promises:
  status, headers and body. Every exchange with orders, notifications and analytics is
  checked against its contract automatically (check_contract in the stack file); the
  explicit "satisfies the OpenAPI contract" lines say where it matters most.

  @blocker
  Scenario: Every answer along an order's life follows the contract
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "drill", "quantity": 2}], "address": "1 Main Street"}
      """
    Then the response status is 201
    And the response satisfies the OpenAPI contract
    And I remember the response JSON at "$.id" as "order_id"
    When I send GET "/orders/{order_id}"
    Then the response status is 200
    Given I am logged in as "dispatcher"
    When I send GET "/orders"
    Then the response status is 200
    When I send POST "/orders/{order_id}/assign" with JSON:
      """
      {"technicianId": "tom"}
      """
    Then the response status is 200
    Given I am logged in as "technician"
    When I send POST "/orders/{order_id}/start"
    Then the response status is 200
    When I send POST "/orders/{order_id}/complete"
    Then the response status is 200
    And the response satisfies the OpenAPI contract

  @critical
  Scenario: A refused request without a token follows the contract (a Bearer challenge)
    Given I am not logged in
    When I send GET "/orders" to "orders"
    Then the response status is 401
    And the response satisfies the OpenAPI contract

  Scenario Outline: Error answers follow the contract too (<status>, <case>)
    Given I am logged in as "<user>"
    When I send <method> "<path>" to "orders" with JSON:
      """
      <body>
      """
    Then the response status is <status>
    And the response satisfies the OpenAPI contract

    Examples:
      | case               | user       | method | path                                               | body                                             | status |
      | not an object      | customer   | POST   | /orders                                            | "just text"                                      | 400    |
      | wrong role         | technician | POST   | /orders                                            | {"items": [{"productId": "p-1", "quantity": 1}]} | 403    |
      | unknown order      | dispatcher | POST   | /orders/00000000-0000-4000-8000-000000000000/assign | {"technicianId": "tom"}                          | 404    |
      | field errors       | customer   | POST   | /orders                                            | {"items": [{"productId": "", "quantity": 0}]}    | 422    |

  Scenario: A move the order's state does not allow answers a conflict in the contract's shape
    Given a customer has placed an order for 1 ladder
    And the dispatcher has assigned the order to technician "tom"
    And I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tina"}
      """
    Then the response status is 409
    And the response satisfies the OpenAPI contract

  @minor
  Scenario Outline: Each service's health and contract endpoints follow its contract (<service>)
    Given I am not logged in
    When I send GET "/health" to "<service>"
    Then the response status is 200
    And the response satisfies the OpenAPI contract
    When I send GET "/openapi.yaml" to "<service>"
    Then the response status is 200
    And the response header "Content-Type" contains "yaml"
    And the response satisfies the OpenAPI contract

    Examples:
      | service       |
      | auth          |
      | orders        |
      | notifications |
      | analytics     |
