"""Expectations about an HTTP response: status, headers, body, JSON, time.

Each function takes an ``Exchange`` and returns quietly when the expectation holds, or raises
``Failure`` saying what was expected, what came, and the start of the body (which usually
explains an unexpected status). The ``remember_*`` functions return a value for the caller
to keep in the scenario's ``Scope``.

Example:
    >>> from interlock.http import Exchange
    >>> ex = Exchange("GET", "http://127.0.0.1:1/orders/1", "orders", {}, b"", 500,
    ...               "Internal Server Error", {"Content-Type": "application/json"},
    ...               b'{"error": "database down"}', 0.004)
    >>> status_is(ex, 200)
    Traceback (most recent call last):
    interlock._core.errors.Failure: Response status is 500 Internal Server Error, expected 200
      body: {"error": "database down"}
      where: GET http://127.0.0.1:1/orders/1
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from interlock._core.errors import Failure, InterlockError
from interlock._core.match import compare, expect_match, select_one
from interlock._core.secrets import MASK
from interlock.http import Exchange

__all__ = [
    "body_contains",
    "header_contains",
    "header_is",
    "json_at_contains",
    "json_at_is",
    "json_contains",
    "json_is",
    "remember_header",
    "remember_json_at",
    "status_is",
    "status_is_one_of",
    "time_under",
]


def status_is(exchange: Exchange, expected: int, where: str = "") -> None:
    """Then the response status is 201.

    Example::

        status_is(session.last, 201)
    """
    if exchange.status != expected:
        raise _failure(exchange, f"{_status(exchange)}, expected {expected}", where)


def status_is_one_of(exchange: Exchange, expected: Iterable[int], where: str = "") -> None:
    """Then the response status is one of 200, 204.

    Example::

        status_is_one_of(session.last, [200, 204])
    """
    allowed = list(expected)
    if exchange.status not in allowed:
        listed = ", ".join(str(s) for s in allowed)
        raise _failure(exchange, f"{_status(exchange)}, expected one of {listed}", where)


def header_is(exchange: Exchange, name: str, expected: str, where: str = "") -> None:
    """Then the response header "Content-Type" is "application/json" (names ignore case).
    A marker works too: "#regex ^/orders/[0-9a-f-]+$", "#uuid", "#present".

    Example::

        header_is(session.last, "content-type", "application/json")
    """
    actual = _header(exchange, name, where)
    if expected.startswith("#"):
        if compare(expected, actual.strip()):
            raise _failure(
                exchange,
                f'Response header "{name}" is {_quoted(exchange, name, actual)}, '
                f"expected {expected}", where, body=False,
            )
        return
    if actual.strip() != expected.strip():
        raise _failure(
            exchange,
            f'Response header "{name}" is {_quoted(exchange, name, actual)}, expected "{expected}"',
            where,
            body=False,
            hint=f'To accept variations, write: the response header "{name}" contains "…"',
        )


def header_contains(exchange: Exchange, name: str, expected: str, where: str = "") -> None:
    """Then the response header "Content-Type" contains "json".

    Example::

        header_contains(session.last, "Content-Type", "json")
    """
    actual = _header(exchange, name, where)
    if expected not in actual:
        raise _failure(
            exchange,
            f'Response header "{name}" is {_quoted(exchange, name, actual)}, '
            f'expected it to contain "{expected}"',
            where,
            body=False,
        )


def body_contains(exchange: Exchange, text: str, where: str = "") -> None:
    """Then the response body contains "pending".

    Example::

        body_contains(session.last, "pending")
    """
    if text not in exchange.text:
        raise _failure(exchange, f'Response body does not contain "{text}"', where)


def json_at_is(exchange: Exchange, path: str, expected: Any, where: str = "") -> None:
    """Then the response JSON at "$.status" is "pending" (markers such as "#uuid" work).

    Example::

        json_at_is(session.last, "$.id", "#uuid")
    """
    value = _select(exchange, path, where)
    _expect(exchange, expected, value, "is", f"response JSON at {path}", where)


def json_at_contains(exchange: Exchange, path: str, expected: Any, where: str = "") -> None:
    """Then the response JSON at "$.items" contains [{"productId": "p-1"}].

    Example::

        json_at_contains(session.last, "$.items", [{"productId": "p-1"}])
    """
    value = _select(exchange, path, where)
    _expect(exchange, expected, value, "contains", f"response JSON at {path}", where)


def json_is(exchange: Exchange, expected: Any, where: str = "") -> None:
    """Then the response JSON is: (a whole document; same keys, same array order).

    Example::

        json_is(session.last, {"id": "#uuid", "status": "pending"})
    """
    _expect(exchange, expected, _document(exchange, where), "is", "response JSON", where)


def json_contains(exchange: Exchange, expected: Any, where: str = "") -> None:
    """Then the response JSON contains: (only the listed keys; array elements in any order).

    Example::

        json_contains(session.last, {"status": "pending"})
    """
    _expect(exchange, expected, _document(exchange, where), "contains", "response JSON", where)


def time_under(exchange: Exchange, milliseconds: float, where: str = "") -> None:
    """Then the response time is under 500 ms.

    Example::

        time_under(session.last, 500)
    """
    took = exchange.elapsed * 1000
    if took >= milliseconds:
        raise _failure(
            exchange,
            f"Response took {took:.0f} ms, expected under {milliseconds:g} ms",
            where,
            body=False,
        )


def remember_json_at(exchange: Exchange, path: str, where: str = "") -> Any:
    """Then I remember the response JSON at "$.id" as "order_id": the value to keep.

    Example::

        scope.set("order_id", remember_json_at(session.last, "$.id"))
    """
    return _select(exchange, path, where)


def remember_header(exchange: Exchange, name: str, where: str = "") -> str:
    """Then I remember the response header "Location" as "order_url": the value to keep.

    Example::

        scope.set("order_url", remember_header(session.last, "Location"))
    """
    return _header(exchange, name, where)


def _document(exchange: Exchange, where: str) -> Any:
    try:
        return exchange.json(where)
    except InterlockError as err:
        # The system answered with something else than JSON: that is its failure, not the
        # suite's, and a `within` retry must be able to wait it out.
        raise Failure(
            err.title, err.details, where=_where(exchange, where), hint=err.hint
        ) from None


def _select(exchange: Exchange, path: str, where: str) -> Any:
    document = _document(exchange, where)
    try:
        return select_one(document, path, where=where, secrets=exchange.secrets)
    except Failure as err:
        raise _redacted(exchange, err, where) from None


def _expect(
    exchange: Exchange, expected: Any, actual: Any, mode: str, what: str, where: str
) -> None:
    try:
        expect_match(
            expected,
            actual,
            mode,
            what=what,
            where=where,
            secrets=exchange.secrets,
        )
    except Failure as err:
        raise _redacted(exchange, err, where) from None


def _header(exchange: Exchange, name: str, where: str) -> str:
    value = exchange.response_headers.get(name)
    if value is None:
        present = ", ".join(exchange.response_headers) or "none"
        raise _failure(
            exchange,
            f'Response has no header "{name}"',
            where,
            body=False,
            details=f"headers present: {present}",
        )
    return value


def _status(exchange: Exchange) -> str:
    return f"Response status is {exchange.status} {exchange.reason}".rstrip()


def _quoted(exchange: Exchange, name: str, value: str) -> str:
    if name.lower() in exchange.secrets.headers:
        return MASK
    return json.dumps(exchange.secrets.redact(value), ensure_ascii=False)


def _where(exchange: Exchange, where: str) -> str:
    return f"{where} ({exchange.describe()})" if where else exchange.describe()


def _failure(
    exchange: Exchange,
    title: str,
    where: str,
    *,
    body: bool = True,
    details: str = "",
    hint: str = "",
) -> Failure:
    lines = [details] if details else []
    if body:
        lines.append("body: " + exchange.excerpt())
    return Failure(
        exchange.secrets.redact(title),
        exchange.secrets.redact("\n".join(lines)),
        where=_where(exchange, where),
        hint=hint,
    )


def _redacted(exchange: Exchange, err: Failure, where: str) -> Failure:
    # The request is named only now: building that text for every check that passes would
    # cost more than the check.
    redact = exchange.secrets.redact
    return Failure(
        redact(err.title), redact(err.details), where=_where(exchange, where), hint=err.hint
    )
