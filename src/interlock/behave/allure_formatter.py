"""allure-behave's formatter, with what a product owner reads fixed (a suite names it in its
behave configuration: ``format = ["interlock.behave.allure_formatter:AllureFormatter"]``):

* **failures group by cause**: a failure's message is one line, the same from run to run
  (no ids, addresses, ports, timestamps; no Python class name), so Allure (2 and 3) puts two
  failures of the same cause in one group; the varying detail is shown below it (as the
  trace: where, the mismatches, the hint);
* **broken is the suite's fault, failed the system's**: a suite error (``InterlockError``, a
  ``Suite error:``, a set-up error) is *broken*, a ``Failure`` is *failed*; the scenario takes
  the status of its first step that did not pass;
* **names a reader understands**: an outline's scenarios are named from their example values
  ("Refuse a bad quantity (quantity=0, status=400)"); the feature's description is shown
  above the scenario's; a step's docstring and table are attached by the hooks under a name
  that says what they are ("request body", "expected rows"), not ``.text`` and ``.table``.

Everything else is allure-behave's own: the results are the same files, read by either Allure.
"""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path
from typing import Any

import allure_commons
from allure_behave.formatter import AllureFormatter as _AllureFormatter
from allure_behave.listener import AllureListener, GroupContext
from allure_commons.model2 import Link, Status, StatusDetails
from allure_commons.reporter import AllureReporter

from interlock._core.errors import Failure, InterlockError
from interlock.behave.allure_writer import BackgroundFileLogger
from interlock.behave.binding import SuiteMistake
from interlock.behave.links import GLOSSARY_FILE, repository_url, source_link
from interlock.behave.retries import Retries
from interlock.behave.setup_errors import SetupFailed

GLOSSARY = GLOSSARY_FILE  # (the glossary's module, and YAML with it, is not loaded here)

# What changes from run to run inside a message's first line, and what it becomes.
_VARYING = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
     "<time>"),
    (re.compile(r"\b(https?|nats|amqp|redis|mqtt|kafka|postgresql|mysql)://[^\s\"')]+"),
     "<address>"),
    (re.compile(r"\b(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\]):\d+"), r"\1:<port>"),
    (re.compile(r"\b[0-9a-f]{24,}\b", re.I), "<id>"),
    (re.compile(r"\b\d+(\.\d+)? (ms|seconds?|s)\b"), "<duration>"),
]


def stable_line(line: str) -> str:
    """``line`` with what differs between runs replaced by a placeholder.

    Example:
        >>> stable_line('Order 3f1c2a9e-8a5b-4c3d-9e2f-1a2b3c4d5e6f not found at 127.0.0.1:43121')
        'Order <id> not found at 127.0.0.1:<port>'
        >>> stable_line("No event on orders.created within 2.5 seconds")
        'No event on orders.created within <duration>'
    """
    for pattern, placeholder in _VARYING:
        line = pattern.sub(placeholder, line)
    return line


def is_suite_error(exception: BaseException) -> bool:
    """Whether the suite (not the system under test) is at fault: Allure's *broken*."""
    if isinstance(exception, Failure):
        return False
    return isinstance(exception, InterlockError | SuiteMistake | SetupFailed) or not isinstance(
        exception, AssertionError)


def failure_message(exception: BaseException) -> tuple[str, str]:
    """What Allure shows of a failure: the message it groups by (one line, the same in every
    run for the same cause) and the text below it (the varying detail, where, hint).

    Allure 2 and 3 both group a category's failures by the whole message, so nothing that
    changes between runs or scenarios (an id, a port, the feature's line) may be in it.

    Example:
        >>> message, below = failure_message(Failure(
        ...     "Order 3f1c2a9e-8a5b-4c3d-9e2f-1a2b3c4d5e6f is gone", details="at 12:00",
        ...     where="orders.feature:7"))
        >>> message
        'Order <id> is gone'
        >>> print(below)
        Order 3f1c2a9e-8a5b-4c3d-9e2f-1a2b3c4d5e6f is gone
          at 12:00
          where: orders.feature:7
        >>> failure_message(KeyError("x"))[0]
        "KeyError: 'x'"
    """
    prefix = ""
    if isinstance(exception, Failure | InterlockError):
        first, text = exception.title, exception.render()
        prefix = "Suite error: " if isinstance(exception, InterlockError) else ""
    elif isinstance(exception, SuiteMistake | SetupFailed):
        text = str(exception)
        first = text.split("\n", 1)[0]
    else:
        # Not the suite's words but a fault in code (a domain step, Interlock itself): the
        # exception's class is what a developer needs, and it is the same in every run.
        text = str(exception)
        first = text.split("\n", 1)[0]
        first = f"{type(exception).__name__}: {first}" if first else type(exception).__name__
        text = f"{type(exception).__name__}: {text}"
    return prefix + stable_line(first.strip()), text.strip()


def failure_details(exception: BaseException, trace: Any) -> tuple[str, StatusDetails]:
    """Allure's status and details for a step that raised ``exception``: the stable message,
    then (as the trace, shown below it) the whole text and, for a fault in code only, the
    traceback (a suite error or a failure says what, where and how to fix: frames would bury
    it)."""
    status = Status.BROKEN if is_suite_error(exception) else Status.FAILED
    message, text = failure_message(exception)
    frames = ""
    if not isinstance(exception, Failure | InterlockError | SuiteMistake | SetupFailed):
        if isinstance(trace, list):
            frames = "\n".join(trace)
        elif trace is not None:
            frames = "".join(traceback.format_tb(trace))
    below = text + ("\n\n" + frames if frames else "")
    return status, StatusDetails(message=message, trace=below)


def scenario_title(scenario: Any) -> str:
    """An outline's scenario named from its example values, not behave's ``-- @1.1 ``.

    Example:
        >>> class Row:
        ...     headings, cells = ["quantity", "status"], ["0", "400"]
        >>> class S:
        ...     name, keyword, _row = "Refuse a bad quantity -- @1.1 bad", "Scenario", Row()
        >>> scenario_title(S())
        'Refuse a bad quantity (quantity=0, status=400)'
    """
    name = (scenario.name or scenario.keyword).split(" -- @")[0].strip()
    row = getattr(scenario, "_row", None)
    if row is None:
        return name
    values = [f"{h}={c}" for h, c in zip(row.headings, row.cells, strict=False)]
    if any(len(c) > 1 and c in name for c in row.cells):
        return name  # the outline's name carries the <values> its author chose to show
    return f"{name} ({', '.join(values)})" if values else name


def description_of(scenario: Any) -> str:
    """The feature's description, then the scenario's, as Allure shows them (Markdown)."""
    parts = ["\n".join(line.strip() for line in scenario.feature.description or [])]
    parts.append("\n".join(line.strip() for line in scenario.description or []))
    return "\n\n".join(part for part in parts if part)


class _Results(AllureReporter):
    """allure-commons' reporter; a test takes the status of its first step that did not
    pass (so the listener's view of a step and of its scenario agree)."""

    def close_test(self, uuid: str) -> None:
        test = self.get_test(uuid)
        for step in getattr(test, "steps", []) or []:
            if step.status in (Status.FAILED, Status.BROKEN):
                test.status, test.statusDetails = step.status, step.statusDetails
                break
        super().close_test(uuid)


class InterlockListener(AllureListener):
    """allure-behave's listener with Interlock's names, statuses and messages."""

    def __init__(self, behave_config: Any) -> None:
        super().__init__(behave_config)
        self.logger = _Results()
        self.group_context = GroupContext(self.logger)
        self.group_context.enter()
        # Known once for the run: where sources are browsed, and whether a glossary is there.
        self.base = repository_url(behave_config.userdata, os.environ)
        self.glossary = Path(GLOSSARY).is_file()

    def start_scenario(self, scenario: Any) -> None:
        super().start_scenario(scenario)
        test = self.logger.get_test(self.current_scenario_uuid)
        test.name = scenario_title(scenario)
        test.description = description_of(scenario) or None
        base = self.base
        if base and scenario.filename and scenario.filename != "<string>":
            test.links.append(Link(
                type="link", name=f"{scenario.filename}:{scenario.line}",
                url=source_link(base, scenario.filename, scenario.line, os.environ)))
            if self.glossary:  # the sentences it uses, explained (interlock docs)
                test.links.append(Link(type="link", name="glossary",
                                       url=source_link(base, GLOSSARY, None, os.environ)))

    def start_behave_step(self, step: Any) -> None:
        # allure-behave attaches the docstring and table here, as ".text" and ".table"; the
        # hooks attach them under what they are, with the scenario's {variables} filled in.
        text, table = step.text, step.table
        step.text, step.table = None, None
        try:
            super().start_behave_step(step)
        finally:
            step.text, step.table = text, table

    def stop_behave_step(self, result: Any) -> None:
        exception = getattr(result, "exception", None)
        if exception is None:
            super().stop_behave_step(result)
            return
        status, details = failure_details(exception, getattr(result, "exc_traceback", None))
        self.logger.stop_step(self.current_step_uuid, stop=allure_commons.utils.now(),
                              status=status, statusDetails=details)


class AllureFormatter(_AllureFormatter):
    """The formatter a suite names in its behave configuration (same results folder, same
    options as allure-behave's)."""

    def __init__(self, stream_opener: Any, config: Any) -> None:
        super().__init__(stream_opener, config)
        allure_commons.plugin_manager.unregister(plugin=self.listener)  # type: ignore[has-type]
        self.listener = InterlockListener(config)
        allure_commons.plugin_manager.register(self.listener)
        # The same files, written by a process of their own (allure_writer.py).
        allure_commons.plugin_manager.unregister(plugin=self.file_logger)  # type: ignore[has-type]
        self.file_logger = BackgroundFileLogger(self.stream_opener.name)
        allure_commons.plugin_manager.register(self.file_logger)

    def close(self) -> None:
        try:
            super().close()  # (the listener may report the last containers here)
        finally:
            self.file_logger.close()


def argument_name(step_type: str, sentence: str, is_table: bool) -> str:
    """What a step's docstring or table is, in a reader's words.

    Example:
        >>> argument_name("when", 'I send POST "/orders" to "orders" with body:', False)
        'request body'
        >>> argument_name("then", 'the table "orders" contains:', True)
        'expected rows'
        >>> argument_name("then", 'an event arrives on "orders.created" with:', False)
        'expected event'
        >>> argument_name("then", 'the query "SELECT type FROM events" returns:', True)
        'expected rows'
    """
    words = re.sub(r'"[^"]*"', '""', sentence.lower())  # the sentence's words, not its values
    expected = step_type == "then"
    if is_table:
        if "query parameter" in words:
            return "query parameters"
        if "header" in words:
            return "expected headers" if expected else "headers"
        if "claims" in words:
            return "token claims"
        if "form" in words:
            return "form fields"
        if any(w in words for w in ("row", "table", "database", "query", "sql")):
            return "expected rows" if expected else "rows"
        if "event" in words:
            return "expected events" if expected else "events"
        return "expected values" if expected else "values"
    if "sql" in words or "query" in words:
        return "SQL"
    if "event" in words or "publish" in words:
        return "expected event" if expected else "body of the event to publish"
    if "send" in words or "request" in words or "post" in words or "put" in words:
        return "request body"
    if "response" in words or "body" in words:
        return "expected response body" if expected else "body"
    return "expected text" if expected else "text"


class FlakyMark:
    """An Allure plug-in: the result of a try after the first that passed is marked flaky
    (``statusDetails.flaky``) before Allure's file writer writes it."""

    def __init__(self, retries: Retries) -> None:
        self.retries = retries

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        """Mark ``result`` when it is a passed retry."""
        if self.retries.trying > 1 and result.status == "passed":
            details = result.statusDetails or StatusDetails()
            details.flaky = True
            details.message = details.message or (
                f"Passed on try {self.retries.trying} of {self.retries.tries}; the earlier "
                "tries failed (see Retries)")
            result.statusDetails = details

    def register(self) -> None:
        """Listen to Allure for this run."""
        allure_commons.plugin_manager.register(self)

    def unregister(self) -> None:
        """Stop listening (the plug-in manager is the process's; another run may follow)."""
        if allure_commons.plugin_manager.is_registered(self):
            allure_commons.plugin_manager.unregister(self)
