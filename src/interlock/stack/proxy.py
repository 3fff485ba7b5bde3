"""A small TCP proxy in front of a service, to make it slow on purpose.

``Given the "auth" service responds with a delay of 3 seconds`` sets the delay; every caller
that reaches the service through its ``{auth.url}`` then waits that long for each answer.
The delay applies to the first bytes of each response (per request, keep-alive included).

With a ``scenario_header`` (the stack file's ``delay_proxy: {scenario_header: traceparent}``)
a delay can also be one scenario's: it applies only to the requests that carry that
scenario's id in the header (the trace id of a W3C ``traceparent``), which the system passes
on from the test's request. Other scenarios, on other workers of a parallel run, meanwhile
reach the service at its normal speed.

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

    python3 proxy.py --listen 8080 --upstream auth-direct:8080 --control 9000 \
        [--scenario-header traceparent]
    curl -X PUT --data 3 http://127.0.0.1:<published 9000>/delay
    curl -X PUT --data 3 'http://127.0.0.1:<published 9000>/delay?scenario=<id>'

The process backend serves the same control port (on 127.0.0.1) when other runs need to set
a scenario's delay: the workers of ``interlock run -j`` that did not start the stack.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import urllib.parse
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

_CHUNK = 65536
READY_LINE = "interlock delay proxy: ready"
_REQUEST_LINE = re.compile(rb"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r?\n")
MAX_DELAY = 3600.0  # seconds: the longest delay the control port takes
_HEAD_LIMIT = 65536  # a request's headers longer than this carry no scenario's id


class Watcher(Protocol):
    """Who is told of the HTTP calls that pass through the proxy (a scenario draws them).
    Each is told before the bytes are passed on, so what is told is in the order it
    happened; a watcher must be quick."""

    scenario: str | None  # whose calls it is told of, when the proxy tells them apart
    own_only: bool  # not told of the calls that carry no scenario's id either

    def requested(self, client_port: int, request: str) -> None:
        """A caller on ``client_port`` (of 127.0.0.1) sent ``request`` (its request line)."""

    def answered(self, client_port: int, status: str) -> None:
        """The service answered the connection from ``client_port`` with ``status`` (its
        status line)."""


class Delay(Protocol):
    """What the stack holds for a service with ``delay_proxy: true``, whatever runs it."""

    port: int  # where callers on this machine reach the service through the proxy
    delay: float  # seconds added to each answer; 0 for none
    scenario_header: str | None  # the header that tells the scenarios' requests apart

    def delay_scenario(self, scenario: str, seconds: float) -> None:
        """Add ``seconds`` to the answers to the requests of ``scenario`` only (0: none); an
        ``InterlockError`` when a proxy elsewhere cannot be reached."""

    def control_url(self) -> str:
        """Where another process sets the delays (``stack/remote_delay.py``), serving it if
        need be."""

    def stop(self) -> None:
        """Stop the proxy."""


class DelayProxy:
    """Listens on a free port of 127.0.0.1 (or on ``listen``) and forwards to ``host:port``,
    maybe slowly. ``host`` is resolved again for every connection (a restarted container may
    come back with another address)."""

    def __init__(self, host: str, port: int, listen: tuple[str, int] = ("127.0.0.1", 0),
                 scenario_header: str | None = None) -> None:
        self.upstream = (host, port)
        self.delay = 0.0
        self.scenario_header = scenario_header
        self.scenario_delays: dict[str, float] = {}  # by scenario id
        self._control: ThreadingHTTPServer | None = None
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
                    seconds = self.delay_for(call.scenario)
                    if waiting.is_set() and seconds > 0:
                        # The delay is the point of this proxy: a slow service, on purpose.
                        self._stopped.wait(seconds)
                    waiting.clear()
                    call.answered(data)  # told before it is passed on: in order
                else:
                    # A request's first bytes: those that come when no request is waiting
                    # for its answer (a body, or the rest of a head, comes while one is).
                    starts = not waiting.is_set()
                    waiting.set()
                    line = call.read_head(data, self.scenario_header, starts)
                    if line is not None:  # its whole head is here, and whose it is known
                        call.requested(line)  # told before its last bytes are passed on
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

    def delay_for(self, scenario: str | None) -> float:
        """Seconds added to an answer to a request of ``scenario`` (None: of no known one).

        Example:
            >>> proxy = DelayProxy("127.0.0.1", 9, scenario_header="traceparent")
            >>> proxy.delay_scenario("4bf92f3577b34da6a3ce929d0e0e4736", 3)
            >>> proxy.delay_for("4bf92f3577b34da6a3ce929d0e0e4736"), proxy.delay_for(None)
            (3.0, 0.0)
            >>> proxy.stop()
        """
        if scenario is None:
            return self.delay
        return max(self.delay, self.scenario_delays.get(scenario, 0.0))

    def delay_scenario(self, scenario: str, seconds: float) -> None:
        """Add ``seconds`` to the answers to the requests of ``scenario`` only (0: none)."""
        if seconds > 0:
            self.scenario_delays[scenario] = float(seconds)
        else:
            self.scenario_delays.pop(scenario, None)

    def control_url(self) -> str:
        """The control port's ``/delay`` on 127.0.0.1, served from the first call on."""
        with self._lock:
            if self._stopped.is_set():
                raise ControlError(f"the proxy on port {self.port} is stopped")
            if self._control is None:
                self._control = serve_control(self, 0, host="127.0.0.1")
            port = self._control.server_address[1]
        return f"http://127.0.0.1:{port}/delay"

    def stop(self) -> None:
        """Stop accepting and close every connection."""
        with self._lock:
            self._stopped.set()
            control, self._control = self._control, None
        self._server.close()
        if control is not None:
            control.shutdown()
            control.server_close()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _end_of_head(head: bytearray) -> int:
    """Where the blank line that ends a request's head starts (-1: not there yet); a head
    whose lines end in a bare line feed is read too.

    Example:
        >>> _end_of_head(bytearray(b"GET / HTTP/1.1\\r\\nA: b\\r\\n\\r\\nbody"))
        20
        >>> _end_of_head(bytearray(b"GET / HTTP/1.1\\nA: b\\n\\n"))
        19
        >>> _end_of_head(bytearray(b"GET /"))
        -1
    """
    ends = [found for found in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if found >= 0]
    return min(ends) if ends else -1


class _Call:
    """One connection's HTTP request and status lines, told to the proxy's watcher of the
    moment (a kept-alive connection outlives the scenario it was opened in)."""

    def __init__(self, proxy: DelayProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.asked = False
        self.scenario: str | None = None  # whose request is being answered
        self._head: bytearray | None = None  # a request's headers, while they arrive
        try:
            self.port: int | None = client.getpeername()[1]
        except OSError:
            self.port = None

    def read_head(self, data: bytes, header: str | None, starts: bool) -> str | None:
        """Read the head of the request whose bytes ``data`` are (``starts``: they are its
        first; its head may come in several pieces, its request line too; a body is not
        read): once it is whole, note whose request it is (by ``header``), and return its
        request line. Requests sent before the answer to the one before them (HTTP
        pipelining, which clients do not do) count as that one's."""
        if starts:
            self._head = bytearray()
            self.scenario = None
        if self._head is None:
            return None
        self._head += data
        end = _end_of_head(self._head)
        if end < 0 and len(self._head) < _HEAD_LIMIT:
            return None
        head, self._head = bytes(self._head[:end if end >= 0 else _HEAD_LIMIT]), None
        lines = head.split(b"\n")
        if header:
            wanted = header.lower().encode("latin-1") + b":"
            for line in lines[1:]:
                if line.lower().startswith(wanted):
                    self.scenario = scenario_of(header, line[len(wanted):].decode("latin-1"))
                    break
        return lines[0].decode("latin-1").strip()

    def requested(self, line: str) -> None:
        """Tell the watcher of a request whose head is whole (``line``: its request line)."""
        watcher = self.proxy.watcher
        if (watcher is None or self.port is None or not self._mine(watcher)
                or not _REQUEST_LINE.match(line.encode("latin-1") + b"\n")):
            return
        self.asked = True
        watcher.requested(self.port, line)

    def answered(self, data: bytes) -> None:
        """Tell the watcher of the answer whose first bytes ``data`` may be."""
        if not self.asked or not data.startswith(b"HTTP/1."):
            return
        self.asked = False
        watcher = self.proxy.watcher
        if watcher is not None and self.port is not None and self._mine(watcher):
            watcher.answered(self.port, data.split(b"\n", 1)[0].decode("latin-1").strip())

    def _mine(self, watcher: Watcher) -> bool:
        """Whether the watcher's scenario is told of this call: not another scenario's
        (another worker's, on a shared stack), nor, ``own_only``, one of nobody known."""
        mine = getattr(watcher, "scenario", None)
        if not mine or self.scenario == mine:
            return True
        return self.scenario is None and not getattr(watcher, "own_only", False)


def scenario_of(header: str, value: str | None) -> str | None:
    """The scenario a request belongs to, by the value of ``header``: the trace id of a
    ``traceparent``, the whole value of another header. The same rule as
    ``interlock.stubs.server.scenario_of`` (this file runs alone in a container, so it cannot
    import that one; a test keeps the two in agreement).

    Example:
        >>> scenario_of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        '4bf92f3577b34da6a3ce929d0e0e4736'
        >>> scenario_of("X-Test-Run", " s-1 "), scenario_of("traceparent", "junk")
        ('s-1', None)
    """
    if value is None or not value.strip():
        return None
    if header.lower() != "traceparent":
        return value.strip()
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32:
        return None
    return parts[1].lower()


class ControlError(Exception):
    """The proxy's control port could not be reached, or refused the delay."""


def put_delay(url: str, seconds: float, scenario: str | None = None) -> None:
    """Set a proxy's delay through its control port ``url`` (``.../delay``): every caller's,
    or only ``scenario``'s requests'."""
    import urllib.error
    import urllib.request

    target = url + ("?" + urllib.parse.urlencode({"scenario": scenario}) if scenario else "")
    request = urllib.request.Request(target, data=str(seconds).encode(), method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()
    except (urllib.error.URLError, OSError) as err:
        raise ControlError(f"PUT {target}: {err}") from None


def serve_control(proxy: DelayProxy, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """``GET``/``PUT /delay`` (seconds as the body; ``?scenario=<id>`` for one scenario's
    requests) on ``port``, for the host or another worker to set the delay."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
            path, _, query = self.path.partition("?")
            scenario = urllib.parse.parse_qs(query).get("scenario", [""])[0]
            if path != "/delay" or not 0 <= seconds <= MAX_DELAY:
                self._answer(404 if path != "/delay" else 400, "PUT /delay <seconds>")
                return
            if scenario:
                proxy.delay_scenario(scenario, seconds)
            else:
                proxy.delay = seconds
            self._answer(200, str(seconds))

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the service's own log is what a reader looks at."""

    server = ThreadingHTTPServer((host, port), Control)
    server.daemon_threads = True
    # Polled often enough that stopping the stack does not wait on it (shutdown waits a poll).
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name="proxy-control", daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    """The proxy as a program (in a container): forward ``--listen`` to ``--upstream``."""
    import argparse

    parser = argparse.ArgumentParser(prog="proxy.py", description="A TCP proxy that can be slow.")
    parser.add_argument("--listen", type=int, required=True, help="port to accept callers on")
    parser.add_argument("--upstream", required=True, help="host:port of the real service")
    parser.add_argument("--control", type=int, required=True, help="port of GET/PUT /delay")
    parser.add_argument("--scenario-header", help="the header that tells scenarios apart")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    proxy = DelayProxy(host, int(port), listen=("0.0.0.0", args.listen),
                       scenario_header=args.scenario_header)
    proxy.start()
    serve_control(proxy, args.control)
    print(f"{READY_LINE} on {args.listen}, forwarding to {args.upstream}", flush=True)
    threading.Event().wait()  # until SIGTERM ends the process
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
