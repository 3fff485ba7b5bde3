"""The ``Reporter`` that writes Allure attachments to the step that is running.

When no Allure listener is registered (a plain ``behave`` without the formatter, a script),
attaching does nothing, so the same code runs with and without a report.

Example:
    >>> from interlock._core.secrets import Secrets
    >>> AllureReporter(Secrets()).attach("note", "hello")   # no listener: nothing happens
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import allure_commons
from allure_commons.types import AttachmentType

from interlock._core.report import JSON, SVG, TEXT
from interlock._core.secrets import Secrets
from interlock._core.traffic import Traffic

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

    listening = True

    def __init__(self, secrets: Secrets,
                 address: Callable[[Path, int | None], str | None] | None = None) -> None:
        self.secrets = secrets
        self.address = address  # a suite file's web address (the repository's), if known
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

    def link(self, name: str, path: Path, line: int | None = None) -> None:
        """Link the running test to ``path`` at ``line`` in the repository; nothing when the
        repository's address is not known (as the feature file's link)."""
        url = self.address(path, line) if self.address is not None else None
        if url is None:
            return
        try:
            allure_commons.plugin_manager.hook.add_link(
                url=url, link_type="link", name=self.secrets.redact(name))
        except (KeyError, AttributeError, IndexError):
            pass
