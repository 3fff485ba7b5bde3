"""A tiny real HTTP service for the stack tests: /health, /hello, /env/<NAME>, /crash.

    python tiny_service.py --port 8000 [--exit-at-start] [--never-listen] [--hold-port]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/crash":
            print("crashing on purpose", flush=True)
            os._exit(3)
        if self.path.startswith("/env/"):
            body = json.dumps({"value": os.environ.get(self.path[5:])}).encode()
        else:
            body = json.dumps({"status": "ok", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print("request", self.path, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--exit-at-start", action="store_true")
    parser.add_argument("--never-listen", action="store_true")
    parser.add_argument("--listen-after", type=float, default=0.0,
                        help="a slow start: listen only after this many seconds")
    args = parser.parse_args()
    print(f"starting tiny service, secret={os.environ.get('TINY_SECRET', '')}", flush=True)
    if args.exit_at_start:
        print("cannot start: configuration missing", flush=True)
        sys.exit(2)
    if args.never_listen:
        threading.Event().wait()
    threading.Event().wait(args.listen_after)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on port {args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
