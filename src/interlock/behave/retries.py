"""Flaky retries: a failed ``@flaky`` scenario runs again, after its cleanup, up to a number
of tries; one that passes on a retry is *passed*, and marked flaky where each report can say so.

* How many tries: ``-D interlock.tries=N`` (behave's userdata), else the ``INTERLOCK_TRIES``
  environment variable, else 2 (one retry). ``1`` turns retries off, to see which scenarios
  fail now and then.
* Which scenarios: those tagged ``@flaky`` (on the scenario, its rule or its feature).
* What is not retried, because it would fail the same way: an undefined step, a suite mistake
  (``Suite error: ...``), a set-up error, a failing hook, a run stopped with Ctrl-C.
* Each try is a whole scenario run: ``before_scenario`` makes a fresh world, ``after_scenario``
  undoes what the failed try wrote and heals what it broke before the next try starts.

What the reports say of a scenario that passed on its second try:

* Allure: each try is a result of the same ``historyId`` (Allure shows the earlier ones under
  "Retries"); the last is ``passed`` with ``statusDetails.flaky = true``.
* JUnit: one ``testcase``, without a ``failure``, with a ``flakyFailure`` (or ``flakyError``)
  element per failed try, as Maven Surefire writes them and CI servers read them. A scenario
  that failed every try has its ``failure`` and a ``rerunFailure`` per earlier try.
* behave's summary: ``3 scenarios passed (1 flaky), 0 failed, 0 skipped``, after the list of
  flaky scenarios.

Example:
    >>> Retries.configured({"interlock.tries": "3"}, {}).tries
    3
    >>> Retries.configured({}, {"INTERLOCK_TRIES": "1"}).tries
    1
    >>> with_flaky_count("2 features passed, 0 failed\\n3 scenarios passed, 0 failed\\n", 1)
    '2 features passed, 0 failed\\n3 scenarios passed (1 flaky), 0 failed\\n'
"""

from __future__ import annotations

import functools
import io
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from behave.model_core import Status
from behave.reporter.summary import AbstractSummaryReporter

from interlock._core.errors import InterlockError
from interlock.behave.binding import SuiteMistake
from interlock.behave.setup_errors import SetupFailed

DEFAULT_TRIES = 2
FLAKY_TAG = "flaky"
TRIES_USERDATA = "interlock.tries"
TRIES_ENV = "INTERLOCK_TRIES"


@dataclass(frozen=True, eq=False)
class FailedTry:
    """What one failed try of a scenario left, for JUnit: the exception's type and message,
    and the failing step with its error text (redacted)."""

    number: int
    is_error: bool
    kind: str
    message: str
    details: str


@dataclass(eq=False)
class Retries:
    """The run's retry policy and what it saw: the failed tries of each retried scenario, the
    scenarios that passed on a retry (``flaky``), and the try now running (Allure's mark
    reads it while the result is written)."""

    tries: int = DEFAULT_TRIES
    redact: Callable[[str], str] = str
    progress: Callable[[str], None] = field(
        default=lambda line: print(line, file=sys.__stderr__, flush=True))
    failed_tries: dict[str, list[FailedTry]] = field(default_factory=dict)
    flaky: list[str] = field(default_factory=list)
    trying: int = 1

    @classmethod
    def configured(cls, userdata: Mapping[str, Any], environ: Mapping[str, str]) -> Retries:
        """The policy from ``-D interlock.tries=N`` or ``INTERLOCK_TRIES`` (a whole number,
        1 or more); a wrong value is a suite error that says where it came from."""
        if userdata.get(TRIES_USERDATA) is not None:
            given, where = str(userdata[TRIES_USERDATA]), f"-D {TRIES_USERDATA}"
        elif environ.get(TRIES_ENV, "").strip():
            given, where = environ[TRIES_ENV], f"the environment variable {TRIES_ENV}"
        else:
            return cls()
        text = given.strip()
        if not text.isdigit() or int(text) < 1:
            raise InterlockError(
                f'{where}="{given}" is not a number of tries',
                where=where,
                hint=f"Write a whole number, 1 or more: -D {TRIES_USERDATA}=3 lets a @flaky "
                "scenario run up to 3 times; 1 turns retries off.",
            )
        return cls(tries=int(text))

    def wrap(self, feature: Any) -> None:
        """Make each ``@flaky`` scenario of ``feature`` run again when it fails (called
        before the feature runs; Allure's formatter has wrapped each run already, so that
        every try is a result of its own)."""
        if self.tries < 2:
            return
        for scenario in feature.walk_scenarios():
            if FLAKY_TAG in scenario.effective_tags:
                scenario.run = functools.partial(self._run, scenario, scenario.run)

    def _run(self, scenario: Any, run: Callable[[Any], bool], runner: Any) -> bool:
        key = scenario_key(scenario)
        failed_tries: list[FailedTry] = []
        failed = False
        for number in range(1, self.tries + 1):
            self.trying = number
            try:
                failed = run(runner)
            finally:
                self.trying = 1
            if not failed:
                break
            failed_tries.append(self._failed_try(scenario, number))
            reason = _not_worth_retrying(scenario, runner)
            if reason:
                if number < self.tries:
                    self.progress(f"interlock: {scenario.location} is @flaky but not tried "
                                  f"again: {reason}")
                break
            if number < self.tries:
                self.progress(f"interlock: {scenario.location} failed on try {number} of "
                              f"{self.tries}; running it again after its cleanup")
        if failed:
            failed_tries.pop()  # the last try is behave's own failure element
        elif failed_tries:
            self.flaky.append(f"{scenario.location}  {scenario.name} "
                              f"(passed on try {len(failed_tries) + 1} of {self.tries})")
        if failed_tries:
            self.failed_tries[key] = failed_tries
        return failed

    def _failed_try(self, scenario: Any, number: int) -> FailedTry:
        step = next((s for s in scenario.all_steps if s.status.has_failed()), None)
        if step is None or step.exception is None:
            message = str(scenario.error_message or "a hook failed").strip()
            return FailedTry(number, True, "HookError", self.redact(message),
                             self.redact(message))
        details = (f"Failing step: {step.keyword} {step.name}\nLocation: {step.location}\n"
                   f"{step.error_message or ''}")
        return FailedTry(number, step.status is not Status.failed,
                         type(step.exception).__name__, self.redact(str(step.exception)),
                         self.redact(details))

    def install(self, config: Any) -> None:
        """Put the reporters that tell flaky scenarios in place of behave's JUnit and summary
        reporters (before the first feature ends, so none has seen anything yet)."""
        for index, reporter in enumerate(config.reporters):
            if (type(reporter).__module__, type(reporter).__name__) == (
                    "behave.reporter.junit", "JUnitReporter"):  # not imported when not used
                from interlock.behave.junit_retries import FlakyJUnitReporter

                config.reporters[index] = FlakyJUnitReporter(config, self)
            elif isinstance(reporter, AbstractSummaryReporter) and not isinstance(
                    reporter, _CountsFlaky):
                counting = type(f"Flaky{type(reporter).__name__}",
                                (_CountsFlaky, type(reporter)), {})
                config.reporters[index] = counting(config)
                config.reporters[index].retries = self


def scenario_key(scenario: Any) -> str:
    """How a scenario is told apart from the others across its tries."""
    return f"{scenario.location}  {scenario.name}"


def _not_worth_retrying(scenario: Any, runner: Any) -> str:
    """Why another try would fail the same way, or ``""``."""
    if runner.aborted:
        return "the run was stopped"
    if scenario.hook_failed:
        return "a hook failed (the run fails whatever a retry does)"
    for step in scenario.all_steps:
        if step.status is Status.undefined:
            return f"the step at {step.location} is undefined"
        if isinstance(step.exception, SetupFailed | SuiteMistake | InterlockError):
            return f"a suite error at {step.location} fails the same way every time"
        if step.hook_failed:  # behave counts it against the run, whatever a retry does
            return f"a hook failed at {step.location} (a service that died is reported there)"
    return ""


class _CountsFlaky:
    """Mixed into behave's summary reporter: the flaky scenarios listed, and counted on the
    scenarios line."""

    retries: Retries
    stream: Any

    def print_summary(self, stream: Any = None, with_duration: Any = None) -> None:
        target = stream if stream is not None else self.stream
        buffer = io.StringIO()
        saved, self.stream = self.stream, buffer  # behave writes some lines to self.stream
        try:
            super().print_summary(buffer, with_duration)  # type: ignore[misc]
        finally:
            self.stream = saved
        flaky = self.retries.flaky
        if flaky:
            target.write("Flaky scenarios (passed on a retry):\n")
            target.write("".join(f"  {line}\n" for line in flaky) + "\n")
        target.write(with_flaky_count(buffer.getvalue(), len(flaky)))


_SCENARIOS_LINE = re.compile(r"^\d+ scenarios?\b.*$", re.MULTILINE)
_PASSED = re.compile(r"passed(?::\s*\d+)?")


def with_flaky_count(summary: str, flaky: int) -> str:
    """behave's summary with ``(N flaky)`` after the scenarios' passed count.

    Example:
        >>> with_flaky_count("4 scenarios (passed: 4, failed: 0)\\n", 2)
        '4 scenarios (passed: 4 (2 flaky), failed: 0)\\n'
        >>> with_flaky_count("1 scenario passed, 0 failed\\n", 0)
        '1 scenario passed, 0 failed\\n'
    """
    if not flaky:
        return summary

    def count(line: re.Match[str]) -> str:
        return _PASSED.sub(lambda m: f"{m.group(0)} ({flaky} flaky)", line.group(0), count=1)

    changed = _SCENARIOS_LINE.sub(count, summary, count=1)
    return changed if changed != summary else f"{summary}{flaky} flaky scenarios\n"
