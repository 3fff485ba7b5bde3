"""A stack kept up between behave runs (``interlock stack up``, or the workers of
``interlock run -j``): its owner writes a state file with its pid, the services' addresses and
the run's secrets (the passwords and keys its services were started with); a behave run with
``INTERLOCK_REUSE`` set finds it, checks the owner is alive, and uses those addresses and
secrets instead of starting its own stack and making new secrets.

``INTERLOCK_REUSE=1`` means the suite's ``.interlock/stack.json``; any other value that is not
``0``/``false``/``no`` is the state file's path (each parallel run has its own).
The file is readable by its owner only, and removed when the stack stops.

Example:
    >>> import tempfile, pathlib
    >>> KeptStack.read(pathlib.Path(tempfile.mkdtemp())) is None
    True
    >>> reuse_path(pathlib.Path("/suite"), "1"), reuse_path(pathlib.Path("/suite"), "")
    (PosixPath('/suite/.interlock/stack.json'), None)
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.stack.registry import is_running
from interlock.stack.stack import Stack

_ON = ("1", "true", "yes")
_OFF = ("", "0", "false", "no")


def reuse_path(root: Path, setting: str) -> Path | None:
    """The state file an ``INTERLOCK_REUSE`` value names (``None``: do not reuse)."""
    if setting.lower() in _OFF:
        return None
    if setting.lower() in _ON:
        return state_path(root)
    return Path(setting)


def state_path(root: Path) -> Path:
    """Where the kept-up stack is described."""
    return root / ".interlock" / "stack.json"


@dataclass
class KeptStack:
    """What ``interlock stack up`` wrote."""

    path: Path
    name: str
    owner_pid: int
    services: dict[str, dict[str, Any]] | None  # None while its owner is starting it
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    error: str = ""  # why its owner could not start it

    @property
    def starting(self) -> bool:
        """Whether its owner is still starting it (the secrets are known, the addresses not)."""
        return self.services is None and not self.error

    @classmethod
    def write(cls, root: Path, stack: Stack, secrets: Mapping[str, str] | None = None,
              path: Path | None = None) -> KeptStack:
        """Describe a started stack for other runs (at ``path``, by default the suite's
        ``.interlock/stack.json``), with the secrets its services were given."""
        services = {}
        for name, service in stack.running.items():
            address = stack.address(name)
            services[name] = {
                "url": address.url, "host": address.host, "port": address.port,
                "extra": dict(address.extra), "log": str(service.log_path or ""),
                "log_source": service.log_source(),
            }
            delay = stack.proxies.get(name)
            if delay is not None and delay.scenario_header:  # other runs set their own delays
                services[name]["delay"] = {"control": delay.control_url(),
                                           "header": delay.scenario_header}
        return cls._save(path or state_path(root), stack.name, services, secrets)

    @classmethod
    def announce(cls, path: Path, name: str, secrets: Mapping[str, str]) -> KeptStack:
        """Say that stack ``name`` is being started, with its secrets: runs that reuse it may
        start meanwhile (a parallel run's workers), and wait for its addresses (``write``)."""
        return cls._save(path, name, None, secrets)

    @classmethod
    def failed(cls, path: Path, name: str, error: str) -> KeptStack:
        """Say that stack ``name`` could not be started, and why: the runs waiting for it
        stop waiting and say so."""
        return cls._save(path, name, None, None, error)

    @classmethod
    def _save(cls, path: Path, name: str, services: dict[str, dict[str, Any]] | None,
              secrets: Mapping[str, str] | None, error: str = "") -> KeptStack:
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = cls(path, name, os.getpid(), services, dict(secrets or {}), error)
        text = json.dumps({"name": name, "owner_pid": kept.owner_pid, "services": services,
                           "secrets": kept.secrets, "error": error}, indent=1)
        # Written beside, readable by its owner only, then put in place whole: a reader sees
        # the old state or the new one, never half of one.
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        fresh.unlink(missing_ok=True)
        with os.fdopen(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(text)
        os.replace(fresh, path)
        return kept

    @classmethod
    def read(cls, root: Path, path: Path | None = None) -> KeptStack | None:
        """The kept-up stack (at ``path``, by default the suite's), if its owner is alive (or
        it says why it did not start: that stays said after its owner ended)."""
        path = path or state_path(root)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not data.get("error") and not is_running(int(data.get("owner_pid", 0))):
            path.unlink(missing_ok=True)
            return None
        return cls(path, data["name"], int(data["owner_pid"]), data["services"],
                   {str(k): str(v) for k, v in data.get("secrets", {}).items()},
                   str(data.get("error", "")))

    @staticmethod
    def error_in(path: Path) -> str:
        """Why the stack described at ``path`` could not be started ("" when nothing says
        so), whether or not its owner still runs."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return ""
        return str(data.get("error") or "") if isinstance(data, dict) else ""

    def started(self, timeout: float, up: int | None = None) -> KeptStack:
        """The same stack once its owner has started it (``self`` when it has); an
        ``InterlockError`` when the owner ended first, or did not start it in ``timeout`` s.
        ``up``: a pipe the owner closes its end of once the stack is up or failed, or by
        ending (``interlock run -j``); without one, the state file is read every 50 ms."""
        kept: KeptStack | None = self
        deadline = time.monotonic() + timeout
        while kept is not None and kept.starting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise InterlockError(
                    f"The stack {self.name!r} that pid {self.owner_pid} was starting did not "
                    f"come up within {timeout:g} s", where=str(self.path),
                    hint="The owner's output (interlock run, interlock stack up) says why.")
            if up is not None:  # readable once closed (nothing is ever written to it)
                select.select([up], [], [], left)
                up = None  # (and stays readable: from here on, the file is read)
            else:
                time.sleep(0.05)  # the owner replaces the file once, when the stack is up
            kept = KeptStack.read(self.path.parent, self.path)
        if kept is not None and kept.error:
            raise InterlockError(f"The stack {self.name!r} this run shares did not start",
                                 details=kept.error, where=str(self.path),
                                 hint="The run that was starting it says why, above.")
        if kept is None:  # read() found the owner gone (and removed its file)
            raise InterlockError(
                f"pid {self.owner_pid}, which was starting the stack {self.name!r} for this "
                "run, ended before it was up", where=str(self.path),
                hint="The owner's output says why; run again, or unset INTERLOCK_REUSE.")
        return kept

    def remove(self) -> None:
        """The stack stopped: nobody may reuse it."""
        self.path.unlink(missing_ok=True)
