@e2e @allure.label.epic:Orders @allure.label.owner:product-team
Feature: An order's life, from the customer's request to the finished job
  A customer orders, a dispatcher sends a technician, the technician is told at once,
  does the work and closes the job; the customer can follow every step, and analytics
  learns how long each step took. All four services take part: auth, orders,
  notifications and analytics.

  @blocker
  Scenario: A customer's order is assigned, worked on and completed
    Given a customer has placed an order for 2 drills
    Then the customer sees the order as "pending"
    When the dispatcher assigns the order to technician "tom"
    Then the technician is notified
    And the customer sees the order as "assigned"
    When the technician starts the work
    Then the customer sees the order as "in progress"
    When the technician completes the order
    Then the customer sees the order as "completed"
    And analytics records how long the order took

  @critical
  Scenario: Only the dispatcher sends a technician
    Given a customer has placed an order for 1 ladder
    When the customer tries to assign the order to technician "tom"
    Then the customer is refused
    And the customer sees the order as "pending"

  @critical
  Scenario: Only the technician sent to the job may work on it
    Given a customer has placed an order for 3 hammers
    And the dispatcher has assigned the order to technician "tom"
    When technician "tina" tries to start the work
    Then the technician is refused
    And the customer sees the order as "assigned"
