"""When auth is slow or down, the other services say 503 and log why; then they recover."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from demo_client import Api
from demo_stack import Demo, wait_until

ITEMS = [{"productId": "drill-1", "quantity": 1}]


@pytest.fixture
def hung_auth() -> Iterator[str]:
    """A real listener that accepts connections and never answers: a hung auth service."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_slow_auth_is_503_and_logged_as_a_timeout(api: Api, extra: Any,
                                                    hung_auth: str) -> None:
    orders = extra("orders", AUTH_URL=hung_auth, ORDERS_AUTH_TIMEOUT="0.3")
    answer = api.call("orders", "POST", "/orders", user="alice", base=orders.url,
                      json={"items": ITEMS})
    assert answer.status_code == 503 and answer.json() == {"error": "auth unavailable"}
    wait_until(lambda: "token verification timed out" in orders.log(), 5, "the log line")


def test_a_stopped_auth_is_503_then_orders_recover_when_it_is_back(api: Api,
                                                                    demo: Demo) -> None:
    token = api.token("alice")  # issued before auth goes away; still valid after
    auth = demo.services["auth"]
    auth.stop()
    try:
        for service, path in (("orders", "/orders"), ("notifications", "/notifications/tom"),
                              ("analytics", "/metrics/orders/x")):
            method = "POST" if service == "orders" else "GET"
            answer = api.call(service, method, path, token=token, json={"items": ITEMS})
            assert answer.status_code == 503, service
            assert answer.json() == {"error": "auth unavailable"}
        assert "auth unreachable" in demo.services["orders"].log()
    finally:
        auth.start().wait_healthy()
    answer = api.call("orders", "POST", "/orders", token=token, json={"items": ITEMS})
    assert answer.status_code == 201
