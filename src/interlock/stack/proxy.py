"""A small TCP proxy in front of a service, to make it slow on purpose.

``Given the "auth" service responds with a delay of 3 seconds`` sets the delay; every caller
that reaches the service through its ``{auth.url}`` then waits that long for each answer.
The delay applies to the first bytes of each response (per request, keep-alive included).

Example:
    >>> import socket, threading
    >>> upstream = socket.create_server(("127.0.0.1", 0))
    >>> def echo():
    ...     conn, _ = upstream.accept()
    ...     conn.sendall(conn.recv(100)); conn.close()
    >>> _ = threading.Thread(target=echo, daemon=True).start()
    >>> proxy = DelayProxy("127.0.0.1", upstream.getsockname()[1]); proxy.start()
    >>> with socket.create_connection(("127.0.0.1", proxy.port)) as client:
    ...     client.sendall(b"ping"); client.recv(100)
    b'ping'
    >>> proxy.stop(); upstream.close()

Under the Docker backend the callers are containers, so the same code runs in a small
container of its own on the stack's network (``stack/backends/docker/delay.py``): it takes the
service's name there, forwards to the service's other name (``auth-direct``), and the host
sets the delay through a control port. This file is therefore standard library only, and
runs as a program::

    python3 proxy.py --listen 8080 --upstream auth-direct:8080 --control 9000
    curl -X PUT --data 3 http://127.0.0.1:<published 9000>/delay
"""

from __future__ import annotations

import re
import socket
import sys
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

_CHUNK = 65536
READY_LINE = "interlock delay proxy: ready"
_REQUEST_LINE = re.compile(rb"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r?\n")


class Watcher(Protocol):
    """Who is told of the HTTP calls that pass through the proxy (a scenario draws them).
    Each is told before the bytes are passed on, so what is told is in the order it
    happened; a watcher must be quick."""

    def requested(self, client_port: int, request: str) -> None:
        """A caller on ``client_port`` (of 127.0.0.1) sent ``request`` (its request line)."""

    def answered(self, client_port: int, status: str) -> None:
        """The service answered the connection from ``client_port`` with ``status`` (its
        status line)."""


class Delay(Protocol):
    """What the stack holds for a service with ``delay_proxy: true``, whatever runs it."""

    port: int  # where callers on this machine reach the service through the proxy
    delay: float  # seconds added to each answer; 0 for none

    def stop(self) -> None:
        """Stop the proxy."""


class DelayProxy:
    """Listens on a free port of 127.0.0.1 (or on ``listen``) and forwards to ``host:port``,
    maybe slowly. ``host`` is resolved again for every connection (a restarted container may
    come back with another address)."""

    def __init__(self, host: str, port: int, listen: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.upstream = (host, port)
        self.delay = 0.0
        self.watcher: Watcher | None = None
        # A watcher's answer to who called, by the caller's port ("" for the test itself,
        # None for nobody known): kept while the connection lives, which outlives the
        # scenario that first saw it.
        self.known: dict[int, str | None] = {}
        self._server = socket.create_server(listen)
        self.port: int = self._server.getsockname()[1]
        self._stopped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start accepting connections in a background thread."""
        threading.Thread(target=self._accept, name=f"proxy-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                # Without this a request written in two sends (headers, then body) waits for
                # the first send's ACK: Nagle against delayed ACK, about 40 ms a request.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets.update((client, upstream))
            waiting = threading.Event()
            call = _Call(self, client)
            threading.Thread(target=self._pump, args=(client, upstream, waiting, False, call),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, waiting, True, call),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, waiting: threading.Event,
              response: bool, call: _Call) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                if response:
                    if waiting.is_set() and self.delay > 0:
                        # The delay is the point of this proxy: a slow service, on purpose.
                        self._stopped.wait(self.delay)
                    waiting.clear()
                else:
                    waiting.set()
                call.saw(data, response)  # told before it is passed on: in order
                target.sendall(data)
        except OSError:
            pass
        finally:
            if not response and call.port is not None:
                self.known.pop(call.port, None)
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        """Stop accepting and close every connection."""
        self._stopped.set()
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _Call:
    """One connection's HTTP request and status lines, told to the proxy's watcher of the
    moment (a kept-alive connection outlives the scenario it was opened in)."""

    def __init__(self, proxy: DelayProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.asked = False
        try:
            self.port: int | None = client.getpeername()[1]
        except OSError:
            self.port = None

    def saw(self, data: bytes, response: bool) -> None:
        watcher = self.proxy.watcher
        if watcher is None or self.port is None:
            return
        first = data.split(b"\n", 1)[0].decode("latin-1").strip()
        if not response and _REQUEST_LINE.match(data):
            self.asked = True
            watcher.requested(self.port, first)
        elif response and self.asked and data.startswith(b"HTTP/1."):
            self.asked = False
            watcher.answered(self.port, first)


def serve_control(proxy: DelayProxy, port: int) -> ThreadingHTTPServer:
    """``GET``/``PUT /delay`` (seconds as the body) on ``port``, for the host to set the delay."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # in a container only

    class Control(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200, str(proxy.delay))

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                seconds = float(self.rfile.read(length).decode() or "0")
            except ValueError:
                self._answer(400, "the body must be a number of seconds")
                return
            if self.path != "/delay" or seconds < 0:
                self._answer(404 if self.path != "/delay" else 400, "PUT /delay <seconds>")
                return
            proxy.delay = seconds
            self._answer(200, str(proxy.delay))

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the service's own log is what a reader looks at."""

    server = ThreadingHTTPServer(("0.0.0.0", port), Control)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="proxy-control", daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    """The proxy as a program (in a container): forward ``--listen`` to ``--upstream``."""
    import argparse

    parser = argparse.ArgumentParser(prog="proxy.py", description="A TCP proxy that can be slow.")
    parser.add_argument("--listen", type=int, required=True, help="port to accept callers on")
    parser.add_argument("--upstream", required=True, help="host:port of the real service")
    parser.add_argument("--control", type=int, required=True, help="port of GET/PUT /delay")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    proxy = DelayProxy(host, int(port), listen=("0.0.0.0", args.listen))
    proxy.start()
    serve_control(proxy, args.control)
    print(f"{READY_LINE} on {args.listen}, forwarding to {args.upstream}", flush=True)
    threading.Event().wait()  # until SIGTERM ends the process
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
