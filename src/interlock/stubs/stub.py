"""The test's side of an HTTP stub: program its answers, read what it received, and check it.

A ``Stub`` talks to the stub server (``server.py``) over its admin paths. It is made per
scenario by the ``World`` (``world.stub("payments")``), which resets the stub after the
scenario, so answers and the journal never leak into the next one.

Example (against a real server on a free port):
    >>> server = serve_in_thread()
    >>> stub = Stub("payments", server.url)
    >>> _ = stub.answer("POST", "/charges", status=201, json={"id": "ch-1"})
    >>> import requests
    >>> requests.post(server.url + "/charges", json={"amount": 120}).status_code
    201
    >>> stub.received("POST", "/charges", json_contains={"amount": 120})[0].status
    201
    >>> stub.reset(); stub.journal()
    []
    >>> server.close(); stub.close()
"""

from __future__ import annotations

import base64
import json as jsonlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import requests

from interlock._core.errors import Failure, InterlockError
from interlock._core.match import compare, expect_match
from interlock._core.secrets import Secrets
from interlock.stubs.server import ADMIN, JOURNAL_LENGTH, StubApp, path_pattern, scenario_of

_UNSET: Any = object()
_SHOWN = 10  # requests listed in a failure


@dataclass(frozen=True)
class Received:
    """One request the stub received, with the answer it got."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    elapsed: float
    answer: int | None  # the answer's id; None when nothing matched (a 404 of the stub's)
    number: int = 0  # its place in the journal (0 first)
    _json: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], number: int) -> Received:
        """A journal entry of the server as a ``Received``."""
        return cls(
            str(entry["method"]), str(entry["path"]), str(entry.get("query") or ""),
            tuple((str(k), str(v)) for k, v in entry.get("headers") or ()),
            base64.b64decode(entry.get("body") or ""), int(entry["status"]),
            tuple((str(k), str(v)) for k, v in entry.get("response_headers") or ()),
            base64.b64decode(entry.get("response_body") or ""), float(entry.get("elapsed") or 0),
            entry.get("answer"), number,
        )

    def scenario(self, header: str) -> str | None:
        """The scenario the request belongs to, by the id the system passed on in
        ``header`` (``traceparent``: its trace id); None when it carries none."""
        wanted = header.lower()
        value = next((v for k, v in self.headers if k.lower() == wanted), None)
        return scenario_of(header, value)

    @property
    def target(self) -> str:
        """The path with its query string."""
        return self.path + (f"?{self.query}" if self.query else "")

    def json(self) -> Any:
        """The request body as JSON; None when it has none or it is not JSON."""
        if not self._json:
            try:
                self._json.append(jsonlib.loads(self.body) if self.body else None)
            except ValueError:
                self._json.append(None)
        return self._json[0]

    def line(self, secrets: Secrets) -> str:
        """``POST /charges {"amount": 120} -> 201``, redacted, for failure messages."""
        text = f"{self.method} {self.target}"
        document = self.json()
        if document is not None:
            shown = jsonlib.dumps(secrets.redact_json(document), ensure_ascii=False)
            text += " " + secrets.shorten(shown, 160)
        elif self.body:
            text += f" ({len(self.body)} bytes)"
        return secrets.redact(text) + f" -> {self.status}"


class Stub:
    """One stub service as the test sees it: ``answer``, ``received``, ``reset``.

    ``url`` is the stub as the test reaches it (the host's address). ``secrets`` hides what
    must not reach a message. With a ``scenario_header`` (the stack file's option of that
    name: the header the system passes on from the test's request, ``traceparent``), the
    answers this stub sets while ``scenario`` is set apply to that scenario's requests only,
    and what it checks and reports are that scenario's requests: scenarios that run at the
    same time (``interlock run -j``) may share the stub.
    """

    def __init__(self, name: str, url: str, secrets: Secrets | None = None,
                 http: requests.Session | None = None,
                 scenario_header: str | None = None, changes_file: str | None = None) -> None:
        self.name = name
        # Where the server says its journal changed (a file of this machine's, mounted into
        # a server's container): read after each step, so that a step during which the stub
        # received nothing costs no request.
        self.changes_file = changes_file
        self._reported: bytes | None = None  # what that file said when the journal was read
        self.scenario_header = scenario_header
        self.scenario: str | None = None  # the running scenario's id (with scenario_header)
        self.url = url.rstrip("/")
        self.secrets = secrets or Secrets()
        self._own_http = http is None
        if http is None:
            http = requests.Session()
            # The admin paths are the stub's own, reached directly: no proxy settings (nor
            # reading them from the environment again for every call).
            http.trust_env = False
        self._http = http
        self.seen = 0  # journal entries already handed out by ``new_requests``
        self.start = 0  # the first entry of this scenario's (after a reset, or next_scenario)
        self.own_answers: list[int] = []  # the answers the scenario set (not kept defaults)
        # Called with (method, path, status, headers, body, where) before an answer is set:
        # a stub with an OpenAPI document refuses an answer the document does not allow.
        self._kept: list[dict[str, Any]] = []
        self.stale = False  # its server was stopped or killed: restore() once it is back
        self.check_answer: Callable[[str, str, int, dict[str, str], bytes, str], None] | None \
            = None

    def close(self) -> None:
        """Close the HTTP session it made (a shared one stays open)."""
        if self._own_http:
            self._http.close()

    # -- programming it ---------------------------------------------------------------------

    def answer(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = _UNSET,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        once: bool = False,
        times: int | None = None,
        query: Mapping[str, str] | None = None,
        json_contains: Any = None,
        keep: bool = False,
        where: str = "",
    ) -> int:
        """Answer ``method path`` (``{var}`` and ``*`` segments match any one segment) with
        ``status``, a ``json`` document or raw ``body``, ``headers``, after ``delay``
        seconds; ``once`` (or ``times=n``) uses it up, then the next answer applies. Only a
        request with these ``query`` parameters and a JSON body containing ``json_contains``
        matches, when given. ``keep`` survives ``reset`` (defaults for every scenario).
        Returns the answer's id."""
        path, _, in_path = path.partition("?")  # "/search?q=a": the query is matched as such
        query = {**dict(parse_qsl(in_path, keep_blank_values=True)), **dict(query or {})}
        all_headers = dict(headers or {})
        if json is not _UNSET:
            payload = jsonlib.dumps(json).encode()
            if not any(k.lower() == "content-type" for k in all_headers):
                all_headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        if self.check_answer is not None and not keep:
            self.check_answer(method.upper(), path, int(status), all_headers, payload, where)
        answer = {
            "method": method.upper(), "path": path, "query": dict(query or {}),
            "json": json_contains, "status": int(status), "headers": all_headers,
            "body": base64.b64encode(payload).decode(), "delay": float(delay),
            "times": 1 if once else times, "keep": keep,
        }
        if self.scenario_header and self.scenario and not keep:
            answer["scenario"] = {"header": self.scenario_header, "id": self.scenario}
        reply = self._admin("POST", "answers", where, json=answer)
        if keep:
            self._kept.append(answer)
        else:
            self.own_answers.append(int(reply["id"]))  # the scenario's: removed after it
        return int(reply["id"])

    def restore(self, where: str = "") -> None:
        """Set the kept answers again, on a stub server that was restarted (it starts
        empty). ``stale`` is cleared."""
        self._admin("POST", "reset", where)
        for answer in self._kept:
            self._admin("POST", "answers", where, json=answer)
        self.seen = self.start = 0
        self._reported = None
        self.stale = False

    def reset(self, where: str = "") -> None:
        """Forget the answers set (not the kept defaults) and every request received. A
        server that no longer has the kept defaults was restarted (a step restarted it): they
        are set again."""
        reply = self._admin("POST", "reset", where)
        self.seen = self.start = 0
        self._reported = None
        self.own_answers = []
        if int(reply.get("kept", len(self._kept))) < len(self._kept):
            self.restore(where)

    def answers(self, where: str = "") -> list[str]:
        """The answers set, in the words of a failure: ``POST /charges -> 201``."""
        return [str(line) for line in self._admin("GET", "answers", where)]

    # -- what it received -------------------------------------------------------------------

    def next_scenario(self, where: str = "") -> None:
        """A new scenario starts on a stub other runs may share (``interlock run -j``, or a
        stack kept up by ``interlock stack up``): the journal is not cleared under them, and
        this scenario reads the requests received from now on. The answers the scenario set are
        removed (``interlock run -j`` runs a feature that sets answers alone on the stack,
        unless the stub tells the scenarios' requests apart: ``scenario_header``)."""
        for number in self.own_answers:
            self._admin("DELETE", f"answers/{number}", where, missing_ok=True)
        self.own_answers = []
        self.start = self.seen

    def skip_to_now(self, where: str = "") -> None:
        """Read on from the requests received from now on (a scenario starts on a stub
        other runs share: what they caused before it is not this scenario's)."""
        fresh = self.journal(self.seen, where)  # first: it may start the count anew
        self.seen += len(fresh)
        self.start = self.seen

    def journal(self, since: int = 0, where: str = "") -> list[Received]:
        """Every request received since the last reset (from entry ``since`` on). A journal
        emptied since this stub read it (another run reset it, or the server was restarted)
        is read from its start, and what this stub had seen of it is forgotten."""
        response = self._admin("GET", f"requests?since={since}", where, whole=True)
        length = response.headers.get(JOURNAL_LENGTH)
        if length is not None and int(length) < since:
            self.seen = self.start = 0  # every entry now is newer than what was seen
            return self.journal(0, where)
        entries = response.json()
        return [Received.from_entry(entry, since + i) for i, entry in enumerate(entries)]

    def new_requests(self, where: str = "") -> list[Received]:
        """The requests received since the last call (for the report, step by step): with a
        ``scenario_header``, the scenario's own and those that carry no scenario's id."""
        changes = self._changes()  # read first: a request received after it is read again
        if changes is not None and changes == self._reported:
            return []  # the journal has not changed since it was read
        fresh = self.journal(self.seen, where)
        self.seen += len(fresh)
        self._reported = changes
        if not self._scoped:
            return fresh
        return [r for r in fresh if self._owner(r) in (None, self.scenario)]

    def requests_to(self, method: str, path: str, where: str = "") -> list[Received]:
        """The requests received for ``method path`` (the same patterns as ``answer``); with
        a ``scenario_header``, the scenario's own only."""
        return _to(self._sorted(self.journal(self.start, where)).mine, method, path)

    def _changes(self) -> bytes | None:
        """What the server's changes file says now; None without one, or while it says
        nothing (a server that could not write it, one not started yet): the journal is then
        asked for every time."""
        if not self.changes_file:
            return None
        try:  # opened each time: a restarted server writes it anew (maybe a new file)
            with open(self.changes_file, "rb") as file:
                said = file.read(8)
        except OSError:
            return None
        return said if len(said) == 8 else None

    @property
    def _scoped(self) -> bool:
        return bool(self.scenario_header and self.scenario)

    def _owner(self, request: Received) -> str | None:
        """The id of the scenario ``request`` carries in the stub's ``scenario_header``."""
        return request.scenario(self.scenario_header or "")

    def _sorted(self, journal: list[Received]) -> _Sorted:
        """``journal`` sorted by whose it is: the scenario's own (every request when the stub
        is not scoped), those that carry no scenario's id, and other scenarios'."""
        if not self._scoped:
            return _Sorted(journal, [], [])
        found = _Sorted([], [], [])
        for request in journal:
            owner = self._owner(request)
            (found.mine if owner == self.scenario else found.unmarked if owner is None
             else found.others).append(request)
        return found

    def received(self, method: str, path: str, *, json_contains: Any = None,
                 count: int | None = None, where: str = "") -> list[Received]:
        """Check that ``method path`` was received (``count`` times exactly, when given),
        with a JSON body that contains ``json_contains`` (when given); the matching
        requests. A ``Failure`` lists what the stub did receive."""
        wanted = f"{method.upper()} {path}"
        journal = self._sorted(self.journal(self.start, where))  # read once for the check
        found = _to(journal.mine, method, path)
        if json_contains is not None:
            fitting = [r for r in found if r.json() is not None
                       and not compare(json_contains, r.json(), "contains")]
            if not fitting and found:
                closest = found[-1]
                try:
                    expect_match(json_contains, closest.json(), "contains",
                                 what=f'the JSON of {wanted} to the "{self.name}" stub',
                                 where=where, secrets=self.secrets)
                except Failure as failure:
                    failure.details += "\n" + self._listing(journal)
                    raise
            found = fitting
        if count is None and not found:
            raise Failure(
                f'The "{self.name}" stub received no {wanted}'
                + (" with the expected JSON" if json_contains is not None else ""),
                details=self._listing(journal), where=where,
                hint="Check the path and method the system calls, or wait for it: "
                f'Then within 5 seconds, the "{self.name}" stub received {wanted}',
            )
        if count is not None and len(found) != count:
            raise Failure(
                f'The "{self.name}" stub received {len(found)} request'
                f'{"" if len(found) == 1 else "s"} to {wanted}, not {count}',
                details=self._listing(journal), where=where,
            )
        unmarked = _to(journal.unmarked, method, path)
        if count is not None and unmarked:  # "no request", "exactly 2": they may be its own
            raise Failure(
                f'The "{self.name}" stub received {len(unmarked)} request'
                f'{"" if len(unmarked) == 1 else "s"} to {wanted} without a '
                f"{self.scenario_header} header: whose they are cannot be told",
                details=self._listing(journal), where=where,
                hint=f"The stack file's services.{self.name}.options.scenario_header says "
                "the system passes that header on from the test's request to the stub: make "
                "it do so (a traced service passes traceparent on), or remove the option.",
            )
        return found

    def _listing(self, journal: _Sorted) -> str:
        """What the stub received in this scenario, for a failure (``journal``: sorted)."""
        mine, unmarked = journal.mine, journal.unmarked
        text = "it received no request in this scenario"
        if mine:
            lines = [f"  {r.line(self.secrets)}" for r in mine[-_SHOWN:]]
            more = f" (the last {_SHOWN})" if len(mine) > _SHOWN else ""
            text = f"what it received{more}:\n" + "\n".join(lines)
        if not self._scoped:
            return text
        header = self.scenario_header
        others = len(journal.others)
        text += (f"\n(this scenario's requests carry {self.scenario} in their {header} header"
                 + (f"; none did, and {others} carried other scenarios' ids: does the "
                    "system start a trace of its own instead of going on with the test's?"
                    if others and not mine else "") + ")")
        if unmarked:
            text += (f"\nand {len(unmarked)} request{'' if len(unmarked) == 1 else 's'} without "
                     f"a {header} header, which no scenario can claim (the stack file's "
                     f"services.{self.name}.options.scenario_header says the system passes it "
                     f"on from the test's request: does it?), the last: "
                     f"{unmarked[-1].line(self.secrets)}")
        return text

    # -- the admin paths --------------------------------------------------------------------

    def _admin(self, method: str, what: str, where: str, json: Any = None,
               missing_ok: bool = False, whole: bool = False) -> Any:
        """The admin path's JSON answer (its whole response with ``whole``)."""
        url = f"{self.url}{ADMIN}{what}"
        try:
            response = self._http.request(method, url, json=json, timeout=10)
        except requests.RequestException as err:
            raise InterlockError(
                f'The "{self.name}" stub does not answer at {self.url}',
                details=str(err), where=where,
                hint="Is the stub service running? (interlock stack ps)",
            ) from None
        if response.status_code == 404 and missing_ok:
            return None  # already gone (a used-up "once" answer, a restarted server)
        if response.status_code >= 400:
            raise InterlockError(
                f'The "{self.name}" stub refused {method} {what}: {response.status_code}',
                details=response.text[:500], where=where,
            )
        return response if whole else response.json()


@dataclass
class _Sorted:
    """A stub's journal by whose each request is (``Stub._sorted``)."""

    mine: list[Received]  # the scenario's own (every request, when the stub is not scoped)
    unmarked: list[Received]  # carrying no scenario's id
    others: list[Received]  # carrying another scenario's


def _to(journal: list[Received], method: str, path: str) -> list[Received]:
    """The requests in ``journal`` for ``method path`` (the same patterns as answers)."""
    pattern = path_pattern(path.partition("?")[0])
    query = path.partition("?")[2]
    return [r for r in journal if r.method == method.upper() and pattern.match(r.path)
            and (not query or _has_query(r.query, query))]


def _has_query(actual: str, wanted: str) -> bool:
    """Whether every parameter of ``wanted`` is in ``actual``, once decoded (``a%20b`` is
    ``a b``)."""
    pairs = set(parse_qsl(actual, keep_blank_values=True))
    return all(pair in pairs for pair in parse_qsl(wanted, keep_blank_values=True))


@dataclass
class ServedStub:
    """A stub server in a thread of this process (for tests and doctests): ``url``,
    ``close()``."""

    url: str
    close: Callable[[], None]


def serve_in_thread(host: str = "127.0.0.1") -> ServedStub:
    """Start a stub server on a free port of ``host`` in a daemon thread."""
    from werkzeug.serving import make_server

    from interlock.stubs.server import QuietHandler

    server = make_server(host, 0, StubApp(), threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="interlock-stub", daemon=True)
    thread.start()

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return ServedStub(f"http://{host}:{server.server_port}", close)
