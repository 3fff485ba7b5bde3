"""Interlock: behaviour-driven acceptance tests for systems made of several services.

The names below are the public API; every step sentence is a few lines over them, and they
work without behave (pytest, a script, a suite's own domain steps).

Example:
    >>> from interlock import Scope, render
    >>> render("/orders/{id}", Scope({"id": "o-1"}))
    '/orders/o-1'
"""

from interlock.errors import Failure, InterlockError
from interlock.secrets import Secrets
from interlock.stack import Address, ReadyCheck, ServiceSpec, Stack
from interlock.suite import Suite
from interlock.values import Scope, parse_cell, parse_duration, parse_literal, render, render_json
from interlock.waiting import eventually
from interlock.world import World

__all__ = [
    "Address",
    "Failure",
    "InterlockError",
    "ReadyCheck",
    "Scope",
    "Secrets",
    "ServiceSpec",
    "Stack",
    "Suite",
    "World",
    "eventually",
    "parse_cell",
    "parse_duration",
    "parse_literal",
    "render",
    "render_json",
]
