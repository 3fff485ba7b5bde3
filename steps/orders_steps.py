"""The field-service business in sentences a product owner reads: customers order,
dispatchers assign, technicians work, analytics keeps the score.

Each step is a few lines over Interlock's plain API (``context.interlock_world``: its HTTP
session, the users of ``environment/interlock.yaml``, the event listeners), so the business
features say what happens and never how (no HTTP verbs, paths, JSONPath or status codes):

    Given a customer has placed an order for 2 drills
    When the dispatcher assigns the order to technician "tom"
    Then the technician is notified
"""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when

from interlock import Failure, InterlockError, eventually
from interlock.behave import domain_step
from interlock.http import Exchange

# Which user of environment/interlock.yaml (auth.users) logs in as each technician.
TECHNICIANS = {"tom": "technician", "tina": "other-technician"}
WAIT = 5.0  # seconds a consumer (notifications, analytics) may take to catch up


def _world(context: Any) -> Any:
    return context.interlock_world


def _send(world: Any, user: str, method: str, path: str, service: str = "orders",
          **body: Any) -> Exchange:
    """Send a request as ``user`` (a user of the stack file); the answer, whatever it is."""
    world.http.credentials = world.auth.credentials_for(user, world.where)
    return world.http.send(method, world.render(path), service=service, where=world.where,
                           **body)


def _expect(world: Any, exchange: Exchange, status: int, what: str) -> Any:
    """The answer's JSON when its status is ``status``; else a Failure titled in business words."""
    if exchange.status != status:
        raise Failure(f"{what}: the {exchange.service} service answered {exchange.status}, "
                      f"expected {status}", details="body: " + exchange.excerpt(),
                      where=f"{world.where} ({exchange.describe()})")
    return exchange.json()


def _technician_user(name: str) -> str:
    if name not in TECHNICIANS:
        raise InterlockError(f'No technician "{name}" can log in',
                             hint=f"Known: {', '.join(TECHNICIANS)} (steps/orders_steps.py)")
    return TECHNICIANS[name]


@given("a customer has placed an order for {quantity:d} {product}")
@domain_step
def customer_placed_order(context: Any, quantity: int, product: str) -> None:
    """A customer orders the product in the shop; the order is accepted and waits for a
    dispatcher (its number is remembered for the steps that follow)."""
    world = _world(context)
    exchange = _send(world, "customer", "POST", "/orders",
                     json={"items": [{"productId": product, "quantity": quantity}]})
    order = _expect(world, exchange, 201, "The customer could not place the order")
    world.remember("order_id", order["id"])


@given('the dispatcher has assigned the order to technician "{technician}"')
@when('the dispatcher assigns the order to technician "{technician}"')
@domain_step
def dispatcher_assigns(context: Any, technician: str) -> None:
    """The dispatcher sends this technician to the order; the order is then "assigned" and the
    technician is told."""
    world = _world(context)
    _technician_user(technician)
    world.remember("technician", technician)
    world.events.listen("notifications.sent")  # before assigning, so no notification is missed
    exchange = _send(world, "dispatcher", "POST", "/orders/{order_id}/assign",
                     json={"technicianId": technician})
    _expect(world, exchange, 200, f'The dispatcher could not assign the order to "{technician}"')


@when('the customer tries to assign the order to technician "{technician}"')
@domain_step
def customer_tries_to_assign(context: Any, technician: str) -> None:
    """The customer tries to do the dispatcher's job: send a technician themselves."""
    context.attempt = _send(_world(context), "customer", "POST", "/orders/{order_id}/assign",
                            json={"technicianId": technician})


@given("the technician has started the work")
@when("the technician starts the work")
@domain_step
def technician_starts(context: Any) -> None:
    """The technician sent to the job starts the work; the order is then "in progress"."""
    world = _world(context)
    user = _technician_user(world.render("{technician}"))
    _expect(world, _send(world, user, "POST", "/orders/{order_id}/start"), 200,
            "The technician could not start the work")


@when("the technician completes the order")
@domain_step
def technician_completes(context: Any) -> None:
    """The technician finishes the job; the order is then "completed"."""
    world = _world(context)
    user = _technician_user(world.render("{technician}"))
    _expect(world, _send(world, user, "POST", "/orders/{order_id}/complete"), 200,
            "The technician could not complete the order")


@when('technician "{technician}" tries to start the work')
@domain_step
def other_technician_tries(context: Any, technician: str) -> None:
    """A technician who was not sent to this job tries to start it."""
    world = _world(context)
    context.attempt = _send(world, _technician_user(technician), "POST",
                            "/orders/{order_id}/start")


@then("the {actor} is refused")
@domain_step
def actor_refused(context: Any, actor: str) -> None:
    """What the person just tried is not allowed, and the shop says so (nothing changes)."""
    attempt = context.attempt
    if attempt.status != 403:
        raise Failure(f"The {actor} was allowed to: the {attempt.service} service answered "
                      f"{attempt.status}, expected a refusal (403)",
                      details="body: " + attempt.excerpt(),
                      where=f"{_world(context).where} ({attempt.describe()})")


@then('the customer sees the order as "{status}"')
@domain_step
def customer_sees(context: Any, status: str) -> None:
    """The customer looks at their order and sees where it stands: pending (waiting for a
    technician), assigned, in progress or completed."""
    world = _world(context)
    order = _expect(world, _send(world, "customer", "GET", "/orders/{order_id}"), 200,
                    "The customer could not look at the order")
    seen = order["status"].replace("_", " ")  # "in_progress" reads "in progress"
    if seen != status:
        raise Failure(f'The customer sees the order as "{seen}", expected "{status}"',
                      details="order: " + json.dumps(order))  # JSON: null, not None


@then("the technician is notified")
@domain_step
def technician_is_notified(context: Any) -> None:
    """The technician is told about the job at once, exactly once, and finds it among their
    notifications."""
    world = _world(context)
    expected = {"orderId": world.render("{order_id}"), "technicianId": world.render("{technician}")}
    world.events.expect_exactly(1, "notifications.sent", expected, WAIT)
    user = _technician_user(expected["technicianId"])
    mine = _expect(world, _send(world, user, "GET", "/notifications/{technician}",
                         service="notifications"), 200,
                   "The technician could not read their notifications")
    if not any(n["orderId"] == expected["orderId"] for n in mine):
        raise Failure("The technician's notifications do not mention the order",
                      details=f"expected one about order {expected['orderId']}; got "
                      + json.dumps(mine))


@then("analytics records how long the order took")
@domain_step
def analytics_records(context: Any) -> None:
    """Analytics knows how long each stage of the order took: until a technician was sent,
    until the work started, the work itself, and the whole order."""
    world = _world(context)

    def recorded() -> Any:
        exchange = _send(world, "dispatcher", "GET", "/metrics/orders/{order_id}",
                         service="analytics")
        return _expect(world, exchange, 200, "Analytics has no figures for the completed order")

    durations = eventually(recorded, WAIT)["durations"]
    missing = [name for name, seconds in durations.items() if seconds is None]
    if missing:
        raise Failure("Analytics does not know how long every step of the order took",
                      details=f"unknown: {', '.join(missing)}; durations: "
                      + json.dumps(durations))


# -- paying: the payment provider is the "payments" stub (world.stub) ------------------------


@given('the payment provider declines the card for "{reason}"')
@domain_step
def provider_declines(context: Any, reason: str) -> None:
    """The payment provider refuses the customer's card from now on, giving this reason."""
    _world(context).stub("payments").answer(
        "POST", "/charges", status=402, json={"status": "declined", "reason": reason},
        where=_world(context).where)


@given("the payment provider fails once")
@domain_step
def provider_fails_once(context: Any) -> None:
    """The payment provider has a passing fault: the next charge fails, the one after works."""
    _world(context).stub("payments").answer("POST", "/charges", status=503, once=True,
                                            where=_world(context).where)


@given("the payment provider is down")
@domain_step
def provider_down(context: Any) -> None:
    """The payment provider cannot take any payment."""
    _world(context).stub("payments").answer("POST", "/charges", status=503,
                                            where=_world(context).where)


@when("a customer tries to order {quantity:d} {product}")
@domain_step
def customer_tries_to_order(context: Any, quantity: int, product: str) -> None:
    """A customer orders the product; whether the shop accepts it is checked next."""
    world = _world(context)
    context.charges_before = len(_charges(world))  # the attempt's own are those after these
    context.attempt = _send(world, "customer", "POST", "/orders",
                            json={"items": [{"productId": product, "quantity": quantity}]})


@then("the order goes ahead")
@domain_step
def order_goes_ahead(context: Any) -> None:
    """The shop accepted the order (its number is remembered for the steps that follow)."""
    world = _world(context)
    order = _expect(world, context.attempt, 201, "The order did not go ahead")
    world.remember("order_id", order["id"])


@then('the customer is told the payment was declined for "{reason}"')
@domain_step
def told_declined(context: Any, reason: str) -> None:
    """The shop refused the order and told the customer why the card was declined."""
    world = _world(context)
    answer = _expect(world, context.attempt, 402, "The customer was not told of the decline")
    if answer.get("reason") != reason:
        raise Failure(f'The customer was told the payment was declined for '
                      f'"{answer.get("reason")}", not "{reason}"',
                      details="answer: " + json.dumps(answer))


@then("the customer is told the payment could not be taken")
@domain_step
def told_unavailable(context: Any) -> None:
    """The shop refused the order because no payment could be taken, and said so."""
    world = _world(context)
    _expect(world, context.attempt, 503, "The customer was not told the payment failed")


def _charges(world: Any) -> list[Any]:
    """The charges the payment provider was asked for in this scenario."""
    return list(world.stub("payments").requests_to("POST", "/charges", world.where))


@then("the customer has no order")
@domain_step
def customer_has_no_order(context: Any) -> None:
    """The refused attempt left no order behind: nothing was recorded under the reference
    orders asked the payment provider to charge for it (the attempt's own charges: the stub
    tells scenarios apart by trace, so other features may place orders meanwhile)."""
    world = _world(context)
    charges = _charges(world)[getattr(context, "charges_before", 0):]
    references = sorted({str((charge.json() or {}).get("reference")) for charge in charges})
    if not references:
        raise Failure("The payment provider was never asked to charge the customer",
                      where=world.where, hint="The attempt was refused before payment?")
    for reference in references:
        rows = world.database("orders-db").query(
            "SELECT order_id FROM order_events WHERE event_id::text = :reference",
            {"reference": reference})
        if rows:
            raise Failure("The customer has an order although the payment failed",
                          details=f"order {rows[0]['order_id']} was made under the charge's "
                          f"reference {reference}", where=world.where)


@then("the customer was charged {amount} EUR")
@domain_step
def customer_charged(context: Any, amount: str) -> None:
    """The payment provider was asked to charge the customer this amount."""
    world = _world(context)
    cents = round(float(amount) * 100)
    world.stub("payments").received("POST", "/charges", json_contains={
        "amount": cents, "currency": "EUR", "customerId": "alice"}, where=world.where)
