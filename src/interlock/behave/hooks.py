"""behave's hooks for an Interlock suite. A suite's ``environment.py`` imports them:

    from interlock.behave.hooks import *  # noqa: F403

and may wrap any of them to add its own set-up. What they do:

* ``before_all``: read ``environment/interlock.yaml`` (or ``-D interlock.config=<path>``),
  sweep what killed runs left, make SIGTERM stop the run like Ctrl-C does; the number of
  tries of a ``@flaky`` scenario (``-D interlock.tries=N``, see ``retries.py``); a CI shard
  keeps only its features (``-D interlock.shard=i/n``, see ``sharding.py``);
* ``before_feature``: pick the feature's stack (shared, ``@isolated`` or ``@stack.<name>``),
  starting it on first use (on a stack other workers share, wait for the feature's turn, see
  ``stack/turns.py``); make its ``@flaky`` scenarios run again when they fail;
* ``before_scenario`` / ``after_scenario``: a fresh ``World``; afterwards undo what the
  scenario did, heal what it broke, attach the services' logs when it failed;
* ``after_step``: a service that died on its own fails the scenario with its log tail;
* ``after_all``: stop everything (also on failure and Ctrl-C; a crash is swept next run);
  record how long each feature took (``reports/durations.json``), to balance shards.
"""

from __future__ import annotations

import dataclasses
import os
import select
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interlock._core.config import find_config
from interlock._core.errors import Failure, InterlockError
from interlock._core.report import SVG, TEXT, NullReporter
from interlock._core.traffic import Traffic, traffic_of
from interlock._core.values import preview
from interlock.behave.allure_files import (
    allure_results_dir,
    clear_old_results,
    one_allure_formatter,
    write_allure_files,
)
from interlock.behave.binding import SuiteMistake, ensure_registered
from interlock.behave.claims import CLAIMS_ENV, Claims, tell_run
from interlock.behave.links import repository_url, source_link
from interlock.behave.retries import Retries
from interlock.behave.setup_errors import SetupErrors, SetupFailed, own_frames
from interlock.behave.sharding import (
    FeatureTimes,
    configured_shard,
    feature_times,
    keep_shard,
    timed,
)
from interlock.behave.tables import table_csv
from interlock.stack.stack import Stack
from interlock.suite import DEFAULT_STACK, LEND_ENV, STACK_UP_ENV, Suite, inherited_pipe
from interlock.world import World

# interlock run -j: the feature files that hold the shared stack alone when their turn comes
# (the others wait), separated by the path separator.
ALONE_ENV = "INTERLOCK_ALONE"

__all__ = [
    "after_all", "after_feature", "after_scenario", "after_step", "before_all",
    "before_feature", "before_scenario", "before_step",
]

def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _setup_error(context: Any) -> BaseException | None:
    for name in ("interlock_run_error", "interlock_feature_error", "interlock_scenario_error"):
        error = getattr(context, name, None)
        if error is not None:
            return error
    return None


def before_all(context: Any) -> None:
    """Build the suite for this run.

    A set-up error here, in ``before_feature`` or in ``before_scenario`` (a bad stack file, a
    service that does not start) is kept; ``before_step`` stops every affected scenario with
    it, so each is reported broken in Allure and in behave's summary and the run exits
    non-zero. The error itself is printed once, at the end, with the scenarios it stopped.
    """
    context.interlock_run_error = None
    context.interlock_stopped = SetupErrors()
    context.interlock_retries = None
    context.interlock_times = None
    try:
        _clear_old_results(context)
        one_allure_formatter(getattr(context._runner, "formatters", []))
        _retries(context)
        _shard(context)
        _claims(context)
        _before_all(context)
    except Exception as err:
        context.interlock_run_error = err


def _clear_old_results(context: Any) -> None:
    """Start the Allure results folder empty (``-D interlock.keep_results=true`` keeps what
    earlier runs left), so that a report and ``interlock docs`` count this run only."""
    keep = str(context.config.userdata.get("interlock.keep_results", "false")).strip().lower()
    if keep in ("true", "yes", "1", "on"):
        return
    if keep not in ("false", "no", "0", "off", ""):
        raise InterlockError(
            f'-D interlock.keep_results="{keep}" is neither true nor false',
            hint="Write -D interlock.keep_results=true to keep earlier results, or leave it out.",
        )
    folder = allure_results_dir(context)
    if folder is not None:
        clear_old_results(folder)


def _retries(context: Any) -> None:
    """How many tries a failed ``@flaky`` scenario gets (``-D interlock.tries=N`` or
    ``INTERLOCK_TRIES``), and the reporters that say which passed on a retry."""
    retries = Retries.configured(context.config.userdata, os.environ)
    retries.install(context.config)
    context.interlock_retries = retries
    if _writes_allure(context):
        from interlock.behave.allure_formatter import FlakyMark

        mark = FlakyMark(retries)
        mark.register()
        context.interlock_flaky_mark = mark


def _formatter_modules(context: Any) -> set[str]:
    """The modules of this run's formatters' classes (and their bases): which reports it
    writes, read without importing any reporter's library."""
    formatters = getattr(getattr(context, "_runner", None), "formatters", None) or []
    return {base.__module__ for formatter in formatters for base in type(formatter).__mro__}


def _writes_allure(context: Any) -> bool:
    """Whether an Allure formatter writes this run's results (Interlock's, or allure-behave's
    own): evidence is then formatted and attached; otherwise it is not even formatted."""
    return any(module.startswith("allure_behave") for module in _formatter_modules(context))


def _shard(context: Any) -> None:
    """Keep only this shard's features (``-D interlock.shard=i/n``); time the features."""
    shard = configured_shard(context.config.userdata, os.environ)
    times = feature_times(context, shard)
    context.interlock_times = times
    if shard is not None:
        print(keep_shard(context, shard, times), file=sys.__stderr__, flush=True)


def _before_all(context: Any) -> None:
    # Found from the suite's folder (behave's base dir: where environment.py and steps/ are),
    # so `behave` run from inside features/ reads the same file as from the suite's root.
    given = context.config.userdata.get("interlock.config")
    if given is None:
        given = os.environ.get("INTERLOCK_CONFIG") or None
    path = find_config(given, Path(getattr(context.config, "base_dir", None) or Path.cwd()))
    signal.signal(signal.SIGTERM, _terminate)
    runner_registry = getattr(getattr(context, "_runner", None), "step_registry", None)
    if runner_registry is not None:
        ensure_registered(runner_registry)
    suite = Suite.load(path)
    if _writes_allure(context):
        from interlock.allure import AllureReporter

        base = repository_url(context.config.userdata, os.environ)
        suite.reporter = AllureReporter(
            suite.secrets, None if base is None
            else lambda file, line: source_link(base, str(file), line, os.environ))
    else:
        suite.reporter = NullReporter()
    context.interlock_names_arguments = (
        "interlock.behave.allure_formatter" in _formatter_modules(context))
    context.interlock_suite = suite
    context.interlock_retries.redact = suite.secrets.redact
    context.interlock_retries.progress = suite.progress
    if os.environ.get("INTERLOCK_SWEPT") != "1":  # interlock run -j swept for its workers
        for line in suite.sweep():
            suite.progress(f"interlock: swept {line}")
    if suite.lends and suite.services:
        # interlock run -j: the other workers wait for this stack; a failure to start it is
        # said by every feature that needs it (and the others stop waiting).
        tell_run("starts the shared stack")
        try:
            stack = suite.stack(DEFAULT_STACK)
            tell_run(f"started the shared stack in {stack.started_in or 0.0:.1f} s")
        except InterlockError:
            tell_run("could not start the shared stack (its output says why, at the end)")
        finally:  # its state file says which: the workers waiting for it read it now
            up = inherited_pipe(STACK_UP_ENV)
            os.environ.pop(STACK_UP_ENV, None)  # (its number may name another file next)
            if up is not None:
                os.close(up)


def before_feature(context: Any, feature: Any) -> None:
    """Bind the feature to its stack (started on first use); its ``@flaky`` scenarios
    run again when they fail."""
    context.interlock_feature_error = None
    context.interlock_stack = None
    retries: Retries | None = context.interlock_retries
    if retries is not None:
        retries.wrap(feature)
    if context.interlock_run_error is not None:
        return
    try:
        _before_feature(context, feature)
    except Exception as err:
        context.interlock_feature_error = err


def _before_feature(context: Any, feature: Any) -> None:
    suite: Suite = context.interlock_suite
    context.interlock_stack = None
    named = [t.split(".", 1)[1] for t in feature.tags if t.startswith("stack.")]
    stack_name = named[0] if named else DEFAULT_STACK
    times: FeatureTimes | None = context.interlock_times
    if times is not None:  # (the steps' thread waits while a stack starts or for a turn)
        times.began(feature)
    if not suite.services:
        return
    isolated = "isolated" in feature.tags
    if isolated:
        stack = suite.new_stack(stack_name, label=f"{stack_name}-{Path(feature.filename).stem}")
        context.add_cleanup(stack.stop)  # registered before start: a half-started stack stops
        suite.progress(f"interlock: starting an isolated stack for {feature.filename}")
        stack.start()
        suite.prepare_stubs(stack)
        context.interlock_stack = stack
    else:
        context.interlock_stack, seconds = timed(lambda: suite.stack(stack_name))
        seconds += _take_turn(context, suite, feature, context.interlock_stack)
    if not isolated and times is not None:  # a stack's start (or turn) is not the
        times.starting_shared(feature, seconds)  # feature's time (an isolated one's is)
    fixtures = [t.split(".", 1)[1] for t in feature.tags if t.startswith("data.")]
    if fixtures:
        # A @data.<name> tag on the feature: loaded once, kept for all its scenarios, removed
        # after the feature (a tag on a scenario is loaded for that scenario only).
        data = suite.feature_data(context.interlock_stack)
        context.add_cleanup(data.close)
        for name in fixtures:
            data.load_fixture(name)


def _runs_alone() -> set[str]:
    """The feature files (absolute) ``interlock run -j`` told this worker to run alone on the
    shared stack (``INTERLOCK_ALONE``)."""
    listed = os.environ.get(ALONE_ENV, "").split(os.pathsep)
    return {os.path.abspath(path) for path in listed if path}


def _take_turn(context: Any, suite: Suite, feature: Any, stack: Stack) -> float:
    """On a stack other workers share, wait for the feature's turn: beside the others, or
    alone when ``interlock run -j`` said so (``INTERLOCK_ALONE``); the turn ends after the
    feature's last cleanup. The seconds waited."""
    turns = suite.turns_for(stack)
    if turns is None:
        return 0.0
    alone = os.path.abspath(feature.filename) in _runs_alone()

    def take() -> None:
        if alone:
            turns.alone(waiting=lambda: suite.progress(
                f"interlock: {feature.filename} waits for the features the other workers "
                "are running: it runs alone on the shared stack"))
        else:
            turns.share(waiting=lambda: suite.progress(
                f"interlock: {feature.filename} waits while features that run alone on the "
                "shared stack end"))

    def end() -> None:
        stack.alone = False
        turns.end()

    _, seconds = timed(take)
    stack.alone = alone
    context.add_cleanup(end)  # the first registered: it runs after the feature's others
    return seconds


def before_scenario(context: Any, scenario: Any) -> None:
    """A fresh world for the scenario."""
    context.interlock_scenario_error = None
    context.interlock_world = None
    if _setup_error(context) is not None:
        return
    try:
        _before_scenario(context, scenario)
    except Exception as err:
        context.interlock_scenario_error = err


@dataclasses.dataclass(eq=False)
class _StepPlace:
    """The running step and its number in the scenario. One object per scenario, changed in
    place: behave records where every attribute set on its context comes from (a stack
    extraction each), which per step costs more than the rest of the hook."""

    step: Any = None
    number: int = 0


def _before_scenario(context: Any, scenario: Any) -> None:
    suite: Suite = context.interlock_suite
    place = context.interlock_place = _StepPlace()
    if traffic_of(suite.reporter) is not None:
        suite.reporter.traffic = Traffic()  # type: ignore[attr-defined]

    def where() -> str:
        step = place.step
        return str(step.location) if step is not None else str(scenario.location)

    world = World(suite, context.interlock_stack, where)
    context.interlock_world = world
    world.begin(list(scenario.effective_tags), own_tags=list(scenario.tags))


def before_step(context: Any, step: Any) -> None:
    """Remember the step, for ``feature:line`` in messages; hand it its text and table.
    Stop the scenario on a set-up error kept by an earlier hook, so it is reported broken."""
    error = _setup_error(context)
    if error is not None:
        scenario = context.scenario
        context.interlock_stopped.add(error, f"{scenario.location}  {scenario.name}")
        # A new, one-line exception each time: behave prints it for every scenario, so the
        # whole error waits for the end of the run; raising the kept error itself would also
        # stack one more traceback on it per scenario.
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise SetupFailed(f"Set-up error: {_redacted(context, first)} "
                          "(printed in full at the end of the run)")
    place = getattr(context, "interlock_place", None) or _StepPlace()
    place.step = step
    world = getattr(context, "interlock_world", None)
    if world is not None:
        world.step_text = step.text
        world.step_table = step.table
        place.number += 1
        traffic = traffic_of(world.suite.reporter)
        if traffic is not None:
            traffic.begin_step(place.number, f"{step.keyword} {step.name}")
        if getattr(context, "interlock_names_arguments", False):
            _attach_arguments(world, step)


def _attach_arguments(world: World, step: Any) -> None:
    """The step's docstring and table, named for what they are, variables filled in (when
    this run's Allure formatter, Interlock's, leaves them to us)."""
    from interlock.behave.allure_formatter import argument_name

    step_type = str(getattr(step, "step_type", "") or "").lower()
    if step.text:
        world.suite.reporter.attach(argument_name(step_type, step.name, False),
                                    preview(step.text, world.scope), TEXT)
    if step.table:
        world.suite.reporter.attach(argument_name(step_type, step.name, True),
                                    preview(table_csv(step.table), world.scope), "text/csv")


def after_step(context: Any, step: Any) -> None:
    """A service that died by itself (not stopped by the scenario) fails the scenario."""
    _report_suite_error(context, step)
    world: World | None = getattr(context, "interlock_world", None)
    if world is not None:
        _evidence_of_the_step(context, world, step)
    if world is None or world.stack is None:
        return
    if world.suite.stub_names and world.stubs_reported_at != str(step.location):
        world.report_stub_requests()  # a suite's own step (a library sentence did it itself)
    if step.status.has_failed():
        # A failed step may be the first sign of a service dying: every service is asked at
        # once (one that still answers says so at once, a dying one is seen dead), so the
        # failure says so, with its log, instead of only "connection refused".
        dead = world.stack.settle(exclude=world.broken)
        _raise_for_dead(world, str(step.location), "during this step",
                        lambda name, service: name in dead)
        return
    # A process's state costs nothing to read; a container's is a call to the engine, so
    # containers are looked at after a failed step and once more at the scenario's end.
    _raise_for_dead(world, str(step.location), "during this step",
                    lambda name, service: service.status_is_free)


def _evidence_of_the_step(context: Any, world: World, step: Any) -> None:
    """What arrived during the step is attached under it (not under a later step that
    reads it); a failed step is marked on the traffic diagram."""
    events = world.built("events")
    if events is not None:
        events.attach_received()
    traffic = traffic_of(world.suite.reporter)
    if traffic is not None and step.status.has_failed():
        place = getattr(context, "interlock_place", None)
        traffic.fail_step(place.number if place is not None else 0)


def _attach_diagram(suite: Suite, scenario: Any) -> None:
    """The scenario's traffic as a sequence diagram, attached to the scenario."""
    traffic = traffic_of(suite.reporter)
    if traffic is None:
        return
    from interlock._core.diagram import sequence_svg

    suite.reporter.attach("traffic diagram",
                          sequence_svg(traffic, suite.secrets, title=scenario.name), SVG)


def _report_suite_error(context: Any, step: Any) -> None:
    """What Allure and JUnit keep of a suite error: for a set-up error, the whole error as
    the step's exception (not an AssertionError: the scenario is broken); for both, no stack
    of framework frames (behave's and Interlock's), which would only bury the message."""
    if isinstance(step.exception, SetupFailed):
        error = _setup_error(context)
        if error is not None:
            text = _redacted(context, str(error) or type(error).__name__)
            step.exception = SetupFailed(text)
            step.error_message = text
            if not isinstance(error, InterlockError):
                # Not a suite error but a fault of Interlock's: its own traceback (kept, and
                # never raised again, so it does not grow) is what a bug report needs.
                step.exc_traceback = error.__traceback__
                return
    if isinstance(step.exception, SetupFailed | SuiteMistake | InterlockError):
        step.exc_traceback = own_frames(step.exc_traceback)


def _redacted(context: Any, text: str) -> str:
    suite: Suite | None = getattr(context, "interlock_suite", None)
    return suite.secrets.redact(text) if suite is not None else text


def _raise_for_dead(world: World, where: str, when: str,
                    look: Callable[[str, Any], bool]) -> None:
    """Fail with the log of a service that died by itself (each death said once)."""
    for name, service in list(world.stack.running.items()) if world.stack else ():
        if look(name, service):
            died = world.died(name, when, where)
            if died is not None:
                raise died


def after_scenario(context: Any, scenario: Any) -> None:
    """Undo the scenario; heal the stack; attach the services' logs when it failed."""
    world: World | None = getattr(context, "interlock_world", None)
    if world is None:
        return
    suite: Suite = context.interlock_suite
    died: Failure | None = None
    if world.stack is not None:
        try:
            _raise_for_dead(world, str(scenario.location), "during this scenario",
                            lambda name, service: True)
        except Failure as err:
            died = err  # said once the scenario is undone and the stack healed
    _attach_diagram(suite, scenario)
    problems = world.close()
    if world.stack is not None:
        if scenario.status.has_failed():
            for name, text in world.stack.logs_since(world.log_marks, settle=True).items():
                suite.reporter.attach(f"log of {name}", text, TEXT)
        for line in world.stack.heal():
            suite.progress(f"interlock: healed {line}")
    context.interlock_world = None
    if died is not None:
        raise died
    if problems:
        raise InterlockError("Cleaning up after the scenario failed", details="\n".join(problems))


def after_feature(context: Any, feature: Any) -> None:
    """The CPU this process spent on the feature (for ``interlock run -j``'s plan); the
    feature's cleanups follow (an isolated stack stops through them)."""
    times: FeatureTimes | None = getattr(context, "interlock_times", None)
    if times is not None:
        times.ended(feature)


def _claims(context: Any) -> None:
    """``interlock run -j``: the workers take the features one at a time (``claims.py``):
    behave's list of features is this worker's queue, run as it is taken."""
    context.interlock_claims = None
    folder = os.environ.get(CLAIMS_ENV)
    if not folder:
        return
    features: list[Any] = context._runner.features
    alone = _runs_alone()
    queue = {f.filename: f for f in features}
    claims = Claims(Path(folder), list(queue),
                    isolated={name for name, f in queue.items() if "isolated" in f.tags},
                    own={name for name in queue if os.path.abspath(name) in alone})
    context.interlock_claims = claims

    def take_next() -> None:  # at the end of behave's list, which behave is walking
        taken = claims.next()
        if taken is not None:
            features.append(queue[taken])
            how = " (alone on the shared stack)" if os.path.abspath(taken) in alone else ""
            tell_run(f"runs {taken}{how}")

    for feature in queue.values():
        # Whether it ran, was skipped by --tags or failed: the worker takes the next one
        # (not when the run was stopped: Ctrl-C, SIGTERM).
        def run(runner: Any, _run: Callable[[Any], Any] = feature.run) -> Any:
            result = _run(runner)
            take_next()
            return result

        feature.run = run
    features.clear()
    take_next()


def after_all(context: Any) -> None:
    """Print each set-up error once, with the scenarios it stopped; stop every stack and
    close every connection."""
    mark = getattr(context, "interlock_flaky_mark", None)
    if mark is not None:
        mark.unregister()
    suite: Suite | None = getattr(context, "interlock_suite", None)
    stopped: SetupErrors | None = getattr(context, "interlock_stopped", None)
    if stopped is not None:
        text = stopped.render(suite.secrets if suite is not None else None)
        if text:
            print(text, file=sys.__stderr__, flush=True)
    times: FeatureTimes | None = getattr(context, "interlock_times", None)
    if times is not None:
        times.save(list(context._runner.features))
    if suite is None:
        sys.stderr.flush()
        return
    try:
        if (suite.lends and not suite.failed_to_start()  # (if it failed, nobody waits)
                and not getattr(context._runner, "aborted", False)):
            _keep_for_the_others(suite)
        folder = allure_results_dir(context)
        if folder is not None:
            write_allure_files(folder, suite)
    finally:
        suite.close()
    sys.stderr.flush()


def _keep_for_the_others(suite: Suite) -> None:
    """interlock run -j: this worker started the shared stack; it stops it once the other
    workers are done, which ``interlock run`` tells by closing the pipe ``INTERLOCK_LEND_STACK``
    names (it closes by itself if ``interlock run`` dies)."""
    pipe = inherited_pipe(LEND_ENV)
    if pipe is None:
        return
    if not select.select([pipe], [], [], 0)[0]:  # not closed yet: they are still running
        suite.progress("interlock: the other workers still use the shared stack: it stops "
                       "when they are done")
    try:
        while os.read(pipe, 64):
            pass
    except OSError:
        pass
