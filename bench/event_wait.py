"""How fast does an event step return once the event is published? Push vs. sleep-and-poll.

Starts a real nats-server (JetStream off: core subjects) on a free loopback port, then for
N events measures publish → ``expect_event`` returned, with Interlock's push-based wait and
with a sleep-and-poll baseline (every 50 ms) in the same run.

    PYTHONPATH=src:. python bench/event_wait.py [N]
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from interlock.events.listeners import EventListeners
from interlock.events.nats import NatsBroker, NatsConfig
from interlock.match import compare
from interlock.stack.ports import free_port, is_listening

POLL = 0.05


def start_nats(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    port = free_port()
    process = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=workdir, start_new_session=True)
    deadline = time.monotonic() + 20
    while not is_listening("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("nats-server did not start")
        time.sleep(0.02)
    return process, f"nats://127.0.0.1:{port}"


def poll_for(events: EventListeners, channel: str, expected: object, timeout: float) -> None:
    """The baseline: look at everything received, sleep 50 ms, look again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events.buffer.snapshot():
            ok, document = event.try_json()
            if event.channel == channel and ok and not compare(expected, document, "contains"):
                return
        time.sleep(POLL)
    raise AssertionError("event not seen")


def measure(n: int, url: str, wait: Callable[[EventListeners, str, object], object]) -> list[float]:
    service = NatsBroker("service", NatsConfig(url=url))  # stands for the system under test
    interlock = NatsBroker("nats", NatsConfig(url=url))
    events = EventListeners({"nats": interlock}, timeout=10)
    events.listen("bench.created")
    sent: list[float] = []
    ready = threading.Semaphore(0)

    def publish_all() -> None:
        for i in range(n):
            ready.acquire()
            sent.append(time.perf_counter())
            service.publish("bench.created", f'{{"i": {i}, "type": "Created"}}'.encode())

    publisher = threading.Thread(target=publish_all)
    publisher.start()
    latencies = []
    try:
        for i in range(n):
            ready.release()
            wait(events, "bench.created", {"i": i})
            latencies.append(time.perf_counter() - sent[i])
    finally:
        publisher.join()
        events.close()
        interlock.close()
        service.close()
    return latencies


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory(prefix="interlock-bench-") as workdir:
        process, url = start_nats(Path(workdir))
        try:
            push = measure(n, url, lambda ev, ch, exp: ev.expect_event(ch, exp))
            poll = measure(n, url, lambda ev, ch, exp: poll_for(ev, ch, exp, 10))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
    push50, push95 = percentiles(push)
    poll50, poll95 = percentiles(poll)
    print(f"events: {n}, nats core subject, publish → expect_event returned")
    print(f"push (Interlock)        p50 {push50:7.2f} ms   p95 {push95:7.2f} ms")
    print(f"sleep-and-poll (50 ms)  p50 {poll50:7.2f} ms   p95 {poll95:7.2f} ms")
    print(f"ratio poll/push         p50 {poll50 / push50:7.1f} x   p95 {poll95 / push95:7.1f} x")
    print(f"goal p95 <= 20 ms: {'met' if push95 <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
