"""Start the demo system for real: PostgreSQL (pgserver's binaries), nats-server, services.

Kept small on purpose: Interlock's own stack will replace it. Every process is registered for
cleanup before it starts, so it is stopped even when a test or a start fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
NATS_SERVER = Path(sys.executable).parent / "nats-server"
SECRET = "test-secret-" + "x" * 40  # only ever used by these tests' own auth service
PASSWORD = "pw-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               logs: Callable[[], str] = lambda: "") -> Any:
    """Poll ``check`` until it returns something truthy (exceptions mean "not yet")."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:
            last = error
        time.sleep(0.05)
    raise AssertionError(f"{what} not ready within {timeout} s (last error: {last})\n{logs()}")


@dataclass
class Server:
    """One process on a free port, its output in a file, stopped by ``stop``."""

    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    user: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, user=self.user,
                env={**os.environ, "PYTHONPATH": str(ROOT), **self.env}, start_new_session=True)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_healthy(self, timeout: float = 30) -> Server:
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}")
            return requests.get(f"{self.url}/health", timeout=1).status_code == 200
        wait_until(healthy, timeout, self.name, self.log)
        return self


@dataclass
class Demo:
    """The running system: its servers, URLs and settings, and a way to start more."""

    workdir: Path
    postgres_url: str  # postgresql://postgres@127.0.0.1:<port>
    nats_url: str
    services: dict[str, Server]

    def service_env(self, name: str) -> dict[str, str]:
        auth = self.services.get("auth")
        env = {"AUTH_JWT_SECRET": SECRET, "AUTH_DEFAULT_PASSWORD": PASSWORD,
               "AUTH_USERS_FILE": str(self.workdir / "users.json"), "NATS_URL": self.nats_url,
               "AUTH_URL": auth.url if auth else "", "ORDERS_AUTH_TIMEOUT": "2"}
        for db in ("orders", "notifications", "analytics"):
            env[f"{db.upper()}_DATABASE_URL"] = f"{self.postgres_url}/{db}"
        return env

    def server(self, name: str, stack: contextlib.ExitStack, **overrides: str) -> Server:
        server = Server(name, [sys.executable, "-m", f"demo.{name}", "--host", "127.0.0.1",
                                      "--port", "{port}"],
                        self.workdir / f"{name}-{free_port()}.log",
                        env={**self.service_env(name), **overrides})
        stack.callback(server.stop)  # registered first: a half-started server still stops
        return server.start()

    def db(self, name: str) -> psycopg.Connection[Any]:
        return psycopg.connect(f"{self.postgres_url}/{name}", autocommit=True)


USERS = [{"username": name, "password": PASSWORD, "role": role} for name, role in [
    ("alice", "customer"), ("bob", "customer"), ("carol", "customer"), ("dora", "dispatcher"),
    ("tom", "technician"), ("tina", "technician"), ("ada", "admin")]]


def start_postgres(workdir: Path, stack: contextlib.ExitStack) -> str:
    spec = importlib.util.find_spec("pgserver")
    assert spec and spec.origin, "the pgserver package is not installed"
    bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as pgserver's own user
        user = "pgserver"
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", user], check=True)
    home = Path(tempfile.mkdtemp(prefix="demo-pg-"))
    stack.callback(shutil.rmtree, home, True)
    if user:
        os.chown(home, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    subprocess.run([str(bin_dir / "initdb"), "-D", str(home / "data"), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, user=user,
                   capture_output=True)
    server = Server("postgres", [str(bin_dir / "postgres"), "-D", str(home / "data"), "-h",
                                 "127.0.0.1", "-p", "{port}", "-k", str(home), "-c", "fsync=off"],
                    workdir / "postgres.log", user=user)
    stack.callback(server.stop)
    server.start()
    url = f"postgresql://postgres@127.0.0.1:{server.port}"
    conn = wait_until(lambda: psycopg.connect(f"{url}/postgres", autocommit=True), 30,
                      "postgres", server.log)
    with conn:
        for db in ("orders", "notifications", "analytics"):
            conn.execute(f"CREATE DATABASE {db}")
    return url


def start_nats(workdir: Path, stack: contextlib.ExitStack) -> str:
    """nats-server with JetStream on a free port; its URL."""
    nats = Server("nats", [str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", "{port}", "-sd",
                           str(workdir / "jetstream")], workdir / "nats.log")
    stack.callback(nats.stop)
    nats.start()

    def ready() -> bool:  # a NATS server greets every client with INFO
        with socket.create_connection(("127.0.0.1", nats.port), 1) as sock:
            return sock.recv(4).startswith(b"INFO")

    wait_until(ready, 30, "nats", nats.log)
    return f"nats://127.0.0.1:{nats.port}"
