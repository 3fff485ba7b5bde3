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
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interlock.config import SuiteConfig, load_config, require_mapping
from interlock.errors import InterlockError, did_you_mean
from interlock.report import MemoryReporter, Reporter
from interlock.secrets import Secrets
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack
from interlock.values import Scope, render

DEFAULT_STACK = "default"


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
        self.progress = progress or (lambda line: print(line, file=sys.stderr, flush=True))
        report = config.section("report")
        self.secrets = Secrets(
            headers=[str(h) for h in report.get("redact_headers", [])],
            fields=[str(f) for f in report.get("redact_fields", [])],
        )
        self.reporter: Reporter = reporter or MemoryReporter(self.secrets)
        self.scope = Scope(self._variables())
        self.scope.namespaces["secrets"] = self._secret
        self._secret_values = self._secrets()
        settings = config.section("suite")
        self.backend = config.setting("INTERLOCK_BACKEND", "suite", "backend", default="process")
        self.data_dir = self.root / str(settings.get("data", "environment/data"))
        self.services = self._services()
        self.stack_members = self._stack_members()
        self.registry = RunRegistry(self.root / ".interlock" / "runs")
        self.stacks: dict[str, Stack] = {}
        self._failed_stacks: dict[str, InterlockError] = {}
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self.scenario_starters: list[Callable[[Any], None]] = []
        self._closed = False
        atexit.register(self.close)

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
        for name, raw in section.items():
            value = render(str(raw), self.scope, self.config.where("secrets", name))
            self.secrets.add(value)
            values[name] = value
        return values

    def _secret(self, name: str) -> str:
        if name not in self._secret_values:
            raise KeyError(f"no secret {name!r}; configured: {', '.join(self._secret_values)}")
        return self._secret_values[name]

    def _services(self) -> dict[str, ServiceSpec]:
        section = self.config.section("services")
        return {
            name: ServiceSpec.from_dict(name, data, self.config.where("services", name))
            for name, data in section.items()
        }

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
        run_dir = Path("/tmp") / f"interlock-{self.registry.run_id}" / label
        self.registry.record_dir(run_dir.parent)
        return Stack(
            label, self._members_with_dependencies(name), run_dir=run_dir,
            backend=self.backend, scope=self.scope, root=self.root, registry=self.registry,
            secrets=self.secrets, progress=self.progress,
        )

    def stack(self, name: str = DEFAULT_STACK) -> Stack:
        """The shared stack of that name, started on first use."""
        with self._lock:
            if name in self._failed_stacks:
                raise self._failed_stacks[name]
            if name not in self.stacks:
                stack = self.new_stack(name)
                self.stacks[name] = stack  # registered before start: a half-started stack stops
                try:
                    stack.start()
                except InterlockError as err:
                    self._failed_stacks[name] = err
                    raise
            return self.stacks[name]

    def sweep(self) -> list[str]:
        """Remove what killed runs left behind; say what."""
        return self.registry.sweep()

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the suite closes (last registered, first run)."""
        self._closers.append(closer)

    # -- end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every stack and close every connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        problems: list[str] = []
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
        self.registry.close()
        import shutil

        shutil.rmtree(Path("/tmp") / f"interlock-{self.registry.run_id}", ignore_errors=True)
        if problems:
            self.progress("interlock: problems while stopping: " + "; ".join(problems))
