"""A service that calls another: GET /relay calls $UP_URL/hello and answers with its status."""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200
        if self.path == "/relay":
            trace = self.headers.get("traceparent")  # passed on, as a traced service does
            call = urllib.request.Request(os.environ["UP_URL"] + "/hello",
                                          headers={"traceparent": trace} if trace else {})
            with urllib.request.urlopen(call, timeout=5) as answer:
                status = answer.status
        body = json.dumps({"upstream": status, "via": os.environ["UP_URL"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
