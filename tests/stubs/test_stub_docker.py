"""A stub under the Docker backend: the stub server runs in a plain Python container (its
file and werkzeug mounted read-only, nothing built or pulled), another container of the
stack reaches it by its service name, and the test programs and checks it from the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from interlock.stack.backends.docker import DockerEngine
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack
from interlock.stubs import Stub
from tests.stack.test_docker_stack import app, call, env_of

if TYPE_CHECKING:
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(engine: DockerEngine, run_id: str, tmp_path: Path, images: Images) -> Iterator[Stack]:
    from tests.stack.docker_fixtures import BASE_IMAGE

    services: dict[str, dict[str, Any]] = {
        "payments": {"kind": "stub", "options": {"image": BASE_IMAGE}},
        "shop": app(images, env={"PAYMENTS_URL": "{payments.url}"}, depends_on=["payments"]),
    }
    specs = {name: ServiceSpec.from_dict(name, data, f"test: {name}")
             for name, data in services.items()}
    running = Stack("default", specs, run_dir=tmp_path / "run", backend="docker", root=ROOT,
                    registry=RunRegistry(tmp_path / "runs", run_id=run_id),
                    progress=lambda line: None)
    try:
        running.start()
        yield running
    finally:
        running.stop()
    assert run_id not in engine.runs(), "the stopped stack left containers or networks"


def test_a_container_reaches_the_stub_by_name_and_the_test_sees_what_it_sent(
    stack: Stack,
) -> None:
    payments_url = env_of(stack.service("shop"))["PAYMENTS_URL"]
    assert payments_url == "http://payments:8080"  # by name on the stack's network
    assert stack.address("payments").url.startswith("http://127.0.0.1:")  # the host's view
    stub = Stub("payments", stack.address("payments").url)
    try:
        stub.answer("GET", "/charges/{id}", status=200, body="charge ch-7 succeeded")
        answer = call(stack, "shop", f"{payments_url}/charges/ch-7")
        assert answer.text == "charge ch-7 succeeded"
        [received] = stub.received("GET", "/charges/{id}", count=1)
        assert received.path == "/charges/ch-7"
        stub.reset()
        assert stub.journal() == []
    finally:
        stub.close()


def test_a_stub_in_a_container_says_on_this_machine_when_its_journal_changed(
    stack: Stack,
) -> None:
    """The server in the container keeps its changes file in a file of this machine's,
    mounted: a step during which it received nothing costs no request, as with a local
    server; one during which a container called it reads the journal."""
    from tests.stubs.test_stub_process import _Counting

    assert stack.backend_for(stack.specs["payments"]).engine().same_machine  # type: ignore[attr-defined]
    address = stack.address("payments")
    changes = address.extra["changes_file"]
    assert Path(changes).is_file() and len(Path(changes).read_bytes()) == 8  # written by it
    http = _Counting()
    stub = Stub("payments", address.url, http=http, changes_file=changes)
    try:
        stub.answer("GET", "/charges/{id}", status=200, body="ok")
        assert stub.new_requests() == [] and http.journal_reads == 1  # first: read once
        assert stub.new_requests() == [] and http.journal_reads == 1  # nothing: nothing asked
        payments_url = env_of(stack.service("shop"))["PAYMENTS_URL"]
        call(stack, "shop", f"{payments_url}/charges/ch-8")
        assert [r.path for r in stub.new_requests()] == ["/charges/ch-8"]
        assert http.journal_reads == 2
    finally:
        stub.close()
        http.close()
    stack.restart("payments")  # the same container: a new server, a new number
    stub = Stub("payments", address.url, changes_file=changes)
    try:
        assert stub.new_requests() == []  # the new server's journal: empty
        requests.get(f"{address.url}/charges/ch-9", timeout=10)  # (a 404: nothing set)
        assert [r.path for r in stub.new_requests()] == ["/charges/ch-9"]
    finally:
        stub.close()


def test_the_stub_answers_the_same_client_after_its_container_restarted(stack: Stack) -> None:
    """A scenario that stopped the stub is healed by a restart of its container, and the
    next scenario programs the same stub client: its kept-alive connection went with the old
    server, and the next request goes on a new one."""
    stub = Stub("payments", stack.address("payments").url)
    try:
        stub.answer("GET", "/charges/{id}", status=200, body="before")
        stack.restart("payments")
        stub.reset()  # what the scenario's end does: on the connection kept from before
        stub.answer("GET", "/charges/{id}", status=200, body="after")
        assert requests.get(f"{stub.url}/charges/ch-1", timeout=10).text == "after"
    finally:
        stub.close()
