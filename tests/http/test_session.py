"""HttpSession against a real local server: every way to send, errors, the report."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

import pytest

from interlock._core.errors import InterlockError
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.http import Connections, Exchange, HttpSession
from tests.http.app import LocalApp, free_port


@dataclass(frozen=True)
class Token:
    value: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.value}"


def test_json_body_is_sent_with_its_content_type(session: HttpSession) -> None:
    exchange = session.send("POST", "/echo", service="orders", json={"items": [1, 2], "n": None})

    echoed = exchange.json()
    assert exchange.status == 200
    assert echoed["method"] == "POST"
    assert echoed["json"] == {"items": [1, 2], "n": None}
    assert echoed["headers"]["Content-Type"] == "application/json"
    assert exchange.request_body == b'{"items": [1, 2], "n": null}'


def test_json_null_is_a_body_and_no_json_is_none(session: HttpSession) -> None:
    with_null = session.send("PUT", "/echo", service="orders", json=None)
    without = session.send("DELETE", "/echo")

    assert with_null.json()["body"] == "null"
    assert without.json()["body"] == ""
    assert "Content-Type" not in without.json()["headers"]


def test_form_is_url_encoded(session: HttpSession) -> None:
    exchange = session.send(
        "POST", "/echo", service="orders", form={"username": "alice", "note": "a&b c"}
    )

    echoed = exchange.json()
    assert echoed["form"] == {"username": "alice", "note": "a&b c"}
    assert echoed["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_body_bytes_go_out_unchanged_with_the_given_content_type(session: HttpSession) -> None:
    payload = b'{"from": "a file"}\n'

    exchange = session.send(
        "PATCH", "/echo", service="orders", body=payload, content_type="application/json"
    )

    assert exchange.json()["body"] == payload.decode()
    assert exchange.json()["headers"]["Content-Type"] == "application/json"


def test_one_body_at_most(session: HttpSession) -> None:
    with pytest.raises(InterlockError) as caught:
        session.send("POST", "/echo", service="orders", json={}, form={"a": "b"}, where="f:3")

    assert "one body, got json and form" in str(caught.value)
    assert "where: f:3" in str(caught.value)


def test_headers_and_query_parameters_hold_for_the_scenario(session: HttpSession) -> None:
    session.headers["X-Request-Id"] = "r-1"
    session.params["limit"] = "10"

    first = session.send("GET", "/echo", service="orders").json()
    second = session.send("POST", "/echo", json={}).json()

    for echoed in (first, second):
        assert echoed["headers"]["X-Request-Id"] == "r-1"
        assert echoed["query"] == {"limit": "10"}


def test_credentials_set_the_authorization_header_unless_one_is_set_by_hand(
    session: HttpSession,
) -> None:
    session.credentials = Token("abcd-1234")
    by_credentials = session.send("GET", "/echo", service="orders").json()
    session.headers["Authorization"] = "Custom by-hand"
    by_hand = session.send("GET", "/echo").json()

    assert by_credentials["headers"]["Authorization"] == "Bearer abcd-1234"
    assert by_hand["headers"]["Authorization"] == "Custom by-hand"


def test_a_path_goes_to_the_service_of_the_previous_request(
    app: LocalApp, keys: object, session: HttpSession, services: dict[str, str]
) -> None:
    with LocalApp() as other:
        services["billing"] = other.url
        session.send("GET", "/echo", service="orders")
        to_orders = session.send("GET", "/echo")
        session.send("GET", "/echo", service="billing")
        to_billing = session.send("GET", "/echo")
        absolute = session.send("GET", app.url + "/echo")
        after_absolute = session.send("GET", "/echo")

    assert to_orders.url.startswith(app.url) and to_orders.service == "orders"
    assert to_billing.url.startswith(other.url) and to_billing.service == "billing"
    assert absolute.service is None and absolute.url == app.url + "/echo"
    # An absolute URL does not change where the next path goes.
    assert after_absolute.service == "billing"
    assert app.hits["/echo"] == 3 and other.hits["/echo"] == 3


def test_an_absolute_url_needs_no_service(app: LocalApp, session: HttpSession) -> None:
    exchange = session.send("GET", f"{app.url}/orders/o-9")

    assert exchange.json()["id"] == "o-9"
    assert exchange.service is None


def test_a_path_without_any_service_asks_which(session: HttpSession) -> None:
    with pytest.raises(InterlockError) as caught:
        session.send("GET", "/orders/1", where="orders.feature:7")

    text = str(caught.value)
    assert 'Which service? "/orders/1" is a path' in text
    assert "where: orders.feature:7" in text
    assert 'When I send GET "/orders/1" to "orders"' in text


def test_an_unknown_service_is_the_resolvers_error(session: HttpSession) -> None:
    with pytest.raises(InterlockError) as caught:
        session.send("GET", "/x", service="ordrs")

    assert 'Unknown service "ordrs"' in str(caught.value)
    assert 'did you mean "orders"' in str(caught.value)


def test_connection_refused_names_the_service_and_url(
    session: HttpSession, services: dict[str, str]
) -> None:
    port = free_port()
    services["stopped"] = f"http://127.0.0.1:{port}"

    with pytest.raises(InterlockError) as caught:
        session.send("GET", "/health", service="stopped", where="f.feature:2")

    text = str(caught.value)
    # The first line stays the same from run to run (reports group by it); the address
    # (a free port picked per run) is below it.
    assert text.splitlines()[0] == 'Cannot reach the "stopped" service: GET /health'
    assert f"GET http://127.0.0.1:{port}/health" in text
    assert "connection refused" in text
    assert "Is it running?" in text
    assert "where: f.feature:2" in text


def test_a_timeout_says_how_long_it_waited(
    services: dict[str, str], secrets: Secrets, reporter: MemoryReporter
) -> None:
    with (
        HttpSession(
            base_url_of=services.__getitem__, secrets=secrets, reporter=reporter, timeout=0.2
        ) as slow_session,
        pytest.raises(InterlockError) as caught,
    ):
        slow_session.send("GET", "/slow?ms=1500", service="orders")

    text = str(caught.value)
    assert text.splitlines()[0] == 'Cannot reach the "orders" service: GET /slow?ms=1500'
    assert "no answer within 0.2 seconds" in text
    assert "Is it running?" in text and "wait at most 0.2 seconds" in text


def test_a_response_that_is_not_json_says_what_it_is(session: HttpSession) -> None:
    exchange = session.send("GET", "/html-error", service="orders")

    with pytest.raises(InterlockError) as caught:
        exchange.json(where="orders.feature:9")

    text = str(caught.value)
    assert "The response is not JSON (status 500, Content-Type text/html)" in text
    assert "database down" in text
    assert "where: orders.feature:9" in text
    assert exchange.text.startswith("<html>")


def test_a_binary_body_is_described_not_dumped(session: HttpSession) -> None:
    exchange = session.send("GET", "/binary", service="orders")

    assert exchange.excerpt() == "(256 bytes of application/octet-stream)"
    assert "(256 bytes of application/octet-stream)" in exchange.report()


def test_redirects_are_shown_not_followed(session: HttpSession) -> None:
    exchange = session.send("GET", "/redirect", service="orders")

    assert exchange.status == 302
    assert exchange.response_headers["location"] == "/orders/1"


def test_head_and_options_work(session: HttpSession) -> None:
    head = session.send("HEAD", "/orders/1", service="orders")
    options = session.send("options", "/echo")

    assert head.status == 200 and head.response_body == b""
    assert options.method == "OPTIONS" and options.json()["method"] == "OPTIONS"


def test_every_exchange_is_attached_and_hooks_see_it(
    app: LocalApp, services: dict[str, str], secrets: Secrets, reporter: MemoryReporter
) -> None:
    seen: list[Exchange] = []
    with HttpSession(
        base_url_of=services.__getitem__,
        secrets=secrets,
        reporter=reporter,
        on_exchange=[seen.append],
    ) as http:
        exchange = http.send("POST", "/orders", service="orders", json={"customerId": "c-7"})

    assert seen == [exchange]
    [(name, body, kind)] = reporter.attachments
    assert name == "POST /orders → orders: 201 Created"  # the service's name, not its port
    assert kind == "text/plain"
    request_part, response_part = body.split("\n\nHTTP 201 Created", 1)
    assert request_part.startswith(f"POST {app.url}/orders\n")
    assert "Content-Type: application/json" in request_part
    assert '{\n  "customerId": "c-7"\n}' in request_part
    assert "ms)\n" in response_part.split("\n", 1)[0] + "\n"
    assert "Location: /orders/" in response_part
    assert '  "customerId": "c-7",' in response_part
    assert body.rstrip().splitlines()[-1] == exchange.curl()


def test_resend_sends_the_same_request_again(app: LocalApp, session: HttpSession) -> None:
    with pytest.raises(InterlockError, match="No request to send again"):
        session.resend()
    first = session.send("POST", "/echo", service="orders", json={"n": 1})
    again = session.resend()

    assert again is session.last and again is not first
    assert again.json()["json"] == {"n": 1}
    assert app.hits["/echo"] == 2


def test_the_curl_line_sends_the_same_request(app: LocalApp, session: HttpSession) -> None:
    session.headers["X-Request-Id"] = "it's r-2"
    session.params["q"] = "a b&c"
    exchange = session.send("POST", "/echo", service="orders", json={"say": "it's $HOME"})

    replayed = subprocess.run(
        ["bash", "-c", exchange.curl() + " --silent"],
        capture_output=True,
        check=True,
        timeout=30,
        text=True,
    )

    echoed, original = json.loads(replayed.stdout), exchange.json()
    for key in ("method", "path", "query", "json"):
        assert echoed[key] == original[key]
    assert echoed["headers"]["X-Request-Id"] == "it's r-2"


def test_proxy_variables_of_the_environment_are_honoured(
    app: LocalApp, session: HttpSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The local app stands in for a proxy: a proxied request line carries the full URL,
    # and the app answers it like any other (the .invalid host is never looked up).
    monkeypatch.setenv("HTTP_PROXY", app.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.2")

    proxied = session.send("GET", "http://through-proxy.invalid/echo")
    # Not proxied: straight to 127.0.0.2, where nothing listens.
    with pytest.raises(InterlockError, match="Cannot reach the server"):
        session.send("GET", f"http://127.0.0.2:{free_port()}/echo")

    assert proxied.status == 200 and proxied.json()["headers"]["Host"] == "through-proxy.invalid"
    assert app.hits["/echo"] == 1


def _session(app: LocalApp, connections: Connections | None) -> HttpSession:
    return HttpSession(base_url_of={"app": app.url}.__getitem__, secrets=Secrets(),
                       reporter=MemoryReporter(), connections=connections)


def test_scenarios_of_one_stack_share_kept_alive_connections(app: LocalApp) -> None:
    shared = Connections()
    try:
        for scenario in range(3):  # each scenario its own session, closed at its end
            with _session(app, shared) as session:
                session.headers["X-Scenario"] = str(scenario)
                assert session.send("GET", "/orders/1", service="app").status == 200
        assert app.connections_accepted == 1
        assert [r["headers"].get("X-Scenario") for r in app.requests] == ["0", "1", "2"]
    finally:
        shared.close()


def test_a_session_without_shared_connections_keeps_its_own(app: LocalApp) -> None:
    for _ in range(2):
        with _session(app, None) as session:
            session.send("GET", "/orders/1", service="app")
    assert app.connections_accepted == 2


def test_cookies_stay_with_their_scenario_when_connections_are_shared(app: LocalApp) -> None:
    shared = Connections()
    try:
        with _session(app, shared) as first:
            first.send("GET", "/echo", service="app")
            first._http.cookies.set("session", "first-scenario")
        with _session(app, shared) as second:
            second.send("GET", "/echo", service="app")
        assert "Cookie" not in app.requests[-1]["headers"]
    finally:
        shared.close()


def test_a_connection_the_server_dropped_is_made_again(app: LocalApp) -> None:
    shared = Connections()
    try:
        with _session(app, shared) as session:
            session.send("GET", "/orders/1", service="app")
        app.drop_connections()  # the service restarted, or its keep-alive ran out
        with _session(app, shared) as session:
            assert session.send("GET", "/orders/2", service="app").status == 200
        assert app.connections_accepted == 2
    finally:
        shared.close()
