"""Sentences of STEPS.md "HTTP stubs": program a stub's answers for the scenario and check
what it received, over ``world.stub(name)`` (``interlock.stubs.Stub``).

In a stub path, a whole segment ``{name}`` that is no variable of the scenario is a path
parameter (it matches any one segment), as is ``*``; a known ``{name}`` is its value.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from interlock._core.errors import InterlockError
from interlock._core.values import parse_duration
from interlock.behave.binding import DURATION, q, sentence
from interlock.behave.tables import rows_of

METHOD = r"(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"
STUB = r"the " + q("stub") + r" stub"
_SEGMENT = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_TIMES = {"once": 1, "twice": 2}


def _path(world: Any, path: str) -> str:
    """The stub path: variables the scenario knows filled in, other ``{name}`` segments kept
    as path parameters."""
    target, mark, query = path.partition("?")
    segments = []
    for segment in target.split("/"):
        found = _SEGMENT.match(segment)
        if found and found.group(1) != "uuid" and found.group(1) not in world.scope.variables:
            segments.append(segment)
        else:
            segments.append(world.render(segment))
    return "/".join(segments) + (mark + world.render(query) if mark else "")


def _stub(world: Any, stub: str) -> Any:
    return world.stub(world.render(stub))


@sentence(
    STUB + r" answers " + METHOD + r" " + q("path")
    + r"(?: with status (?P<status>\d{3}))?"
    + r"(?: (?:and|with) the body file " + q("file") + r")?"
    + r"(?P<json> (?:and|with) JSON)?"
    + r"(?: after a delay of " + DURATION.format("delay") + r")?"
    + r"(?P<times> once| twice| \d+ times)?"
    + r"(?P<colon>:)?",
    serial="it sets how a stub answers, for the features running beside it too",
    scoped_by="stub",
)
def answers(world: Any, stub: str, method: str, path: str, status: str | None = None,
            file: str | None = None, json: str | None = None, delay: str | None = None,
            times: str | None = None, colon: str | None = None) -> None:
    """Given the "payments" stub answers POST "/charges" with status 201 and JSON: (also
    with the body file "…", after a delay of 3 seconds, once; a table of header | value)."""
    arguments: dict[str, Any] = {"status": int(status or 200)}
    if json and file:
        raise InterlockError("An answer has a JSON docstring or a body file, not both",
                             where=world.where, hint="Keep one of the two.")
    if json:
        if not colon or world.step_text is None:
            raise InterlockError(
                "The answer's JSON is missing", where=world.where,
                hint='End the sentence with "and JSON:" and put the JSON in a docstring '
                '(""" lines) under it.')
        arguments["json"] = world.render_json(world.step_text)
    elif file:
        found = world.suite.find_file(world.render(file), where=world.where)
        arguments["body"] = found.read_bytes()
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        arguments["headers"] = {"Content-Type": kind}
    elif colon and world.step_text is not None:
        raise InterlockError(
            "This answer has a docstring but the sentence does not say what it is",
            where=world.where, hint='Write "… with status 201 and JSON:" above a JSON body.')
    if world.step_table is not None:
        headers = dict(arguments.get("headers") or {})
        headers.update({world.render(row["header"]): world.render(row["value"])
                        for row in rows_of(world, "header", "value")})
        arguments["headers"] = headers
    if delay:
        arguments["delay"] = parse_duration(delay, world.where)
    if times:
        word = times.strip()
        arguments["times"] = _TIMES.get(word) or int(word.split()[0])
    _stub(world, stub).answer(method, _path(world, path), where=world.where, **arguments)


@sentence(STUB + r" received " + METHOD + r" " + q("path")
          + r"(?P<json> with JSON containing:)?", expectation=True,
          serial="it looks for a request to a stub that features running beside it also "
          "call", scoped=True, scoped_by="stub")
def received(world: Any, stub: str, method: str, path: str, json: str | None = None) -> None:
    """Then the "payments" stub received POST "/charges" (with JSON containing: a docstring)."""
    expected = None
    if json:
        if world.step_text is None:
            raise InterlockError(
                "The JSON the request should contain is missing", where=world.where,
                hint='Put the JSON in a docstring (""" lines) under "with JSON containing:".')
        expected = world.render_json(world.step_text)
    _stub(world, stub).received(method, _path(world, path), json_contains=expected,
                                where=world.where)


@sentence(STUB + r" received (?P<count>\d+|no) requests? to " + METHOD + r" " + q("path"),
          expectation=True, serial="it counts the requests of a stub that features running "
          "beside it also call", scoped=True, scoped_by="stub")
def received_count(world: Any, stub: str, count: str, method: str, path: str) -> None:
    """Then the "payments" stub received 2 requests to POST "/charges" (or no request)."""
    _stub(world, stub).received(method, _path(world, path),
                                count=0 if count == "no" else int(count), where=world.where)

