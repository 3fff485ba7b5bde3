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
