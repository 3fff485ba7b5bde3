"""The ``Suite``: one per run. It reads the configuration and owns what lives for the run:
the stacks, the secrets, the reporter, the login cache, the broker connections, the database
engines. It is what ``before_all`` builds and ``after_all`` closes, and what a pytest user or a
script builds by hand.

Example:
    >>> import tempfile, pathlib, sys
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "environment").mkdir()
    >>> _ = (root / "environment" / "interlock.yaml").write_text(
    ...     "variables: {greeting: hello}\\nsecrets: {api_key: k-123456}\\n")
    >>> suite = Suite.load(root / "environment" / "interlock.yaml", progress=lambda line: None)
    >>> suite.scope.lookup("greeting"), suite.secrets.redact("key=k-123456")
    ('hello', 'key=***')
    >>> suite.close()
"""

from __future__ import annotations

import atexit
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interlock._core.config import SuiteConfig, cache_folder, load_config, require_mapping
from interlock._core.errors import Failure, InterlockError, did_you_mean
from interlock._core.report import MemoryReporter, Reporter
from interlock._core.secrets import Secrets
from interlock._core.values import Scope, render, render_tree
from interlock.http import Connections, HttpSession
from interlock.stack.backends import BACKENDS
from interlock.stack.base import Address
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec, stack_services
from interlock.stack.stack import Stack
from interlock.suite_check import check_suite

if TYPE_CHECKING:  # loaded when first used: JWT (cryptography) for logins, SQLAlchemy; the
    # auth, events, databases and contracts modules when the stack file has their sections;
    # a kept-up stack's state file and turns when a run shares one
    from interlock.auth import Authenticator
    from interlock.auth.config import AuthConfig
    from interlock.contracts import OpenApiContract, SchemaLibrary
    from interlock.db import Databases, ScenarioData
    from interlock.events.base import Broker
    from interlock.events.config import EventsConfig
    from interlock.stack.reuse import KeptStack
    from interlock.stack.turns import Turns
    from interlock.stubs import Stub  # and the stub client, when a suite has stubs

DEFAULT_STACK = "default"


REUSE_WAIT = 600.0  # seconds a reusing run waits for a stack its owner is still starting

# Set by ``interlock run -j`` for the worker that starts the shared stack (its name is in the
# state file INTERLOCK_REUSE names) and lends it to the others: ``interlock.behave.hooks``.
LEND_ENV = "INTERLOCK_LEND_STACK"
# A pipe ``interlock run -j`` gives its workers: worker 1 closes its end once the shared stack
# is up or could not start (or worker 1 ended), which wakes the others waiting to reuse it.
STACK_UP_ENV = "INTERLOCK_STACK_UP"


def inherited_pipe(variable: str) -> int | None:
    """The pipe end whose number the environment variable holds, if this process has it."""
    try:
        fd = int(os.environ.get(variable, ""))
        return fd if stat.S_ISFIFO(os.fstat(fd).st_mode) else None
    except (ValueError, OSError):
        return None


class Suite:
    """Everything that lives for one run."""

    def __init__(
        self,
        config: SuiteConfig,
        *,
        reporter: Reporter | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.root = config.root
        self.progress = progress or (lambda line: print(line, file=sys.__stderr__, flush=True))
        report = config.section("report")
        self.secrets = Secrets(
            headers=[str(h) for h in report.get("redact_headers", [])],
            fields=[str(f) for f in report.get("redact_fields", [])],
        )
        # Secrets written in place in the stack file are hidden from the start, like those
        # under secrets: (which are added once rendered, below).
        self.secrets.add(*self.secrets.config_values(config.data))
        self.reporter: Reporter = reporter or MemoryReporter(self.secrets)
        self.scope = Scope(self._variables())
        self.scope.namespaces["secrets"] = self._secret
        # A stack kept up by another process (INTERLOCK_REUSE): its services were started with
        # that run's secrets, which this run must use too (logins, signed tokens).
        reuse = None
        if os.environ.get("INTERLOCK_REUSE", ""):
            from interlock.stack.reuse import KeptStack, reuse_path

            reuse = reuse_path(self.root, os.environ["INTERLOCK_REUSE"])
        self._kept = KeptStack.read(self.root, reuse) if reuse else None
        self._reuse_asked = reuse is not None
        # interlock run -j: this run starts the stack the others wait for, and lends it.
        self.lends = bool(os.environ.get(LEND_ENV)) and self._kept is not None
        self._turns: Turns | None = None
        self._secret_values = self._secrets()
        settings = config.section("suite")
        self.backend = config.setting("INTERLOCK_BACKEND", "suite", "backend", default="process")
        self.data_dir = self.root / str(settings.get("data", "environment/data"))
        self.services = self._services()
        for spec in self.services.values():  # a compose file's passwords, as written there
            if spec.docker is not None and spec.docker.literal:
                self.secrets.add(*self.secrets.config_values(dict(spec.docker.env)))
        self.stack_members = self._stack_members()
        self.registry = RunRegistry(self.root / ".interlock" / "runs")
        self.cache_dir = cache_folder(self.root)  # what is slow to check, checked
        self.stacks: dict[str, Stack] = {}
        for name in self.services:  # the plain API's default: the shared default stack
            self.scope.namespaces[name] = self._address_in_default_stack(name)
        contracts = settings.get("contracts", [])
        folders = [contracts] if isinstance(contracts, str) else list(contracts)
        self.contract_dirs = [self.root / str(f) for f in folders] + [self.data_dir]
        self._schemas: SchemaLibrary | None = None
        self.openapi_contracts: dict[str, OpenApiContract] = {}
        self._auth_config: AuthConfig | None = None  # parsed and checked by check_suite
        self._auth: Authenticator | None = None  # without services: no stack to own it
        self._events_config: EventsConfig | None = None
        if self.section("events"):
            self._events_config = self._read_events()
        # The stubs that tell the scenarios' requests apart, each with its header (the stack
        # file's options: {scenario_header: traceparent}), and the delay proxies that do
        # (delay_proxy: {scenario_header: ...}): every request a scenario sends carries its
        # id in these headers, for the system to pass on. Read by check_suite.
        self.scenario_headers: dict[str, str] = {}
        self.delay_headers: dict[str, str] = {}
        self._brokers: dict[str, Broker] | None = None  # without services (no stack)
        self._databases: Databases | None = None  # without services (no stack)
        data_settings = self.section("data")
        fixtures = str(data_settings.get("fixtures", "")) if data_settings else ""
        self.fixtures_dir = (self.root / fixtures) if fixtures else self.data_dir / "fixtures"
        self._failed_stacks: dict[str, InterlockError] = {}
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self._connections: Connections | None = None
        self.scenario_starters: list[Callable[[Any], None]] = []
        self._closed = False
        check_suite(self)  # the whole file, before anything starts (nothing to close yet)
        atexit.register(self.close)

    @property
    def schemas(self) -> SchemaLibrary:
        """The JSON Schemas of the contract folders (and the data folder), by file name."""
        if self._schemas is None:
            from interlock.contracts import SchemaLibrary

            self._schemas = SchemaLibrary(self.contract_dirs, self.cache_dir)
        return self._schemas

    @property
    def auth_config(self) -> AuthConfig:
        """The stack file's ``auth`` section (empty when it has none)."""
        if self._auth_config is None:
            from interlock.auth.config import AuthConfig

            self._auth_config = AuthConfig()
        return self._auth_config

    @auth_config.setter
    def auth_config(self, config: AuthConfig) -> None:
        self._auth_config = config

    @property
    def events_config(self) -> EventsConfig:
        """The stack file's ``events`` section (empty when it has none)."""
        if self._events_config is None:
            self._events_config = self._read_events()
        return self._events_config

    def _read_events(self) -> EventsConfig:
        from interlock.events.config import EventsConfig

        return EventsConfig.from_dict(self.section("events"), self.config.where("events"))

    @classmethod
    def load(cls, path: Path | str, **kwargs: Any) -> Suite:
        """Read the configuration at ``path`` and build the suite."""
        return cls(load_config(path), **kwargs)

    # -- configuration ----------------------------------------------------------------------

    def _variables(self) -> dict[str, Any]:
        return dict(self.config.section("variables"))

    def _secrets(self) -> dict[str, str]:
        values = {}
        section = self.config.section("secrets")
        kept = self._kept.secrets if self._kept is not None else {}
        for name, raw in section.items():
            value = kept[name] if name in kept else render(
                str(raw), self.scope, self.config.where("secrets", name))
            self.secrets.add(value)
            values[name] = value
        return values

    def secret_values(self) -> dict[str, str]:
        """The run's secrets by name, for the state file of a stack other runs reuse (never
        printed: the file is its owner's only)."""
        return dict(self._secret_values)

    def _secret(self, name: str) -> str:
        if name not in self._secret_values:
            raise KeyError(f"no secret {name!r}; configured: {', '.join(self._secret_values)}")
        return self._secret_values[name]

    def scope_for(self, stack: Stack | None) -> Scope:
        """The suite's names, with ``{service.url}`` answered by ``stack``'s services."""
        scope = self.scope.child()
        if stack is not None:
            for name in stack.specs:
                scope.namespaces[name] = _address_in(stack, name)
        return scope

    def _address_in_default_stack(self, name: str) -> Callable[[str], str]:
        def lookup(attribute: str) -> str:
            stack = self.stacks.get(DEFAULT_STACK)
            if stack is None:
                raise KeyError(f'service "{name}" is not started: start the stack first '
                               "(suite.stack()), or render with suite.scope_for(stack)")
            return stack.address(name).get(attribute)

        return lookup

    def _services(self) -> dict[str, ServiceSpec]:
        return stack_services(self.config, warn=self.progress)

    def _stack_members(self) -> dict[str, list[str]]:
        section = self.config.section("stacks")
        members: dict[str, list[str]] = {DEFAULT_STACK: list(self.services)}
        for name, listed in section.items():
            where = self.config.where("stacks", name)
            if not isinstance(listed, list):
                raise InterlockError(f'Stack "{name}" must be a list of services', where=where)
            for service in listed:
                if service not in self.services:
                    raise InterlockError(
                        f'Stack "{name}" names unknown service "{service}"', where=where,
                        hint=did_you_mean(str(service), list(self.services)),
                    )
            members[name] = [str(s) for s in listed]
        return members

    def section(self, name: str) -> Any:
        """A top-level section of the configuration, for the capabilities to parse."""
        return require_mapping(self.config.section(name), self.config.where(name), name)

    def find_file(self, name: str, *folders: Path, where: str = "") -> Path:
        """A file the suite refers to, looked up in ``folders`` then the data folder."""
        searched = [*folders, self.data_dir, self.root]
        for folder in searched:
            candidate = (folder / name).resolve()
            if candidate.is_file():
                return candidate
        raise InterlockError(
            f'File not found: "{name}"', where=where,
            hint="Looked in: " + ", ".join(str(f) for f in searched),
        )

    # -- capabilities shared by the run ---------------------------------------------------

    def _stack_or_default(self, stack: Stack | None, name: str) -> Stack:
        """``stack``; else, for the plain API, the shared default stack (started on first
        use)."""
        if stack is not None:
            return stack
        if not self.services:
            raise InterlockError(
                f'Unknown service "{name}": no services are configured',
                hint="Declare services in environment/interlock.yaml",
            )
        return self.stack()

    def new_http_session(self, stack: Stack | None = None) -> HttpSession:
        """An HTTP client whose service names resolve in ``stack`` (by default the shared
        default stack, started on first use)."""

        def base_url_of(name: str) -> str:
            return self._stack_or_default(stack, name).address(name).url

        return HttpSession(base_url_of=base_url_of, secrets=self.secrets, reporter=self.reporter,
                           connections=self._connections_for(stack))

    def _connections_for(self, stack: Stack | None) -> Connections:
        """The kept-alive connections of ``stack``'s services, shared by every scenario's
        session and closed when the stack stops (without a stack: the run's, closed with it)."""
        if stack is not None:
            return stack.own("http-connections", Connections, Connections.close)
        with self._lock:
            if self._connections is None:
                self._connections = Connections()
                self._closers.append(self._connections.close)
            return self._connections

    @property
    def auth(self) -> Authenticator:
        """The users and their logins against the default stack (the plain API's; a scenario
        uses ``auth_for`` its own stack)."""
        return self.auth_for(self.stack() if self.services else None)

    @property
    def stub_names(self) -> list[str]:
        """The services declared as stubs (``kind: stub``)."""
        return [name for name, spec in self.services.items() if spec.kind == "stub"]

    def stub_for(self, stack: Stack | None, name: str, where: str = "") -> Stub:
        """The stub service ``name`` of ``stack`` (the default stack when None), made once
        per stack: with an OpenAPI document, it answers from the document's examples what no
        scenario set, and refuses an answer the document does not allow."""
        spec = self.services.get(name)
        if spec is None or spec.kind != "stub":
            known = self.stub_names
            what = (f'Service "{name}" is not a stub (kind: {spec.kind or "none"})' if spec
                    else f'There is no stub named "{name}"')
            raise InterlockError(
                what, where=where,
                hint=(did_you_mean(name, known) + ". " if known else "")
                + f"Declare it in environment/interlock.yaml: services: {{{name}: "
                "{kind: stub, openapi: contracts/" + name + ".openapi.yaml}} (openapi: is "
                "optional).",
            )
        running = self._stack_or_default(stack, name)

        from interlock.stubs import Stub  # the stub server's client, when a suite has stubs

        def build() -> Stub:
            address = running.address(name)
            stub = Stub(name, address.url, self.secrets,
                        scenario_header=self.scenario_headers.get(name),
                        changes_file=address.extra.get("changes_file"))
            if spec.openapi:
                contract = self.openapi(name, where)
                stub.check_answer = _answer_checker(name, contract, self.secrets)
                for example in contract.examples():
                    body = {} if example.body is None else {"json": example.body}
                    stub.answer(example.method, example.template, status=example.status,
                                keep=True, where=where, **body)
            return stub

        return running.own(f"stub {name}", build, close=Stub.close)

    def auth_for(self, stack: Stack | None) -> Authenticator:
        """The users and their logins against ``stack``'s services: one login per user for
        as long as the stack runs (an ``@isolated`` stack's own auth service logs in anew)."""

        def build() -> Authenticator:
            from interlock.auth import Authenticator

            return Authenticator(
                self.auth_config, session=lambda: self.new_http_session(stack),
                secrets=self.secrets, scope=self.scope_for(stack), files=self.root,
            )

        if stack is not None:
            return stack.own("auth", build, close=lambda auth: None)
        with self._lock:
            if self._auth is None:
                self._auth = build()
            return self._auth

    @property
    def has_brokers(self) -> bool:
        """Whether the configuration declares any broker."""
        return bool(self.section("brokers"))

    def brokers_for(self, stack: Stack | None) -> dict[str, Broker]:
        """The brokers of the configuration, connected to ``stack``'s services once; the
        stack owns them (they are closed when it stops)."""

        def build() -> dict[str, Broker]:
            from interlock.events.config import brokers_from_dict

            where = self.config.where("brokers")
            data = render_tree(self.section("brokers"), self.scope_for(stack), where)
            connected: dict[str, Broker] = {}
            try:
                for name, config in brokers_from_dict(data, where).items():
                    connected[name] = config.connect(self.secrets)
            except BaseException:
                _close_brokers(connected)  # the ones already connected
                raise
            return connected

        if stack is not None:
            return stack.own("brokers", build, close=_close_brokers)
        with self._lock:
            if self._brokers is None:
                self._brokers = build()
            return self._brokers

    @property
    def has_databases(self) -> bool:
        """Whether the configuration declares any database."""
        return bool(self.section("databases"))

    def databases_for(self, stack: Stack | None) -> Databases:
        """The configured databases, their URLs rendered against ``stack`` (engines lazy);
        the stack owns them (they are closed when it stops)."""

        def build() -> Databases:
            from interlock.db import Databases, DatabasesConfig

            where = str(self.config.path)
            data = {
                "databases": render_tree(self.section("databases"), self.scope_for(stack), where),
                "data": self.section("data"),
            }
            config = DatabasesConfig.from_dict(data, where)
            return Databases(config.databases, secrets=self.secrets, reporter=self.reporter)

        if stack is not None:
            return stack.own("databases", build, close=lambda databases: databases.close())
        with self._lock:
            if self._databases is None:
                self._databases = build()
            return self._databases

    def feature_data(self, stack: Stack | None) -> ScenarioData:
        """A record of rows kept for a whole feature (its ``@data.<name>`` fixtures)."""
        from interlock.db import ScenarioData

        return ScenarioData(self.databases_for(stack), level="feature",
                            fixtures_dir=self.fixtures_dir)

    def openapi(self, service: str, where: str = "") -> OpenApiContract:
        """The OpenAPI contract configured for ``service`` (``openapi:`` in the stack file)."""
        spec = self.services.get(service)
        if spec is None or not spec.openapi:
            raise InterlockError(
                f'No OpenAPI document is configured for service "{service}"', where=where,
                hint=f"Add `openapi: path/to/{service}.openapi.yaml` to service {service} "
                "in environment/interlock.yaml.",
            )
        if service not in self.openapi_contracts:  # loaded by check_suite, unless built by hand
            from interlock.contracts import OpenApiContract

            self.openapi_contracts[service] = OpenApiContract.load(self.root / spec.openapi,
                                                                   self.cache_dir)
        return self.openapi_contracts[service]

    # -- stacks -----------------------------------------------------------------------------

    def _members_with_dependencies(self, name: str) -> dict[str, ServiceSpec]:
        chosen: dict[str, ServiceSpec] = {}

        def add(service: str) -> None:
            if service in chosen:
                return
            chosen[service] = self.services[service]
            for dep in self.services[service].depends_on:
                if dep in self.services:
                    add(dep)

        for service in self.stack_members[name]:
            add(service)
        return chosen

    def new_stack(self, name: str = DEFAULT_STACK, label: str = "") -> Stack:
        """A stack of the named set of services, not started yet."""
        if name not in self.stack_members:
            raise InterlockError(
                f'Unknown stack "{name}"', where=self.config.where("stacks"),
                hint=did_you_mean(name, list(self.stack_members)),
            )
        label = label or name
        run_dir = scratch_folder() / f"interlock-{self.registry.run_id}" / label
        private_folder(run_dir.parent)
        self.registry.record_dir(run_dir.parent)
        private_folder(run_dir)
        return Stack(
            label, self._members_with_dependencies(name), run_dir=run_dir,
            backend=self.backend, scope=self.scope, root=self.root, registry=self.registry,
            secrets=self.secrets, progress=self.progress,
        )

    def stack(self, name: str = DEFAULT_STACK) -> Stack:
        """The shared stack of that name, started on first use (or adopted from
        ``INTERLOCK_REUSE``, or started here and lent to ``interlock run -j``'s other
        workers); a stack that failed to start fails the same way for every feature that
        asks for it again."""
        with self._lock:
            if name in self._failed_stacks:
                raise self._failed_stacks[name]
            if name not in self.stacks:
                stack = self.new_stack(name)
                self.stacks[name] = stack  # registered before start: a half-started stack stops
                lent = self._lent(stack)
                if lent is not None:  # interlock run -j's first worker: the state file's writer
                    from interlock.stack.reuse import KeptStack
                try:
                    if not self._reuse(stack):
                        stack.start()
                    self.prepare_stubs(stack)
                except InterlockError as err:
                    self._failed_stacks[name] = err
                    if lent is not None:  # the workers waiting for it stop waiting
                        KeptStack.failed(lent.path, stack.name, str(err))
                    raise
                if lent is not None:
                    stack.shared = True
                    KeptStack.write(self.root, stack, self.secret_values(), path=lent.path)
            return self.stacks[name]

    def turns_for(self, stack: Stack) -> Turns | None:
        """The turns on ``stack`` when other runs share it (``interlock run -j``: a lock
        beside its state file), else None."""
        kept = self._kept
        if not stack.shared or kept is None or kept.name != stack.name:
            return None
        with self._lock:
            if self._turns is None:
                from interlock.stack.turns import Turns

                self._turns = Turns(kept.path.with_name(kept.path.name + ".turns"))
            return self._turns

    def failed_to_start(self, name: str = DEFAULT_STACK) -> bool:
        """Whether the stack of that name was asked for and did not start."""
        return name in self._failed_stacks

    def _lent(self, stack: Stack) -> KeptStack | None:
        """The state file of the stack this run starts for the other workers of
        ``interlock run -j`` (its secrets announced already), when ``stack`` is that one."""
        kept = self._kept
        return kept if self.lends and kept is not None and kept.name == stack.name else None

    def prepare_stubs(self, stack: Stack) -> None:
        """Give ``stack``'s stubs their OpenAPI documents' examples as default answers, once
        it has started (before the system can call them); a stack started by hand
        (``new_stack(...).start()``) asks for it, ``stack()`` does it itself."""
        for name in self.stub_names:
            if name in stack.running:
                self.stub_for(stack, name)

    def _reuse(self, stack: Stack) -> bool:
        """With INTERLOCK_REUSE set, take the addresses of a stack kept up by
        ``interlock stack up`` (or by ``interlock run -j``) instead of starting one."""
        if not self._reuse_asked or self._lent(stack) is not None:
            return False
        kept = self._kept
        if kept is None or kept.name != stack.name:
            if stack.name == DEFAULT_STACK:
                self.progress(f"interlock: INTERLOCK_REUSE is set but no stack {stack.name!r} "
                              "is kept up (interlock stack up): starting one")
            return False
        if kept.starting:  # a parallel run's owner is starting it: wait for its addresses
            self.progress(f"interlock: waiting for pid {kept.owner_pid} to start the stack "
                          f"{stack.name!r} this run shares")
            kept = kept.started(REUSE_WAIT, up=inherited_pipe(STACK_UP_ENV))
        services = kept.services or {}
        stack.adopt({
            name: Address(s["url"], s["host"], int(s["port"]), s.get("extra", {}))
            for name, s in services.items()
        }, {name: Path(s["log"]) for name, s in services.items() if s.get("log")},
            {name: s["log_source"] for name, s in services.items() if s.get("log_source")},
            {name: s["delay"] for name, s in services.items() if s.get("delay")})
        self.progress(f"interlock: reusing the stack kept up by pid {kept.owner_pid}")
        return True

    def sweep(self) -> list[str]:
        """Remove what killed runs left behind (processes, folders, and containers when a
        Docker engine answers); say what."""
        removed = self.registry.sweep()
        # What lives outside the registry (containers): swept by its backend when this suite
        # uses it, or a killed run did (it noted so); no other backend is even imported.
        for name in BACKENDS:
            if name == self.backend or name in self.registry.dead_backends:
                removed.extend(BACKENDS.load(name).sweep())
        return removed

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the suite closes (last registered, first run)."""
        self._closers.append(closer)

    # -- end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every stack and close every connection. Safe to call twice.

        A Ctrl-C or SIGTERM that comes meanwhile waits until it is done (a CI runner's stop
        sent to every process of a run reaches this one while it stops its services: an
        interruption half-way would leave them), then takes its course; a second one
        interrupts at once."""
        if self._closed:
            return
        self._closed = True
        with signals_after_cleanup(self.progress):
            self._close()

    def _close(self) -> None:
        problems: list[str] = []
        brokers, self._brokers = self._brokers or {}, None
        for broker in brokers.values():
            try:
                broker.close()
            except Exception as err:
                problems.append(str(err))
        if self._databases is not None:
            try:
                self._databases.close()
            except Exception as err:
                problems.append(str(err))
            self._databases = None
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as err:  # close the rest anyway
                problems.append(str(err))
        for stack in list(self.stacks.values()):
            try:
                stack.stop()
            except Exception as err:
                problems.append(str(err))
        self.stacks.clear()
        if self._turns is not None:
            self._turns.close()
        self.registry.close()
        import shutil

        shutil.rmtree(scratch_folder() / f"interlock-{self.registry.run_id}", ignore_errors=True)
        if problems:
            self.progress("interlock: problems while stopping: " + "; ".join(problems))


_STOP_SIGNALS = ("SIGINT", "SIGTERM")


@contextmanager
def signals_after_cleanup(say: Callable[[str], None]) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then deliver the first one that came
    (a second one is delivered at once). Outside the main thread (where Python runs signal
    handlers) the block runs as it is.

    Example:
        >>> with signals_after_cleanup(print):
        ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    before: dict[int, Any] = {}

    def restore() -> None:
        for held, handler in before.items():
            if signal.getsignal(held) is hold:  # (None: not set from Python, the default)
                signal.signal(held, handler if handler is not None else signal.SIG_DFL)

    def hold(number: int, frame: Any) -> None:
        if came:  # the second: at once, as the run's own handler would
            restore()
            signal.raise_signal(number)
            return
        came.append(number)
        say("interlock: stopping what this run started first; Ctrl-C again stops at once "
            "and may leave services running (the next run removes them)")

    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            before[number] = signal.signal(number, hold)
    try:
        yield
    finally:
        restore()
    if came:
        signal.raise_signal(came[0])


def private_folder(folder: Path) -> None:
    """Create ``folder`` readable by this user only (0700): a run folder holds the services'
    logs and data, tokens included. One that exists is left as it is (a built-in kind running
    as its own system user may have been let through it).

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "run"
        >>> private_folder(folder); oct(folder.stat().st_mode & 0o777)
        '0o700'
    """
    try:
        folder.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return
    folder.chmod(0o700)  # exactly 0700, whatever the umask


def scratch_folder() -> Path:
    """Where runs keep their services' data and logs: memory (/dev/shm) where the machine
    has it, so that copying a database cluster at each start costs a tenth; else the temp
    folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    import tempfile

    return Path(tempfile.gettempdir())


def _close_brokers(brokers: dict[str, Broker]) -> None:
    """Disconnect each broker; the first problem is raised once all were tried."""
    problems = []
    for broker in brokers.values():
        try:
            broker.close()
        except Exception as err:  # close the others anyway
            problems.append(err)
    if problems:
        raise problems[0]


def _address_in(stack: Stack, name: str) -> Callable[[str], str]:
    return lambda attribute: stack.address(name).get(attribute)


def _answer_checker(name: str, contract: OpenApiContract,
                    secrets: Secrets) -> Callable[[str, str, int, dict[str, str], bytes, str],
                                                  None]:
    """What refuses an answer a stub's OpenAPI document does not allow (a suite mistake)."""
    from interlock.contracts import Observed

    def check(method: str, path: str, status: int, headers: dict[str, str], body: bytes,
              where: str) -> None:
        observed = Observed(method, f"http://{name}{path}", {}, b"", status, headers, body)
        try:
            contract.check(observed, where=where, secrets=secrets)
        except Failure as refused:
            raise InterlockError(
                f'The "{name}" stub cannot answer {method} {path} with {status}: '
                f"{contract.path.name} does not allow it",
                details=f"{refused.title}\n{refused.details}".strip(), where=where,
                hint="Give an answer the document allows (its status, its body's schema), "
                "or change the document if the provider really answers so.",
            ) from None

    return check
