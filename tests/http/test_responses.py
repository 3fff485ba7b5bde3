"""Response expectations on real exchanges: each one holding, and failing with a clear text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from interlock._core.errors import Failure
from interlock.http import Exchange, HttpSession, responses


@pytest.fixture
def order(session: HttpSession) -> Exchange:
    return session.send("GET", "/orders/o-1", service="orders")


@pytest.fixture
def created(session: HttpSession) -> Exchange:
    return session.send("POST", "/orders", service="orders", json={"customerId": "c-2"})


@pytest.fixture
def error_page(session: HttpSession) -> Exchange:
    return session.send("GET", "/html-error", service="orders")


def failure_of(check: Callable[..., Any], *args: Any, where: str = "o.feature:5") -> str:
    with pytest.raises(Failure) as caught:
        check(*args, where=where)
    text = str(caught.value)
    assert "where: o.feature:5 (GET http://127.0.0.1:" in text or "(POST http" in text
    return text


def test_status_is(order: Exchange, error_page: Exchange) -> None:
    responses.status_is(order, 200)

    text = failure_of(responses.status_is, error_page, 200)
    assert text.startswith("Response status is 500 Internal Server Error, expected 200")
    # The body usually says why.
    assert "body: <html><body><h1>Internal Server Error</h1>database down</body></html>" in text


def test_status_is_one_of(created: Exchange) -> None:
    responses.status_is_one_of(created, [200, 201])

    text = failure_of(responses.status_is_one_of, created, [200, 204])
    assert text.startswith("Response status is 201 Created, expected one of 200, 204")
    assert '"customerId": "c-2"' in text


def test_header_is(order: Exchange) -> None:
    responses.header_is(order, "content-type", "application/json")

    text = failure_of(responses.header_is, order, "Content-Type", "text/plain")
    assert text.startswith(
        'Response header "Content-Type" is "application/json", expected "text/plain"'
    )
    assert 'the response header "Content-Type" contains' in text


def test_header_contains(order: Exchange) -> None:
    responses.header_contains(order, "Content-Type", "json")

    text = failure_of(responses.header_contains, order, "Content-Type", "xml")
    assert 'is "application/json", expected it to contain "xml"' in text


def test_a_missing_header_lists_the_headers_present(order: Exchange) -> None:
    text = failure_of(responses.header_is, order, "Location", "/x")

    assert text.startswith('Response has no header "Location"')
    assert "headers present: Server, Date, Content-Type, Content-Length" in text


def test_body_contains(session: HttpSession) -> None:
    text_page = session.send("GET", "/text", service="orders")
    responses.body_contains(text_page, "pending")

    text = failure_of(responses.body_contains, text_page, "completed")
    assert text.startswith('Response body does not contain "completed"')
    assert "body: order is pending" in text


def test_json_at_is(order: Exchange) -> None:
    responses.json_at_is(order, "$.status", "pending")
    responses.json_at_is(order, "$.items[0]", {"productId": "p-1", "quantity": "#integer"})

    text = failure_of(responses.json_at_is, order, "$.status", "completed")
    assert "response JSON at $.status does not match" in text
    assert 'expected "completed", got "pending"' in text


def test_json_at_a_missing_path_shows_what_is_there(order: Exchange) -> None:
    text = failure_of(responses.json_at_is, order, "$.state", "pending")

    assert "no value at $.state" in text
    assert '"status"' in text


def test_json_at_contains(order: Exchange) -> None:
    responses.json_at_contains(order, "$.items", [{"productId": "p-1"}])

    text = failure_of(responses.json_at_contains, order, "$.items", [{"productId": "p-9"}])
    assert "response JSON at $.items does not contain the expected values" in text


def test_json_is_lists_every_mismatch(order: Exchange) -> None:
    responses.json_is(
        order,
        {
            "id": "o-1",
            "status": "pending",
            "customerId": "#string",
            "items": "#[1]",
            "createdAt": "#datetime",
        },
    )

    text = failure_of(
        responses.json_is,
        order,
        {
            "id": "o-2",
            "status": "completed",
            "customerId": "#string",
            "items": "#[2]",
            "createdAt": "#datetime",
        },
    )
    assert "response JSON does not match (3 mismatches)" in text
    assert "$.id" in text and "$.status" in text and "$.items" in text


def test_json_contains(order: Exchange) -> None:
    responses.json_contains(order, {"status": "pending"})

    text = failure_of(responses.json_contains, order, {"status": "pending", "paid": True})
    assert "response JSON does not contain the expected values" in text
    assert "$.paid" in text


def test_json_checks_on_a_page_that_is_not_json_fail(error_page: Exchange) -> None:
    # A Failure, not a suite error: `within` may wait until the service answers with JSON.
    text = failure_of(responses.json_contains, error_page, {"status": "pending"})

    assert "The response is not JSON (status 500, Content-Type text/html)" in text
    assert "database down" in text


def test_time_under(order: Exchange) -> None:
    responses.time_under(order, 60_000)

    text = failure_of(responses.time_under, order, 0)
    assert "expected under 0 ms" in text and text.startswith("Response took ")


def test_remember_values(created: Exchange) -> None:
    order_id = responses.remember_json_at(created, "$.id")
    location = responses.remember_header(created, "location")

    assert location == f"/orders/{order_id}"
    assert "no value at $.nope" in failure_of(responses.remember_json_at, created, "$.nope")
    assert 'no header "Etag"' in failure_of(responses.remember_header, created, "Etag")


def test_a_header_may_be_checked_with_a_marker(app: Any) -> None:
    from interlock._core.report import MemoryReporter
    from interlock._core.secrets import Secrets

    session = HttpSession(base_url_of={"app": app.url}.__getitem__, secrets=Secrets(),
                          reporter=MemoryReporter())
    exchange = session.send("POST", "/orders", service="app", json={"items": []})
    responses.header_is(exchange, "Location", "#regex ^/orders/[0-9a-f-]{36}$")
    with pytest.raises(Failure, match="expected #uuid"):
        responses.header_is(exchange, "Location", "#uuid")
