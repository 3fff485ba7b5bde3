"""One HTTP request and its response, as a test sees it, and how it is shown in a report.

An ``Exchange`` is what ``HttpSession.send`` returns and what every response expectation
reads. It keeps the bytes that went out and came back, so the report, the curl line and a
failure message all show exactly what happened (with secrets hidden).

Example:
    >>> from interlock._core.secrets import Secrets
    >>> ex = Exchange("GET", "http://127.0.0.1:1/orders/1", "orders", {"Accept": "*/*"}, b"",
    ...               200, "OK", {"Content-Type": "application/json"}, b'{"id": 1}', 0.003,
    ...               secrets=Secrets())
    >>> ex.json()
    {'id': 1}
    >>> ex.curl()
    "curl 'http://127.0.0.1:1/orders/1'"
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from requests.structures import CaseInsensitiveDict

from interlock._core.errors import InterlockError
from interlock._core.secrets import MASK, Secrets

# Bodies longer than this are cut in reports: a report is for reading, not for archiving.
_SHOWN_BYTES = 64 * 1024
_EXCERPT_CHARS = 200
# Headers that requests adds by itself; a curl line without them is shorter and still
# does the same thing (curl adds its own).
_CURL_SKIPPED = {"user-agent", "accept-encoding", "connection", "content-length"}
_UNSET: Any = object()
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


@dataclass(eq=False)
class Exchange:
    """A request sent and the response received.

    ``response_headers`` are case-insensitive (``ex.response_headers["content-type"]``).
    ``elapsed`` is in seconds, from sending the request to having the whole body.

    Example:
        >>> ex = Exchange("GET", "http://127.0.0.1:1/x", None, {}, b"", 404, "Not Found",
        ...               {}, b"nope", 0.001)
        >>> ex.status, ex.text
        (404, 'nope')
    """

    method: str
    url: str
    service: str | None
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    reason: str
    response_headers: Mapping[str, str]
    response_body: bytes
    elapsed: float
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    field_names: dict[str, bool] = field(default_factory=dict, repr=False)
    """Which JSON field names are sensitive: a memo that a session shares between exchanges."""
    _json: Any = field(default=_UNSET, init=False, repr=False)
    _sensitive: bool | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.response_headers, CaseInsensitiveDict):
            self.response_headers = CaseInsensitiveDict(self.response_headers)
        if not isinstance(self.request_headers, CaseInsensitiveDict):
            self.request_headers = CaseInsensitiveDict(self.request_headers)

    @property
    def content_type(self) -> str:
        """The response's Content-Type header, or "" when it has none."""
        return self.response_headers.get("Content-Type", "")

    @property
    def text(self) -> str:
        """The response body decoded with its charset (UTF-8 when none is given)."""
        return _decode(self.response_body, self.content_type)

    def json(self, where: str = "") -> Any:
        """The response body parsed as JSON; an ``InterlockError`` if it is not JSON.

        The parsed document is kept, so several checks on one response parse it once.
        """
        if self._json is _UNSET:
            try:
                self._json = jsonlib.loads(self.response_body)
            except ValueError:
                raise InterlockError(
                    f"The response is not JSON (status {self.status}, "
                    f"Content-Type {self.content_type or 'none'})",
                    details="body: " + self.excerpt(),
                    where=where or self.describe(),
                    hint="Check the status first (Then the response status is 200): "
                    "an error page is often HTML or text.",
                ) from None
        return self._json

    def describe(self) -> str:
        """``GET http://…/orders/1`` with secrets hidden: where a problem was seen."""
        return self.secrets.redact(f"{self.method} {self.url}")

    def title(self) -> str:
        """How a report names the exchange, in a reader's words: method, path, the service it
        went to (its address when it went to none) and the answer, with secrets hidden.

        Example:
            >>> Exchange("POST", "http://127.0.0.1:41234/orders?x=1", "orders", {}, b"",
            ...          201, "Created", {}, b"", 0.01).title()
            'POST /orders?x=1 → orders: 201 Created'
        """
        answer = f"{self.status} {self.reason}".strip()
        party = party_of(self.url, self.service)
        return self.secrets.redact(f"{self.method} {path_of(self.url)} → {party}: {answer}")

    def excerpt(self, limit: int = _EXCERPT_CHARS) -> str:
        """The start of the response body, redacted, on one line: enough to explain a failure."""
        if not self.response_body:
            return "(empty)"
        if self._json is not _UNSET or _looks_like_json(self.content_type, self.response_body):
            try:
                document = self.json()
            except InterlockError:
                pass
            else:
                text = jsonlib.dumps(self.secrets.redact_json(document), ensure_ascii=False)
                return _cut(text, limit)
        if not _is_text(self.content_type, self.response_body):
            return f"({len(self.response_body)} bytes of {self.content_type or 'binary data'})"
        return _cut(" ".join(self.secrets.redact(self.text).split()), limit)

    def curl(self) -> str:
        """A curl command that sends the same request, with secrets masked.

        Example:
            >>> ex = Exchange("POST", "http://127.0.0.1:1/orders", "orders",
            ...               {"Content-Type": "application/json", "Authorization": "Bearer t"},
            ...               b'{"a": 1}', 201, "Created", {}, b"", 0.01)
            >>> print(ex.curl())
            curl -X POST 'http://127.0.0.1:1/orders' -H 'Content-Type: application/json' \
-H 'Authorization: ***' --data-raw '{"a": 1}'
        """
        return self.secrets.redact(self._curl(self._masked(self.request_headers)))

    def report(self) -> str:
        """The text attached to the report: request, response and curl line, all redacted.

        Names are masked while the text is built (headers, JSON and form fields); secret
        values are hidden in one pass over the finished text, which is several times cheaper
        than hiding them piece by piece, and this runs for every request of a run.
        """
        request_headers = self._masked(self.request_headers)
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in request_headers.items()]
        if self.request_body:
            lines += ["", _body_for_report(self.request_body, self.request_headers, self.secrets)]
        lines += ["", f"HTTP {self.status} {self.reason}  ({self.elapsed * 1000:.1f} ms)"]
        lines += [f"{k}: {v}" for k, v in self._masked(self.response_headers).items()]
        if self.response_body:
            lines += ["", self._shown_response_body()]
        lines += ["", self._curl(request_headers)]
        return self.secrets.redact("\n".join(lines))

    def has_sensitive_fields(self) -> bool:
        """Whether the JSON response has a field whose value is always hidden (a password,
        a token…). Found by scanning the raw text for keys, without walking the document."""
        if self._sensitive is None:
            text = self.response_body.decode("utf-8", errors="replace")
            hidden = self.secrets.is_sensitive_field
            memo = self.field_names
            found = False
            for key in set(_JSON_KEY.findall(text)):
                sensitive = memo.get(key)
                if sensitive is None:
                    sensitive = memo[key] = hidden(key) or "\\" in key
                found = found or sensitive
            self._sensitive = found
        return self._sensitive

    def _masked(self, headers: Mapping[str, str]) -> dict[str, str]:
        names = self.secrets.headers
        return {k: MASK if k.lower() in names else v for k, v in _pairs(headers)}

    def _curl(self, masked_headers: Mapping[str, str]) -> str:
        pieces = [self.secrets.redact(self.url)]
        for name, value in masked_headers.items():
            if name.lower() not in _CURL_SKIPPED and f"{name}: {value}" != "Accept: */*":
                pieces.append(f"{name}: {value}")
        if self.request_body:
            pieces.append(_body_for_curl(self.request_body, self.request_headers, self.secrets))
        if any("'" in piece for piece in pieces):
            # Quoting splits a value at its quotes; hide secrets while they are still whole.
            pieces = [self.secrets.redact(piece) for piece in pieces]
        parts = ["curl"]
        if self.method == "HEAD":
            parts.append("--head")
        elif self.method != "GET" or self.request_body:
            parts += ["-X", self.method]
        parts.append(_quote(pieces[0]))
        last = len(pieces) - 1 if self.request_body else len(pieces)
        for header in pieces[1:last]:
            parts += ["-H", _quote(header)]
        if self.request_body:
            parts += ["--data-raw", _quote(pieces[-1])]
        return " ".join(parts)

    def _shown_response_body(self) -> str:
        if _looks_like_json(self.content_type, self.response_body):
            try:
                document = self.json()
            except InterlockError:
                pass
            else:
                if not self.has_sensitive_fields():
                    text = _pretty(document)
                    # Without escapes, the text holds each string as it is, so the final
                    # pass over the report finds every secret value in it.
                    if "\\" not in text:
                        return text
                return _pretty(self.secrets.redact_json(document))
        return _body_for_report(self.response_body, self.response_headers, self.secrets)


def _pairs(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    if isinstance(headers, CaseInsensitiveDict):
        # Its items() goes through a generator and a lower() per key; this runs twice for
        # every request of a run, so read the (name, value) pairs it keeps directly.
        pairs: Iterable[tuple[str, str]] = headers._store.values()  # type: ignore[attr-defined]
        return pairs
    return headers.items()


def _quote(text: str) -> str:
    # Always quoted, so the line reads the same whatever the URL holds.
    return "'" + text.replace("'", "'\\''") + "'"


def _looks_like_json(content_type: str, body: bytes) -> bool:
    if "json" in content_type.lower():
        return True
    head = body[:1]
    return not content_type and head in (b"{", b"[")


def _is_text(content_type: str, body: bytes) -> bool:
    lowered = content_type.lower()
    if lowered.startswith("text/") or any(
        k in lowered for k in ("json", "xml", "form-urlencoded", "javascript", "yaml")
    ):
        return True
    try:
        body[:_SHOWN_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(body: bytes, content_type: str) -> str:
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more)"


def _pretty(document: Any) -> str:
    return jsonlib.dumps(document, indent=2, ensure_ascii=False, default=str)


def _is_form(headers: Mapping[str, str]) -> bool:
    return "x-www-form-urlencoded" in headers.get("Content-Type", "").lower()


def _masked_form(body: bytes, secrets: Secrets) -> str:
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    masked = [(k, MASK if secrets.is_sensitive_field(k) else secrets.redact(v)) for k, v in pairs]
    # Keep the mask readable instead of percent-encoding it.
    return urlencode(masked, safe="*")


def _body_for_report(body: bytes, headers: Mapping[str, str], secrets: Secrets) -> str:
    content_type = headers.get("Content-Type", "")
    if _is_form(headers):
        return _masked_form(body, secrets)
    if _looks_like_json(content_type, body):
        try:
            return _pretty(secrets.redact_json(jsonlib.loads(body)))
        except ValueError:
            pass
    if not _is_text(content_type, body):
        return f"({len(body)} bytes of {content_type or 'binary data'})"
    # Hidden whole, then cut: a secret across the cut would otherwise keep its start.
    # (Twice the shown length is decoded: any secret across the cut is then whole.)
    text = secrets.redact(_decode(body[: 2 * _SHOWN_BYTES], content_type))
    if len(text) > _SHOWN_BYTES:
        text = text[:_SHOWN_BYTES] + f"\n… ({len(body) - _SHOWN_BYTES} more bytes)"
    return text


def _body_for_curl(body: bytes, headers: Mapping[str, str], secrets: Secrets) -> str:
    if _is_form(headers):
        return _masked_form(body, secrets)
    if _looks_like_json(headers.get("Content-Type", ""), body):
        try:
            return jsonlib.dumps(secrets.redact_json(jsonlib.loads(body)), ensure_ascii=False)
        except ValueError:
            pass
    if not _is_text(headers.get("Content-Type", ""), body):
        return f"<{len(body)} bytes: use --data-binary @file>"
    return secrets.redact(_decode(body, headers.get("Content-Type", "")))


def path_of(url: str) -> str:
    """The path and query of ``url``: what a diagram's arrow and a stable message show.

    Example:
        >>> path_of("http://127.0.0.1:8080/orders/1?full=true")
        '/orders/1?full=true'
    """
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def party_of(url: str, service: str | None) -> str:
    """Who an exchange went to: the service's name, else the address it was sent to.

    Example:
        >>> party_of("http://127.0.0.1:8080/x", None), party_of("http://h:1/x", "orders")
        ('127.0.0.1:8080', 'orders')
    """
    return service or urlsplit(url).netloc
