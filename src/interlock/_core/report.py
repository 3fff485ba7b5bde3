"""Where the evidence of a run goes: the ``Reporter`` protocol and its implementations.

Every module that has something to show (an HTTP exchange, an event, a query and its rows,
a service log) calls ``reporter.attach(name, body, kind)``. Bodies are redacted by the
caller's ``Secrets`` before they get here... and once more here, so nothing slips through.

Example:
    >>> from interlock._core.secrets import Secrets
    >>> s = Secrets(); s.add("hunter22")
    >>> r = MemoryReporter(s)
    >>> r.attach("login", "password=hunter22", TEXT)
    >>> r.attachments
    [('login', 'password=***', 'text/plain')]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from interlock._core.secrets import Secrets
from interlock._core.traffic import Traffic

TEXT = "text/plain"
JSON = "application/json"
SVG = "image/svg+xml"


class Reporter(Protocol):
    """Receives attachments for the step that is running. ``listening`` is False when they
    go nowhere (no report is written): a caller may then skip formatting them."""

    listening: bool

    def attach(self, name: str, body: str, kind: str = TEXT) -> None:
        """Attach ``body`` (already text) under ``name``; ``kind`` is a MIME type."""

    def link(self, name: str, path: Path, line: int | None = None) -> None:
        """Link the running test to ``path`` (a file of the suite) at ``line``."""


class NullReporter:
    """Drops every attachment: the reporter of a run that writes no report (no Allure
    formatter), so evidence nobody reads is not formatted, kept or drawn.

    Example:
        >>> r = NullReporter()
        >>> r.attach("login", "password=hunter22"); r.listening, r.traffic
        (False, None)
    """

    listening = False
    traffic = None

    def attach(self, name: str, body: str, kind: str = TEXT) -> None:
        """Nothing."""

    def link(self, name: str, path: Path, line: int | None = None) -> None:
        """Nothing."""


class MemoryReporter:
    """Keeps attachments in a list: the fake for tests, and what a pytest user can inspect."""

    listening = True

    def __init__(self, secrets: Secrets | None = None) -> None:
        self.secrets = secrets or Secrets()
        self.attachments: list[tuple[str, str, str]] = []
        self.links: list[tuple[str, Path, int | None]] = []
        self.traffic = Traffic()

    def attach(self, name: str, body: str, kind: str = TEXT) -> None:
        self.attachments.append((self.secrets.redact(name), self.secrets.redact(body), kind))

    def link(self, name: str, path: Path, line: int | None = None) -> None:
        self.links.append((name, path, line))


def pretty_json(document: Any) -> str:
    """JSON indented for reading in a report.

    Example:
        >>> print(pretty_json({"a": [1]}))
        {
          "a": [
            1
          ]
        }
    """
    return json.dumps(document, indent=2, ensure_ascii=False, default=str)
