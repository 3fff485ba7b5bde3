"""Secrets never reach an attachment, a curl line or an error message.

The server used here echoes everything it gets (headers, raw body, query), like a careless
service does, so each secret has many places to leak from.
"""

from __future__ import annotations

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.http import HttpSession, responses
from tests.http.app import LocalApp, free_port

CONFIGURED = "canary-configured-0001"  # a suite secret, e.g. {env.API_KEY}
MINTED = "canary-minted-token-0002"  # a token the auth package minted and registered
PASSWORD = "canary-password-0003"  # sent in a JSON field named password, never registered
FORM_SECRET = "canary-client-secret-0004"  # sent in a form field named client_secret
TENANT = "canary-tenant-key-0005"  # sent in a header configured as sensitive
COOKIE = "canary-cookie-0006"  # set by the server as a cookie
CANARIES = (CONFIGURED, MINTED, PASSWORD, FORM_SECRET, TENANT, COOKIE)


class Bearer:
    authorization = f"Bearer {MINTED}"


def shown(reporter: MemoryReporter, *more: str) -> str:
    return "\n".join([f"{name}\n{body}" for name, body, _ in reporter.attachments] + list(more))


def test_no_canary_appears_anywhere(
    app: LocalApp, session: HttpSession, secrets: Secrets, reporter: MemoryReporter
) -> None:
    secrets.add(CONFIGURED, MINTED)
    session.credentials = Bearer()
    session.headers["X-Tenant-Key"] = TENANT
    session.headers["X-Trace"] = f"trace {CONFIGURED}"
    session.params["api"] = CONFIGURED

    json_echo = session.send(
        "POST",
        "/echo",
        service="orders",
        json={"user": "alice", "password": PASSWORD, "note": f"key={CONFIGURED}"},
    )
    form_echo = session.send("POST", "/echo", form={"client_id": "x", "client_secret": FORM_SECRET})
    cookie = session.send("GET", f"/cookie?value={COOKIE}")
    with_cookie = session.send("GET", "/echo")
    text_echo = session.send(
        "POST", "/echo", body=f"raw {PASSWORD}".encode(), content_type="text/plain"
    )
    failures = []
    for check, args in (
        (responses.json_at_is, (json_echo, "$.headers.Authorization", "Bearer nope")),
        (responses.json_is, (form_echo, {"form": {"client_secret": "nope"}})),
        (responses.status_is, (text_echo, 500)),
        (responses.header_is, (cookie, "Set-Cookie", "nope")),
        (responses.body_contains, (with_cookie, "nope")),
        (responses.json_at_is, (json_echo, "$.query.api", "nope")),
    ):
        with pytest.raises(Failure) as caught:
            check(*args)
        failures.append(str(caught.value))
    services = {"down": f"http://127.0.0.1:{free_port()}"}
    with (
        HttpSession(base_url_of=services.__getitem__, secrets=secrets, reporter=reporter) as down,
        pytest.raises(InterlockError) as unreachable,
    ):
        down.send("GET", f"/x?key={CONFIGURED}", service="down")
    with pytest.raises(InterlockError) as not_json:
        session.send("GET", f"/text?key={CONFIGURED}").json()

    # The secrets did reach the server (else this test proves nothing)...
    assert json_echo.json()["headers"]["Authorization"] == f"Bearer {MINTED}"
    assert with_cookie.json()["headers"]["Cookie"] == f"session={COOKIE}"
    assert PASSWORD in json_echo.text and FORM_SECRET in form_echo.text
    # ...and nowhere in what is shown.
    everything = shown(
        reporter,
        *failures,
        str(unreachable.value),
        str(not_json.value),
        *(e.curl() for e in (json_echo, form_echo, cookie, with_cookie, text_echo)),
        *(e.excerpt() for e in (json_echo, form_echo, cookie, with_cookie, text_echo)),
    )
    assert len(reporter.attachments) == 6
    for canary in CANARIES:
        assert canary not in everything, canary
    assert "Authorization: ***" in everything
    assert '"password": "***"' in everything
    assert "client_secret=***" in everything


def test_configured_header_names_are_masked(session: HttpSession, reporter: MemoryReporter) -> None:
    session.headers["x-tenant-key"] = "short"  # too short to hunt for, still masked by name

    exchange = session.send("GET", "/orders/1", service="orders")

    assert "x-tenant-key: ***" in reporter.attachments[0][1]
    assert "-H 'x-tenant-key: ***'" in exchange.curl()
