"""The ``World``: one per scenario. It holds what a scenario builds up (remembered variables,
the HTTP session and who is logged in, event listeners, rows to remove, services it broke)
and undoes it in ``close()``.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "environment").mkdir()
    >>> _ = (root / "environment" / "interlock.yaml").write_text("variables: {a: 1}\\n")
    >>> from interlock.suite import Suite
    >>> suite = Suite.load(root / "environment" / "interlock.yaml", progress=lambda line: None)
    >>> world = World(suite, stack=None)
    >>> world.remember("order_id", "o-1")
    >>> world.render("/orders/{order_id}?a={a}")
    '/orders/o-1?a=1'
    >>> _ = world.close(); suite.close()
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from interlock._core.errors import Failure, InterlockError
from interlock._core.traffic import SERVICE, note
from interlock._core.values import Scope, render, render_json, render_jsonpath
from interlock.http import Exchange, HttpSession
from interlock.stack.base import log_tail
from interlock.stack.sockets import owner_of
from interlock.stack.stack import Stack
from interlock.suite import Suite

if TYPE_CHECKING:  # SQLAlchemy loads only when a scenario uses a database; the contracts and
    # the event listeners when one checks a contract or listens for events
    from interlock.auth import Authenticator
    from interlock.contracts import Observed, OpenApiContract, Operation
    from interlock.db import Database, ScenarioData
    from interlock.events.listeners import EventListeners
    from interlock.stubs import Received, Stub  # a stub's client loads when a suite has one


class World:
    """What one scenario knows and has done."""

    def __init__(self, suite: Suite, stack: Stack | None, where: Callable[[], str] | None = None):
        self.suite = suite
        self.stack = stack
        self._where = where or (lambda: "")
        self.scope: Scope = suite.scope_for(stack)
        self._cleanups: list[Callable[[], None]] = []
        self._parts: dict[str, Any] = {}
        self.tags: list[str] = []
        self.step_text: str | None = None
        self.step_table: Any = None
        self.log_marks = stack.log_marks() if stack else {}
        self.stubs_reported_at: str | None = None  # the step whose stub requests are reported
        self._scenario_id: str | None = None

    # -- values -----------------------------------------------------------------------------

    @property
    def where(self) -> str:
        """The feature file and line of the step running now."""
        return self._where()

    def render(self, text: str) -> str:
        """``text`` with its ``{names}`` replaced."""
        return render(text, self.scope, self.where)

    def render_json(self, text: str) -> Any:
        """A JSON docstring with its ``{names}`` replaced, parsed."""
        return render_json(text, self.scope, self.where)

    def render_jsonpath(self, path: str) -> str:
        """A JSONPath with its ``{names}`` filled in (``"$.{field}"``, ``$[?@.id == {id}]``)."""
        return render_jsonpath(path, self.scope, self.where)

    def remember(self, name: str, value: Any) -> None:
        """Keep ``value`` as ``{name}`` for the rest of the scenario."""
        self.scope.set(name, value)

    # -- parts built on first use -----------------------------------------------------------

    def built(self, key: str) -> Any:
        """The part ``key`` when the scenario has built it, else None (nothing is built)."""
        return self._parts.get(key)

    def part(self, key: str, build: Callable[[], Any]) -> Any:
        """A per-scenario object (the HTTP session, the listeners…), built on first use."""
        if key not in self._parts:
            self._parts[key] = build()
        return self._parts[key]

    @property
    def http(self) -> HttpSession:
        """This scenario's HTTP client (headers, credentials, the last exchange)."""

        def build() -> HttpSession:
            session = self.suite.new_http_session(self.stack)
            headers = sorted({*self.suite.scenario_headers.values(),
                              *self.suite.delay_headers.values()})
            if headers:  # the scenario's id, for the system to pass on to the stubs that
                from interlock.stubs.server import scenario_value  # tell scenarios apart by it

                for header in headers:
                    session.headers[header] = scenario_value(header, self.scenario_id)
            session.on_exchange.append(self._check_contract_automatically)
            session.explain_unreachable = self.why_unreachable
            self.on_close(session.close)
            return session

        return cast(HttpSession, self.part("http", build))

    @property
    def auth(self) -> Authenticator:
        """The users and their logins against this scenario's stack (one login per user
        for as long as the stack runs)."""
        return self.suite.auth_for(self.stack)

    def _own_values(self) -> list[Any]:
        """The values this scenario set (``{order_id}``…), not the stack file's variables,
        which every scenario has: what tells its events from other scenarios'."""
        shared = self.suite.scope.variables
        return [value for name, value in self.scope.variables.items()
                if name not in shared or shared[name] is not value]

    @property
    def events(self) -> EventListeners:
        """This scenario's event listeners (configured channels already listened to)."""

        def build() -> EventListeners:
            from interlock.events.listeners import EventListeners

            listeners = EventListeners.start(
                self.suite.brokers_for(self.stack), self.suite.events_config,
                self.suite.reporter, self.suite.secrets,
                known=self._own_values,
                shared=self.stack is not None and self.stack.shared and not self.stack.alone,
            )
            self.on_close(listeners.close)
            return listeners

        return cast("EventListeners", self.part("events", build))

    @property
    def data(self) -> ScenarioData:
        """This scenario's databases, with what it inserts undone after it."""

        def build() -> ScenarioData:
            from interlock.db import ScenarioData

            data = ScenarioData(self.suite.databases_for(self.stack),
                                fixtures_dir=self.suite.fixtures_dir)
            self.on_close(data.close)
            return data

        return cast("ScenarioData", self.part("data", build))

    def database(self, name: str | None = None) -> Database:
        """A configured database by name (the only one when ``name`` is None)."""
        return self.data.database(name)

    # -- stubs ------------------------------------------------------------------------------

    def stub(self, name: str) -> Stub:
        """The stub service ``name`` of this scenario's stack: ``answer``, ``received``.
        What the scenario sets and what the stub receives are gone after it."""
        stub = self.suite.stub_for(self.stack, name, self.where)
        stub.scenario = self.scenario_id if stub.scenario_header else None
        return stub

    @property
    def scenario_id(self) -> str:
        """This scenario's id (32 hex digits, a W3C trace id): the requests it sends carry it
        in the headers the stack file's stubs tell scenarios apart by (``scenario_header``)."""
        if self._scenario_id is None:
            self._scenario_id = os.urandom(16).hex()
        return self._scenario_id

    def _stubs_here(self) -> list[str]:
        """The stubs running in this scenario's stack (none broken by it)."""
        if self.stack is None:
            return []
        return [name for name in self.suite.stub_names
                if name in self.stack.running and name not in self.broken]

    def report_stub_requests(self) -> None:
        """Attach every request the stubs received since the last call (so each appears
        under the step during which it arrived), redacted like any exchange; a request that
        breaks a stub's OpenAPI document fails the step (the consumer broke the contract)."""
        self.stubs_reported_at = self.where
        broken: list[Failure] = []
        unanswered: list[InterlockError] = []
        for name in self._stubs_here():
            stub = self.stub(name)
            spec = self.suite.services[name]
            for received in stub.new_requests(self.where):
                exchange = self._as_exchange(stub, received)
                self.suite.reporter.attach(
                    f'stub "{name}" received {exchange.describe()} -> {received.status}',
                    exchange.report())
                if received.answer is None:
                    unanswered.append(self._unanswered(stub, received))
                    continue
                if spec.openapi:
                    try:
                        self.suite.openapi(name, self.where).check_request(
                            observed(exchange), where=self.where, secrets=self.suite.secrets)
                    except Failure as failure:
                        failure.title = f'The system\'s request to the "{name}" stub: ' \
                            + failure.title
                        failure.details = (f"{received.line(self.suite.secrets)}\n"
                                           f"{failure.details}")
                        broken.append(failure)
        if unanswered:
            raise unanswered[0]
        if broken:
            first = broken[0]
            for more in broken[1:]:
                first.details += f"\n\n{more.title}\n{more.details}"
            raise first

    def _unanswered(self, stub: Stub, received: Received) -> InterlockError:
        """A request the system sent that no answer (nor example) covers: the suite did not
        say what the stub answers."""
        answers = stub.answers(self.where)
        listing = "\n".join(f"  {line}" for line in answers) or "  (none)"
        hint = (f'Set one before this step: Given the "{stub.name}" stub answers '
                f'{received.method} "{received.path}" with status 200 (or give the stub an '
                "OpenAPI document whose examples answer it).")
        header = stub.scenario_header
        if header and stub.own_answers and received.scenario(header) != stub.scenario:
            # The scenario set answers, but the request did not carry its id.
            hint = (f"The scenario's answers are for requests whose {header} header carries "
                    f"{stub.scenario}; this one carried "
                    f"{received.scenario(header) or 'none'}: the system must pass the header "
                    "on from the test's request (the stack file's services."
                    f"{stub.name}.options.scenario_header).")
        return InterlockError(
            f'The "{stub.name}" stub has no answer for {received.method} {received.path}, '
            "which the system sent during this step (it got a 404)",
            details=f"{received.line(self.suite.secrets)}\nthe answers set:\n{listing}",
            where=self.where, hint=hint,
        )

    def _as_exchange(self, stub: Stub, received: Received) -> Exchange:
        try:
            reason = HTTPStatus(received.status).phrase
        except ValueError:
            reason = ""
        return Exchange(
            received.method, stub.url + received.target, stub.name, dict(received.headers),
            received.body, received.status, reason, dict(received.response_headers),
            received.response_body, received.elapsed, secrets=self.suite.secrets,
        )

    def _reset_stubs(self) -> None:
        # Other runs may share these stubs (interlock run -j, interlock stack up): the
        # scenario's own answers are removed one by one, and the journal is not cleared from
        # under another run's check.
        shared = self.stack is not None and self.stack.shared
        running = self.stack.running if self.stack is not None else {}
        for name in self._stubs_here():
            stub = self.stub(name)
            service = running.get(name)
            if name in self.broken or (service is not None and not service.is_running()):
                stub.stale = True  # stopped, or died: the heal restarts it empty; restored next
            elif shared:
                stub.next_scenario(self.where)
            else:
                stub.reset(self.where)
            stub.scenario = None  # (a hook's answers after this are nobody's scenario's)

    def _restore_stubs(self) -> None:
        for name in self._stubs_here():
            stub = self.stub(name)
            if stub.stale:
                stub.restore(self.where)

    def last_exchange(self) -> Exchange:
        """The latest HTTP exchange of the scenario; an error if there is none yet."""
        exchange = self.http.last
        if exchange is None:
            raise InterlockError(
                "No response yet: this scenario has not sent a request", where=self.where,
                hint='Send one first, e.g. When I send GET "/orders/{order_id}" to "orders"',
            )
        return exchange

    def check_contract(self, exchange: Exchange) -> None:
        """Check an exchange against its service's OpenAPI document."""
        if not exchange.service:
            raise InterlockError(
                f"The request to {exchange.url} went to no named service: no contract to check",
                where=self.where, hint='Send it with to "<service>".',
            )
        contract = self.suite.openapi(exchange.service, self.where)
        seen = observed(exchange)
        operation = contract.index.find(seen.method, seen.path)
        if operation is not None:  # the check says why when there is none
            self._link_operation(contract, operation)
        contract.check(seen, where=self.where, secrets=self.suite.secrets)

    def _link_operation(self, contract: OpenApiContract, operation: Operation) -> None:
        """Link the scenario to the operation its exchange was checked against, once."""
        linked = cast(set[tuple[str, str]], self.part("linked operations", set))
        key = (str(contract.path), str(operation))
        if key not in linked:
            linked.add(key)
            self.suite.reporter.link(f"{operation} ({contract.path.name})", contract.path,
                                     contract.line_of(operation))

    def _check_contract_automatically(self, exchange: Exchange) -> None:
        spec = self.suite.services.get(exchange.service or "")
        if spec is not None and spec.check_contract:
            self.check_contract(exchange)

    # -- what the scenario broke, and what broke by itself ---------------------------------

    @property
    def broken(self) -> dict[str, str]:
        """The services this scenario broke on purpose, each with how and where
        (``"stopped by this scenario at orders.feature:12"``); they are healed after it."""
        return cast(dict[str, str], self.part("broken", dict))

    def broke(self, service: str, how: str) -> None:
        """Note that a step broke ``service`` on purpose (``how``: stopped, killed, paused)."""
        self.broken[service] = f"{how} by this scenario at {self.where}"

    def died(self, service: str, when: str, where: str = "") -> Failure | None:
        """A ``Failure`` for ``service`` when it died by itself (not broken on purpose, not
        told already), with what it logged during this scenario; else None."""
        told = cast(set[str], self.part("told dead", set))
        running = self.stack.running.get(service) if self.stack else None
        if running is None or service in self.broken or service in told or running.is_running():
            return None
        told.add(service)
        log = running.log_since(self.log_marks.get(service))
        return Failure(
            f'Service "{service}" stopped unexpectedly {when}',
            details="its log during this scenario:\n" + self.suite.secrets.redact(log_tail(log)),
            where=where or self.where,
            hint="It is restarted for the next scenario; read its log to see why it died.",
        )

    def why_unreachable(self, service: str, error: InterlockError) -> Exception | None:
        """Why ``service`` did not answer, when this scenario knows: it broke it (a mistake
        of the suite, said with the step that did), or the service died (the system's
        failure, with its log)."""
        how = self.broken.get(service)
        if how is not None:
            error.title += f": it was {how}"
            error.hint = (f"The scenario broke {service} on purpose; expect the failure "
                          "through a service that calls it, or restart it first.")
            return error
        running = self.stack.running.get(service) if self.stack else None
        if running is not None and not running.settle(unanswered=True):
            return self.died(service, "during this step")
        return None

    def require_stack(self) -> Stack:
        """The stack this scenario runs against."""
        if self.stack is None:
            raise InterlockError("This scenario has no stack", where=self.where,
                                 hint="Declare services in environment/interlock.yaml")
        return self.stack

    def begin(self, tags: list[str], own_tags: list[str] | None = None) -> None:
        """Start the scenario: what the configuration says every scenario gets
        (listeners on configured channels), and the data fixtures its own ``@data.<name>``
        tags name (``own_tags``: the scenario's, not its feature's; a feature's are loaded
        once for the feature)."""
        self.tags = tags
        if self.suite.has_brokers and self.suite.events_config.listen:
            _ = self.events  # listening starts before the first step, so nothing is missed
        for tag in tags if own_tags is None else own_tags:
            if tag.startswith("data."):
                self.data.load_fixture(tag.split(".", 1)[1])
        if self._stubs_here():
            self._restore_stubs()
            if self.stack is not None and self.stack.shared:  # others may share the stubs
                for name in self._stubs_here():
                    self.stub(name).skip_to_now(self.where)
            self.on_close(self._reset_stubs)  # answers and journals belong to the scenario
        for starter in self.suite.scenario_starters:
            starter(self)
        self._watch_calls_between_services()

    def _watch_calls_between_services(self) -> None:
        """The calls a service makes to one behind a delay proxy are seen there: each is
        noted on the scenario's traffic (the diagram's arrows between services).

        On a stack other runs share (``interlock run -j``), the proxy also passes the calls
        made for their scenarios: then only the calls that carry this scenario's id (a proxy
        with a ``scenario_header``) are drawn, and none through a proxy that cannot tell
        (unless this feature holds the stack alone)."""
        if self.stack is None or not self.stack.proxies:
            return
        from interlock.stack.proxy import DelayProxy  # loaded with the first proxy started

        beside_others = self.stack.shared and not self.stack.alone

        for name, proxy in self.stack.proxies.items():
            if not isinstance(proxy, DelayProxy):  # in this process (a container's is not seen)
                continue
            if beside_others and not proxy.scenario_header:
                continue
            proxy.watcher = CallWatcher(
                name, proxy.port, self.stack, self.suite, proxy.known,
                scenario=self.scenario_id if proxy.scenario_header else None,
                own_only=beside_others)
            self.on_close(functools.partial(setattr, proxy, "watcher", None))

    # -- cleanup ----------------------------------------------------------------------------

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` after the scenario (last registered, first run)."""
        self._cleanups.append(cleanup)

    def close(self) -> list[str]:
        """Undo the scenario: every cleanup runs, even when one fails. Returns the problems."""
        problems = []
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as err:
                problems.append(str(err))
        return problems


def observed(exchange: Exchange) -> Observed:
    """An HTTP exchange as the contract checker sees it."""
    from interlock.contracts import Observed

    return Observed(
        exchange.method, exchange.url, dict(exchange.request_headers), exchange.request_body,
        exchange.status, dict(exchange.response_headers), exchange.response_body,
    )


class CallWatcher:
    """Notes the calls that reach ``service`` through its delay proxy, with the caller found
    from the connection's local port (which process holds it: a service of the stack, or the
    test itself, whose own requests its HTTP client notes already).

    The caller is looked up once per connection, at its first request (a millisecond or
    two, see ``stack/sockets.py``; while the scenario is watched only); request and answer
    are noted before the proxy passes them on, so they are in the order they happened.
    """

    def __init__(self, service: str, port: int, stack: Stack, suite: Suite,
                 known: dict[int, str | None] | None = None,
                 scenario: str | None = None, own_only: bool = False) -> None:
        self.service, self.port, self.stack, self.suite = service, port, stack, suite
        # With a proxy that tells scenarios apart: not the calls of other scenarios (on a
        # shared stack, the proxy also sees those made for other workers' scenarios), nor,
        # ``own_only``, those that carry no scenario's id.
        self.scenario = scenario
        self.own_only = own_only
        # The caller of each open connection, kept by the proxy while it lives.
        self._callers: dict[int, str | None] = {} if known is None else known

    def requested(self, client_port: int, request: str) -> None:
        if client_port not in self._callers:  # once per connection, found or not (a miss
            self._callers[client_port] = self._caller(client_port)  # costs the most)
        caller = self._callers[client_port]
        if caller == "":  # the test itself: its HTTP client notes the call
            return
        method, _, rest = request.partition(" ")
        path = rest.rsplit(" ", 1)[0]
        secrets = self.suite.secrets
        note(self.suite.reporter, caller or "a caller", self.service,
             secrets.redact(f"{method} {path}"), source_kind=SERVICE, target_kind=SERVICE,
             detail=secrets.redact(request))

    def answered(self, client_port: int, status: str) -> None:
        caller = self._callers.get(client_port)
        if caller == "":
            return
        code = status.split(" ", 1)[1] if " " in status else status
        note(self.suite.reporter, self.service, caller or "a caller", code, reply=True,
             failed=code[:1] == "5", source_kind=SERVICE, target_kind=SERVICE)

    def _caller(self, client_port: int) -> str | None:
        """The stack's service (or "" for this process) holding 127.0.0.1:``client_port``
        connected to the proxy; None when no process could be told."""
        running = list(self.stack.running.items())
        pids = [os.getpid(), *(r.pid for _, r in running if r.pid is not None)]
        pid = owner_of(client_port, self.port, pids)
        if pid is None:
            return None
        if pid == os.getpid():
            return ""
        lineage = {pid}
        if pid not in pids:  # a service's child: which service is its ancestor
            import psutil

            try:
                lineage.update(p.pid for p in psutil.Process(pid).parents())
            except psutil.Error:
                pass
        for name, service in running:
            if service.pid is not None and service.pid in lineage:
                return name
        return None
