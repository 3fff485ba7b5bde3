"""A stack kept up between behave runs (``interlock stack up``), for people iterating.

The owner writes ``.interlock/stack.json`` with its pid and the services' addresses; a behave
run with ``INTERLOCK_REUSE=1`` finds it, checks the owner is alive, and uses those addresses
instead of starting its own stack.

Example:
    >>> import tempfile, pathlib
    >>> KeptStack.read(pathlib.Path(tempfile.mkdtemp())) is None
    True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from interlock.stack.stack import Stack


def state_path(root: Path) -> Path:
    """Where the kept-up stack is described."""
    return root / ".interlock" / "stack.json"


@dataclass
class KeptStack:
    """What ``interlock stack up`` wrote."""

    path: Path
    name: str
    owner_pid: int
    services: dict[str, dict[str, Any]]

    @classmethod
    def write(cls, root: Path, stack: Stack) -> KeptStack:
        """Describe a started stack for other runs."""
        services = {}
        for name, service in stack.running.items():
            address = stack.address(name)
            services[name] = {
                "url": address.url, "host": address.host, "port": address.port,
                "extra": dict(address.extra), "log": str(service.log_path or ""),
            }
        path = state_path(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = cls(path, stack.name, os.getpid(), services)
        path.write_text(json.dumps({"name": stack.name, "owner_pid": kept.owner_pid,
                                    "services": services}, indent=1))
        return kept

    @classmethod
    def read(cls, root: Path) -> KeptStack | None:
        """The kept-up stack, if its owner is still alive."""
        path = state_path(root)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not psutil.pid_exists(int(data.get("owner_pid", 0))):
            path.unlink(missing_ok=True)
            return None
        return cls(path, data["name"], int(data["owner_pid"]), data["services"])

    def remove(self) -> None:
        """The stack stopped: nobody may reuse it."""
        self.path.unlink(missing_ok=True)
