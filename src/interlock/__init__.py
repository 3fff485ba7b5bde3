"""Interlock: behaviour-driven acceptance tests for systems made of several services.

The names below are the public API; every step sentence is a few lines over them, and they
work without behave (pytest, a script, a suite's own domain steps).

Example:
    >>> from interlock import Scope, render
    >>> render("/orders/{id}", Scope({"id": "o-1"}))
    '/orders/o-1'
"""

from interlock.db import Databases, ScenarioData
from interlock.errors import Failure, InterlockError
from interlock.events.listeners import EventListeners
from interlock.http import Exchange, HttpSession
from interlock.http.responses import (
    body_contains,
    header_contains,
    header_is,
    json_at_contains,
    json_at_is,
    json_contains,
    json_is,
    remember_header,
    remember_json_at,
    status_is,
    status_is_one_of,
    time_under,
)
from interlock.report import MemoryReporter
from interlock.secrets import Secrets
from interlock.stack import Address, ReadyCheck, ServiceSpec, Stack
from interlock.suite import Suite
from interlock.values import Scope, parse_cell, parse_duration, parse_literal, render, render_json
from interlock.waiting import eventually
from interlock.world import World

__all__ = [
    "Address",
    "Databases",
    "EventListeners",
    "Exchange",
    "Failure",
    "HttpSession",
    "InterlockError",
    "MemoryReporter",
    "ReadyCheck",
    "ScenarioData",
    "Scope",
    "Secrets",
    "ServiceSpec",
    "Stack",
    "Suite",
    "World",
    "body_contains",
    "eventually",
    "header_contains",
    "header_is",
    "json_at_contains",
    "json_at_is",
    "json_contains",
    "json_is",
    "parse_cell",
    "parse_duration",
    "parse_literal",
    "remember_header",
    "remember_json_at",
    "render",
    "render_json",
    "status_is",
    "status_is_one_of",
    "time_under",
]
