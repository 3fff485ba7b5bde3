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

# In a stack file, any key is a secret too (a signing key, an HMAC key); in reports a field
# named "key" is too common to hide. What names a secret without being one is not: its id,
# the file that holds it, the URL that hands it out (token_url).
_CONFIG_KEY = re.compile(r"(^|[_-])key$", re.IGNORECASE)
_NOT_A_VALUE = re.compile(r".*[_-](file|path|id|url|uri)$", re.IGNORECASE)
# A value that only names where the secret comes from ("{env.JWT_SECRET}") is not one, nor is
# a JSONPath that says where a token is found in a login answer ("$.access_token").
_JSONPATH = re.compile(r"^\$[.\[]")
_REFERENCE = re.compile(rf"^(\{{[^{{}}]+\}}\s*)+$|{_JSONPATH.pattern}")
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)([^@\s/]+)@")

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
        self._ordered: list[str] | None = None  # the values, longest first
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
                self._ordered = None

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``***``."""
        if not self._values or not text:
            return text
        ordered = self._ordered  # (one read: another thread may add a value meanwhile)
        if ordered is None:
            # Longest first, so a token that contains another secret is hidden whole. (Each
            # value is looked for in turn: a regex of them all was recompiled at every login's
            # new token, and is slower on long texts than C's substring search.)
            ordered = self._ordered = sorted(self._values, key=len, reverse=True)
        for value in ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def shorten(self, text: str, limit: int, more: str = "…") -> str:
        """``text`` redacted, **then** cut to ``limit`` characters (``more`` marks the cut).

        Cutting first would keep the start of a long secret, which no longer matches it.

        Example:
            >>> s = Secrets(); s.add("a-long-secret-value")
            >>> s.shorten("token a-long-secret-value and more", 12)
            'token *** an…'
        """
        text = self.redact(text)
        return text if len(text) <= limit else text[:limit] + more

    def is_sensitive_field(self, name: str) -> bool:
        """Whether a JSON field of this name always has its value hidden."""
        return bool(self._fields.match(name))

    def is_secret_setting(self, name: str) -> bool:
        """Whether a stack-file field of this name holds a secret (password, secret, token,
        any key, a field listed in ``report.redact_fields``), as written or from ``secrets:``.

        Example:
            >>> s = Secrets()
            >>> [n for n in ("password", "signing_key", "key", "key_id", "token_url", "grant")
            ...  if s.is_secret_setting(n)]
            ['password', 'signing_key', 'key']
        """
        if _NOT_A_VALUE.match(name):
            return False
        return self.is_sensitive_field(name) or bool(_CONFIG_KEY.search(name))

    def redact_config(self, document: Any, hidden: bool = False) -> Any:
        """A copy of a configuration with every value under a secret-bearing field masked
        (references such as ``"{env.X}"`` too; only a JSONPath saying where a login answer
        holds its token stays), passwords in URLs masked, known secret values hidden.

        Example:
            >>> Secrets().redact_config({"auth": {"signing": {"algorithm": "HS256",
            ...     "secret": "hs-123456"}}, "db": "postgresql://app:pw12@h/db",
            ...     "login": {"password": "{secrets.a}", "token": "$.access_token"}})
            {'auth': {'signing': {'algorithm': 'HS256', 'secret': '***'}}, \
'db': 'postgresql://app:***@h/db', 'login': {'password': '***', 'token': '$.access_token'}}
        """
        if isinstance(document, dict):
            return {
                key: self.redact_config(value, hidden or self.is_secret_setting(str(key)))
                for key, value in document.items()
            }
        if isinstance(document, list):
            return [self.redact_config(item, hidden) for item in document]
        if isinstance(document, str):
            if hidden and not _JSONPATH.match(document):
                return MASK
            return self.redact(_URL_PASSWORD.sub(rf"\1{MASK}@", document))
        if hidden and document is not None and not isinstance(document, bool):
            return MASK
        return document

    def config_values(self, document: Any, hidden: bool = False) -> list[str]:
        """The secret values written in place in a configuration (under a secret-bearing
        field, not a reference), to be hidden from the start of a run.

        Example:
            >>> Secrets().config_values({"signing": {"algorithm": "HS256", "secret": "hs-1"},
            ...                          "login": {"password": "{secrets.a}"}})
            ['hs-1']
        """
        if isinstance(document, dict):
            return [found for key, value in document.items()
                    for found in self.config_values(value,
                                                    hidden or self.is_secret_setting(str(key)))]
        if isinstance(document, list):
            return [found for item in document for found in self.config_values(item, hidden)]
        # Strings only: a number under such a field is a setting (max_tokens: 1000), and
        # hunting "1000" through every report would hide amounts and ids.
        if hidden and isinstance(document, str) and not _REFERENCE.match(document):
            return [document]
        return []

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
