"""The last Allure results, read as what each scenario touched: HTTP exchanges, events, SQL.

Only the JSON files are read (``*-result.json``, ``*-container.json``, the attachment files
they name, ``environment.properties``): no Allure library is needed, and results written by
any version of allure-behave read the same. Interlock names its attachments so that they say
what they are:

=================================  ================================================
attachment name                    what it is
=================================  ================================================
``POST /x → orders: 201 Created``  an HTTP exchange; its body starts with the
                                   request line, ``POST http://127.0.0.1:41234/x``
``POST http://127.0.0.1:41234/x``  the same, as results before it were named
``event orders.created``           an event the scenario received
``received orders.created``        the same
``event payments.in (published)``  an event the scenario published
``published payments.in``          the same
``SQL orders-db``                  a statement run on a database
``stub "payments" received POST    a request the system sent to a stub, and the
http://127.0.0.1:41235/charges     status it got
-> 201``
=================================  ================================================

Example:
    >>> touch_of("event orders.created", "")
    Touch(kind='event', target='orders.created', detail='received', status=None, service='')
    >>> t = touch_of("GET /orders/1?x=1 → orders: 404 Not Found",
    ...              "GET http://127.0.0.1:8000/orders/1?x=1\\nAccept: */*\\n\\nHTTP 404 Not Found")
    >>> t.kind, t.target, t.status, t.service
    ('http', 'GET http://127.0.0.1:8000/orders/1', 404, 'orders')
    >>> touch_of("GET http://127.0.0.1:8000/orders/1?x=1", "GET …\\n\\nHTTP 404 Not Found").target
    'GET http://127.0.0.1:8000/orders/1'
    >>> t = touch_of('stub "payments" received POST http://127.0.0.1:9/charges -> 402', "")
    >>> t.target, t.detail, t.status
    ('POST http://127.0.0.1:9/charges', 'stub', 402)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from interlock._core.errors import InterlockError

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
_HTTP_NAME = re.compile(rf"({'|'.join(HTTP_METHODS)}) (\S+)")
_EXCHANGE_NAME = re.compile(rf"({'|'.join(HTTP_METHODS)}) (\S+) → (\S+): (\d{{3}})\b.*")
_STUB_NAME = re.compile('stub "([^"]+)" received (' + "|".join(HTTP_METHODS)
                        + r") (\S+) -> (\d{3})")
_STATUS_LINE = re.compile(r"^HTTP(?:/[\d.]+)? (\d{3})\b", re.MULTILINE)
_RECEIVED = ("event ", "received ")
_PUBLISHED = ("published ",)


@dataclass(frozen=True)
class Touch:
    """One thing a scenario touched: ``kind`` is "http", "event" or "sql".

    ``target`` is "METHOD URL" (query left out), the channel, or the database; ``detail`` is
    "received" / "published" for events; ``status`` the HTTP status when the body shows it;
    ``service`` who answered an HTTP request, when the attachment's name says it.
    """

    kind: str
    target: str
    detail: str = ""
    status: int | None = None
    service: str = ""  # who answered, as the attachment names it (a service, or an address)


@dataclass
class Scenario:
    """One scenario's last result and what it touched."""

    name: str
    full_name: str
    feature: str
    status: str
    tags: tuple[str, ...] = ()
    touches: list[Touch] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How tables name it: "Feature: Scenario", with the status when it did not pass."""
        shown = self.full_name or self.name
        return shown if self.status == "passed" else f"{shown} ({self.status})"


@dataclass
class Results:
    """Everything read from a results folder."""

    folder: Path
    scenarios: list[Scenario]
    services: dict[str, str]  # service name -> base URL, from environment.properties
    finished: dt.datetime | None  # when the last scenario stopped


def touch_of(name: str, body: str) -> Touch | None:
    """What an attachment named ``name`` says was touched, or ``None`` for other attachments."""
    exchange = _EXCHANGE_NAME.fullmatch(name.strip())
    if exchange:  # the address is not in the name: the body's request line has it
        method, path, party, status_text = exchange.groups()
        first = body.split("\n", 1)[0].strip()
        sent = _HTTP_NAME.fullmatch(first)
        url = sent.group(2) if sent and sent.group(1) == method else path
        bare = urlsplit(url)._replace(query="", fragment="").geturl()
        return Touch("http", f"{method} {bare}", status=int(status_text), service=party)
    http = _HTTP_NAME.fullmatch(name.strip())
    if http:
        method, url = http.groups()
        parts = urlsplit(url)
        bare = parts._replace(query="", fragment="").geturl()
        status = _STATUS_LINE.search(body)
        return Touch("http", f"{method} {bare}", status=int(status.group(1)) if status else None)
    stub = _STUB_NAME.fullmatch(name.strip())
    if stub:
        stub_name, method, url, status_text = stub.groups()
        bare = urlsplit(url)._replace(query="", fragment="").geturl()
        return Touch("http", f"{method} {bare}", "stub", int(status_text), service=stub_name)
    if name.startswith("SQL "):
        return Touch("sql", name[4:].strip())
    for prefixes, direction in ((_PUBLISHED, "published"), (_RECEIVED, "received")):
        for prefix in prefixes:
            if name.startswith(prefix):
                channel = name[len(prefix) :].strip()
                if channel.endswith("(published)"):
                    channel, direction = channel[: -len("(published)")].strip(), "published"
                return Touch("event", channel, direction) if channel else None
    return None


def read_results(folder: Path) -> Results:
    """Read the results folder; only the latest result of each scenario counts (Allure keeps
    every run's files until the folder is cleaned)."""
    if not folder.is_dir():
        raise InterlockError(
            f"No Allure results folder at {folder}",
            hint="Run the suite first (behave -f interlock.behave.allure_formatter:AllureFormatter "
            "-o reports/allure-results), or pass --results <folder>.",
        )
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*-result.json")):
        result = _read_json(path)
        if not isinstance(result, dict):
            continue
        key = str(result.get("historyId") or result.get("fullName") or path.name)
        start = int(result.get("start") or 0)
        if key not in latest or start >= latest[key][0]:
            latest[key] = (start, result)
    extra = _container_attachments(folder)
    scenarios = []
    finished = 0
    for _start, result in latest.values():
        finished = max(finished, int(result.get("stop") or 0))
        attachments = list(_attachments(result)) + extra.get(str(result.get("uuid")), [])
        touches = []
        for attachment in attachments:
            name = str(attachment.get("name") or "")
            body = _body(folder, attachment) if _HTTP_NAME.match(name) else ""
            touch = touch_of(name, body)
            if touch is not None:
                touches.append(touch)
        scenarios.append(_scenario(result, touches))
    scenarios.sort(key=lambda s: (s.feature, s.full_name, s.name))
    when = dt.datetime.fromtimestamp(finished / 1000, dt.UTC) if finished else None
    return Results(folder, scenarios, _services(folder), when)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a file being written by a run still going, or not Allure's: skip it


def _attachments(item: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Attachments of a result or step and of all its steps, in order."""
    for attachment in item.get("attachments") or []:
        if isinstance(attachment, dict):
            yield attachment
    for step in item.get("steps") or []:
        if isinstance(step, dict):
            yield from _attachments(step)


def _container_attachments(folder: Path) -> dict[str, list[Mapping[str, Any]]]:
    """Attachments made in fixtures (befores/afters), by the uuid of each result they wrap."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for path in sorted(folder.glob("*-container.json")):
        container = _read_json(path)
        if not isinstance(container, dict):
            continue
        made = [
            a for fixture in [*(container.get("befores") or []), *(container.get("afters") or [])]
            if isinstance(fixture, dict) for a in _attachments(fixture)
        ]
        for child in container.get("children") or []:
            found.setdefault(str(child), []).extend(made)
    return found


def _body(folder: Path, attachment: Mapping[str, Any]) -> str:
    source = str(attachment.get("source") or "")
    path = folder / source
    if not source or "/" in source or not path.is_file():
        return ""
    # The status line comes right after the request; the first 64 KiB always hold it.
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return handle.read(65536)


def _scenario(result: Mapping[str, Any], touches: list[Touch]) -> Scenario:
    labels = [lab for lab in result.get("labels") or [] if isinstance(lab, dict)]
    feature = next((str(lab.get("value")) for lab in labels if lab.get("name") == "feature"), "")
    tags = tuple(sorted({str(lab.get("value")) for lab in labels if lab.get("name") == "tag"}))
    return Scenario(
        name=str(result.get("name") or "").strip(),
        full_name=str(result.get("fullName") or "").strip(),
        feature=feature,
        status=str(result.get("status") or "unknown"),
        tags=tags,
        touches=touches,
    )


def _services(folder: Path) -> dict[str, str]:
    """``service.<name>=<url>`` lines of ``environment.properties``."""
    path = folder / "environment.properties"
    if not path.is_file():
        return {}
    services = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("service."):
            # Java's properties format may escape ':' and '='; Interlock does not, others might.
            url = value.strip().replace("\\:", ":").replace("\\=", "=")
            services[key.strip().removeprefix("service.")] = url
    return services
