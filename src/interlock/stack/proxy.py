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
"""

from __future__ import annotations

import socket
import threading

_CHUNK = 65536


class DelayProxy:
    """Listens on a free port of 127.0.0.1 and forwards to ``host:port``, maybe slowly."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.delay = 0.0
        self._server = socket.create_server(("127.0.0.1", 0))
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
            with self._lock:
                self._sockets.update((client, upstream))
            waiting = threading.Event()
            threading.Thread(target=self._pump, args=(client, upstream, waiting, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, waiting, True),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, waiting: threading.Event,
              response: bool) -> None:
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
                target.sendall(data)
        except OSError:
            pass
        finally:
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
