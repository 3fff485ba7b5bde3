"""How long does the demo stack take to start, under each backend this machine has?

Starts the reference suite's default stack (environment/interlock.yaml: postgres, nats and
the four demo services) from nothing to every service ready, then stops it; several rounds
per backend, in one run. The process backend is always measured; the Docker backend when an
engine answers. Under Docker the first round (which builds or checks the images) is a
warm-up and not counted: the number is the cold start of containers from built images.
Printed per backend: the median and the spread of start and stop, and each service's median
start time. Goal: the Docker cold start under 8 s.

    PYTHONPATH=src:. python bench/stack_start.py [--rounds 5] [--backend process|docker]

Under Docker the images build FROM $INTERLOCK_BASE_IMAGE (`make docker-setup` makes one and
says how to set it) and need the wheelhouses (`demo/build-wheelhouse.sh demo
environment/images/postgres environment/images/nats`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from interlock.config import load_config
from interlock.errors import InterlockError
from interlock.suite import Suite

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = ROOT / "environment" / "interlock.yaml"


def docker_answers() -> str:
    """Empty when a Docker engine answers; otherwise why not."""
    try:
        from interlock.stack.backends.docker import DockerEngine

        DockerEngine.connect(timeout=10).close()
    except InterlockError as err:
        return err.title
    return ""


def one_round(backend: str, label: str) -> tuple[float, float, dict[str, float]]:
    """Start and stop the default stack once: (start seconds, stop seconds, per service)."""
    os.environ["INTERLOCK_BACKEND"] = backend
    suite = Suite(load_config(STACK_FILE), progress=lambda line: None)
    try:
        stack = suite.new_stack(label=label)
        began = time.monotonic()
        try:
            stack.start()
            started = time.monotonic() - began
            per_service = dict(stack.start_seconds)
        finally:
            stopping = time.monotonic()
            stack.stop()
            stopped = time.monotonic() - stopping
    finally:
        suite.close()
    return started, stopped, per_service


def measure(backend: str, rounds: int) -> None:
    warm_up = backend == "docker"
    starts: list[float] = []
    stops: list[float] = []
    services: dict[str, list[float]] = {}
    for number in range(rounds + (1 if warm_up else 0)):
        started, stopped, per_service = one_round(backend, "bench")
        if warm_up and number == 0:
            print(f"  warm-up (images built or checked): start {started:.2f} s")
            continue
        starts.append(started)
        stops.append(stopped)
        for name, seconds in per_service.items():
            services.setdefault(name, []).append(seconds)
        print(f"  round {len(starts)}: start {started:.2f} s, stop {stopped:.2f} s")
    print(f"{backend}: cold start median {statistics.median(starts):.2f} s "
          f"(min {min(starts):.2f}, max {max(starts):.2f}); "
          f"stop median {statistics.median(stops):.2f} s; {len(starts)} rounds")
    print("  per service (median, from its own start to ready): " + ", ".join(
        f"{name} {statistics.median(values):.2f} s" for name, values in sorted(services.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("process", "docker"), action="append")
    args = parser.parse_args()
    backends = args.backend or ["process", "docker"]
    os.chdir(ROOT)
    for backend in backends:
        if backend == "docker":
            why = docker_answers()
            if why:
                print(f"docker: not measured ({why}; `make docker-setup` starts an engine)")
                continue
        print(f"{backend}: {args.rounds} rounds of the demo stack ({STACK_FILE.name})")
        measure(backend, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
