"""The HTTP client of one scenario: headers, query parameters and credentials that stay set,
the last exchange, and a report attachment for every request.

Example:
    >>> from interlock._core.report import MemoryReporter
    >>> from interlock._core.secrets import Secrets
    >>> secrets = Secrets()
    >>> urls = {"orders": "http://127.0.0.1:8080"}
    >>> session = HttpSession(base_url_of=urls.__getitem__, secrets=secrets,
    ...                       reporter=MemoryReporter(secrets))
    >>> session.headers["X-Request-Id"] = "r-1"
    >>> exchange = session.send("GET", "/orders/1", service="orders")  # doctest: +SKIP
    >>> exchange.status  # doctest: +SKIP
    200
"""

from __future__ import annotations

import json as jsonlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from interlock._core.errors import InterlockError
from interlock._core.report import TEXT, Reporter
from interlock._core.secrets import Secrets
from interlock._core.traffic import SERVICE, TEST, note
from interlock.http.exchange import Exchange, party_of, path_of


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Any = _NoBody()
"""The default of ``send(json=...)``: no JSON body (``json=None`` sends the JSON ``null``)."""


class Credentials(Protocol):
    """Who the requests are sent as: anything that gives an Authorization header value.

    The auth package's ``BearerToken`` and ``BasicAuth`` are credentials.
    """

    @property
    def authorization(self) -> str:
        """The value of the Authorization header, e.g. ``Bearer eyJ…``."""
        ...


@dataclass(frozen=True, eq=False)
class _Request:
    """What ``resend`` repeats."""

    method: str
    target: str
    service: str | None
    json: Any
    form: Mapping[str, str] | None
    body: bytes | None
    content_type: str | None
    where: str


class Connections:
    """Kept-alive connections and proxy settings, shared by the HTTP sessions of every
    scenario against one stack (``Suite`` keeps one per stack, closed when it stops).

    A scenario's session keeps its own headers, credentials and cookies; only the
    connections are shared, so the second scenario does not pay a new TCP connection (and,
    on a threaded server, a new thread) for its first request to each service. A connection
    the server closed in between (a restarted service, a keep-alive timeout) is seen dropped
    before it is used, and a new one is made.

    Example:
        >>> shared = Connections()
        >>> shared.proxies_for("http://127.0.0.1:1/x") is shared.proxies_for("http://127.0.0.1:1/y")
        True
        >>> shared.close()
    """

    def __init__(self) -> None:
        self.adapter = HTTPAdapter()
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def proxies_for(self, url: str) -> dict[str, str]:
        """The proxy settings for ``url``'s origin, read from the environment once (requests'
        own rules, no_proxy included)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = get_environ_proxies(url)
            with self._lock:
                self._proxies[origin] = proxies
        return proxies

    def close(self) -> None:
        """Close every pooled connection."""
        self.adapter.close()


class HttpSession:
    """One scenario's HTTP client.

    ``headers``, ``params`` and ``credentials`` hold for every request until changed.
    ``last`` is the latest exchange. After each exchange its redacted text is attached to
    ``reporter`` as ``METHOD URL`` and each ``on_exchange`` hook is called with it.

    Example:
        >>> from interlock._core.report import MemoryReporter
        >>> s = HttpSession(base_url_of={"orders": "http://127.0.0.1:1"}.__getitem__,
        ...                 secrets=Secrets(), reporter=MemoryReporter())
        >>> s.params["limit"] = "10"
        >>> s.send("GET", "/orders")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Which service? "/orders" is a path ...
    """

    def __init__(
        self,
        *,
        base_url_of: Callable[[str], str],
        secrets: Secrets,
        reporter: Reporter,
        timeout: float = 30.0,
        on_exchange: Sequence[Callable[[Exchange], None]] = (),
        follow_redirects: bool = False,
        explain_unreachable: Callable[[str, InterlockError], Exception | None] | None = None,
        connections: Connections | None = None,
    ) -> None:
        self.base_url_of = base_url_of
        # Says why a named service cannot be reached, when the caller knows better than
        # "is it running?" (a scenario stopped it; it died): the error to raise instead.
        self.explain_unreachable = explain_unreachable
        self.secrets = secrets
        self.reporter = reporter
        self.timeout = timeout
        self.on_exchange = list(on_exchange)
        # Off by default: a test often wants to see the 302 and its Location itself.
        self.follow_redirects = follow_redirects
        self.headers: dict[str, str] = {}
        self.params: dict[str, str] = {}
        self.credentials: Credentials | None = None
        self.last: Exchange | None = None
        self._service: str | None = None
        self._last_request: _Request | None = None
        self._field_names: dict[str, bool] = {}
        # Kept-alive connections make a request about a third cheaper; given ``connections``
        # (the stack's), they outlive the scenario. Without, the session has its own.
        self._owns_connections = connections is None
        self._connections = connections if connections is not None else Connections()
        self._http = requests.Session()
        self._http.mount("http://", self._connections.adapter)
        self._http.mount("https://", self._connections.adapter)
        # requests reads the proxy variables (walking the whole environment) and ~/.netrc on
        # every request when trust_env is on; that was a fifth of a request's cost. The proxy
        # settings are read once per origin instead (``Connections.proxies_for``), with the
        # same rules (no_proxy included). ~/.netrc is not used: credentials come from the
        # suite's auth section.
        self._http.trust_env = False
        self._verify: bool | str = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )

    def close(self) -> None:
        """Close the pooled connections, unless they are shared (their owner closes them)."""
        if self._owns_connections:
            self._connections.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(
        self,
        method: str,
        target: str,
        *,
        service: str | None = None,
        json: Any = NO_BODY,
        form: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        where: str = "",
        before_report: Callable[[Exchange], None] | None = None,
    ) -> Exchange:
        """Send a request and keep the exchange as ``last``.

        ``target`` is a path on ``service`` (by default the service of the previous
        request) or an absolute URL. At most one of ``json``, ``form``, ``body`` is given.
        ``before_report`` sees the exchange before it is attached (a login registers the
        token it got as a secret there, so the report never shows it).

        Example:
            >>> session.send("POST", "/orders", service="orders",
            ...              json={"items": []})  # doctest: +SKIP
        """
        request = _Request(method.upper(), target, service, json, form, body, content_type, where)
        return self._exchange(request, before_report)

    def resend(self) -> Exchange:
        """Send the previous request again (the ``within`` prefix does, before each check)."""
        if self._last_request is None:
            raise InterlockError(
                "No request to send again: this scenario has not sent one yet",
                hint='Send one first, e.g. When I send GET "/orders/{order_id}" to "orders"',
            )
        return self._exchange(self._last_request, None)

    @property
    def _reporting(self) -> bool:
        """Whether the evidence goes anywhere (a reporter written before ``listening``
        existed is taken to listen)."""
        return bool(getattr(self.reporter, "listening", True))

    def _exchange(
        self, request: _Request, before_report: Callable[[Exchange], None] | None
    ) -> Exchange:
        exchange = self._send(request)
        _learn_from_response(exchange, self.secrets)
        if before_report is not None:
            before_report(exchange)
        if self._reporting:  # formatted only when a report is written
            self.reporter.attach(exchange.title(), exchange.report(), TEXT)
            party = party_of(exchange.url, exchange.service)
            failed = exchange.status >= 500
            note(self.reporter, party, TEST, f"{exchange.status} {exchange.reason}".strip(),
                 reply=True, failed=failed, detail=exchange.excerpt(200), source_kind=SERVICE,
                 target_kind=TEST)
        for hook in self.on_exchange:
            hook(exchange)
        return exchange

    def _send(self, request: _Request) -> Exchange:
        url, service = self._url(request.target, request.service, request.where)
        data, content_type = _encode_body(request)
        headers = dict(self.headers)
        lowered = {name.lower() for name in headers}
        if content_type and "content-type" not in lowered:
            headers["Content-Type"] = content_type
        if self.credentials is not None and "authorization" not in lowered:
            # A header the scenario set by hand wins over the logged-in actor.
            headers["Authorization"] = self.credentials.authorization
        _learn_from_request(request, headers, self.secrets)
        if self._reporting:
            # Noted as it is sent: what the service does meanwhile (an event) comes after it.
            note(self.reporter, TEST, party_of(url, service),
                 f"{request.method} {path_of(url)}", source_kind=TEST, target_kind=SERVICE,
                 detail=self.secrets.redact(f"{request.method} {url}"))
        started = time.perf_counter()
        try:
            response = self._http.request(
                request.method,
                url,
                proxies=self._connections.proxies_for(url),
                verify=self._verify,
                params=self.params or None,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=self.follow_redirects,
            )
            payload = response.content
        except requests.Timeout:
            raise self._unreachable(
                request, url, service, f"no answer within {self.timeout:g} seconds"
            ) from None
        except requests.ConnectionError as err:
            raise self._unreachable(request, url, service, _reason(err)) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as err:
            raise InterlockError(
                self.secrets.redact(f"Invalid URL {url}: {err}"),
                where=request.where,
                hint="Write a path (/orders/1) with a service, or a full URL (http://…).",
            ) from None
        elapsed = time.perf_counter() - started
        sent = response.request
        exchange = Exchange(
            method=request.method,
            url=sent.url or url,
            service=service,
            request_headers=sent.headers,
            request_body=_as_bytes(sent.body),
            status=response.status_code,
            reason=response.reason or "",
            response_headers=response.headers,
            response_body=payload,
            elapsed=elapsed,
            secrets=self.secrets,
            field_names=self._field_names,
        )
        self.last = exchange
        self._last_request = request
        if service is not None:
            self._service = service
        return exchange

    def _url(self, target: str, service: str | None, where: str) -> tuple[str, str | None]:
        if target.startswith(("http://", "https://")):
            if service is not None:
                raise InterlockError(
                    f'"{target}" is a full URL, and a service "{service}" was named too',
                    where=where,
                    hint=f'Write a path (e.g. /health) to send to "{service}", '
                    "or drop the service.",
                )
            return target, None
        name = service or self._service
        if name is None:
            raise InterlockError(
                f'Which service? "{target}" is a path and no service was named',
                where=where,
                hint=f'Name one: When I send GET "{target}" to "orders" (later requests in '
                "the scenario go to the same service), or write a full URL.",
            )
        base = self.base_url_of(name)
        return base.rstrip("/") + "/" + target.lstrip("/"), name

    def _unreachable(
        self, request: _Request, url: str, service: str | None, reason: str
    ) -> Exception:
        error = self._cannot_reach(request, url, service, reason)
        note(self.reporter, party_of(url, service), TEST, f"no answer: {reason}",
             reply=True, failed=True, target_kind=TEST,
             detail=self.secrets.redact(f"{request.method} {url}: {reason}"))
        if service and self.explain_unreachable is not None:
            return self.explain_unreachable(service, error) or error
        return error

    def _cannot_reach(
        self, request: _Request, url: str, service: str | None, reason: str
    ) -> InterlockError:
        who = f'the "{service}" service' if service else "the server"
        # The address (a port picked per run) goes below the first line, which stays the same
        # from run to run so that reports group the failure by its cause.
        shown = path_of(url) if service else url
        return InterlockError(
            self.secrets.redact(f"Cannot reach {who}: {request.method} {shown}"),
            details=self.secrets.redact(f"{request.method} {url}: {reason}"),
            where=request.where,
            hint=f"Is it running? Check that {who} is started and listens at that address"
            + (f"; requests wait at most {self.timeout:g} seconds" if "within" in reason else "")
            + ".",
        )


def _encode_body(request: _Request) -> tuple[bytes | None, str | None]:
    present = (
        ("json", request.json is not NO_BODY),
        ("form", request.form is not None),
        ("body", request.body is not None),
    )
    given = [name for name, is_there in present if is_there]
    if len(given) > 1:
        raise InterlockError(
            f"A request can have one body, got {' and '.join(given)}",
            where=request.where,
            hint="Send JSON, a form, or a file, not several at once.",
        )
    if request.json is not NO_BODY:
        encoded = jsonlib.dumps(request.json, ensure_ascii=False).encode("utf-8")
        return encoded, request.content_type or "application/json"
    if request.form is not None:
        return urlencode(list(request.form.items())).encode("ascii"), (
            request.content_type or "application/x-www-form-urlencoded"
        )
    if request.body is not None:
        return request.body, request.content_type
    return None, request.content_type


# Values of sensitive fields in a response are hidden everywhere after; shorter ones are
# left alone, since "token_type": "Bearer" or "tokens": 1234 would mask half a report.
_LEARNED_MIN_LENGTH = 8


def _learn_from_request(request: _Request, headers: Mapping[str, str], secrets: Secrets) -> None:
    """Values the scenario sends under a sensitive name are secrets wherever they show up
    later (an echo, an error page), not only under that name."""
    for name, value in headers.items():
        if name.lower() in secrets.headers:
            secrets.add(value, value.partition(" ")[2])
    if request.json is not NO_BODY:
        _learn(request.json, secrets, 0)
    if request.form is not None:
        secrets.add(*(v for k, v in request.form.items() if secrets.is_sensitive_field(k)))


def _learn_from_response(exchange: Exchange, secrets: Secrets) -> None:
    cookie = exchange.response_headers.get("Set-Cookie")
    if cookie:
        secrets.add(cookie.split(";", 1)[0].partition("=")[2])
    if "json" in exchange.content_type.lower() and exchange.has_sensitive_fields():
        try:
            document = exchange.json()
        except InterlockError:
            return
        _learn(document, secrets, _LEARNED_MIN_LENGTH)


def _learn(document: Any, secrets: Secrets, min_length: int) -> None:
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, str):
                if len(value) >= min_length and secrets.is_sensitive_field(str(key)):
                    secrets.add(value)
            elif isinstance(value, (dict, list)):
                _learn(value, secrets, min_length)
    elif isinstance(document, list):
        for item in document:
            if isinstance(item, (dict, list)):
                _learn(item, secrets, min_length)


def _as_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return body


def _reason(err: requests.ConnectionError) -> str:
    text = str(err)
    for known, said in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host name"),
        ("Read timed out", "no answer in time"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
    ):
        if known in text:
            return said
    return text

