"""How fast does an event step return once the event is published? Push vs. sleep-and-poll,
NATS beside Kafka.

Starts a real nats-server (JetStream off: core subjects) and the embedded Kafka broker (Tansu,
``kind: kafka``) on free loopback ports, then for N events measures publish → ``expect_event``
returned: on NATS with Interlock's push-based wait and with a sleep-and-poll baseline (every
50 ms) in the same run, and on Kafka with the push-based wait (the publish waits for the
broker's acknowledgement, the listen fetches every ``fetch_wait``, 10 ms by default).

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

from interlock._core.match import compare
from interlock.events.base import Broker
from interlock.events.kafka import KafkaBroker, KafkaConfig
from interlock.events.listeners import EventListeners
from interlock.events.nats import NatsBroker, NatsConfig
from interlock.stack.base import KindContext
from interlock.stack.kinds import kafka
from interlock.stack.ports import free_port, is_listening

POLL = 0.05


def start(command: list[str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=workdir, start_new_session=True)
    deadline = time.monotonic() + 20
    while not is_listening("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{command[0]} did not start")
        time.sleep(0.02)
    return process


def start_nats(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    port = free_port()
    return start([binary, "-a", "127.0.0.1", "-p", str(port)], port, workdir), \
        f"nats://127.0.0.1:{port}"


def start_kafka(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    plan = kafka.plan(KindContext("bench", workdir, free_port()))
    return start(plan.command, plan.port, workdir), plan.url


def nats_broker(name: str, url: str) -> Broker:
    return NatsBroker(name, NatsConfig(url=url))


def kafka_broker(name: str, url: str) -> Broker:
    return KafkaBroker(name, KafkaConfig(url=url))


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


def measure(n: int, url: str, wait: Callable[[EventListeners, str, object], object],
            connect: Callable[[str, str], Broker] = nats_broker) -> list[float]:
    service = connect("service", url)  # stands for the system under test
    interlock = connect("bus", url)
    events = EventListeners({"bus": interlock}, timeout=10)
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


def push_wait(events: EventListeners, channel: str, expected: object) -> object:
    """Interlock's own wait: woken by each arriving event."""
    return events.expect_event(channel, expected)


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory(prefix="interlock-bench-") as workdir:
        nats, nats_url = start_nats(Path(workdir))
        broker, kafka_url = start_kafka(Path(workdir))
        try:
            push = measure(n, nats_url, push_wait)
            poll = measure(n, nats_url, lambda ev, ch, exp: poll_for(ev, ch, exp, 10))
            on_kafka = measure(n, kafka_url, push_wait, kafka_broker)
        finally:
            for process in (nats, broker):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
    push50, push95 = percentiles(push)
    poll50, poll95 = percentiles(poll)
    kafka50, kafka95 = percentiles(on_kafka)
    print(f"events: {n}, publish → expect_event returned")
    print(f"nats, push (Interlock)        p50 {push50:7.2f} ms   p95 {push95:7.2f} ms")
    print(f"nats, sleep-and-poll (50 ms)  p50 {poll50:7.2f} ms   p95 {poll95:7.2f} ms")
    print(f"kafka (Tansu), push           p50 {kafka50:7.2f} ms   p95 {kafka95:7.2f} ms")
    print(f"ratio poll/push (nats)        p50 {poll50 / push50:7.1f} x   p95 "
          f"{poll95 / push95:7.1f} x")
    print(f"goal p95 <= 20 ms: nats {'met' if push95 <= 20 else 'NOT met'}, "
          f"kafka {'met' if kafka95 <= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
