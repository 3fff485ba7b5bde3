"""The HTTP stub server: a werkzeug WSGI app that answers what a scenario told it to, and
keeps a journal of every request it received.

It imports only the standard library and werkzeug, and is run as a file (``python
stub_server.py --port 8080``), so that the Docker backend can run this very file in a plain
Python container with werkzeug mounted beside it (no image to build, nothing to download).

Programming it (what ``interlock.stubs.Stub`` does) goes through its own admin paths, under
``/__interlock/``, which the system under test never calls:

* ``POST /__interlock/answers``   one answer: ``{"method", "path", "query", "json", "status",
  "headers", "body" (base64), "delay", "times", "keep", "scenario"}``; returns ``{"id": n}``
  (``"scenario": {"header": "traceparent", "id": "4bf9…"}`` limits it to the requests that
  carry that scenario's id in that header: see ``scenario_of``);
* ``DELETE /__interlock/answers/n``   forget answer ``n`` only (a scenario on a stub that
  other runs share removes its own answers this way, and leaves the journal alone);
* ``POST /__interlock/reset``     forget the scenario's answers and the journal (``keep``
  answers, the defaults from an OpenAPI document, stay);
* ``GET /__interlock/requests?since=n``   the journal from entry ``n`` on (its whole length
  in the header ``X-Interlock-Journal-Length``: shorter than ``n`` when it was emptied since);
* ``GET /__interlock/health``     200 once it listens.

With ``--changes-file PATH`` the server also keeps, in that file's first 8 bytes, a number
that changes whenever its journal does (a request received, a reset; a new server starts
from another number): the test reads it after every step and asks for the journal only when
it moved, instead of making a request per step. In a container, that file is the host's,
mounted; a server that cannot write it says so and runs without it (the test then asks).

Which answer a request gets: of the answers that match it (method, path with ``{var}`` and
``*`` segments, query parameters, a JSON body that contains the given one), one limited by
``times`` (``once``) before an unlimited one, and among those the newest; an answer whose
``times`` are used up is skipped. Nothing matches: 404 with the answers that were set.

A scenario's answers on a stub that scenarios running at the same time share (``interlock run
-j``) are told apart by a header the system under test passes on from the request the scenario
sent: the W3C ``traceparent`` (whose trace id is the scenario's; the span id changes at every
hop), or a header of the suite's own (its whole value).

Example (the app without a server):
    >>> from werkzeug.test import Client
    >>> app = StubApp(); client = Client(app)
    >>> _ = client.post("/__interlock/answers", json={"method": "GET", "path": "/a/{id}",
    ...                                               "status": 204})
    >>> client.get("/a/7").status_code, client.get("/b").status_code
    (204, 404)
    >>> [entry["path"] for entry in client.get("/__interlock/requests").json]
    ['/a/7', '/b']
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ADMIN = "/__interlock/"
JOURNAL_LENGTH = "X-Interlock-Journal-Length"
_SEGMENT = re.compile(r"^\{[^{}/]+\}$")


def path_pattern(path: str) -> re.Pattern[str]:
    """A stub path as a regex: a ``{var}`` segment is any one segment, a ``*`` segment too,
    and a final ``**`` (or ``*`` as the last segment after a ``/``) any rest.

    Example:
        >>> bool(path_pattern("/charges/{id}").match("/charges/ch-1"))
        True
        >>> bool(path_pattern("/charges/*").match("/charges/ch-1/refunds"))
        False
        >>> bool(path_pattern("/files/**").match("/files/a/b"))
        True
    """
    parts = []
    for segment in path.split("/"):
        if segment == "**":
            parts.append(".*")
        elif segment == "*" or _SEGMENT.match(segment):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile("^" + "/".join(parts) + "$")


def scenario_of(header: str, value: str | None) -> str | None:
    """The scenario a request belongs to, from the value of ``header`` (None when it has
    none): a ``traceparent`` gives its trace id, another header its whole value.

    Example:
        >>> scenario_of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        '4bf92f3577b34da6a3ce929d0e0e4736'
        >>> scenario_of("X-Test-Run", " s-1 "), scenario_of("traceparent", "junk")
        ('s-1', None)
    """
    if value is None or not value.strip():
        return None
    if header.lower() != "traceparent":
        return value.strip()
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32:
        return None
    return parts[1].lower()


def scenario_value(header: str, scenario: str) -> str:
    """What a request of ``scenario`` (32 hex digits) carries in ``header``, for the system to
    pass on: a W3C ``traceparent`` with the scenario's id as its trace id (and a span id of
    its own), or the id itself in another header. ``scenario_of`` reads it back.

    Example:
        >>> value = scenario_value("traceparent", "4bf92f3577b34da6a3ce929d0e0e4736")
        >>> scenario_of("traceparent", value), scenario_value("X-Test-Scenario", "s-1")
        ('4bf92f3577b34da6a3ce929d0e0e4736', 's-1')
    """
    if header.lower() != "traceparent":
        return scenario
    return f"00-{scenario}-{os.urandom(8).hex()}-01"


def contains(actual: Any, expected: Any) -> bool:
    """Whether ``actual`` contains ``expected``: every expected field with a value that
    contains the expected one; every expected array item contained in some actual item.

    Example:
        >>> contains({"a": 1, "b": [1, 2, 3]}, {"b": [3]}), contains({"a": 1}, {"a": 2})
        (True, False)
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(contains(item, wanted) for item in actual) for wanted in expected)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    return bool(actual == expected)


class Answer:
    """One programmed answer, with what it matches and how many times it may be used."""

    def __init__(self, number: int, data: dict[str, Any]) -> None:
        self.id = number
        self.data = data
        self.method = str(data.get("method") or "*").upper()
        self.path = str(data.get("path") or "/**")
        self.pattern = path_pattern(self.path)
        self.query: dict[str, str] = {str(k): str(v) for k, v in (data.get("query") or {}).items()}
        self.json = data.get("json")
        self.status = int(data.get("status") or 200)
        self.headers: dict[str, str] = {str(k): str(v)
                                        for k, v in (data.get("headers") or {}).items()}
        self.body = base64.b64decode(data.get("body") or "")
        self.delay = float(data.get("delay") or 0)
        self.times: int | None = data.get("times")
        self.keep = bool(data.get("keep"))
        scenario = data.get("scenario") or {}
        # A scenario's own answer: only for the requests that carry its id in this header.
        self.header = str(scenario.get("header") or "") if isinstance(scenario, dict) else ""
        self.scenario = str(scenario.get("id") or "") if isinstance(scenario, dict) else ""
        self.used = 0

    def matches(self, method: str, path: str, query: dict[str, list[str]],
                body: Callable[[], Any], headers: Callable[[str], str | None]) -> bool:
        if self.method not in ("*", method) or not self.pattern.match(path):
            return False
        if self.header and scenario_of(self.header, headers(self.header)) != self.scenario:
            return False
        if self.times is not None and self.used >= self.times:
            return False
        if any(value not in query.get(name, []) for name, value in self.query.items()):
            return False
        return self.json is None or contains(body(), self.json)

    def describe(self) -> str:
        text = f"{self.method} {self.path}"
        if self.query:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        if self.json is not None:
            text += " with JSON containing " + json.dumps(self.json)
        text += f" -> {self.status}"
        if self.times is not None:
            text += f" ({self.times - self.used} of {self.times} left)"
        if self.header:
            text += f" (for {self.header} {self.scenario} only)"
        return text


class StubApp:
    """The WSGI app: answers, the journal, and the admin paths."""

    def __init__(self, changes_file: str | None = None) -> None:
        self._lock = threading.Lock()
        self._answers: list[Answer] = []
        self._journal: list[dict[str, Any]] = []
        self._numbers = 0
        self._changes = -1
        # Another server's number (a restarted one's) never matches this one's.
        self._version = int.from_bytes(os.urandom(7), "big")
        if changes_file:
            try:  # (in a container, a file of the host's, mounted: it may not be writable)
                self._changes = os.open(changes_file, os.O_RDWR | os.O_CREAT | os.O_TRUNC,
                                        0o600)
            except OSError as err:  # the test then asks for the journal after every step
                print(f"stub: cannot keep the changes file {changes_file}: {err} (the test "
                      "asks for the journal after every step instead)", file=sys.stderr,
                      flush=True)
            else:
                self._changed()

    def _changed(self) -> None:
        """The journal changed (called holding the lock): the changes file says so."""
        if self._changes >= 0:
            self._version += 1
            os.pwrite(self._changes, struct.pack("<Q", self._version), 0)

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        admin = request.path.startswith(ADMIN)
        response = self._admin(request) if admin else self._answer(request)
        return response(environ, start_response)

    # -- the admin paths --------------------------------------------------------------------

    def _admin(self, request: Request) -> Response:
        what = request.path[len(ADMIN):].strip("/")
        if what == "health":
            return _json({"ok": True})
        if what == "answers" and request.method == "POST":
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return _json({"error": "an answer is a JSON object"}, 400)
            with self._lock:
                self._numbers += 1
                answer = Answer(self._numbers, data)
                self._answers.append(answer)
            return _json({"id": answer.id}, 201)
        if what.startswith("answers/") and request.method == "DELETE":
            number = what.partition("/")[2]
            with self._lock:
                before = len(self._answers)
                self._answers = [a for a in self._answers if str(a.id) != number]
                removed = before - len(self._answers)
            return _json({"removed": removed}, 200 if removed else 404)
        if what == "answers" and request.method == "GET":
            with self._lock:
                return _json([a.describe() for a in self._answers])
        if what == "reset" and request.method == "POST":
            with self._lock:
                self._answers = [a for a in self._answers if a.keep]
                for answer in self._answers:
                    answer.used = 0
                self._journal = []
                self._changed()
                kept = len(self._answers)
            return _json({"ok": True, "kept": kept})  # a restarted server has lost its own
        if what == "requests" and request.method == "GET":
            since = int(request.args.get("since", "0") or 0)
            with self._lock:
                reply = _json(self._journal[since:])
                reply.headers[JOURNAL_LENGTH] = str(len(self._journal))
                return reply
        return _json({"error": f"no admin path {request.method} {request.path}"}, 404)

    # -- the stubbed service ----------------------------------------------------------------

    def _answer(self, request: Request) -> Response:
        started = time.perf_counter()
        body = request.get_data(cache=True)
        query = parse_qs(request.query_string.decode("latin-1"), keep_blank_values=True)
        parsed: list[Any] = []

        def body_json() -> Any:
            if not parsed:
                try:
                    parsed.append(json.loads(body) if body else None)
                except ValueError:
                    parsed.append(None)
            return parsed[0]

        with self._lock:
            chosen = self._choose(request.method, request.path, query, body_json,
                                  request.headers.get)
            if chosen is not None:
                chosen.used += 1
            listed = [a.describe() for a in self._answers]
        if chosen is None:
            status, headers = 404, {"Content-Type": "application/json"}
            payload = json.dumps({
                "error": f"the stub has no answer for {request.method} {request.path}",
                "answers": listed,
            }).encode()
            delay = 0.0
        else:
            status, headers, payload, delay = (chosen.status, dict(chosen.headers), chosen.body,
                                               chosen.delay)
        response = Response(payload, status=status, headers=headers)
        if chosen is not None and "Content-Type" not in headers:
            del response.headers["Content-Type"]
            if payload:
                response.headers["Content-Type"] = "application/octet-stream"
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "headers": [[k, v] for k, v in request.headers.items()],
            "body": base64.b64encode(body).decode(),
            "status": status,
            "response_headers": [[k, v] for k, v in response.headers.items()],
            "response_body": base64.b64encode(payload).decode(),
            "answer": chosen.id if chosen is not None else None,
            "elapsed": time.perf_counter() - started + delay,
            "received": time.time(),
        }
        with self._lock:  # kept on arrival: a delayed answer's request is its scenario's
            self._journal.append(entry)
            self._changed()
        if delay:
            time.sleep(delay)
        return response

    def _choose(self, method: str, path: str, query: dict[str, list[str]],
                body: Callable[[], Any], headers: Callable[[str], str | None]) -> Answer | None:
        # Limited answers (once) first, then the newest: a later answer overrides an earlier.
        for limited in (True, False):
            for answer in reversed(self._answers):
                if (answer.times is not None) == limited and answer.matches(method, path, query,
                                                                            body, headers):
                    return answer
        return None


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, mimetype="application/json")


class QuietHandler(WSGIRequestHandler):
    """No line per request: the journal is the record, and the log stays for the server's
    own news."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    """``python stub_server.py --host 127.0.0.1 --port 8080 --name payments``"""
    parser = argparse.ArgumentParser(description="Interlock's HTTP stub server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="stub")
    parser.add_argument("--changes-file", help="where to say that the journal changed")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, StubApp(args.changes_file), threaded=True,
                         request_handler=QuietHandler)
    print(f"stub {args.name} listening on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
