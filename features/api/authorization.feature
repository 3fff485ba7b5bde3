@api @allure.label.epic:Security @allure.label.owner:orders-team
Feature: Each role may do only its own part of an order's life
  Customers place and follow their own orders, dispatchers assign them, and only the
  technician an order is assigned to may start and complete it.

  Background:
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then I remember the response JSON at "$.id" as "order_id"

  @blocker
  Scenario: A customer cannot assign an order
    Given I am logged in as "customer"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    Then the response status is 403
    And the response JSON at "$.error" is "#regex .*needs dispatcher or admin.*"

  @critical
  Scenario: A dispatcher can assign an order
    Given I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    Then the response status is 200
    And the response JSON at "$.status" is "assigned"
    And the response JSON at "$.technicianId" is "tom"

  @critical
  Scenario: A customer cannot read another customer's order
    Given I am logged in as "other-customer"
    When I send GET "/orders/{order_id}" to "orders"
    Then the response status is 403

  Scenario: A technician cannot place an order
    Given I am logged in as "technician"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    Then the response status is 403

  Scenario: A customer cannot list every order
    Given I am logged in as "customer"
    When I send GET "/orders" to "orders"
    Then the response status is 403

  @critical
  Scenario: Only the assigned technician may start the work
    Given I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    Given I am logged in as "other-technician"
    When I send POST "/orders/{order_id}/start" to "orders"
    Then the response status is 403
    Given I am logged in as "technician"
    When I send POST "/orders/{order_id}/start" to "orders"
    Then the response status is 200
    And the response JSON at "$.status" is "in_progress"

  Scenario: An order cannot skip a step of its life
    Given I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    Given I am logged in as "technician"
    When I send POST "/orders/{order_id}/complete" to "orders"
    Then the response status is 409
    And the response JSON at "$.error" is "#regex .*must be in_progress.*"

  Scenario: An assigned order cannot be assigned again
    Given I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tom"}
      """
    And I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": "tina"}
      """
    Then the response status is 409

  @minor
  Scenario Outline: An order that does not exist is not found (<case>)
    Given I am logged in as "dispatcher"
    When I send GET "/orders/<id>" to "orders"
    Then the response status is 404

    Examples:
      | case           | id                                   |
      | unknown id     | 00000000-0000-4000-8000-000000000000 |
      | not an order id | no-such-order                       |
