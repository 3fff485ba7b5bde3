"""``interlock run -j N``: a suite's features on N worker processes that share one stack.

behave runs one feature after another in one process, and its runner has no way to spread
them; so the workers are ``behave`` processes (forked from this one where it can: they start
with behave and Interlock imported, ``forked.py``). Worker 1 starts the default stack (with
the secrets this process announced in a state file only its owner can read, so that logins
and signed tokens are valid in every worker), writes its addresses there, and stops it once
the others are done; the others reuse it through ``INTERLOCK_REUSE``. The workers write into
the same Allure results and JUnit folders (their files are named per scenario and per
feature, so nothing collides), and the summary adds their counts up.

The workers take the features one at a time, heaviest first by the durations earlier runs
recorded (``reports/durations.json``, as CI shards use them; by scenario count when there are
none), so that they end together (``claims.py``). Where those runs recorded the CPU each
feature kept its worker busy, the features that mostly wait (for a timeout, or for an event
that must not come) head the queue of every other worker and end the others': while one
worker waits, another works.

What makes sharing safe is decided here, not by the user, and the reason is printed: a feature
that stops or slows a service, sets a stub's answers or counts its requests (unless the stub
tells the scenarios' requests apart, ``options: {scenario_header: traceparent}``), is tagged
``@serial``, or empties or counts a whole table or counts or refuses events (unless the
counting step names a ``{variable}``, the order id the scenario created, which limits it to
the scenario's own, or is on a channel the stack file correlates, ``events: correlate:``)
never runs beside another
one: worker 1 runs such features once the queue of the others is empty, each holding the
stack alone (the others wait for their turn, ``stack/turns.py``), while the other workers
run the ``@isolated`` features, which start stacks of their own.

Example:
    >>> plan = [Planned("features/a.feature", 4, 1.0, ""), Planned("features/b.feature", 1,
    ...         3.0, ""), Planned("features/i.feature", 2, 5.0, "", isolated=True)]
    >>> [p.path for p in take_order(plan)]
    ['features/b.feature', 'features/a.feature', 'features/i.feature']
    >>> waits = [Planned("w.feature", 2, 2.0, "", cpu=0.1), Planned("b.feature", 2, 1.0, "",
    ...          cpu=0.9), Planned("c.feature", 2, 0.5, "", cpu=0.3)]
    >>> [p.path for p in take_order(waits, 1)], [p.path for p in take_order(waits, 2)]
    (['w.feature', 'b.feature', 'c.feature'], ['b.feature', 'c.feature', 'w.feature'])
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
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock._core.shards import Durations
from interlock.behave.claims import CLAIMS_ENV, PROGRESS_ENV
from interlock.behave.forked import Forked, fork_behave

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
    breaks: str = ""  # why it must run alone: it stops or slows a service ("" when not)
    isolated: bool = False  # it starts a stack of its own (@isolated): it needs no turn
    cpu: float | None = None  # the worker's CPU seconds in it, last run (None: not known)


def take_order(together: list[Planned], worker: int = 1) -> list[Planned]:
    """The order worker number ``worker`` takes the features that may share the stack in:
    the heaviest first, then the ``@isolated`` ones (heaviest first), which worker 1 takes
    last, after those that run alone (``claims.py``). (Measured, and slower: the isolated
    ones first on worker 2, their stack's start beside the shared stack's, 7 %; or after a
    few shared ones, 7 to 10 %.)

    Where the last run recorded the CPU each feature took, those that kept their worker less
    busy than the suite's mean (they mostly wait: for a timeout, for an event that must not
    come) come first for the odd workers and last for the even ones: two features that wait
    side by side leave the machine idle, one waiting beside one working does not."""
    shared = sorted((f for f in together if not f.isolated), key=_heaviest)
    waiting = mostly_waiting(together)
    if waiting:
        working = [f for f in shared if f not in waiting]
        shared = waiting + working if worker % 2 else working + waiting
    return shared + sorted((f for f in together if f.isolated), key=_heaviest)


def _heaviest(feature: Planned) -> tuple[float, str]:
    return (-feature.seconds, feature.path)


def mostly_waiting(together: list[Planned]) -> list[Planned]:
    """The features that may share the stack and kept their worker less busy than the
    suite's mean, heaviest first (none when fewer than two have their CPU recorded).

    Example:
        >>> [p.path for p in mostly_waiting([Planned("w.feature", 2, 2.0, "", cpu=0.1),
        ...                                   Planned("b.feature", 2, 1.0, "", cpu=0.9)])]
        ['w.feature']
    """
    known = sorted((f for f in together if not f.isolated and f.cpu is not None
                    and f.seconds > 0), key=_heaviest)
    if len(known) < 2:
        return []
    mean = sum(f.cpu or 0.0 for f in known) / sum(f.seconds for f in known)
    return [f for f in known if (f.cpu or 0.0) < mean * f.seconds]


# A {variable} of the scenario (not {uuid}, {env.X}, {fake.x}, {secrets.x}, {svc.url}).
_VARIABLE = re.compile(r"\{(?!uuid\})[A-Za-z_][\w-]*\}")


def _scoped(step: Any) -> bool:
    """Whether the step names a variable (an id the scenario made) in its text, docstring or
    table, so that what it counts is the scenario's own."""
    table = step.table
    cells = " ".join(" ".join(row.cells) for row in table.rows) if table is not None else ""
    return bool(_VARIABLE.search(" ".join((step.name, step.text or "", cells))))


def why(feature: Any, sentences: list[tuple[re.Pattern[str], str, bool, str]], tag: str = "",
        correlated: Callable[[str], bool] = lambda channel: False,
        scoped_services: Mapping[str, Collection[str]] | None = None) -> str:
    """Why a parsed feature is special (``tag``, or a step matching one of ``sentences``,
    each with its reason, whether a variable scopes it and the group naming the service that
    scopes it when that service tells scenarios apart), or ``""``. A step on a channel
    that is ``correlated`` (the stack file says which field tells a scenario's events apart)
    counts only its scenario's events; a step whose group names one of ``scoped_services``
    of that group (``{"stub": stubs with a scenario_header, "service": services whose delay
    proxy has one}``) sets and checks only its scenario's answers, requests and delays."""
    tags = set(feature.tags)
    for scenario in feature.scenarios:
        tags |= set(getattr(scenario, "tags", []))
    if tag and tag in tags:
        return f"it is tagged @{tag}"
    steps = list(feature.background.steps) if feature.background else []
    for scenario in feature.walk_scenarios():
        steps.extend(scenario.steps)
    for step in steps:
        for pattern, reason, scoped, group in sentences:
            found = pattern.fullmatch(step.name)
            if found is None or (scoped and _scoped(step)):
                continue
            channel = found.groupdict().get("channel")
            if channel is not None and correlated(channel):
                continue
            service = found.groupdict().get(group) if group else None
            if service is not None and service in (scoped_services or {}).get(group, ()):
                continue
            said = f'{reason} (line {step.line}: "{step.name}")'
            if service is not None:  # how to let it share the stack
                setting = (f"services.{service}.options.scenario_header" if group == "stub"
                           else f"services.{service}.delay_proxy.scenario_header")
                said += (f'; it would run beside them if the "{service}" {group} told '
                         f"scenarios apart ({setting}: a header the system passes on, e.g. "
                         "traceparent)")
            return said
    return ""


def scoped_services(suite: Any) -> dict[str, set[str]]:
    """The services whose requests the suite's stack file tells apart by scenario, by the
    group that names them in a sentence: stubs (``stub``) and delay proxies (``service``)."""
    return {"stub": set(suite.scenario_headers), "service": set(suite.delay_headers)}


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
         correlated: Callable[[str], bool] = lambda channel: False,
         scoped_services: Mapping[str, Collection[str]] | None = None) -> list[Planned]:
    """Every feature under ``paths`` with its expected duration (from the ``durations``
    file runs record, as CI shards use it) and whether it must run alone on the shared stack,
    and why (``correlated``: the channels whose events are told apart by scenario;
    ``scoped_services``: the stubs and the delay proxies whose requests are, by the group
    of the sentences that name them, ``stub`` and ``service``)."""
    from behave.parser import parse_file

    from interlock.behave.binding import SENTENCES
    from interlock.behave.steps import __name__ as _steps  # noqa: F401  (registers them)

    serial = [(re.compile(pattern), str(getattr(run, "interlock_serial", "")),
               bool(getattr(run, "interlock_scoped", False)),
               str(getattr(run, "interlock_scoped_by", "")))
              for pattern, run in SENTENCES if getattr(run, "interlock_serial", "")]
    breaks = [(re.compile(pattern), str(getattr(run, "interlock_breaks", "")), False,
               str(getattr(run, "interlock_scoped_by", "")))
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
        stops = "" if isolated else why(feature, breaks, scoped_services=scoped_services)
        alone = "" if isolated or stops else why(feature, serial, "serial", correlated,
                                                 scoped_services)
        found.append(Planned(name, len(list(feature.walk_scenarios())), weights[name],
                             alone, stops, isolated, durations.cpu.get(name)))
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
    """One ``behave`` process (it takes its features from the run's queue)."""

    number: int
    process: Forked | subprocess.Popen[str]
    output: Path
    started: float
    text: str = ""


def run(args: argparse.Namespace) -> int:
    """``interlock run``: plan, start the shared stack, run the workers, add up."""
    from behave.configuration import Configuration

    from interlock._core.config import find_config
    from interlock._core.shards import shard_features
    from interlock.behave.allure_files import clear_old_results
    from interlock.behave.hooks import ALONE_ENV, _terminate
    from interlock.behave.sharding import configured_shard, durations_file, record_file
    from interlock.stack.reuse import KeptStack
    from interlock.suite import DEFAULT_STACK, LEND_ENV, STACK_UP_ENV, Suite

    root = Path.cwd()
    behave_args = [a for a in args.behave_args if a != "--"]
    config = Configuration(command_args=list(behave_args), load_config=True)
    paths = list(config.paths or ["features"])
    behave_args = [a for a in behave_args if a not in paths]  # the workers get the queue
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
        suite.registry.record_dir(scratch)  # if this process is killed, the next run removes it
        planned = plan([Path(p) for p in paths], root, durations, correlated_channels(suite),
                       scoped_services(suite))
        if shard is not None:  # a CI shard: its features only, spread over this machine's workers
            keep = set(shard_features({Path(f.path).as_posix(): f.scenarios for f in planned},
                                      shard, durations))
            planned = [f for f in planned if Path(f.path).as_posix() in keep]
            print(f"interlock: shard {shard}: {len(planned)} features", flush=True)
        together = [f for f in planned if not f.alone and not f.breaks]
        private = [f for f in planned if f.breaks] + [f for f in planned if f.alone]
        for feature in private:
            print(f"interlock: {feature.path} runs alone on the shared stack (the other "
                  f"workers wait): {feature.breaks or feature.alone}", flush=True)
        results_folder = _allure_results(config)
        if results_folder is not None:
            clear_old_results(results_folder)  # once, here: the workers keep each other's
        _make_report_folders(config)
        started = time.perf_counter()
        signal.signal(signal.SIGTERM, _terminate)  # a CI timeout stops the workers and the stack
        for line in suite.sweep():
            suite.progress(f"interlock: swept {line}")
        # The workers load this stack file, and skip the sweep this process just did.
        env = {**os.environ, "INTERLOCK_CONFIG": str(stack_file), "INTERLOCK_SWEPT": "1"}
        lends = bool(private) or any(not f.isolated for f in together)
        state = scratch / "stack.json"
        if lends:  # the shared stack's secrets now; its addresses once worker 1 started it
            KeptStack.announce(state, DEFAULT_STACK, suite.secret_values())
            env["INTERLOCK_REUSE"] = str(state)
        claims = scratch / "claims"
        claims.mkdir()
        env[CLAIMS_ENV] = str(claims)
        # The workers keep each other's results, and take from the queue they are given (a
        # shard was applied above: 1/1 is the whole queue).
        command = [*behave_args,
                   "-D", "interlock.keep_results=true", "-D", "interlock.shard=1/1",
                   "-D", f"interlock.record_durations="
                   f"{record_file(config.userdata, durations_path, shard)}"]
        # Worker 1 starts the shared stack and keeps it until this process closes the pipe
        # (the others are done, or this process died); the others wait for its addresses.
        kept, done = os.pipe() if lends else (-1, -1)
        closed: list[int] = []

        def others_done() -> None:  # once: the pipe's end is closed, and the stack stops
            if lends and not closed:
                closed.append(done)
                os.close(done)

        workers: list[Worker] = []
        live = os.dup(sys.stderr.fileno())  # where the workers say which feature they take
        # Worker 1 closes its end of this pipe once the shared stack is up (or could not
        # start, or worker 1 ended): the others wait for that, not for a file to change.
        up_read, up_write = os.pipe() if lends else (-1, -1)
        ours = [fd for fd in (live, up_read, up_write) if fd >= 0]  # closed once handed on
        try:
            for number in range(1, max(1, min(args.jobs, len(together))) + 1):
                mine = {**env, PROGRESS_ENV: f"{live}:{number}"}
                queue = take_order(together, number)
                if number == 1 and lends:
                    lender = {**mine, LEND_ENV: str(kept), STACK_UP_ENV: str(up_write),
                              ALONE_ENV: os.pathsep.join(f.path for f in private)}
                    workers.append(_start(1, queue + private, command, lender, scratch,
                                          keep=(kept, live, up_write), close=(done, up_read)))
                    os.close(kept)
                elif lends:
                    waits = {**mine, STACK_UP_ENV: str(up_read)}
                    workers.append(_start(number, queue, command, waits, scratch,
                                          keep=(live, up_read), close=(done, up_write)))
                else:
                    workers.append(_start(number, queue, command, mine, scratch,
                                          keep=(live,)))
            while ours:
                os.close(ours.pop())
            print(f"interlock: {len(planned)} features on {len(workers)} worker(s), each "
                  "taking the next one when free"
                  + (f"; worker 1 starts the shared stack, and runs the {len(private)} that "
                     "need it alone once the others are taken" if private else ""),
                  flush=True)
            waiting = mostly_waiting(together)
            if waiting and len(workers) > 1:
                shown = (durations_path.relative_to(root) if durations_path.is_relative_to(root)
                         else durations_path)
                print(f"interlock: {len(waiting)} feature{'s' if len(waiting) > 1 else ''} "
                      f"mostly wait{'' if len(waiting) > 1 else 's'} (by the CPU recorded in "
                      f"{shown}): the odd workers take them first, the even ones last, so "
                      f"that one works while another waits: "
                      f"{', '.join(Path(f.path).name for f in waiting)}", flush=True)
            results = _finish_all(workers, workers[0] if lends else None, others_done,
                                  lambda: bool(KeptStack.error_in(state)))
        except BaseException:  # Ctrl-C, SIGTERM: the workers stop (worker 1 stops the stack)
            others_done()  # worker 1 must not wait for the others' end to stop it
            _stop(workers)
            raise
        finally:
            others_done()
            for fd in ours:
                os.close(fd)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # (before its record goes with the suite)
        suite.close()
    print(total([worker.text for worker, _ in results]), end="")
    print(f"Took {time.perf_counter() - started:.1f} s with {len(workers)} workers (wall)")
    return max((code for _, code in results), default=0)




def _allure_results(config: Any) -> Path | None:
    """The Allure formatter's folder in behave's configuration, if one is given."""
    for name, outfile in zip(config.format or [], config.outfiles or [], strict=False):
        if "allure" in str(name).lower() and outfile not in ("-", ""):
            return Path(outfile)
    return None


def _make_report_folders(config: Any) -> None:
    """Make the folders the workers' reports go in, before there are workers: behave checks
    whether the JUnit folder exists and then creates it, so two workers starting together can
    both see it missing, and the second one's ``makedirs`` fails."""
    folders = [Path(config.junit_directory)] if getattr(config, "junit", False) else []
    folders += [Path(out).parent for out in config.outfiles or [] if out not in ("-", "")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


def _start(number: int, features: list[Planned], behave_args: list[str], env: dict[str, str],
           scratch: Path, keep: tuple[int, ...] = (), close: tuple[int, ...] = ()) -> Worker:
    """A worker running ``behave`` on its queue: forked from this process where it can be
    (``forked.py``), else a new process; it inherits the file descriptors ``keep``, not
    those in ``close``."""
    output = scratch / f"worker-{number}.log"
    args = [*behave_args, *(f.path for f in features)]
    process: Forked | subprocess.Popen[str] | None = fork_behave(args, env, output, close)
    if process is None:
        with output.open("w") as out:
            process = subprocess.Popen([sys.executable, "-m", "behave", *args], env=env,
                                       stdout=out, stderr=subprocess.STDOUT, text=True,
                                       pass_fds=keep)
    return Worker(number, process, output, time.perf_counter())


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


def _finish_all(workers: list[Worker], lender: Worker | None, others_done: Callable[[], None],
                did_not_start: Callable[[], bool]) -> list[tuple[Worker, int]]:
    """Wait for the workers; print each one's output as it ends (the first to end first).
    ``others_done`` is called when every worker but the ``lender`` (which started the shared
    stack, and stops it when told) has ended; a lender that ends first stops the others (it
    crashed: the stack is gone), unless the stack ``did_not_start`` (each of the others says
    why in its own features)."""
    ended: queue.Queue[Worker] = queue.Queue()

    def wait(worker: Worker) -> None:
        worker.process.wait()
        ended.put(worker)

    for worker in workers:
        threading.Thread(target=wait, args=(worker,), daemon=True).start()
    borrowers = [w for w in workers if w is not lender]
    if not borrowers:
        others_done()
    results = []
    for _ in workers:
        worker = ended.get()
        results.append(_finish(worker))
        if (worker is lender and any(w.process.poll() is None for w in borrowers)
                and not did_not_start()):
            print(f"interlock: worker {worker.number}, which ran the shared stack, ended before "
                  "the others: stopping them", flush=True)
            _stop(borrowers)
        elif worker in borrowers and all(w.process.poll() is not None for w in borrowers):
            others_done()
    return results


def _finish(worker: Worker) -> tuple[Worker, int]:
    """Wait for a worker; print its output as one block, without its own summary."""
    code = worker.process.wait()
    text = worker.output.read_text(errors="replace")
    worker.text = text
    body = text[:m.start()] if (m := SUMMARY.search(text)) else text
    seconds = time.perf_counter() - worker.started
    ran = _counts([text]).get("feature", {})
    features = sum(number for status, number in ran.items() if status != "flaky")
    print(f"--- worker {worker.number}: {features} feature{'' if features == 1 else 's'}, "
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
    counts = _counts(outputs)
    lines = []
    for name in ("feature", "scenario", "step"):
        if name in counts:
            kind = counts[name]
            passed, flaky = kind.pop("passed"), kind.pop("flaky")
            rest = "".join(f", {number} {status}" for status, number in kind.items())
            lines.append(f"{passed} {name}{'' if passed == 1 else 's'} passed"
                         f"{f' ({flaky} flaky)' if flaky else ''}{rest}\n")
    return "".join(lines)


def _counts(outputs: list[str]) -> dict[str, dict[str, int]]:
    """behave's summary counts in ``outputs``, added up: by kind ("feature", "scenario",
    "step"), how many "passed" (of which "flaky") and how many of each other status."""
    counts: dict[str, dict[str, int]] = {}
    for text in outputs:
        for match in SUMMARY.finditer(text):
            kind = counts.setdefault(match.group(2), {"passed": 0, "flaky": 0})
            kind["passed"] += int(match.group(1))
            kind["flaky"] += int(match.group(3) or 0)
            for number, status in _COUNT.findall(match.group(4)):
                kind[status] = kind.get(status, 0) + int(number)
    return counts


def add_run_parser(commands: Any) -> None:
    """``interlock run [-j N] [BEHAVE-ARGS]``."""
    parser = commands.add_parser(
        "run", help="run the suite's features on N workers that share one stack",
        description="Runs behave on N worker processes that share one stack (started and "
        "stopped once); each takes the next feature when free, the heaviest first. Features "
        "that must not run beside others (@serial, faults, answers of a stub that does not "
        "tell scenarios apart, whole-table or event counts) run alone on the stack once "
        "the others are done, while the other workers run the @isolated ones; the reason is "
        "printed.")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (2)")
    parser.add_argument("behave_args", nargs=argparse.REMAINDER,
                        help="behave's arguments (feature paths, -D, --tags...), as for behave")
    parser.set_defaults(run=run)
