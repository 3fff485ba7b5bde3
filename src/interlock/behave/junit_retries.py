"""behave's JUnit reporter for a run with ``@flaky`` retries (``retries.py`` puts it in place
of behave's own when JUnit is written): each failed try of a retried scenario is kept as
Maven Surefire writes it, which CI servers read.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from behave.reporter.junit import JUnitReporter

from interlock.behave.retries import Retries, scenario_key


class FlakyJUnitReporter(JUnitReporter):
    """behave's JUnit reporter, with Surefire's elements for the failed tries of a retried
    scenario: ``flakyFailure``/``flakyError`` when it passed at last, ``rerunFailure``/
    ``rerunError`` beside its ``failure`` when it never did."""

    def __init__(self, config: Any, retries: Retries) -> None:
        super().__init__(config)
        self.retries = retries

    def _process_scenario(self, scenario: Any, report: Any) -> None:
        before = len(report.testcases)
        super()._process_scenario(scenario, report)
        failed_tries = self.retries.failed_tries.get(scenario_key(scenario))
        if not failed_tries or len(report.testcases) == before:
            return
        case = report.testcases[-1]
        prefix = "rerun" if scenario.status.has_failed() else "flaky"
        children = list(case)
        at = next((i for i, c in enumerate(children) if c.tag == "system-out"), len(children))
        for offset, failed_try in enumerate(failed_tries):
            element = ElementTree.Element(
                prefix + ("Error" if failed_try.is_error else "Failure"),
                {"message": failed_try.message, "type": failed_try.kind})
            trace = ElementTree.SubElement(element, "stackTrace")
            trace.text = f"Try {failed_try.number}:\n{failed_try.details}"
            case.insert(at + offset, element)
