"""A run killed with SIGKILL leaves processes; the next run sweeps them and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from interlock.stack.registry import RunRegistry

TINY = str(Path(__file__).with_name("tiny_service.py"))


def test_next_run_sweeps_what_a_killed_run_left(tmp_path: Path) -> None:
    registry_dir = tmp_path / "runs"
    script = textwrap.dedent(f"""
        import sys, pathlib, threading
        from interlock.stack.registry import RunRegistry
        from interlock.stack.spec import ServiceSpec
        from interlock.stack.stack import Stack
        spec = ServiceSpec.from_dict("victim", {{
            "process": {{"command": [sys.executable, {TINY!r}, "--port", "{{port}}"]}},
            "ready": {{"log": "listening"}}}}, "t")
        registry = RunRegistry(pathlib.Path({str(registry_dir)!r}))
        run_dir = pathlib.Path({str(tmp_path)!r}) / "leftover"
        registry.record_dir(run_dir)
        stack = Stack("s", {{"victim": spec}}, run_dir=run_dir, registry=registry)
        stack.start()
        print("PID", stack.running["victim"].pid, flush=True)
        threading.Event().wait()
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert owner.stdout is not None
    line = owner.stdout.readline()
    while line and not line.startswith("PID"):
        line = owner.stdout.readline()
    victim = int(line.split()[1])
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert psutil.pid_exists(victim)  # the killed run left its service behind

    removed = RunRegistry(registry_dir).sweep()

    assert any(f"process victim (pid {victim})" in r for r in removed)
    assert any("leftover" in r for r in removed)
    psutil.wait_procs([psutil.Process(victim)], timeout=5) if psutil.pid_exists(victim) else None
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == "zombie"
    assert not (tmp_path / "leftover").exists()
    assert list(registry_dir.glob("*.json")) == []


def test_the_record_stays_while_a_process_it_names_lives(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path / "runs")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             start_new_session=True)
    try:
        registry.record_process("stubborn", child.pid)
        registry.close()  # a stop that failed: the next run's sweep needs the record
        assert registry.path.exists()
    finally:
        child.kill()
        child.wait()
    registry.close()
    assert not registry.path.exists()


def test_a_container_removed_while_the_engine_is_listed_is_no_error() -> None:
    """The Docker SDK inspects each listed container; one that another run removes in
    between raises NotFound unless ``ignore_removed`` (seen when runs start side by side)."""
    from types import SimpleNamespace

    from docker.errors import NotFound

    from interlock.stack.backends.docker.sweep import remove_run, runs_on

    class Containers:
        def list(self, *, all: bool, filters: dict[str, str],
                 ignore_removed: bool = False) -> list[object]:
            if not ignore_removed:
                raise NotFound("No such container: gone-meanwhile")
            return []

    class Listing:
        def list(self, filters: dict[str, str]) -> list[object]:
            return []

    client = SimpleNamespace(containers=Containers(), networks=Listing(), volumes=Listing())
    assert runs_on(client) == {}
    assert remove_run(client, "r-1").containers == []


def test_a_killed_run_that_used_docker_has_its_next_run_sweep_docker(tmp_path: Path) -> None:
    """A run notes the backends that leave things outside its record (containers); the next
    run sweeps those backends only when a dead run used them, so a process-only suite
    never imports or connects the Docker SDK at its start."""
    folder = tmp_path / "runs"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    for run_id, backends in (("docker-run", ["docker"]), ("plain-run", [])):
        folder.mkdir(exist_ok=True)
        (folder / f"{run_id}.json").write_text(
            f'{{"run_id": "{run_id}", "owner_pid": {dead.stdout.strip()}, '
            f'"owner_started": 1.0, "processes": {{}}, "dirs": [], '
            f'"backends": {backends!r}}}'.replace("'", '"'))
    registry = RunRegistry(folder)
    registry.sweep()
    assert registry.dead_backends == {"docker"}

    live = RunRegistry(tmp_path / "other")
    live.record_backend("docker")
    live.record_backend("docker")
    assert '"backends": [\n  "docker"\n ]' in live.path.read_text()


def test_a_process_suite_does_not_import_the_docker_sdk_to_sweep(tmp_path: Path) -> None:
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "interlock.yaml").write_text(
        "services: {web: {process: {command: unused}}}\n")
    script = textwrap.dedent(f"""
        import sys
        from interlock.suite import Suite
        suite = Suite.load({str(tmp_path / "environment" / "interlock.yaml")!r},
                           progress=lambda line: None)
        suite.sweep()
        suite.close()
        print("docker imported:", "docker" in sys.modules)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=False)
    assert run.returncode == 0, run.stderr
    assert "docker imported: False" in run.stdout


def test_a_zombie_owner_has_ended_for_the_sweep() -> None:
    """A run's owner that ended and is not yet reaped (a killed run's orphan, when the
    machine's reaper is slow) holds nothing: its record is swept like a dead one's; a service
    whose group leader is a zombie is still killed (its group may live on)."""
    import time

    from interlock.stack.registry import _started

    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                break
            time.sleep(0.01)
        assert state == "Z"
        assert _started(child.pid, zombies=False) == 0.0  # a run's owner: ended
        assert _started(child.pid) > 0.0  # a group's leader: its group may live on
    finally:
        child.wait()
    assert _started(os.getpid()) > 0.0
