"""A tiny service for the Docker backend's tests; one mode per readiness kind.

It runs inside the test image (see Dockerfile); pytest only imports it, which does nothing.
Modes (the first argument):

    http HTTP on $PORT (8000): /health, /greeting, /call?url=<url> (after $DELAY s)
    echo TCP echo on $PORT (after $DELAY s)
    log prints "ready to serve" after $DELAY s, then idles
    touch creates $READY_FILE after $DELAY s, then idles
    silent prints "never listening", then idles
    exit prints "giving up" and exits with code 3
"""

import http.server
import os
import socketserver
import sys
import threading
import time
import urllib.request

PORT = int(os.environ.get("PORT", "8000"))
DELAY = float(os.environ.get("DELAY", "0"))
HEALTHY_AFTER = float(os.environ.get("HEALTHY_AFTER", "0"))
STARTED = time.monotonic()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            healthy = time.monotonic() - STARTED >= HEALTHY_AFTER
            self.answer(200 if healthy else 503, b"ok" if healthy else b"starting")
        elif self.path == "/greeting":
            import greeting  # installed in the image from the host-built wheelhouse, offline

            text = greeting.greet(os.environ.get("GREETING", "world"))
            self.answer(200, f"{text} (greeting {greeting.VERSION})".encode())
        elif self.path.startswith("/call?url="):
            url = self.path.split("=", 1)[1]
            with urllib.request.urlopen(url, timeout=5) as response:
                self.answer(200, response.read())
        else:
            self.answer(404, b"not found")

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


def idle() -> None:
    threading.Event().wait()


def main(mode: str) -> None:
    print(f"app: mode {mode}, pid {os.getpid()}", flush=True)
    if mode == "silent":
        print("never listening", flush=True)
        idle()
    if mode == "exit":
        print("giving up", flush=True)
        sys.exit(3)
    time.sleep(DELAY)
    if mode == "http":
        print(f"listening on {PORT}", flush=True)
        http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
    elif mode == "echo":
        print(f"echoing on {PORT}", flush=True)
        socketserver.ThreadingTCPServer(("0.0.0.0", PORT), Echo).serve_forever()
    elif mode == "log":
        print("ready to serve", flush=True)
        idle()
    elif mode == "touch":
        with open(os.environ["READY_FILE"], "w") as marker:
            marker.write("ready")
        idle()
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http")
