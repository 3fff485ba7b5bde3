"""The delay proxy forwards without adding latency of its own when no delay is set."""

from __future__ import annotations

import socket
import threading

from interlock.stack.proxy import DelayProxy


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


def test_a_kept_alive_connection_is_told_to_the_watcher_of_the_moment() -> None:
    """A service's pooled connection (orders → auth) outlives the scenario it was opened in:
    its calls go to the watcher set now, not to the one (or none) of when it was opened."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

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
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proxy = DelayProxy("127.0.0.1", upstream.server_address[1])
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
        upstream.shutdown()
        upstream.server_close()
