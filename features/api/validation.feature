@api @allure.label.epic:Orders @allure.label.owner:orders-team
Feature: Orders are checked before they are accepted
  An order that cannot be fulfilled is refused at once, and the customer is told every
  field that is wrong, so that they can correct them all in one go.

  @critical
  Scenario Outline: An order with a wrong field is refused, naming the field (<case>)
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      <body>
      """
    Then the response status is 422
    And the response JSON is:
      """
      {"errors": [{"field": "<field>", "message": "#string"}]}
      """

    Examples:
      | case                 | body                                                          | field              |
      | quantity of zero     | {"items": [{"productId": "p-1", "quantity": 0}]}              | items[0].quantity  |
      | quantity over 100    | {"items": [{"productId": "p-1", "quantity": 101}]}            | items[0].quantity  |
      | quantity as text     | {"items": [{"productId": "p-1", "quantity": "2"}]}            | items[0].quantity  |
      | no product           | {"items": [{"quantity": 1}]}                                  | items[0].productId |
      | no items             | {"items": []}                                                 | items              |
      | empty address        | {"items": [{"productId": "p-1", "quantity": 1}], "address": ""} | address          |

  Scenario: Every wrong field is listed at once
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "", "quantity": 1}, {"productId": "p-2", "quantity": -1}],
       "address": ""}
      """
    Then the response status is 422
    And the response JSON at "$.errors" contains [{"field": "items[0].productId"}, {"field": "items[1].quantity"}, {"field": "address"}]
    And the response JSON at "$.errors" is "#[3]"

  Scenario: A body that is not JSON is refused as a bad request
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with the body file "payloads/truncated-order.json"
    Then the response status is 400
    And the response JSON at "$.error" is "#regex malformed JSON: .*"

  @minor
  Scenario: A JSON body that is not an object is refused as a bad request
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      [{"productId": "p-1", "quantity": 1}]
      """
    Then the response status is 400

  @minor
  Scenario: An assignment without a technician is refused, naming the field
    Given I am logged in as "customer"
    When I send POST "/orders" to "orders" with JSON:
      """
      {"items": [{"productId": "p-1", "quantity": 1}]}
      """
    And I remember the response JSON at "$.id" as "order_id"
    Given I am logged in as "dispatcher"
    When I send POST "/orders/{order_id}/assign" to "orders" with JSON:
      """
      {"technicianId": ""}
      """
    Then the response status is 422
    And the response JSON at "$.errors[0].field" is "technicianId"
