"""What a stub adds to an answer, against a plain handler on the same server library.

In one run, two werkzeug servers (threaded, the same request handler, each a process of its
own) answer N POST requests with a small JSON body, interleaved in rounds:

  (a) a plain WSGI handler that answers 201 and a fixed JSON document;
  (b) Interlock's stub server (``interlock/stubs/server.py``), programmed with that same
      answer among 20 others, which it matches (method, path with a ``{var}``), journals
      and answers.

Printed: the median time per request of each side, what the stub adds at the median, and
the ratio. Goal: under 1 ms added at the median.

    PYTHONPATH=src:. python bench/stub_answer.py [--requests 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import requests

from interlock.stubs import Stub

PLAIN = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response
from server import QuietHandler  # the stub's handler: the same server, minus the stub
BODY = json.dumps({"id": "ch-1", "status": "succeeded"}).encode()
def app(environ, start_response):
    request = Request(environ)
    request.get_data()
    response = Response(BODY, status=201, content_type="application/json")
    return response(environ, start_response)
server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def per_request(session: requests.Session, url: str, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        answer = session.post(url, json={"amount": 120 + i, "currency": "EUR"}, timeout=10)
        assert answer.status_code == 201, answer.text
    return (time.perf_counter() - started) / n


def start(command: list[str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, int(line.split(":")[-1]) if ":" in line else int(line)


def main() -> None:
    import interlock.stubs.server as stub_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = str(stub_server.__file__).rsplit("/", 1)[0]
    plain, plain_port = start([sys.executable, "-c", PLAIN, folder])
    stub_process, stub_port = start([sys.executable, stub_server.__file__, "--port", "0"])
    try:
        stub = Stub("bench", f"http://127.0.0.1:{stub_port}")
        for n in range(20):
            stub.answer("GET", f"/other/{n}/{{id}}", status=200, json={"n": n}, keep=True)
        stub.answer("POST", "/charges", status=201, json={"id": "ch-1", "status": "succeeded"})
        direct, stubbed = [], []
        with requests.Session() as a, requests.Session() as b:
            for _ in range(args.rounds):
                direct.append(per_request(a, f"http://127.0.0.1:{plain_port}/charges",
                                          args.requests))
                stubbed.append(per_request(b, f"http://127.0.0.1:{stub_port}/charges",
                                           args.requests))
                stub.reset()  # the journal of a scenario, not of the whole bench
                stub.answer("POST", "/charges", status=201,
                            json={"id": "ch-1", "status": "succeeded"})
        stub.close()
    finally:
        for process in (plain, stub_process):
            process.terminate()
            process.wait()
    d, s = statistics.median(direct), statistics.median(stubbed)
    print(f"plain werkzeug handler {d * 1000:7.3f} ms/request (median of {args.rounds} rounds)")
    print(f"stub                   {s * 1000:7.3f} ms/request")
    print(f"stub adds {(s - d) * 1000:.3f} ms at the median; stub / plain = {s / d:.2f}")


if __name__ == "__main__":
    main()
