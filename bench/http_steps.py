"""What Interlock's HTTP layer costs over plain requests.

In one run, against one local server (the test app), N GET requests each followed by a JSON
check, sent two ways:

  (a) interlock: HttpSession.send + responses.status_is / json_at_is, with a MemoryReporter
      and a Secrets holding a few values, as in a real run (every exchange is formatted,
      redacted and attached);
  (b) plain: requests.Session().get + .json() + assert.

The two are interleaved in rounds so that drift (CPU frequency, other load) hits both alike;
the server runs in a process of its own, as a service under test does. Printed: total wall
time of each side and their ratio, the median of the per-round ratios (steadier on a busy
machine), and the client's own CPU time per request (what Interlock adds is CPU work).
Goal: (a) / (b) <= 1.05.

    PYTHONPATH=src:. python bench/http_steps.py [--requests 500] [--rounds 10] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.http import HttpSession, responses


@contextmanager
def served() -> Iterator[str]:
    """The test app in a child process; its base URL."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(root, "src"), root])}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.http.app"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env=env,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the app stops when its input ends
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def through_interlock(session: HttpSession, count: int) -> None:
    for i in range(count):
        exchange = session.send("GET", f"/orders/o-{i}", service="orders")
        responses.status_is(exchange, 200)
        responses.json_at_is(exchange, "$.status", "pending")


def through_requests(http: requests.Session, base: str, count: int) -> None:
    for i in range(count):
        response = http.get(f"{base}/orders/o-{i}", headers={"X-Request-Id": "bench"})
        assert response.status_code == 200
        assert response.json()["status"] == "pending"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="profile the interlock side")
    args = parser.parse_args()
    per_round = args.requests // args.rounds

    with served() as url:
        secrets = Secrets()
        secrets.add("a-configured-secret-value", "another-secret-token-value", "password-123")
        reporter = MemoryReporter(secrets)
        session = HttpSession(
            base_url_of={"orders": url}.__getitem__, secrets=secrets, reporter=reporter
        )
        session.headers["X-Request-Id"] = "bench"
        plain = requests.Session()
        # Warm up both: connections, imports, caches.
        through_interlock(session, 20)
        through_requests(plain, url, 20)

        wall = {"a": 0.0, "b": 0.0}
        cpu = {"a": 0.0, "b": 0.0}
        ratios = []
        profiler = cProfile.Profile() if args.profile else None
        gc.collect()
        for round_ in range(args.rounds):
            # Alternate which goes first, so neither always runs on a warmer machine.
            order = ("a", "b") if round_ % 2 == 0 else ("b", "a")
            took = {}
            for side in order:
                started, started_cpu = time.perf_counter(), time.thread_time()
                if side == "a":
                    if profiler:
                        profiler.enable()
                    through_interlock(session, per_round)
                    if profiler:
                        profiler.disable()
                else:
                    through_requests(plain, url, per_round)
                took[side] = time.perf_counter() - started
                wall[side] += took[side]
                cpu[side] += time.thread_time() - started_cpu
            ratios.append(took["a"] / took["b"])
        session.close()
        plain.close()

    total = per_round * args.rounds
    for side, label in (
        ("a", "interlock HttpSession + responses"),
        ("b", "plain requests + json + assert   "),
    ):
        print(
            f"({side}) {label}: {wall[side]:.3f} s wall, "
            f"{wall[side] / total * 1e6:.0f} us/request, "
            f"client CPU {cpu[side] / total * 1e6:.0f} us/request"
        )
    print(f"requests: {total} per side in {args.rounds} interleaved rounds")
    print(f"ratio a/b, total wall time:     {wall['a'] / wall['b']:.3f}  (goal <= 1.05)")
    print(f"ratio a/b, median of the rounds: {statistics.median(ratios):.3f}")
    print(f"client CPU added by interlock:   {(cpu['a'] - cpu['b']) / total * 1e6:.0f} us/request")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
