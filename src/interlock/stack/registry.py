"""The run registry: what a run started, on disk, so a killed run's leftovers can be swept.

Every run writes ``<folder>/<run-id>.json`` listing its owner process, the processes it
started (with their start times, so a recycled pid is never mistaken for ours) and its temp
folders. A run that starts calls ``sweep()``: registries whose owner is gone are cleaned up
(process groups killed, folders removed, containers removed through the registered sweepers)
and reported.

Example:
    >>> import tempfile, pathlib
    >>> reg = RunRegistry(pathlib.Path(tempfile.mkdtemp()))
    >>> reg.run_id.count("-") >= 2
    True
    >>> reg.sweep()
    []
    >>> reg.close()
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Sweeper = Callable[[str], list[str]]
"""Removes what a dead run left in some other place (containers, networks); says what."""


def _started(pid: int, zombies: bool = True) -> float:
    """When the process ``pid`` started, in seconds since the epoch (0.0 when there is none),
    to tell it from a later one with the same id: read from ``/proc`` on Linux (the same sum
    psutil makes, without importing it: about 10 ms of every run's start), else psutil's.
    With ``zombies=False`` a zombie (ended, not yet reaped: an orphan whose reaper is slow)
    counts as none: a run's owner that is one has ended. (A service's group leader that is one
    may still have its group alive: the sweep asks with the default.)

    Example:
        >>> abs(_started(os.getpid()) - time.time()) < 3600
        True
        >>> _started(0)
        0.0
    """
    if pid <= 0:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X") and not zombies:  # field 3, the state: zombie, dead
            return 0.0
        ticks = int(fields[19])  # field 22, starttime
        return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return 0.0  # no such process
    except (OSError, ValueError, IndexError):
        pass
    import psutil

    try:
        process = psutil.Process(pid)
        if not zombies and process.status() == psutil.STATUS_ZOMBIE:
            return 0.0
        return float(process.create_time())
    except psutil.Error:
        return 0.0


def is_running(pid: int) -> bool:
    """Whether process ``pid`` runs (exists, and is not a zombie waiting to be reaped).

    Example:
        >>> is_running(os.getpid()), is_running(0)
        (True, False)
    """
    return _started(pid, zombies=False) > 0.0


@functools.cache  # (the same for every process asked about: read once)
def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


class RunRegistry:
    """One run's record of what it started."""

    def __init__(self, folder: Path, run_id: str | None = None) -> None:
        self.folder = folder
        self.run_id = run_id or (
            time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{os.urandom(2).hex()}"
        )
        self.path = folder / f"{self.run_id}.json"
        self._lock = threading.Lock()
        self._record: dict[str, Any] = {
            "run_id": self.run_id,
            "owner_pid": os.getpid(),
            "owner_started": 0.0,  # known when first written (_write)
            "processes": {},
            "dirs": [],
            "backends": [],
        }
        self.sweepers: list[Sweeper] = []
        # The backends that runs found dead by ``sweep`` had used (their sweeps are due).
        self.dead_backends: set[str] = set()
        self._written = False

    def _write(self) -> None:
        if not self._record["owner_started"]:
            self._record["owner_started"] = _started(os.getpid())
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._record, indent=1))
        tmp.replace(self.path)
        self._written = True

    def record_process(self, name: str, pid: int) -> None:
        """Note a process (the leader of its own process group) this run started."""
        with self._lock:
            self._record["processes"][str(pid)] = {"name": name, "started": _started(pid)}
            self._write()

    def forget_process(self, pid: int) -> None:
        """The process was stopped properly: nothing to sweep for it."""
        with self._lock:
            self._record["processes"].pop(str(pid), None)
            self._write()

    def record_backend(self, name: str) -> None:
        """Note a backend that leaves things outside this record (containers): if the run
        dies, the next run asks that backend to sweep."""
        with self._lock:
            if name not in self._record["backends"]:
                self._record["backends"].append(name)
                self._write()

    def record_dir(self, path: Path) -> None:
        """Note a temp folder to remove if the run dies."""
        with self._lock:
            self._record["dirs"].append(str(path))
            self._write()

    def close(self) -> None:
        """The run ended: its record goes, unless a process it names is still there (a stop
        that failed): then the next run's sweep needs it."""
        with self._lock:
            left = [pid for pid, info in self._record["processes"].items()
                    if _is_alive(int(pid), info.get("started", 0.0))]
            if self._written and not left:
                self.path.unlink(missing_ok=True)

    def sweep(self) -> list[str]:
        """Clean up after runs whose owner process is gone; return what was removed."""
        removed: list[str] = []
        if not self.folder.is_dir():
            return removed
        for path in sorted(self.folder.glob("*.json")):
            if path == self.path:
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                continue
            if _is_alive(record.get("owner_pid", 0), record.get("owner_started", 0.0),
                         zombies=False):
                continue
            removed.extend(_sweep_record(record))
            self.dead_backends.update(str(b) for b in record.get("backends", []))
            for sweeper in self.sweepers:
                removed.extend(sweeper(str(record.get("run_id", path.stem))))
            path.unlink(missing_ok=True)
        return removed


def _is_alive(pid: int, started: float, zombies: bool = True) -> bool:
    if not pid:
        return False
    actual = _started(pid, zombies)
    return actual != 0.0 and abs(actual - started) < 1.0


def _sweep_record(record: dict[str, Any]) -> list[str]:
    removed: list[str] = []
    run = record.get("run_id", "?")
    for pid_text, info in record.get("processes", {}).items():
        pid = int(pid_text)
        if not _is_alive(pid, info.get("started", 0.0)):
            continue
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        except PermissionError:
            os.kill(pid, signal.SIGKILL)
        removed.append(f"process {info.get('name', '?')} (pid {pid}) left by run {run}")
    for folder in record.get("dirs", []):
        if os.path.isdir(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"folder {folder} left by run {run}")
    return removed
