"""A behave run as one CI shard, and the durations that balance the next split.

``-D interlock.shard=i/n`` (or ``INTERLOCK_SHARD=i/n``): before the first feature, the run
keeps only its share of the features behave found (``interlock._core.shards.split``); the others
are not run and not reported, so each shard's Allure results and JUnit files hold its own
features only and copy together into one report (``interlock merge``).

Every run records how long each feature it ran took (wall clock from its ``before_feature``
to its last cleanup, less the time spent starting the shared stack, which every shard pays
once whichever feature comes first) in ``durations.json`` beside the Allure results folder
(``reports/durations.json``), or where ``-D interlock.durations=<path>`` says.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behave.model_core import Status

from interlock._core.shards import (
    DURATIONS_FILE,
    SHARD_ENV,
    SHARD_USERDATA,
    Durations,
    Shard,
    shard_features,
)
from interlock.behave.allure_files import allure_results_dir

DURATIONS_USERDATA = "interlock.durations"
RECORD_USERDATA = "interlock.record_durations"


@dataclass(eq=False)
class FeatureTimes:
    """The durations a shard split reads (``durations``), and where this run records its
    own (``record``: the same file, but a shard's own file when the run is one shard of
    several, so that the shards run one after another in one folder still read the same
    durations and split alike; ``interlock merge`` joins them back)."""

    durations: Durations
    base: Path
    record: Path
    shared_start: dict[str, float] = field(default_factory=dict)
    cpu_began: dict[str, float] = field(default_factory=dict)
    # The CPU seconds of the thread that runs the steps, in each feature: not those of the
    # threads that relay or listen for the whole stack (a delay proxy passes other workers'
    # requests too).
    cpu: dict[str, float] = field(default_factory=dict)
    warm: bool = False  # a feature has run in this process: the imports are done

    def key(self, feature: Any) -> str:
        """The feature's path relative to the suite folder (``features/a.feature``)."""
        path = Path(os.path.abspath(feature.filename))
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.as_posix()

    def starting_shared(self, feature: Any, seconds: float) -> None:
        """Time ``feature``'s ``before_feature`` spent getting the shared stack (starting
        it, or waiting for it or for its turn on it)."""
        key = self.key(feature)
        self.shared_start[key] = self.shared_start.get(key, 0.0) + seconds

    def began(self, feature: Any) -> None:
        """The feature starts: the CPU of the thread that runs its steps from now on (a
        shared stack's start runs on other threads; this one only waits for it)."""
        self.cpu_began[self.key(feature)] = time.thread_time()

    def ended(self, feature: Any) -> None:
        """The feature's work has ended: the CPU seconds its steps' thread spent on it. Not
        for the first feature a process runs: it imports what the suite's steps use (the
        contract, database and event libraries, about 0.8 s of CPU), which is not its own
        work (the last known record of it is kept)."""
        key = self.key(feature)
        if key in self.cpu_began:
            spent = time.thread_time() - self.cpu_began.pop(key)
            if self.warm:
                self.cpu[key] = spent
            self.warm = True

    def save(self, features: list[Any]) -> None:
        """Record each feature that ran (not skipped, not a dry run), and write the file."""
        ran = {}
        for feature in features:
            began, ended = feature.run_starttime, feature.run_endtime
            if feature.status in (Status.passed, Status.failed) and ended > began > 0:
                key = self.key(feature)
                ran[key] = max(0.0, ended - began - self.shared_start.get(key, 0.0))
        if ran:
            recorded = (self.durations if self.record == self.durations.path
                        else Durations.load(self.record))
            recorded.update(ran, cpu=self.cpu)
            recorded.save()


def durations_file(userdata: Mapping[str, Any], results: Path | None, base: Path) -> Path:
    """Where a run's durations are kept: ``-D interlock.durations=<path>``, else beside the
    Allure results folder (``results``), else ``reports/`` under the suite folder."""
    given = userdata.get(DURATIONS_USERDATA)
    if given:
        return Path(str(given))
    return (results.parent if results is not None else base / "reports") / DURATIONS_FILE


def record_file(userdata: Mapping[str, Any], durations: Path, shard: Shard | None) -> Path:
    """Where a run records its durations: ``-D interlock.record_durations=<path>``; for one
    shard of several, ``durations-shard-<i>-of-<n>.json`` beside ``durations``; else
    ``durations`` itself.

    Example:
        >>> record_file({}, Path("reports/durations.json"), Shard(1, 2)).name
        'durations-shard-1-of-2.json'
    """
    given = userdata.get(RECORD_USERDATA)
    if given:
        return Path(str(given))
    if shard is not None and shard.count > 1:
        return durations.with_name(f"durations-shard-{shard.index}-of-{shard.count}.json")
    return durations


def feature_times(context: Any, shard: Shard | None) -> FeatureTimes:
    """This run's durations (see ``durations_file`` and ``record_file``)."""
    base = Path(os.path.abspath(getattr(context.config, "base_dir", None) or Path.cwd()))
    path = durations_file(context.config.userdata, allure_results_dir(context), base)
    return FeatureTimes(Durations.load(path), base,
                        record_file(context.config.userdata, path, shard))


def configured_shard(userdata: Mapping[str, Any], environ: Mapping[str, str]) -> Shard | None:
    """The shard this run is, from ``-D interlock.shard`` or ``INTERLOCK_SHARD``; None when
    the run is the whole suite."""
    given = userdata.get(SHARD_USERDATA)
    if given is not None:
        return Shard.parse(str(given), f"-D {SHARD_USERDATA}")
    from_env = environ.get(SHARD_ENV, "").strip()
    if from_env:
        return Shard.parse(from_env, f"the environment variable {SHARD_ENV}")
    return None


def keep_shard(context: Any, shard: Shard, times: FeatureTimes) -> str:
    """Leave in behave's list only the features of ``shard`` (the runner walks that list
    after ``before_all``); the line that says what it kept."""
    features: list[Any] = context._runner.features
    scenarios = {times.key(f): len(f.walk_scenarios()) for f in features}
    chosen = set(shard_features(scenarios, shard, times.durations))
    features[:] = [f for f in features if times.key(f) in chosen]
    recorded = sum(1 for key in scenarios if key in times.durations.seconds)
    balance = (f"balanced by the durations recorded in {times.durations.path} "
               f"({recorded} of {len(scenarios)} features)" if recorded
               else "balanced by scenario counts (no durations recorded yet)")
    return (f"interlock: shard {shard}: {len(features)} of {len(scenarios)} features, "
            f"{balance}")


def timed(call: Any) -> tuple[Any, float]:
    """``call()`` and how long it took."""
    began = time.monotonic()
    result = call()
    return result, time.monotonic() - began
