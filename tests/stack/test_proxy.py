"""The delay proxy: it forwards without adding latency of its own when no delay is set, and
slows every caller or only one scenario's requests when told to."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from interlock._core.errors import InterlockError
from interlock.stack.proxy import ControlError, DelayProxy, put_delay
from interlock.stack.proxy import scenario_of as proxy_scenario_of
from interlock.stack.remote_delay import RemoteDelay


def test_the_proxy_sends_small_writes_at_once_tcp_nodelay() -> None:
    # Nagle's algorithm on a proxied connection holds a request's second small write (the body
    # after the headers) until the first is acknowledged: ~40 ms a request (bench/delay_proxy.py).
    upstream = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()

    def serve() -> None:
        conn, _ = upstream.accept()
        with conn:
            conn.sendall(conn.recv(100))
            accepted.set()

    threading.Thread(target=serve, daemon=True).start()
    proxy = DelayProxy("127.0.0.1", upstream.getsockname()[1])
    proxy.start()
    try:
        with socket.create_connection(("127.0.0.1", proxy.port)) as client:
            client.sendall(b"ping")
            assert client.recv(100) == b"ping"
            assert accepted.wait(5)
            sockets = list(proxy._sockets)
            assert len(sockets) == 2  # the caller's side and the service's side
            for sock in sockets:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        proxy.stop()
        upstream.close()


@pytest.fixture
def ok_service() -> Iterator[int]:
    """An HTTP/1.1 service on 127.0.0.1 that answers every GET with 200 "ok": its port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Ok(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    yield upstream.server_address[1]
    upstream.shutdown()
    upstream.server_close()


def test_a_kept_alive_connection_is_told_to_the_watcher_of_the_moment(ok_service: int) -> None:
    """A service's pooled connection (orders → auth) outlives the scenario it was opened in:
    its calls go to the watcher set now, not to the one (or none) of when it was opened."""
    proxy = DelayProxy("127.0.0.1", ok_service)
    proxy.start()
    seen: list[str] = []

    class Watcher:
        def requested(self, client_port: int, request: str) -> None:
            seen.append(request)

        def answered(self, client_port: int, status: str) -> None:
            seen.append(status)

    try:
        with requests.Session() as session:  # one kept-alive connection
            url = f"http://127.0.0.1:{proxy.port}/verify"
            assert session.get(url, timeout=5).status_code == 200  # no watcher yet
            proxy.watcher = Watcher()
            assert session.get(url, timeout=5).status_code == 200
        assert len(seen) == 2, seen
        assert seen[0] == "GET /verify HTTP/1.1"
        assert seen[1].startswith("HTTP/1.") and " 200 " in seen[1]
    finally:
        proxy.stop()


# -- a scenario's own delay (delay_proxy: {scenario_header: ...}) ---------------------------

A = "4bf92f3577b34da6a3ce929d0e0e4736"
B = "0af7651916cd43dd8448eb211c80319c"
LONG = 30.0  # a delayed answer never comes within the tests' timeouts


def _answer(client: socket.socket) -> bytes:
    """One whole answer of the service behind the proxy (its body is "ok")."""
    answer = b""
    while not answer.endswith(b"ok"):
        more = client.recv(1000)
        assert more, answer
        answer += more
    return answer


def _trace(scenario: str) -> dict[str, str]:
    return {"traceparent": f"00-{scenario}-00f067aa0ba902b7-01"}


@pytest.fixture
def scoped(ok_service: int) -> Iterator[DelayProxy]:
    """A proxy that tells scenarios apart by ``traceparent``, in front of ``ok_service``."""
    proxy = DelayProxy("127.0.0.1", ok_service, scenario_header="traceparent")
    proxy.start()
    yield proxy
    proxy.stop()


def test_a_scenarios_delay_slows_its_own_requests_only(scoped: DelayProxy) -> None:
    url = f"http://127.0.0.1:{scoped.port}/verify"
    scoped.delay_scenario(A, LONG)
    with requests.Session() as session:  # one kept-alive connection, read request by request
        assert session.get(url, headers=_trace(B), timeout=10).text == "ok"
        assert session.get(url, timeout=10).text == "ok"  # no scenario's id: not delayed
        with pytest.raises(requests.Timeout):
            session.get(url, headers=_trace(A), timeout=0.5)
    scoped.delay_scenario(A, 0)  # taken away (heal)
    assert scoped.scenario_delays == {}
    assert requests.get(url, headers=_trace(A), timeout=10).text == "ok"


def test_a_delay_for_every_caller_still_slows_every_scenario(scoped: DelayProxy) -> None:
    url = f"http://127.0.0.1:{scoped.port}/verify"
    scoped.delay = LONG
    for headers in (_trace(B), {}):
        with pytest.raises(requests.Timeout):
            requests.get(url, headers=headers, timeout=0.5)


def test_a_header_written_in_pieces_is_read_whole(scoped: DelayProxy) -> None:
    scoped.delay_scenario(A, LONG)
    with socket.create_connection(("127.0.0.1", scoped.port)) as client:
        client.settimeout(0.5)
        client.sendall(b"GET /verify HTTP/1.1\r\nHost: x\r\ntracep")
        client.sendall(f"arent: 00-{A}-00f067aa0ba902b7-01\r\n".encode())
        client.sendall(b"\r\n")
        with pytest.raises(TimeoutError):
            client.recv(100)
    with socket.create_connection(("127.0.0.1", scoped.port)) as client:
        client.settimeout(10)
        client.sendall(f"GET /verify HTTP/1.1\r\nHost: x\r\nTraceparent: 00-{B}-00f067aa0ba902b7"
                       "-01\r\n\r\n".encode())
        assert client.recv(100).startswith(b"HTTP/1.")


def test_a_request_line_in_pieces_starts_a_new_request_on_a_kept_alive_connection(
        scoped: DelayProxy) -> None:
    """The scenario of the request before is not kept for the next one on the same
    connection, however its bytes arrive; a head whose lines end in a bare line feed is read
    too."""
    with socket.create_connection(("127.0.0.1", scoped.port)) as client:
        client.settimeout(10)
        client.sendall(f"GET /one HTTP/1.1\r\nHost: x\r\ntraceparent: 00-{A}-00f067aa0ba902b7"
                       "-01\r\n\r\n".encode())
        assert _answer(client).endswith(b"ok")
        scoped.delay_scenario(A, LONG)  # the request above was A's; the next one is nobody's
        client.sendall(b"GET /tw")
        client.sendall(b"o HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(client).endswith(b"ok")
    with socket.create_connection(("127.0.0.1", scoped.port)) as client:
        client.settimeout(0.5)
        client.sendall(f"GET / HTTP/1.1\nHost: x\ntraceparent: 00-{A}-00f067aa0ba902b7-01\n\n"
                       .encode())
        with pytest.raises(TimeoutError):
            client.recv(100)


def test_the_watcher_of_a_scenario_is_told_of_its_calls_and_of_unknown_ones(
        scoped: DelayProxy) -> None:
    """On a shared stack the proxy also sees the calls made for other workers' scenarios:
    they are not drawn on this scenario's diagram."""
    seen: list[str] = []

    class Watcher:
        scenario = A
        own_only = False

        def requested(self, client_port: int, request: str) -> None:
            seen.append(request)

        def answered(self, client_port: int, status: str) -> None:
            answers.append(status)

    answers: list[str] = []
    url = f"http://127.0.0.1:{scoped.port}"
    for own_only, expected in ((False, ["GET /mine HTTP/1.1", "GET /unknown HTTP/1.1"]),
                               (True, ["GET /mine HTTP/1.1"])):  # beside other workers
        seen.clear()
        watcher = Watcher()
        watcher.own_only = own_only
        scoped.watcher = watcher
        for path, headers in (("/mine", _trace(A)), ("/other", _trace(B)), ("/unknown", {})):
            assert requests.get(url + path, headers=headers, timeout=10).text == "ok"
        assert seen == expected
    # A head in pieces is told once whole, with the scenario its later lines name.
    seen.clear()
    with socket.create_connection(("127.0.0.1", scoped.port)) as client:
        client.settimeout(10)
        client.sendall(b"GET /sp")
        client.sendall(b"lit HTTP/1.1\r\n")
        client.sendall(f"traceparent: 00-{A}-00f067aa0ba902b7-01\r\nHost: x\r\n\r\n".encode())
        assert _answer(client).endswith(b"ok")
    assert seen == ["GET /split HTTP/1.1"]
    assert answers[-1].startswith("HTTP/1.") and " 200 " in answers[-1]


def test_another_process_sets_a_scenarios_delay_through_the_control_port(
        scoped: DelayProxy) -> None:
    """The workers of a parallel run that did not start the stack hold a ``RemoteDelay``."""
    remote = RemoteDelay("auth", scoped.control_url(), "traceparent", scoped.port)
    remote.delay_scenario(A, LONG)
    assert scoped.scenario_delays == {A: LONG}
    assert scoped.delay == 0.0  # nobody else's requests
    remote.delay_scenario(A, 0)
    assert scoped.scenario_delays == {}
    put_delay(scoped.control_url(), 2.5)  # the whole proxy's, as the Docker backend sets it
    assert scoped.delay == 2.5
    for wrong in ("soon", "inf", "-1", "86400"):
        with pytest.raises(requests.HTTPError):
            requests.put(scoped.control_url(), data=wrong, timeout=10).raise_for_status()
    assert scoped.delay == 2.5
    scoped.stop()
    with pytest.raises(ControlError, match="stopped"):
        scoped.control_url()


def test_an_unreachable_control_port_is_an_error_naming_it() -> None:
    spare = socket.create_server(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()  # nobody listens there now
    with pytest.raises(InterlockError) as caught:
        RemoteDelay("auth", f"http://127.0.0.1:{port}/delay", "traceparent").delay_scenario(
            A, 1)
    assert f"PUT http://127.0.0.1:{port}/delay" in caught.value.details


@pytest.mark.parametrize(("header", "value"), [
    ("traceparent", f"00-{A}-00f067aa0ba902b7-01"), ("traceparent", f" 00-{A.upper()}-x-01 "),
    ("traceparent", "junk"), ("traceparent", ""), ("X-Test-Run", " s-1 "), ("X-Test-Run", None),
])
def test_the_proxy_and_the_stub_read_a_scenario_the_same_way(header: str,
                                                              value: str | None) -> None:
    from interlock.stubs import server

    assert proxy_scenario_of(header, value) == server.scenario_of(header, value)
