"""Sentences of STEPS.md "Events": listen, publish, and expect events, over
``interlock.events.EventListeners``. Waiting is push-based: a step returns as soon as the
matching event arrives; ``within <n> seconds,`` sets how long it may wait.
"""

from __future__ import annotations

import json
from typing import Any

from interlock._core.values import parse_cell, parse_duration, render_json_text
from interlock.behave.binding import DURATION, q, sentence
from interlock.behave.tables import headings_of, rows_of

BROKER = r'(?: (?:from|on|via) "(?P<broker>[^"]*)")?'
WINDOW = DURATION.format("window")


def _document(world: Any) -> Any:
    """The step's docstring: JSON when it is JSON (``{names}`` rendered), raw text otherwise,
    so a malformed payload can be published on purpose."""
    raw = world.step_text or ""
    try:
        return json.loads(render_json_text(raw, world.scope, world.where))
    except ValueError:
        # Not JSON (a malformed event on purpose): its {names} are rendered as plain text.
        return world.render(raw).encode()


def _broker(world: Any, broker: str | None) -> str | None:
    return world.render(broker) if broker else None


# Why a feature with a sentence that counts or refuses events runs alone under -j: another
# feature's scenarios publish on the same channels at the same time.
EVENTS_COUNTED = "it counts or refuses events, which features running beside it also cause"

@sentence(r"I listen for events on " + q("channel") + BROKER)
def listen(world: Any, channel: str, broker: str | None = None) -> None:
    """Given I listen for events on "orders.>" from "nats"."""
    world.events.listen(world.render(channel), _broker(world, broker))


@sentence(r"I publish to " + q("channel") + BROKER + r"(?P<twice> twice)?:")
def publish(world: Any, channel: str, broker: str | None = None, twice: str | None = None) -> None:
    """When I publish to "payments.received": (or ... twice:; a JSON docstring)."""
    world.events.publish(world.render(channel), _document(world), times=2 if twice else 1,
                         broker=_broker(world, broker))


@sentence(r"an event on " + q("channel") + BROKER + r" matches:", expectation=True, retry="wait")
def event_matches(world: Any, channel: str, broker: str | None = None,
                  timeout: float | None = None) -> None:
    """Then an event on "orders.created" matches: (contains comparison)."""
    world.events.expect_event(world.render(channel), world.render_json(world.step_text or ""),
                              timeout, _broker(world, broker))


@sentence(r"exactly (?P<n>\d+) events? on " + q("channel") + BROKER + r" match(?:es)?:",
          expectation=True, retry="wait", serial=EVENTS_COUNTED, scoped=True)
def exactly_n(world: Any, n: str, channel: str, broker: str | None = None,
              timeout: float | None = None) -> None:
    """Then exactly 1 event on "notifications.sent" matches:."""
    world.events.expect_exactly(int(n), world.render(channel),
                                world.render_json(world.step_text or ""), timeout,
                                _broker(world, broker))


@sentence(r"no event on " + q("channel") + BROKER + r" matches:", expectation=True, retry="wait",
          serial=EVENTS_COUNTED, scoped=True)
def no_event_matches(world: Any, channel: str, broker: str | None = None,
                     timeout: float | None = None) -> None:
    """Then no event on "orders.dlq" matches: (waits the whole window)."""
    world.events.expect_none(world.render(channel), world.render_json(world.step_text or ""),
                             timeout, _broker(world, broker))


@sentence(r"no event arrives on " + q("channel") + BROKER + r" within " + WINDOW,
          serial=EVENTS_COUNTED)
def no_event_arrives(world: Any, channel: str, window: str, broker: str | None = None) -> None:
    """Then no event arrives on "orders.completed" within 2 seconds."""
    world.events.expect_no_event(world.render(channel), parse_duration(window, world.where),
                                 _broker(world, broker))


@sentence(r"the events on " + q("channel") + BROKER + r" arrive in this order:",
          expectation=True, retry="wait", serial=EVENTS_COUNTED, scoped=True)
def events_in_order(world: Any, channel: str, broker: str | None = None,
                    timeout: float | None = None) -> None:
    """Then the events on "orders.>" arrive in this order: (a table of fields)."""
    headings = headings_of(world)
    columns = {h: world.render_jsonpath(h) if h.startswith("$") else world.render(h)
               for h in headings}
    rows = [{columns[h]: parse_cell(world.render(row[h]), h) for h in headings}
            for row in rows_of(world, *headings)]
    world.events.expect_order(world.render(channel), rows, timeout, _broker(world, broker))


@sentence(r"the event matches the schema " + q("schema"))
def event_schema(world: Any, schema: str) -> None:
    """Then the event matches the schema "order-created.schema.json"."""
    world.suite.schemas.check(world.events.last_json(), world.render(schema),
                              what="event JSON", where=world.where, secrets=world.suite.secrets)


@sentence(r"I remember the event JSON at " + q("path") + r" as " + q("name"))
def remember_event(world: Any, path: str, name: str) -> None:
    """Then I remember the event JSON at "$.orderId" as "event_order_id"."""
    world.remember(world.render(name), world.events.last_value(world.render_jsonpath(path)))


# -- keys and headers (Kafka keys; headers on Kafka, NATS, RabbitMQ and MQTT 5) ------------


@sentence(r"I publish to " + q("channel") + BROKER + r" with key " + q("key")
          + r"(?P<twice> twice)?:")
def publish_with_key(world: Any, channel: str, key: str, broker: str | None = None,
                     twice: str | None = None) -> None:
    """When I publish to "payments" with key "{order_id}": (a broker without keys refuses)."""
    world.events.publish(world.render(channel), _document(world), times=2 if twice else 1,
                         broker=_broker(world, broker), key=world.render(key))


@sentence(r"the events I publish carry the headers:")
def carry_headers(world: Any) -> None:
    """Given the events I publish carry the headers: (name | value; for the whole scenario)."""
    world.events.carry_headers({world.render(row["name"]): world.render(row["value"])
                                for row in rows_of(world, "name", "value")})


@sentence(r"an event on " + q("channel") + BROKER + r" with key " + q("key") + r" matches:",
          expectation=True, retry="wait")
def keyed_event_matches(world: Any, channel: str, key: str, broker: str | None = None,
                        timeout: float | None = None) -> None:
    """Then an event on "orders" with key "{order_id}" matches: (contains comparison)."""
    world.events.expect_event(world.render(channel), world.render_json(world.step_text or ""),
                              timeout, _broker(world, broker), key=world.render(key))


@sentence(r"the event has the header " + q("name") + r" with " + q("value"))
def event_header(world: Any, name: str, value: str) -> None:
    """Then the event has the header "ce-type" with "OrderCreated" (markers allowed)."""
    world.events.expect_header(world.render(name), world.render(value))
