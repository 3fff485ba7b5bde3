"""Sentences of STEPS.md "HTTP": requests, response expectations, contracts, remembering.

Each is a few lines over ``interlock.http`` (the session), ``interlock.http.responses`` (the
expectations) and ``interlock.contracts``; response expectations take the ``within`` prefix
and re-send the last request before each re-check.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from interlock._core.values import render_json
from interlock.behave.binding import q, sentence
from interlock.behave.tables import rows_of
from interlock.http import NO_BODY, responses

METHODS = r"(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"


def _value(world: Any, text: str) -> Any:
    """An expected value written in the sentence: a JSON literal, {variables} allowed."""
    return render_json(text.strip(), world.scope, world.where)


@sentence(r"the request header " + q("name") + r" is " + q("value"))
def request_header(world: Any, name: str, value: str) -> None:
    """Given the request header "X-Request-Id" is "{uuid}"."""
    world.http.headers[world.render(name)] = world.render(value)


@sentence(r"the request headers are:")
def request_headers(world: Any) -> None:
    """Given the request headers are: (a table of name | value)."""
    for row in rows_of(world, "name", "value"):
        world.http.headers[world.render(row["name"])] = world.render(row["value"])


@sentence(r"the query parameters are:")
def query_parameters(world: Any) -> None:
    """Given the query parameters are: (a table of name | value)."""
    for row in rows_of(world, "name", "value"):
        world.http.params[world.render(row["name"])] = world.render(row["value"])


@sentence(
    r"I send " + METHODS + r" " + q("target") + r"(?: to " + q("service") + r")?"
    + r"(?: with (?P<kind>JSON|form):| with the body file " + q("file") + r")?"
)
def send(world: Any, method: str, target: str, service: str | None = None,
         kind: str | None = None, file: str | None = None) -> None:
    """When I send POST "/orders" to "orders" with JSON: (and the other forms)."""
    arguments: dict[str, Any] = {}
    if kind == "JSON":
        arguments["json"] = world.render_json(world.step_text or "")
    elif kind == "form":
        arguments["form"] = {world.render(r["name"]): world.render(r["value"])
                             for r in rows_of(world, "name", "value")}
    elif file is not None:
        path = world.suite.find_file(world.render(file), where=world.where)
        arguments["body"] = path.read_bytes()
        arguments["content_type"] = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    else:
        arguments["json"] = NO_BODY
    world.http.send(method, world.render(target),
                    service=world.render(service) if service else None,
                    where=world.where, **arguments)


@sentence(r"the response status is (?P<status>\d{3})", expectation=True, retry="resend")
def status_is(world: Any, status: str) -> None:
    """Then the response status is 201."""
    responses.status_is(world.last_exchange(), int(status), world.where)


@sentence(r"the response status is one of (?P<statuses>\d{3}(?:\s*,\s*\d{3})*)",
          expectation=True, retry="resend")
def status_is_one_of(world: Any, statuses: str) -> None:
    """Then the response status is one of 200, 204."""
    codes = [int(code) for code in statuses.split(",")]
    responses.status_is_one_of(world.last_exchange(), codes, world.where)


def _text(world: Any, value: str | None) -> str:
    """A quoted text from the sentence, or (``...:``) the step's docstring; rendered."""
    return world.render(value if value is not None else (world.step_text or ""))


@sentence(r"the response header " + q("name") + r" (?P<how>is|contains)(?: " + q("value") + "|:)",
          expectation=True, retry="resend")
def header(world: Any, name: str, how: str, value: str | None = None) -> None:
    """Then the response header "Content-Type" contains "json" (or is "..."; or a docstring)."""
    check = responses.header_is if how == "is" else responses.header_contains
    check(world.last_exchange(), world.render(name), _text(world, value), world.where)


@sentence(r"the response body contains(?: " + q("text") + "|:)", expectation=True,
          retry="resend")
def body_contains(world: Any, text: str | None = None) -> None:
    """Then the response body contains "pending" (or a docstring)."""
    responses.body_contains(world.last_exchange(), _text(world, text), world.where)


@sentence(r"the response JSON at " + q("path") + r" (?P<how>is|contains)(?: (?P<value>.+)|:)",
          expectation=True, retry="resend")
def json_at(world: Any, path: str, how: str, value: str | None = None) -> None:
    """Then the response JSON at "$.status" is "pending" (or contains [...]; or, after a
    colon, the expected value as a docstring)."""
    check = responses.json_at_is if how == "is" else responses.json_at_contains
    expected = _value(world, value if value is not None else (world.step_text or ""))
    check(world.last_exchange(), world.render_jsonpath(path), expected, world.where)


@sentence(r"the response JSON (?P<how>is|contains):", expectation=True, retry="resend")
def json_document(world: Any, how: str) -> None:
    """Then the response JSON contains: (or is:; a JSON docstring, markers allowed)."""
    expected = world.render_json(world.step_text or "")
    check = responses.json_is if how == "is" else responses.json_contains
    check(world.last_exchange(), expected, world.where)


@sentence(r"the response matches the schema " + q("schema"), expectation=True, retry="resend")
def matches_schema(world: Any, schema: str) -> None:
    """Then the response matches the schema "order.schema.json"."""
    exchange = world.last_exchange()
    world.suite.schemas.check(exchange.json(world.where), world.render(schema),
                              where=world.where, secrets=world.suite.secrets)


@sentence(r"the response satisfies the OpenAPI contract", expectation=True, retry="resend")
def satisfies_contract(world: Any) -> None:
    """Then the response satisfies the OpenAPI contract."""
    world.check_contract(world.last_exchange())


@sentence(r"the response time is under (?P<limit>\d+(?:\.\d+)?) ms", expectation=True,
          retry="resend")
def time_under(world: Any, limit: str) -> None:
    """Then the response time is under 500 ms."""
    responses.time_under(world.last_exchange(), float(limit), world.where)


@sentence(r"I remember the response JSON at " + q("path") + r" as " + q("name"))
def remember_json(world: Any, path: str, name: str) -> None:
    """Then I remember the response JSON at "$.id" as "order_id"."""
    value = responses.remember_json_at(world.last_exchange(), world.render_jsonpath(path),
                                       world.where)
    world.remember(world.render(name), value)


@sentence(r"I remember the response header " + q("header") + r" as " + q("name"))
def remember_header(world: Any, header: str, name: str) -> None:
    """Then I remember the response header "Location" as "order_url"."""
    value = responses.remember_header(world.last_exchange(), world.render(header), world.where)
    world.remember(world.render(name), value)
