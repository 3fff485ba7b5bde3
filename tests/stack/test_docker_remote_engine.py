"""The Docker backend with the engine reached over TCP (``DOCKER_HOST=tcp://127.0.0.1:<port>``),
not through its local socket: nothing in the backend may assume the socket is on this machine.

The engine here listens on its unix socket only (dockerd takes extra ``-H`` listeners only at
start), so the test puts a small TCP-to-socket forwarder in front of it, on a free port, and
counts what passes: every call of the run must go through it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from interlock.stack.backends.docker import DockerEngine
from interlock.stack.backends.docker.engine import DEFAULT_SOCKET
from interlock.stack.registry import RunRegistry
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack

if TYPE_CHECKING:
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]


class TcpToSocket:
    """Listens on 127.0.0.1:<free port>; each connection is piped to the unix socket."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(self.socket_path)
            with self._lock:
                self.connections += 1
                self._open += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.server.close()
        self._accepting.join(timeout=5)
        with self._lock:
            for sock in self._open:
                sock.close()


@pytest.fixture
def engine_over_tcp(engine: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpToSocket]:
    """``DOCKER_HOST=tcp://127.0.0.1:<port>``, forwarded to the local engine's socket."""
    local = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    if not local.startswith("unix://"):
        pytest.skip(f"the engine is not on a local socket here (DOCKER_HOST={local})")
    forwarder = TcpToSocket(local.removeprefix("unix://"))
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{forwarder.port}")
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    yield forwarder
    forwarder.close()


def test_a_service_runs_on_an_engine_reached_over_tcp(
    engine_over_tcp: TcpToSocket, engine: DockerEngine, images: Images, run_id: str,
    tmp_path: Path,
) -> None:
    spec = ServiceSpec.from_dict("web", {
        "docker": {"image": images.app, "port": 8000, "command": ["http"]},
        "ready": {"http": "/health"},
    }, "test: web")
    stack = Stack("default", {"web": spec}, run_dir=tmp_path / "run", backend="docker",
                  root=ROOT, registry=RunRegistry(tmp_path / "runs", run_id=run_id),
                  progress=lambda line: None)
    try:
        stack.start()
        before = engine_over_tcp.connections
        assert before > 0  # the run talked to the engine, through TCP
        answer = requests.get(f"{stack.address('web').url}/health", timeout=10)
        assert answer.status_code == 200
        assert run_id in engine.runs()  # the container is on that engine
        service: Any = stack.service("web")
        service.container.reload()  # the backend's own client, over TCP too
        assert engine_over_tcp.connections >= before
        assert service.container.client.api.base_url.startswith("http://127.0.0.1:")
    finally:
        stack.stop()
    assert run_id not in engine.runs()
