"""Interlock: behaviour-driven acceptance tests for systems made of several services.

The names below are the public API; every step sentence is a few lines over them, and they
work without behave (pytest, a script, a suite's own domain steps).

Example:
    >>> from interlock import Scope, render
    >>> render("/orders/{id}", Scope({"id": "o-1"}))
    '/orders/o-1'
"""

import typing as _typing

from interlock._core.plugins import lazy_names as _lazy_names

# Each name is imported from its module on first use: `import interlock` stays cheap (no
# SQLAlchemy, broker client or Docker SDK until a suite uses them).
_WHERE = {
    "Address": "interlock.stack",
    "body_contains": "interlock.http.responses",
    "Databases": "interlock.db.database",
    "EventListeners": "interlock.events.listeners",
    "eventually": "interlock._core.waiting",
    "Exchange": "interlock.http.exchange",
    "Failure": "interlock._core.errors",
    "header_contains": "interlock.http.responses",
    "header_is": "interlock.http.responses",
    "HttpSession": "interlock.http.session",
    "InterlockError": "interlock._core.errors",
    "json_at_contains": "interlock.http.responses",
    "json_at_is": "interlock.http.responses",
    "json_contains": "interlock.http.responses",
    "json_is": "interlock.http.responses",
    "MemoryReporter": "interlock._core.report",
    "parse_cell": "interlock._core.values",
    "parse_duration": "interlock._core.values",
    "parse_literal": "interlock._core.values",
    "ReadyCheck": "interlock.stack",
    "remember_header": "interlock.http.responses",
    "remember_json_at": "interlock.http.responses",
    "render": "interlock._core.values",
    "render_json": "interlock._core.values",
    "ScenarioData": "interlock.db.lifecycle",
    "Scope": "interlock._core.values",
    "Secrets": "interlock._core.secrets",
    "ServiceSpec": "interlock.stack",
    "Stack": "interlock.stack",
    "status_is": "interlock.http.responses",
    "status_is_one_of": "interlock.http.responses",
    "Stub": "interlock.stubs",
    "Suite": "interlock.suite",
    "time_under": "interlock.http.responses",
    "World": "interlock.world",
}
__getattr__, __dir__ = _lazy_names(__name__, _WHERE)

if _typing.TYPE_CHECKING:  # what type checkers and editors see
    from interlock._core.errors import Failure, InterlockError
    from interlock._core.report import MemoryReporter
    from interlock._core.secrets import Secrets
    from interlock._core.values import (
        Scope,
        parse_cell,
        parse_duration,
        parse_literal,
        render,
        render_json,
    )
    from interlock._core.waiting import eventually
    from interlock.db import Databases, ScenarioData
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
    from interlock.stack import Address, ReadyCheck, ServiceSpec, Stack
    from interlock.stubs import Stub
    from interlock.suite import Suite
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
    "Stub",
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
