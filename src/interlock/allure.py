"""The ``Reporter`` that writes Allure attachments to the step that is running.

When no Allure listener is registered (a plain ``behave`` without the formatter, a script),
attaching does nothing, so the same code runs with and without a report.

Example:
    >>> from interlock.secrets import Secrets
    >>> AllureReporter(Secrets()).attach("note", "hello")   # no listener: nothing happens
"""

from __future__ import annotations

import allure_commons
from allure_commons.types import AttachmentType

from interlock.report import JSON, SVG, TEXT
from interlock.secrets import Secrets
from interlock.traffic import Traffic

_TYPES = {
    TEXT: AttachmentType.TEXT,
    JSON: AttachmentType.JSON,
    "text/csv": AttachmentType.CSV,
    "application/yaml": AttachmentType.YAML,
    "text/html": AttachmentType.HTML,
    SVG: AttachmentType.SVG,
}


class AllureReporter:
    """Attaches redacted text to the current Allure step (or test, between steps)."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self.traffic = Traffic()  # the running scenario's; the hooks start a new one each

    def attach(self, name: str, body: str, kind: str = TEXT) -> None:
        """Attach ``body`` (redacted again here: the last gate before the report).

        Outside any test (a feature's set-up, between scenarios) Allure has nowhere to put it
        and allure-behave raises; the evidence is then dropped rather than failing the run.
        """
        try:
            allure_commons.plugin_manager.hook.attach_data(
                body=self.secrets.redact(body),
                name=self.secrets.redact(name),
                attachment_type=_TYPES.get(kind, AttachmentType.TEXT),
                extension=None,
            )
        except (KeyError, AttributeError, IndexError):
            pass
