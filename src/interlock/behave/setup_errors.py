"""Set-up errors (a bad stack file, a service that did not start) and the scenarios they
stopped: printed once at the end of the run, not once per scenario; and tracebacks without the
framework's frames, for Allure and JUnit.

Example:
    >>> errors = SetupErrors()
    >>> boom = InterlockError("Service \\"web\\" exited before it was ready", "log tail: ...")
    >>> errors.add(boom, "features/a.feature:2  a")
    >>> errors.add(boom, "features/b.feature:2  b")
    >>> print(errors.render())
    interlock: set-up error, which stopped 2 scenarios:
    Service "web" exited before it was ready
      log tail: ...
      stopped:
        features/a.feature:2  a
        features/b.feature:2  b
"""

from __future__ import annotations

import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

import behave

import interlock
from interlock._core.errors import InterlockError
from interlock._core.secrets import Secrets

_FRAMEWORK = (str(Path(interlock.__file__).parent), str(Path(behave.__file__).parent))


class SetupFailed(Exception):
    """Stands for a set-up error in the first step of each scenario it stops. Not an
    AssertionError: Allure reports the scenario broken, not failed."""


@dataclass(eq=False)
class SetupErrors:
    """Each distinct set-up error of the run, with the scenarios it stopped."""

    found: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, error: BaseException, scenario: str) -> None:
        """Note that ``error`` stopped ``scenario`` (``"feature:line  name"``). A suite error
        is its message; anything else, a fault of Interlock's, keeps its traceback."""
        if isinstance(error, InterlockError):
            text = str(error)
        else:
            text = "".join(traceback.format_exception(error)).rstrip()
        for message, scenarios in self.found:
            if message == text:  # the same error kept by a hook, or an equal one again
                scenarios.append(scenario)
                return
        self.found.append((text, [scenario]))

    def render(self, secrets: Secrets | None = None) -> str:
        """Each error once, with the list of what it stopped; ``""`` when there were none."""
        blocks = []
        for message, scenarios in self.found:
            count = f"{len(scenarios)} scenario" + ("" if len(scenarios) == 1 else "s")
            lines = [f"interlock: set-up error, which stopped {count}:", message, "  stopped:"]
            lines += [f"    {scenario}" for scenario in scenarios]
            blocks.append("\n".join(lines))
        text = "\n\n".join(blocks)
        return secrets.redact(text) if secrets is not None else text


def own_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without behave's and Interlock's frames: what is left is the suite's own
    code (a domain step), if any. ``None`` when nothing is left.

    Example:
        >>> own_frames(None) is None
        True
    """
    kept: list[types.TracebackType] = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_FRAMEWORK):
            kept.append(tb)
        tb = tb.tb_next
    chain: types.TracebackType | None = None
    for frame in reversed(kept):
        chain = types.TracebackType(chain, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return chain
