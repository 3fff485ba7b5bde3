"""The process backend and the Stack, against real processes."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from interlock._core.errors import InterlockError
from interlock._core.secrets import Secrets
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack

TINY = str(Path(__file__).with_name("tiny_service.py"))


def tiny(name: str, *extra: str, **fields: object) -> ServiceSpec:
    data: dict[str, object] = {
        "process": {"command": [sys.executable, TINY, "--port", "{port}", *extra]},
        "ready": {"http": "/health", "timeout": "10 seconds"},
    }
    data.update(fields)
    return ServiceSpec.from_dict(name, data, where=f"test:{name}")


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator:
    stacks: list[Stack] = []
    lines: list[str] = []

    def make(*specs: ServiceSpec, secrets: Secrets | None = None) -> Stack:
        stack = Stack("test", {s.name: s for s in specs}, run_dir=tmp_path / f"run{len(stacks)}",
                      progress=lines.append, secrets=secrets)
        stacks.append(stack)
        return stack

    make.lines = lines  # type: ignore[attr-defined]
    yield make
    for stack in stacks:
        stack.stop()


def test_starts_with_free_port_templated_and_peer_urls(make_stack) -> None:
    stack = make_stack(
        tiny("auth"),
        tiny("orders", depends_on=["auth"], env={"AUTH_URL": "{auth.url}"}),
    )
    stack.start()
    auth, orders = stack.address("auth"), stack.address("orders")
    assert auth.port != orders.port
    answer = requests.get(f"{orders.url}/env/AUTH_URL", timeout=5).json()
    assert answer["value"] == auth.url
    assert any(line.startswith("interlock: orders ready at http://127.0.0.1:")
               for line in make_stack.lines)


@pytest.mark.parametrize("ready", [
    {"http": "/health"}, {"tcp": True}, {"log": r"listening on port \d+"},
    {"command": [sys.executable, "-c",
                 "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
                 "{port}"]},
])
def test_every_readiness_kind(make_stack, ready: dict[str, object]) -> None:
    stack = make_stack(tiny("svc", ready={**ready, "timeout": "10 seconds"}))
    stack.start()
    assert requests.get(stack.address("svc").url + "/health", timeout=5).status_code == 200


def test_readiness_timeout_names_service_check_address_and_log_tail(make_stack) -> None:
    secrets = Secrets()
    secrets.add("hunter2-secret")
    spec = tiny("slow", "--never-listen", env={"TINY_SECRET": "hunter2-secret"},
                ready={"http": "/health", "timeout": "1 second"})
    stack = make_stack(spec, secrets=secrets)
    with pytest.raises(InterlockError) as caught:
        stack.start()
    text = str(caught.value)
    assert 'Service "slow" was not ready within 1 seconds' in text
    assert "HTTP GET /health answers 200" in text
    assert "127.0.0.1:" in text
    assert "starting tiny service" in text
    assert "hunter2-secret" not in text and "secret=***" in text


def test_service_exiting_at_start_fails_fast_with_its_words(make_stack) -> None:
    stack = make_stack(tiny("broken", "--exit-at-start"))
    started = time.monotonic()
    with pytest.raises(InterlockError) as caught:
        stack.start()
    assert time.monotonic() - started < 9  # did not wait for the 10 s timeout
    assert 'Service "broken" exited before it was ready' in str(caught.value)
    assert "configuration missing" in str(caught.value)


def test_independent_services_start_in_parallel_dependents_after(make_stack) -> None:
    specs = [tiny(f"s{i}", ready={"log": "listening", "timeout": "10 seconds"}) for i in range(3)]
    specs.append(tiny("top", depends_on=["s0", "s1", "s2"]))
    stack = make_stack(*specs)
    stack.start()
    started = {name: psutil.Process(stack.running[name].pid).create_time()  # type: ignore[attr-defined]
               for name in stack.running}
    assert max(started[f"s{i}"] for i in range(3)) <= started["top"]
    assert stack.order[-1] == "top"


def test_dependency_cycle_and_unknown_dependency_are_named() -> None:
    a = tiny("a", depends_on=["b"])
    b = tiny("b", depends_on=["a"])
    with pytest.raises(InterlockError, match=r"in a circle: a → b → a|in a circle: b → a → b"):
        Stack("t", {"a": a, "b": b}, run_dir=Path("/tmp/unused"))
    with pytest.raises(InterlockError, match='depends on unknown service "auht"'):
        Stack("t", {"a": tiny("a", depends_on=["auht"])}, run_dir=Path("/tmp/unused"))


def test_port_taken_by_someone_else_is_retried(make_stack, monkeypatch) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    ports = iter([taken])
    import interlock.stack.backends.process as stack_module

    real = stack_module.free_port
    monkeypatch.setattr(stack_module, "free_port", lambda: next(ports, None) or real())
    stack = make_stack(tiny("svc", ready={"log": "listening", "timeout": "10 seconds"}))
    try:
        stack.start()
    finally:
        blocker.close()
    assert stack.address("svc").port != taken
    assert any("port was taken" in line for line in make_stack.lines)


def test_faults_and_heal(make_stack) -> None:
    stack = make_stack(tiny("svc", delay_proxy=True))
    stack.start()
    url = stack.address("svc").url
    service = stack.service("svc")
    service.pause()
    with pytest.raises(requests.Timeout):
        requests.get(url + "/health", timeout=0.5)
    service.resume()
    assert requests.get(url + "/health", timeout=5).status_code == 200
    service.kill()
    assert not service.is_running()
    stack.delay("svc", 0.3)
    healed = stack.heal()
    assert healed == ["svc delay removed", "svc restarted"]
    assert stack.address("svc").url == url  # same address after a restart
    assert requests.get(url + "/health", timeout=5).status_code == 200


def test_delay_proxy_slows_answers_and_needs_declaring(make_stack) -> None:
    stack = make_stack(tiny("svc", delay_proxy=True), tiny("plain"))
    stack.start()
    url = stack.address("svc").url
    stack.delay("svc", 0.4)
    began = time.monotonic()
    requests.get(url + "/health", timeout=5)
    slow = time.monotonic() - began
    stack.delay("svc", 0)
    began = time.monotonic()
    requests.get(url + "/health", timeout=5)
    fast = time.monotonic() - began
    assert slow >= 0.4 > fast
    with pytest.raises(InterlockError, match="delay_proxy: true"):
        stack.delay("plain", 1)


def test_a_scenarios_delay_is_its_own_and_healed_here_and_from_a_sharing_run(
        make_stack, tmp_path: Path) -> None:
    """``delay_proxy: {scenario_header: traceparent}``: ``Stack.delay`` with a scenario slows
    only the requests that carry its id; a run that shares the stack (a worker of
    ``interlock run -j``) sets and heals its own scenarios' delays through the control port
    the state file names, and may not slow the service for everybody."""
    from interlock.stack.reuse import KeptStack

    stack = make_stack(tiny("svc", delay_proxy={"scenario_header": "traceparent"}))
    stack.start()
    url = stack.address("svc").url + "/health"
    mine, other = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"

    def traced(scenario: str) -> dict[str, str]:
        return {"traceparent": f"00-{scenario}-00f067aa0ba902b7-01"}

    stack.delay("svc", 30, scenario=mine)
    assert requests.get(url, headers=traced(other), timeout=10).status_code == 200
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=traced(mine), timeout=0.5)
    assert stack.heal() == ["svc delay removed"]
    assert requests.get(url, headers=traced(mine), timeout=10).status_code == 200

    kept = KeptStack.write(tmp_path, stack, path=tmp_path / "stack.json")
    assert kept.services is not None
    assert kept.services["svc"]["delay"]["header"] == "traceparent"
    sharing = make_stack(tiny("svc", delay_proxy={"scenario_header": "traceparent"}))
    sharing.adopt({"svc": stack.address("svc")}, delays={
        name: service["delay"] for name, service in kept.services.items()})
    assert sharing.address("svc") == stack.address("svc")
    sharing.delay("svc", 30, scenario=other)
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=traced(other), timeout=0.5)
    assert requests.get(url, headers=traced(mine), timeout=10).status_code == 200
    with pytest.raises(InterlockError, match="cannot be set from this run"):
        sharing.delay("svc", 30)
    assert sharing.heal() == ["svc delay removed"]
    assert requests.get(url, headers=traced(other), timeout=10).status_code == 200

    # A proxy gone by the time of healing (its owner ended, its container stopped) is no
    # error of this scenario's: there is no delay left to take away.
    sharing.delay("svc", 30, scenario=other)

    def gone(scenario: str, seconds: float) -> None:
        raise InterlockError("Cannot set the delay of service \"svc\"")

    sharing.proxies["svc"].delay_scenario = gone  # type: ignore[method-assign]
    assert sharing.heal() == []
    assert sharing.heal() == []  # and it is not tried again
    assert requests.get(url, headers=traced(mine), timeout=10).status_code == 200


def test_stop_leaves_no_process(make_stack) -> None:
    stack = make_stack(tiny("a"), tiny("b"))
    stack.start()
    pids = [stack.running[n].pid for n in ("a", "b")]  # type: ignore[attr-defined]
    stack.stop()
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids)


def test_a_dependency_needed_only_started_does_not_hold_its_dependent_back(make_stack) -> None:
    stack = make_stack(
        tiny("slow", "--listen-after", "1.5"),
        tiny("eager", depends_on={"slow": "started"}, env={"SLOW_URL": "{slow.url}"}),
        tiny("patient", depends_on=["slow"]),
    )
    stack.start()
    ready = [line.split()[1] for line in make_stack.lines if " ready at " in line]
    assert ready.index("eager") < ready.index("slow") < ready.index("patient")
    answer = requests.get(stack.address("eager").url + "/env/SLOW_URL", timeout=5).json()
    assert answer["value"] == stack.address("slow").url


def test_settle_answers_at_once_for_a_live_service_and_sees_a_dying_one(
    make_stack, monkeypatch
) -> None:
    """After a failed step: a service that still accepts connections is alive without any
    wait; one that no longer does is given a moment to be seen dead."""
    stack = make_stack(tiny("web"), tiny("dying", ready={"log": "listening"}))
    stack.start()
    web, dying = stack.running["web"], stack.running["dying"]

    def no_wait(timeout: float | None = None) -> int:
        raise AssertionError("a live service was waited for")

    monkeypatch.setattr(web._process, "wait", no_wait)  # type: ignore[attr-defined]
    assert web.settle() is True
    dying.pause()  # frozen: alive, and a connection is still accepted by the kernel
    assert dying.settle() is True
    dying.resume()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{dying.address.url}/crash", timeout=5)
    assert dying.settle(within=10, unanswered=True) is False  # it just dropped a request
