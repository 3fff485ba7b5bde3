"""Secrets never reach a report, a log or a terminal.

A ``Secrets`` holds the values to hide (configured secrets, passwords, minted tokens) and the
names of headers and JSON fields whose values are always hidden. Every text that leaves the
framework (Allure attachments, error messages, curl lines, service logs) goes through
``redact``.

Example:
    >>> s = Secrets()
    >>> s.add("s3cr3t-token")
    >>> s.redact("Authorization: Bearer s3cr3t-token")
    'Authorization: Bearer ***'
    >>> s.redact_headers({"Authorization": "Bearer x", "Accept": "json"})
    {'Authorization': '***', 'Accept': 'json'}
    >>> s.redact_json({"user": "alice", "password": "pw", "nested": [{"api_key": "k"}]})
    {'user': 'alice', 'password': '***', 'nested': [{'api_key': '***'}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

SENSITIVE_HEADERS = ("authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key")
SENSITIVE_FIELDS = (
    r"pass(word)?|secret|token|api[_-]?key|private[_-]?key|credentials?|client[_-]?secret"
)

# A value shorter than this is not hunted for in free text: hiding every "a" or "1"
# would make reports unreadable. Such values are still hidden by header and field name.
_MIN_LENGTH = 4


class Secrets:
    """The values and names to hide in everything that is shown.

    Example:
        >>> s = Secrets(headers=["X-Tenant-Key"], fields=["pin"])
        >>> s.redact_headers({"x-tenant-key": "abc"})
        {'x-tenant-key': '***'}
    """

    def __init__(self, headers: Iterable[str] = (), fields: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.headers = {h.lower() for h in SENSITIVE_HEADERS} | {h.lower() for h in headers}
        extra = "|".join(re.escape(f) for f in fields)
        self._fields = re.compile(
            rf"^.*({SENSITIVE_FIELDS}{'|' + extra if extra else ''}).*$", re.IGNORECASE
        )

    def add(self, *values: object) -> None:
        """Hide these values wherever they appear from now on."""
        for value in values:
            if value is None:
                continue
            text = str(value)
            if len(text) >= _MIN_LENGTH and text not in self._values:
                self._values.add(text)
                self._pattern = None

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``***``."""
        if not self._values or not text:
            return text
        if self._pattern is None:
            # Longest first, so a token that contains another secret is hidden whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return self._pattern.sub(MASK, text)

    def is_sensitive_field(self, name: str) -> bool:
        """Whether a JSON field of this name always has its value hidden."""
        return bool(self._fields.match(name))

    def redact_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with sensitive ones masked and secret values hidden in the rest."""
        return {
            name: MASK if name.lower() in self.headers else self.redact(str(value))
            for name, value in headers.items()
        }

    def redact_json(self, document: Any) -> Any:
        """A copy of a JSON document with sensitive fields masked and secret values hidden."""
        if isinstance(document, dict):
            return {
                key: MASK
                if self.is_sensitive_field(str(key)) and value is not None
                else self.redact_json(value)
                for key, value in document.items()
            }
        if isinstance(document, list):
            return [self.redact_json(item) for item in document]
        if isinstance(document, str):
            return self.redact(document)
        return document
