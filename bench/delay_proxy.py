"""What the delay proxy costs a request when no delay is set.

In one run, against one local HTTP server (keep-alive, a process of its own), N POST requests
with a small JSON body, sent two ways and interleaved in rounds:

  (a) direct to the server;
  (b) through ``DelayProxy`` (delay 0), as every caller of a ``delay_proxy: true`` service is.

``requests`` writes a POST's headers and body in two sends; without TCP_NODELAY on the
proxy's sockets the second send waits for the first one's ACK (Nagle against delayed ACK,
about 40 ms on Linux). Printed: median time per request of each side and their ratio.
Goal: (b) / (a) close to 1.

    PYTHONPATH=src:. python bench/delay_proxy.py [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import requests

from interlock.stack.proxy import DelayProxy

SERVER = r"""
import json, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):  # as uvicorn does: answers are not held back by Nagle
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        out = json.dumps({"got": len(body)}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a): pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def per_request(session: requests.Session, url: str, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        answer = session.post(url, json={"order": i, "items": [1, 2, 3]}, timeout=10)
        assert answer.status_code == 200
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        proxy = DelayProxy("127.0.0.1", port)
        proxy.start()
        direct, proxied = [], []
        with requests.Session() as a, requests.Session() as b:
            for _ in range(args.rounds):
                direct.append(per_request(a, f"http://127.0.0.1:{port}/x", args.requests))
                proxied.append(per_request(b, f"http://127.0.0.1:{proxy.port}/x", args.requests))
        proxy.stop()
    finally:
        server.terminate()
        server.wait()
    d, p = statistics.median(direct), statistics.median(proxied)
    print(f"direct   {d * 1000:7.2f} ms/request (median of {args.rounds} rounds)")
    print(f"proxied  {p * 1000:7.2f} ms/request")
    print(f"proxied / direct = {p / d:.2f}")


if __name__ == "__main__":
    main()
