@e2e @allure.label.epic:Orders @allure.label.owner:product-team
Feature: Paying for an order
  A customer pays when ordering; the payment provider is a partner we do not run. The
  business cares that nobody gets an order they did not pay for, that a passing hiccup at
  the provider does not lose the sale, and that a customer is told plainly when paying
  fails.

  @blocker
  Scenario: A paid order goes ahead
    Given a customer has placed an order for 2 drills
    Then the customer was charged 20.00 EUR
    And the customer sees the order as "pending"

  @critical
  Scenario: A declined card places no order
    Given the payment provider declines the card for "insufficient_funds"
    When a customer tries to order 1 ladder
    Then the customer is told the payment was declined for "insufficient_funds"
    And the customer has no order

  Scenario: One failure at the provider does not lose the sale
    Given the payment provider fails once
    When a customer tries to order 1 ladder
    Then the order goes ahead
    And the customer was charged 10.00 EUR

  Scenario: A provider that is down is said plainly
    Given the payment provider is down
    When a customer tries to order 1 ladder
    Then the customer is told the payment could not be taken
    And the customer has no order
