"""``interlock run -j N``: a suite's features on N worker processes that share one stack.

behave runs one feature after another in one process, and its runner has no way to spread
them; so the workers are plain ``behave`` processes, each given a share of the feature files.
This process starts the default stack once, writes its addresses and secrets to a state file
only its owner can read (the workers reuse it through ``INTERLOCK_REUSE``: logins and signed
tokens stay valid), and stops it once at the end. The workers write into the same Allure
results and JUnit folders (their files are named per scenario and per feature, so nothing
collides), and the summary adds their counts up.

What makes sharing safe is decided here, not by the user, and the reason is printed: a feature
that stops or slows a service, sets a stub's answers, is tagged ``@serial``, or empties or
counts a whole table or counts or refuses events (unless the counting step names a
``{variable}``, the order id the scenario created, which limits it to the scenario's own, or
is on a channel the stack file correlates, ``events: correlate:``) never runs beside another
one on the same stack: such features run one after another on a stack of
their own, first, in the last worker, which stops that stack after them and then runs its
share of the others on the shared stack (``INTERLOCK_OWN_STACK`` tells it which are which).
``@isolated`` features start their own stack inside their worker, as in a plain run.

Shares are balanced by the durations earlier runs recorded (``reports/durations.json``, as CI
shards use them; by scenario count when there are none): the longest feature goes to the
least loaded worker.

Example:
    >>> plan = [Planned("features/a.feature", 4, 1.0, ""), Planned("features/b.feature", 1,
    ...         3.0, ""), Planned("features/c.feature", 2, 1.5, "")]
    >>> [[p.path for p in share] for share in balance(plan, 2)]
    [['features/b.feature'], ['features/a.feature', 'features/c.feature']]
"""

from __future__ import annotations

import argparse
import inspect
import operator
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock._core.shards import Durations, split

# behave's summary lines: "3 scenarios passed, 0 failed, 2 error, 0 skipped" (the statuses
# after "passed" vary with the run and behave's version; "(1 flaky)" is Interlock's).
SUMMARY = re.compile(r"^(\d+) (feature|scenario|step)s? passed(?: \((\d+) flaky\))?"
                     r"((?:, \d+ [a-z_]+)*)[ \t]*$", re.MULTILINE)
_COUNT = re.compile(r", (\d+) ([a-z_]+)")


@dataclass(frozen=True)
class Planned:
    """A feature file and what the plan knows of it."""

    path: str
    scenarios: int
    seconds: float  # the last run's, or the scenario count when unknown
    alone: str  # why it must run alone ("" when it may run beside others)
    breaks: str = ""  # why it needs a stack of its own ("" when the shared one will do)


def balance(features: list[Planned], workers: int,
            loaded: list[float] | None = None) -> list[list[Planned]]:
    """Shares of about the same length (``shards.split``: the longest first, each to the least
    loaded worker, ``loaded`` saying what some carry already); without ``loaded``, no empty
    share (with it, one share per worker, in order).

    Example:
        >>> plan = [Planned(f"{n}.feature", 1, 1.0, "") for n in "abcd"]
        >>> [[p.path for p in share] for share in balance(plan, 2, loaded=[0.0, 2.5])]
        [['a.feature', 'b.feature', 'c.feature'], ['d.feature']]
    """
    by_path = {feature.path: feature for feature in features}
    groups = split({feature.path: feature.seconds for feature in features}, max(1, workers),
                   loaded or ())
    shares = [[by_path[path] for path in group] for group in groups]
    return shares if loaded else [share for share in shares if share]


# A {variable} of the scenario (not {uuid}, {env.X}, {fake.x}, {secrets.x}, {svc.url}).
_VARIABLE = re.compile(r"\{(?!uuid\})[A-Za-z_][\w-]*\}")


def _scoped(step: Any) -> bool:
    """Whether the step names a variable (an id the scenario made) in its text, docstring or
    table, so that what it counts is the scenario's own."""
    table = step.table
    cells = " ".join(" ".join(row.cells) for row in table.rows) if table is not None else ""
    return bool(_VARIABLE.search(" ".join((step.name, step.text or "", cells))))


def why(feature: Any, sentences: list[tuple[re.Pattern[str], str, bool]], tag: str = "",
        correlated: Callable[[str], bool] = lambda channel: False) -> str:
    """Why a parsed feature is special (``tag``, or a step matching one of ``sentences``,
    each with its reason and whether a variable scopes it), or ``""``. A step on a channel
    that is ``correlated`` (the stack file says which field tells a scenario's events apart)
    counts only its scenario's events."""
    tags = set(feature.tags)
    for scenario in feature.scenarios:
        tags |= set(getattr(scenario, "tags", []))
    if tag and tag in tags:
        return f"it is tagged @{tag}"
    steps = list(feature.background.steps) if feature.background else []
    for scenario in feature.walk_scenarios():
        steps.extend(scenario.steps)
    for step in steps:
        for pattern, reason, scoped in sentences:
            found = pattern.fullmatch(step.name)
            if found is None or (scoped and _scoped(step)):
                continue
            channel = found.groupdict().get("channel")
            if channel is not None and correlated(channel):
                continue
            return f'{reason} (line {step.line}: "{step.name}")'
    return ""


def correlated_channels(suite: Any) -> Callable[[str], bool]:
    """Whether the stack file's ``events: correlate:`` tells every event on a step's channel
    by its scenario: a correlated pattern covers the channel in the wildcards of every broker
    type the stack file configures (a type whose matching needs its connection, Kafka's
    topic map, and a channel that is a pattern itself, only when written as the pattern is).

    Example:
        >>> _WILDCARD.search("orders.>") is not None, _WILDCARD.search("orders.created")
        (True, None)
    """
    patterns = [c.channel for c in suite.events_config.correlate]
    if not patterns:
        return lambda channel: False
    from interlock.events.config import adapter_class

    matchers: list[Callable[[str, str], bool]] = []
    for data in suite.section("brokers").values():
        kind = data.get("type") if isinstance(data, dict) else None
        found = inspect.getattr_static(adapter_class(str(kind)), "matches", None) if isinstance(
            kind, str) else None
        matchers.append(found.__func__ if isinstance(found, staticmethod) else operator.eq)
    matchers = matchers or [operator.eq]

    def covered(channel: str) -> bool:
        if _WILDCARD.search(channel):  # a pattern itself: covered only by the same pattern
            return channel in patterns
        return all(any(match(p, channel) for p in patterns) for match in matchers)

    return covered


_WILDCARD = re.compile(r"[*>#+]")  # NATS, AMQP and MQTT wildcards


def plan(paths: list[Path], root: Path, durations: Durations,
         correlated: Callable[[str], bool] = lambda channel: False) -> list[Planned]:
    """Every feature under ``paths`` with its expected duration (from the ``durations``
    file runs record, as CI shards use it) and whether it runs alone or on its own stack
    (``correlated``: the channels whose events are told apart by scenario)."""
    from behave.parser import parse_file

    from interlock.behave.binding import SENTENCES
    from interlock.behave.steps import __name__ as _steps  # noqa: F401  (registers them)

    serial = [(re.compile(pattern), str(getattr(run, "interlock_serial", "")),
               bool(getattr(run, "interlock_scoped", False)))
              for pattern, run in SENTENCES if getattr(run, "interlock_serial", "")]
    breaks = [(re.compile(pattern), str(getattr(run, "interlock_breaks", "")), False)
              for pattern, run in SENTENCES if getattr(run, "interlock_breaks", "")]
    parsed: dict[str, Any] = {}
    for path in _feature_files(paths, root):
        feature = parse_file(str(path))
        if feature is not None:
            relative = path.relative_to(root) if path.is_relative_to(root) else path
            parsed[relative.as_posix()] = feature
    weights = durations.weights(
        {name: len(list(feature.walk_scenarios())) for name, feature in parsed.items()})
    found: list[Planned] = []
    for name, feature in parsed.items():
        # An @isolated feature has a stack of its own already, in whichever worker runs it.
        isolated = "isolated" in feature.tags
        own = "" if isolated else why(feature, breaks)
        alone = "" if isolated or own else why(feature, serial, "serial", correlated)
        found.append(Planned(name, len(list(feature.walk_scenarios())), weights[name],
                             alone, own))
    return found


def _feature_files(paths: list[Path], root: Path) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = given if given.is_absolute() else root / given
        if path.is_dir():
            files.extend(sorted(path.rglob("*.feature")))
        elif path.suffix == ".feature" and path.exists():
            files.append(path)
        else:
            raise InterlockError(f"No feature file or folder at {given}",
                                 hint="Name feature files or folders of them (default: features/).")
    return files


@dataclass
class Worker:
    """One ``behave`` process and its share."""

    number: int
    share: list[Planned]
    process: subprocess.Popen[str]
    output: Path
    started: float
    text: str = ""


def run(args: argparse.Namespace) -> int:
    """``interlock run``: plan, start the shared stack, run the workers, add up."""
    from behave.configuration import Configuration

    from interlock._core.config import find_config
    from interlock._core.shards import shard_features
    from interlock.behave.allure_files import clear_old_results
    from interlock.behave.hooks import OWN_STACK_ENV, _terminate
    from interlock.behave.sharding import configured_shard, durations_file, record_file
    from interlock.stack.reuse import KeptStack
    from interlock.suite import DEFAULT_STACK, Suite

    root = Path.cwd()
    behave_args = [a for a in args.behave_args if a != "--"]
    config = Configuration(command_args=list(behave_args), load_config=True)
    paths = list(config.paths or ["features"])
    behave_args = [a for a in behave_args if a not in paths]  # each worker gets its share
    shard = configured_shard(config.userdata, os.environ)
    durations_path = durations_file(config.userdata, _allure_results(config), root)
    durations = Durations.load(durations_path)  # read once: the plan and the shard use it
    # The stack file as the workers' hooks find it (-D interlock.config, INTERLOCK_CONFIG, the
    # suite's folder), unless `interlock --config` names one: the workers are told which.
    given = (getattr(args, "config", None) or config.userdata.get("interlock.config")
             or os.environ.get("INTERLOCK_CONFIG") or None)
    stack_file = find_config(given, Path(getattr(config, "base_dir", None) or root),
                             setting="--config")
    suite = Suite.load(stack_file)
    scratch = Path(tempfile.mkdtemp(prefix=f"interlock-run-{os.getpid()}-"))
    try:
        planned = plan([Path(p) for p in paths], root, durations, correlated_channels(suite))
        if shard is not None:  # a CI shard: its features only, spread over this machine's workers
            keep = set(shard_features({Path(f.path).as_posix(): f.scenarios for f in planned},
                                      shard, durations))
            planned = [f for f in planned if Path(f.path).as_posix() in keep]
            print(f"interlock: shard {shard}: {len(planned)} features", flush=True)
        together = [f for f in planned if not f.alone and not f.breaks]
        private = [f for f in planned if f.breaks] + [f for f in planned if f.alone]
        for feature in private:
            print(f"interlock: {feature.path} runs on a stack of its own, one feature after "
                  f"another: {feature.breaks or feature.alone}", flush=True)
        results_folder = _allure_results(config)
        if results_folder is not None:
            clear_old_results(results_folder)  # once, here: the workers keep each other's
        started = time.perf_counter()
        signal.signal(signal.SIGTERM, _terminate)  # a CI timeout stops the workers and the stack
        for line in suite.sweep():
            suite.progress(f"interlock: swept {line}")
        # The workers load this stack file, and skip the sweep this process just did.
        env = {**os.environ, "INTERLOCK_CONFIG": str(stack_file), "INTERLOCK_SWEPT": "1"}
        state = scratch / "stack.json"
        if together:  # the shared stack: its secrets now, its addresses once started
            KeptStack.announce(state, DEFAULT_STACK, suite.secret_values())
            env["INTERLOCK_REUSE"] = str(state)
        private_env = {k: v for k, v in env.items() if k != "INTERLOCK_REUSE"}
        # The workers keep each other's results, and run what they are given (a shard was
        # applied above: 1/1 is the whole of their share).
        command = [sys.executable, "-m", "behave", *behave_args,
                   "-D", "interlock.keep_results=true", "-D", "interlock.shard=1/1",
                   "-D", f"interlock.record_durations="
                   f"{record_file(config.userdata, durations_path, shard)}"]
        # The workers start at once: they load while the shared stack starts, and wait for it.
        if private and args.jobs > 1:
            # Features that must not share their stack run one after another on a stack of
            # their own, first, in the last worker; that worker then runs its share of the
            # others on the shared stack (its load counts their time and its stack's start).
            own = (sum(f.seconds for f in private)
                   + durations.stack_start.get(DEFAULT_STACK, 0.0))
            shares = balance(together, args.jobs, loaded=[0.0] * (args.jobs - 1) + [own])
            workers = [_start(n + 1, share, command, env, scratch)
                       for n, share in enumerate(shares[:-1]) if share]
            own_env = {**env, OWN_STACK_ENV: os.pathsep.join(f.path for f in private)}
            workers.append(_start(len(workers) + 1, private + shares[-1], command, own_env,
                                  scratch))
            print(f"interlock: {len(together)} features on {len(workers)} worker(s) sharing a "
                  f"stack; {len(private)} first on a stack of their own, in worker "
                  f"{len(workers)}", flush=True)
        else:  # -j 1: those on a stack of their own run after the others
            shares = balance(together, max(1, args.jobs))
            workers = [_start(n + 1, share, command, env, scratch)
                       for n, share in enumerate(shares)]
            print(f"interlock: {len(together)} features on {len(shares)} "
                  f"worker(s) sharing a stack"
                  + (f", {len(private)} on a stack of their own" if private else ""),
                  flush=True)
        try:
            if together:
                KeptStack.write(root, suite.stack(), suite.secret_values(), path=state)
            results = _finish_all(workers)
            if private and args.jobs <= 1:
                workers.append(_start(len(workers) + 1, private, command, private_env,
                                      scratch))
                results.append(_finish(workers[-1]))
        except BaseException:  # the stack did not come up, Ctrl-C, SIGTERM: workers stop first
            _stop(workers)
            raise
    finally:
        suite.close()  # the shared stack stops before the summary
        shutil.rmtree(scratch, ignore_errors=True)
    print(total([worker.text for worker, _ in results]), end="")
    print(f"Took {time.perf_counter() - started:.1f} s with {len(workers)} workers (wall)")
    return max((code for _, code in results), default=0)




def _allure_results(config: Any) -> Path | None:
    """The Allure formatter's folder in behave's configuration, if one is given."""
    for name, outfile in zip(config.format or [], config.outfiles or [], strict=False):
        if "allure" in str(name).lower() and outfile not in ("-", ""):
            return Path(outfile)
    return None


def _start(number: int, share: list[Planned], command: list[str], env: dict[str, str],
           scratch: Path) -> Worker:
    output = scratch / f"worker-{number}.log"
    with output.open("w") as out:
        process = subprocess.Popen([*command, *(f.path for f in share)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, text=True)
    return Worker(number, share, process, output, time.perf_counter())


def _stop(workers: list[Worker], grace: float = 30.0) -> None:
    """Ask the workers still running to stop (SIGTERM: their hooks stop their own stacks),
    then kill those that do not within ``grace`` seconds."""
    running = [w for w in workers if w.process.poll() is None]
    for worker in running:
        worker.process.terminate()
    deadline = time.monotonic() + grace  # one for all: they stop side by side
    for worker in running:
        try:
            worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


def _finish_all(workers: list[Worker]) -> list[tuple[Worker, int]]:
    """Wait for the workers; print each one's output as it ends (the first to end first)."""
    ended: queue.Queue[Worker] = queue.Queue()

    def wait(worker: Worker) -> None:
        worker.process.wait()
        ended.put(worker)

    for worker in workers:
        threading.Thread(target=wait, args=(worker,), daemon=True).start()
    return [_finish(ended.get()) for _ in workers]


def _finish(worker: Worker) -> tuple[Worker, int]:
    """Wait for a worker; print its output as one block, without its own summary."""
    code = worker.process.wait()
    text = worker.output.read_text(errors="replace")
    worker.text = text
    body = text[:m.start()] if (m := SUMMARY.search(text)) else text
    seconds = time.perf_counter() - worker.started
    print(f"--- worker {worker.number}: {len(worker.share)} features, "
          f"{'passed' if code == 0 else 'FAILED'} ({seconds:.1f} s)", flush=True)
    print(body.rstrip(), flush=True)
    return worker, code


def total(outputs: list[str]) -> str:
    """behave's three summary lines, added up over the workers' outputs.

    Example:
        >>> print(total(["1 feature passed, 0 failed, 0 skipped\\n"
        ...              "2 scenarios passed, 1 failed, 0 skipped\\n",
        ...              "2 features passed, 0 failed, 0 skipped\\n"
        ...              "3 scenarios passed (1 flaky), 0 failed, 2 error, 0 skipped\\n"]), end="")
        3 features passed, 0 failed, 0 skipped
        5 scenarios passed (1 flaky), 1 failed, 0 skipped, 2 error
    """
    counts: dict[str, dict[str, int]] = {}
    for text in outputs:
        for match in SUMMARY.finditer(text):
            kind = counts.setdefault(match.group(2), {"passed": 0, "flaky": 0})
            kind["passed"] += int(match.group(1))
            kind["flaky"] += int(match.group(3) or 0)
            for number, status in _COUNT.findall(match.group(4)):
                kind[status] = kind.get(status, 0) + int(number)
    lines = []
    for name in ("feature", "scenario", "step"):
        if name in counts:
            kind = counts[name]
            passed, flaky = kind.pop("passed"), kind.pop("flaky")
            rest = "".join(f", {number} {status}" for status, number in kind.items())
            lines.append(f"{passed} {name}{'' if passed == 1 else 's'} passed"
                         f"{f' ({flaky} flaky)' if flaky else ''}{rest}\n")
    return "".join(lines)


def add_run_parser(commands: Any) -> None:
    """``interlock run [-j N] [BEHAVE-ARGS]``."""
    parser = commands.add_parser(
        "run", help="run the suite's features on N workers that share one stack",
        description="Runs behave on N worker processes that share one stack (started and "
        "stopped once). Features that must not share a stack (@serial, faults, stub answers, "
        "whole-table or event counts) run one after another on a stack of their own, in a "
        "worker beside the others; the reason is printed.")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (2)")
    parser.add_argument("behave_args", nargs=argparse.REMAINDER,
                        help="behave's arguments (feature paths, -D, --tags...), as for behave")
    parser.set_defaults(run=run)
