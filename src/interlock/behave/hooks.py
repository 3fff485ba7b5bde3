"""behave's hooks for an Interlock suite. A suite's ``environment.py`` imports them:

    from interlock.behave.hooks import *  # noqa: F403

and may wrap any of them to add its own set-up. What they do:

* ``before_all``: read ``environment/interlock.yaml`` (or ``-D interlock.config=<path>``),
  sweep what killed runs left, make SIGTERM stop the run like Ctrl-C does;
* ``before_feature``: pick the feature's stack (shared, ``@isolated`` or ``@stack.<name>``),
  starting it on first use;
* ``before_scenario`` / ``after_scenario``: a fresh ``World``; afterwards undo what the
  scenario did, heal what it broke, attach the services' logs when it failed;
* ``after_step``: a service that died on its own fails the scenario with its log tail;
* ``after_all``: stop everything (also on failure and Ctrl-C; a crash is swept next run).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from interlock.allure import AllureReporter
from interlock.behave.allure_files import allure_results_dir, write_allure_files
from interlock.errors import InterlockError
from interlock.report import TEXT
from interlock.stack.ready import log_tail
from interlock.suite import DEFAULT_STACK, Suite
from interlock.world import World

__all__ = [
    "after_all", "after_feature", "after_scenario", "after_step", "before_all",
    "before_feature", "before_scenario", "before_step",
]

DEFAULT_CONFIG = "environment/interlock.yaml"


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def before_all(context: Any) -> None:
    """Build the suite for this run."""
    path = context.config.userdata.get(
        "interlock.config", os.environ.get("INTERLOCK_CONFIG", DEFAULT_CONFIG)
    )
    signal.signal(signal.SIGTERM, _terminate)
    suite = Suite.load(Path(path))
    suite.reporter = AllureReporter(suite.secrets)
    context.interlock_suite = suite
    for line in suite.sweep():
        suite.progress(f"interlock: swept {line}")


def before_feature(context: Any, feature: Any) -> None:
    """Bind the feature to its stack (started on first use)."""
    suite: Suite = context.interlock_suite
    context.interlock_stack = None
    named = [t.split(".", 1)[1] for t in feature.tags if t.startswith("stack.")]
    stack_name = named[0] if named else DEFAULT_STACK
    if not suite.services:
        return
    if "isolated" in feature.tags:
        stack = suite.new_stack(stack_name, label=f"{stack_name}-{Path(feature.filename).stem}")
        context.add_cleanup(stack.stop)  # registered before start: a half-started stack stops
        suite.progress(f"interlock: starting an isolated stack for {feature.filename}")
        stack.start()
        context.interlock_stack = stack
    else:
        context.interlock_stack = suite.stack(stack_name)


def before_scenario(context: Any, scenario: Any) -> None:
    """A fresh world for the scenario."""
    suite: Suite = context.interlock_suite
    context.interlock_step = None

    def where() -> str:
        step = getattr(context, "interlock_step", None)
        return str(step.location) if step is not None else str(scenario.location)

    world = World(suite, context.interlock_stack, where)
    context.interlock_world = world
    world.begin(list(scenario.effective_tags))


def before_step(context: Any, step: Any) -> None:
    """Remember the step, for ``feature:line`` in messages; hand it its text and table."""
    context.interlock_step = step
    world = getattr(context, "interlock_world", None)
    if world is not None:
        world.step_text = step.text
        world.step_table = step.table


def after_step(context: Any, step: Any) -> None:
    """A service that died by itself (not stopped by the scenario) fails the scenario."""
    world: World | None = getattr(context, "interlock_world", None)
    if world is None or world.stack is None:
        return
    broken = world.part("broken", set)
    for name, service in world.stack.running.items():
        if name not in broken and not service.is_running():
            raise InterlockError(
                f'Service "{name}" stopped unexpectedly during this step',
                details="log tail:\n" + world.suite.secrets.redact(log_tail(service.log())),
                where=str(step.location),
                hint="It is restarted for the next scenario; read its log to see why it died.",
            )


def after_scenario(context: Any, scenario: Any) -> None:
    """Undo the scenario; heal the stack; attach the services' logs when it failed."""
    world: World | None = getattr(context, "interlock_world", None)
    if world is None:
        return
    suite: Suite = context.interlock_suite
    problems = world.close()
    if world.stack is not None:
        if scenario.status.has_failed():
            for name, text in world.stack.logs_since(world.log_marks).items():
                suite.reporter.attach(f"log of {name}", text, TEXT)
        for line in world.stack.heal():
            suite.progress(f"interlock: healed {line}")
    context.interlock_world = None
    if problems:
        raise InterlockError("Cleaning up after the scenario failed", details="\n".join(problems))


def after_feature(context: Any, feature: Any) -> None:
    """Nothing but the feature's cleanups (an isolated stack stops through them)."""


def after_all(context: Any) -> None:
    """Stop every stack and close every connection."""
    suite: Suite | None = getattr(context, "interlock_suite", None)
    if suite is None:
        return
    try:
        folder = allure_results_dir(context)
        if folder is not None:
            write_allure_files(folder, suite)
    finally:
        suite.close()
    sys.stderr.flush()
