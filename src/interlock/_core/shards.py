"""CI shards: a suite's features split over ``n`` machines, deterministically, balanced by the
durations earlier runs recorded; and each shard's reports merged back into one.

* ``Shard.parse("1/2")``: the first of two shards (``-D interlock.shard=1/2`` or
  ``INTERLOCK_SHARD=1/2`` in a behave run).
* ``split(weights, n)``: the features (by path) in ``n`` groups of nearly equal total weight:
  the heaviest first, each to the lightest group so far, ties by path and by group number, so
  every shard computes the same split on its own.
* ``Durations``: how long each feature took, kept in ``reports/durations.json`` (each run
  updates the features it ran). A feature with no record weighs its scenario count times the
  mean seconds per scenario of the recorded ones (or 1 s).
* ``merge_reports(folders, into)``: each shard's ``allure-results`` and ``junit`` copied into
  one, their ``durations.json`` joined (the newest record of each feature). Allure's files
  are named by uuid4 and JUnit's by feature, which is in exactly one shard: nothing collides
  but the run's description files (``environment.properties``, ``executor.json``,
  ``categories.json``), kept from the first.

Example:
    >>> Shard.parse("2/3")
    Shard(index=2, count=3)
    >>> split({"a.feature": 5.0, "b.feature": 3.0, "c.feature": 2.0, "d.feature": 1.0}, 2)
    [['a.feature', 'd.feature'], ['b.feature', 'c.feature']]
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError

SHARD_USERDATA = "interlock.shard"
SHARD_ENV = "INTERLOCK_SHARD"
DURATIONS_FILE = "durations.json"
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_RUN_FILES = ("environment.properties", "executor.json", "categories.json")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (both from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, where: str = f"-D {SHARD_USERDATA}") -> Shard:
        """``"i/n"`` with 1 <= i <= n; anything else is a suite error naming ``where``.

        Example:
            >>> Shard.parse("3/2")
            Traceback (most recent call last):
            ...
            interlock._core.errors.InterlockError: -D interlock.shard="3/2" is not a shard...
        """
        found = _SHARD.match(text)
        if found is None or not 1 <= int(found[1]) <= int(found[2]):
            raise InterlockError(
                f'{where}="{text}" is not a shard',
                where=where,
                hint="Write i/n, the i-th of n shards, 1 <= i <= n: -D interlock.shard=1/2 "
                "on one machine and -D interlock.shard=2/2 on the other.",
            )
        return cls(int(found[1]), int(found[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def split(weights: Mapping[str, float], count: int) -> list[list[str]]:
    """The names of ``weights`` in ``count`` groups of nearly equal total weight, each group
    sorted; the same answer for the same input, whatever its order.

    Example:
        >>> split({"x": 1.0, "y": 1.0, "z": 1.0}, 2)
        [['x', 'z'], ['y']]
        >>> split({"x": 1.0}, 3)
        [['x'], [], []]
    """
    groups: list[list[str]] = [[] for _ in range(count)]
    totals = [0.0] * count
    for name in sorted(weights, key=lambda n: (-weights[n], n)):
        lightest = min(range(count), key=lambda i: (totals[i], i))
        groups[lightest].append(name)
        totals[lightest] += weights[name]
    return [sorted(group) for group in groups]


@dataclass(eq=False)
class Durations:
    """Seconds per feature (by its path relative to the suite folder), and when each was
    recorded (so that merging shards keeps the newest of each), read from and written to
    ``path``."""

    path: Path
    seconds: dict[str, float] = field(default_factory=dict)
    recorded: dict[str, float] = field(default_factory=dict)
    # The CPU seconds of the thread that ran each feature's steps (a feature that mostly
    # waits, for a timeout or an event that must not come, has few): interlock run -j pairs
    # waiting features with busy ones.
    cpu: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Durations:
        """What ``path`` holds; nothing when it is missing or not a durations file (it is a
        hint for balancing, never a reason to stop a run)."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(document, dict):
            return cls(path)
        found = cls(path)
        found.seconds, found.recorded, found.cpu = _read(document.get("features"))
        return found

    def weights(self, scenarios: Mapping[str, int]) -> dict[str, float]:
        """A weight for each feature of ``scenarios`` (path -> its number of scenarios): its
        recorded seconds, else its scenarios times the recorded mean per scenario.

        Example:
            >>> d = Durations(Path("d.json"), {"a.feature": 6.0})
            >>> d.weights({"a.feature": 3, "b.feature": 2})
            {'a.feature': 6.0, 'b.feature': 4.0}
        """
        known = [(self.seconds[p], n) for p, n in scenarios.items() if p in self.seconds]
        per_scenario = (sum(s for s, _ in known) / max(1, sum(n for _, n in known))
                        if known else 1.0)
        return {path: self.seconds.get(path, max(1, count) * per_scenario)
                for path, count in scenarios.items()}

    def update(self, seconds: Mapping[str, float], when: float | None = None,
               cpu: Mapping[str, float] | None = None) -> None:
        """Take the durations (and the CPU seconds, when measured) of the features a run
        ran (recorded now); keep the others', and the last CPU seconds known of a feature
        whose CPU this run did not measure."""
        now = time.time() if when is None else when
        for path, value in seconds.items():
            self.seconds[path] = round(value, 3)
            self.recorded[path] = now
            if cpu is not None and path in cpu:
                self.cpu[path] = round(cpu[path], 3)

    def join(self, other: Durations) -> None:
        """Take ``other``'s record of each feature it recorded later than this one did.

        Example:
            >>> mine = Durations(Path("a"), {"x": 1.0, "y": 1.0}, {"x": 10.0, "y": 10.0})
            >>> mine.join(Durations(Path("b"), {"x": 2.0, "y": 2.0}, {"x": 20.0, "y": 5.0}))
            >>> mine.seconds
            {'x': 2.0, 'y': 1.0}
        """
        for name, value in other.seconds.items():
            when = other.recorded.get(name, 0.0)
            if name not in self.seconds or when > self.recorded.get(name, 0.0):
                self.seconds[name] = value
                self.recorded[name] = when
                if name in other.cpu:  # (else the last CPU known of it stays)
                    self.cpu[name] = other.cpu[name]

    def save(self) -> None:
        """Write the file (sorted, so that it diffs well), joined with what it holds now: the
        workers of ``interlock run -j N`` each save their own features' durations, so a
        record written meanwhile by another is kept; the file is replaced whole, never seen
        half-written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            now = Durations.load(self.path)
            now.join(self)
            self.seconds, self.recorded, self.cpu = now.seconds, now.recorded, now.cpu
            document = {"features": {  # sorted, so that it diffs well
                name: {"seconds": self.seconds[name],
                       **({"cpu": self.cpu[name]} if name in self.cpu else {}),
                       "recorded": round(self.recorded.get(name, 0))}
                for name in sorted(self.seconds)}}
            scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            scratch.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            os.replace(scratch, self.path)


def _read(section: Any) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """The seconds, the time recorded and the runner's CPU seconds (when known) of each
    feature in a durations file: an entry is ``{"seconds": seconds, "cpu": seconds,
    "recorded": time}``, or only a number of seconds. An entry that is neither is left out
    (the file is a hint, never a reason to stop)."""
    values: dict[str, float] = {}
    when: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, entry in (section.items() if isinstance(section, dict) else ()):
        seconds = entry.get("seconds") if isinstance(entry, dict) else entry
        recorded = entry.get("recorded", 0) if isinstance(entry, dict) else 0
        used = entry.get("cpu") if isinstance(entry, dict) else None
        if isinstance(seconds, int | float) and seconds >= 0:
            values[str(name)] = float(seconds)
            when[str(name)] = float(recorded) if isinstance(recorded, int | float) else 0.0
            if isinstance(used, int | float) and used >= 0:
                cpu[str(name)] = float(used)
    return values, when, cpu


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold a lock beside ``path`` (POSIX; elsewhere the replace alone must do)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def shard_features(scenarios: Mapping[str, int], shard: Shard,
                   durations: Durations) -> list[str]:
    """The features (paths) that ``shard`` runs."""
    return split(durations.weights(scenarios), shard.count)[shard.index - 1]


def merge_reports(folders: Iterable[Path], into: Path) -> dict[str, int]:
    """Copy each shard's report folder (``allure-results/``, ``junit/``) into ``into``, and
    join its durations (``durations.json`` and a shard's ``durations-shard-<i>-of-<n>.json``)
    into ``into/durations.json``; how many files of each kind were taken. Two different files
    of one name (other than the run's description files) are an error: they would hide a
    result.
    """
    counts = {"allure-results": 0, "junit": 0, DURATIONS_FILE: 0}
    joined = Durations.load(into / DURATIONS_FILE)
    for folder in folders:
        if not folder.is_dir():
            raise InterlockError(f"No shard report folder at {folder}",
                                 hint="Name the folders each shard's reports were put in.")
        for kind in ("allure-results", "junit"):
            source = folder / kind
            if source.is_dir():
                counts[kind] += _copy_files(source, into / kind)
        for recorded in sorted(folder.glob("durations*.json")):  # a shard's own, or the whole
            joined.join(Durations.load(recorded))
            counts[DURATIONS_FILE] += 1
    if counts[DURATIONS_FILE]:
        joined.save()
    return counts


def _copy_files(source: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        destination = target / path.relative_to(source)
        if destination.exists():
            if path.name in _RUN_FILES or filecmp.cmp(path, destination, shallow=False):
                continue
            raise InterlockError(
                f"Two shards wrote different files named {path.relative_to(source)}",
                where=f"{path} and {destination}",
                hint="Give each shard its own results folder, and merge into an empty one.",
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied += 1
    return copied
