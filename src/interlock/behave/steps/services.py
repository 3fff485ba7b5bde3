"""Sentences of STEPS.md "Services and faults": break a service on purpose, read its log.

Whatever a scenario breaks is healed after it (``Stack.heal``), so later scenarios start
from a healthy stack.
"""

from __future__ import annotations

from typing import Any

from interlock._core.errors import Failure
from interlock._core.values import parse_duration
from interlock._core.waiting import eventually
from interlock.behave.binding import DURATION, q, sentence
from interlock.stack.base import log_tail

FAULT = "it stops or slows a service that features running beside it use"


@sentence(r"the " + q("service") + r" service is running", expectation=True)
def service_is_running(world: Any, service: str) -> None:
    """Then the "orders" service is running."""
    service = world.render(service)
    stack = world.require_stack()
    running = stack.service(service, world.where)
    if not running.is_running():
        raise Failure(
            f'Service "{service}" is not running',
            details="log tail:\n" + world.suite.secrets.redact(log_tail(running.log())),
        )


@sentence(
    r"the " + q("service") + r" service is (?P<action>stopped|killed|restarted|paused|resumed)",
    breaks=FAULT,
)
def service_fault(world: Any, service: str, action: str) -> None:
    """When the "auth" service is stopped (or killed, restarted, paused, resumed)."""
    service = world.render(service)
    stack = world.require_stack()
    running = stack.service(service, world.where)
    if action == "restarted":
        stack.restart(service)
        world.broken.pop(service, None)
        return
    if action == "resumed":
        running.resume()
        world.broken.pop(service, None)
        return
    world.broke(service, action)
    {"stopped": running.stop, "killed": running.kill, "paused": running.pause}[action]()


@sentence(
    r"the " + q("service")
    + r" service responds with a delay of " + DURATION.format("delay"),
    breaks=FAULT, scoped_by="service",
)
def service_delay(world: Any, service: str, delay: str) -> None:
    """Given the "auth" service responds with a delay of 3 seconds (to this scenario's
    requests only when its delay proxy tells scenarios apart: ``scenario_header``)."""
    service = world.render(service)
    world.require_stack().delay(service, parse_duration(delay, world.where), world.where,
                                scenario=world.scenario_id)


@sentence(r"the " + q("service") + r" service log contains " + q("text"), expectation=True)
def service_log_contains(world: Any, service: str, text: str) -> None:
    """Then the "orders" service log contains "token verification timed out"."""
    service = world.render(service)
    stack = world.require_stack()
    expected = world.render(text)
    running = stack.service(service, world.where)  # an unknown name lists the known ones

    def check() -> None:
        window = stack.log_since(service, world.log_marks.get(service))
        if expected not in window:
            raise Failure(
                f'The log of "{service}" does not contain "{expected}" (since the scenario '
                "started)",
                details="log tail:\n" + world.suite.secrets.redact(
                    log_tail(window or stack.log_since(service, None), 15)),
                hint="Prefix the step with 'within 5 seconds,' if the line comes a little later.",
            )

    # A line already written may still be on its way (a container's, through the engine).
    eventually(check, running.log_lag, retitle=False)


