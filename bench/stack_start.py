"""How long does the demo stack take to start, under each backend this machine has?

Starts the reference suite's default stack (environment/interlock.yaml: postgres, nats and
the four demo services) from nothing to every service ready, then stops it; several rounds
per backend, in one run. The process backend is always measured; the Docker backend when an
engine answers. Under Docker the first round (which builds or checks the images) is a
warm-up and not counted: the number is the cold start of containers from built images.
Printed per backend: the median and the spread of start and stop, and each service's median
start time. Goal: the Docker cold start under 8 s. ``compose`` is the same system from
demo/docker-compose.yaml (stage compose, on the Docker backend), printed beside the stack
file's own Docker stack as a ratio.

    PYTHONPATH=src:. python bench/stack_start.py [--rounds 5] [--backend process|docker|compose]

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

from interlock._core.config import load_config
from interlock._core.errors import InterlockError
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
    stage = "compose" if backend == "compose" else ""
    os.environ["INTERLOCK_BACKEND"] = "docker" if stage else backend
    suite = Suite(load_config(STACK_FILE, stage=stage), progress=lambda line: None)
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


def measure(backend: str, rounds: int) -> float:
    """The median cold start of ``rounds`` (printed with the spread and per service)."""
    warm_up = backend in ("docker", "compose")
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
    return statistics.median(starts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("process", "docker", "compose"), action="append")
    args = parser.parse_args()
    backends = args.backend or ["process", "docker", "compose"]
    os.chdir(ROOT)
    medians: dict[str, float] = {}
    for backend in backends:
        if backend in ("docker", "compose"):
            why = docker_answers()
            if why:
                print(f"docker: not measured ({why}; `make docker-setup` starts an engine)")
                continue
        source = "demo/docker-compose.yaml" if backend == "compose" else STACK_FILE.name
        print(f"{backend}: {args.rounds} rounds of the demo stack ({source})")
        medians[backend] = measure(backend, args.rounds)
    if "docker" in medians and "compose" in medians:
        print(f"compose / docker cold start: {medians['compose'] / medians['docker']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
