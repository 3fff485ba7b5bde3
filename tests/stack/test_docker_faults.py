"""The Docker backend's faults (stop, kill, pause, resume, restart), logs and sweep."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from interlock.stack.backends.docker import ContainerSpec, DockerEngine
from interlock.stack.backends.docker.service import DockerService
from interlock.stack.base import ReadyCheck

if TYPE_CHECKING:  # imported by pytest_plugins below, so that pytest rewrites its asserts
    from tests.stack.docker_fixtures import Images

pytest_plugins = ["tests.stack.docker_fixtures"]

pytestmark = pytest.mark.docker


def web(engine: DockerEngine, images: Images, run_id: str, **kwargs: object) -> DockerService:
    spec = ContainerSpec("web", image=images.app, command=("http",), port=8000,
                         ready=ReadyCheck("http", path="/health"))
    return engine.start(spec, run_id=run_id, **kwargs)  # type: ignore[arg-type]


def answers(svc: DockerService) -> bool:
    try:
        return requests.get(f"{svc.address.url}/health", timeout=0.5).status_code == 200
    except requests.RequestException:
        return False


def test_pause_freezes_and_resume_unfreezes(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    svc = web(engine, images, run_id)
    svc.pause()
    assert svc.paused and svc.is_running()
    assert not answers(svc)
    svc.resume()
    assert not svc.paused and answers(svc)


def test_stop_and_start_again_keep_container_and_port(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    svc = web(engine, images, run_id)
    port, container_id = svc.address.port, svc.container.id
    svc.pause()  # stopping a paused container works too
    svc.stop(timeout=5)
    assert not svc.is_running() and svc.exit_code() is not None
    assert not answers(svc)
    svc.start()
    svc.wait_ready()
    assert (svc.address.port, svc.container.id) == (port, container_id)
    assert answers(svc)


def test_kill_is_sigkill(engine: DockerEngine, images: Images, run_id: str) -> None:
    svc = web(engine, images, run_id)
    svc.kill()
    assert not svc.is_running()
    assert svc.exit_code() == 137  # 128 + SIGKILL
    svc.start()
    svc.wait_ready()
    assert answers(svc)


def test_restart_keeps_container_and_published_port(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    svc = web(engine, images, run_id)
    port, container_id = svc.address.port, svc.container.id
    seconds = svc.restart(timeout=5)
    print(f"\nrestart to ready: {seconds:.2f} s")
    assert (svc.address.port, svc.container.id) == (port, container_id)
    assert svc.log().count("listening on 8000") == 2
    assert answers(svc)


def test_restart_waits_for_a_fresh_log_line_not_the_old_one(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    spec = ContainerSpec("worker", image=images.app, command=("log",), env={"DELAY": "1"},
                         ready=ReadyCheck("log", pattern="^ready to serve$"))
    svc = engine.start(spec, run_id=run_id)
    svc.restart(timeout=5)
    # Had the first start's line counted, restart would return before the second one.
    assert svc.log().count("ready to serve") == 2


def test_log_collects_stdout_and_is_kept_after_removal(
    engine: DockerEngine, images: Images, run_id: str, tmp_path: Path
) -> None:
    svc = web(engine, images, run_id, log_dir=tmp_path)
    requests.get(f"{svc.address.url}/no-such-page", timeout=5)
    assert "app: mode http" in svc.log()
    assert '"GET /no-such-page HTTP/1.1" 404' in svc.log()  # stderr too
    svc.remove()
    assert not svc.is_running()
    assert '"GET /no-such-page HTTP/1.1" 404' in (tmp_path / "web.log").read_text()
    assert '"GET /no-such-page HTTP/1.1" 404' in svc.log()


def test_log_is_redacted_when_saved(
    engine: DockerEngine, images: Images, run_id: str, tmp_path: Path
) -> None:
    spec = ContainerSpec("web", image=images.app, command=("log",),
                         env={"DELAY": "0"}, ready=ReadyCheck("log", pattern="ready to serve"))
    svc = engine.start(spec, run_id=run_id, log_dir=tmp_path,
                       redact=lambda text: text.replace("ready to serve", "***"))
    svc.remove()
    saved = (tmp_path / "web.log").read_text()
    assert "***" in saved and "ready to serve" not in saved


OWNER = textwrap.dedent("""
    import sys
    from interlock.stack.base import ReadyCheck
    from interlock.stack.backends.docker import ContainerSpec, DockerEngine
    engine = DockerEngine.connect()
    spec = ContainerSpec("orphan", image=sys.argv[1], command=("log",), volumes={"data": "/d"},
                         ready=ReadyCheck("log", pattern="ready to serve"))
    engine.start(spec, run_id=sys.argv[2], progress=lambda line: None)
    print("started", flush=True)
    sys.stdin.read()  # until killed
""")


def test_sweep_removes_what_a_killed_run_left_and_keeps_live_runs(
    engine: DockerEngine, images: Images, run_id: str
) -> None:
    mine = web(engine, images, run_id)
    orphan_run = f"{run_id}-orphan"
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, images.app, orphan_run],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline() == "started\n"
        assert orphan_run in engine.runs()
        owner.kill()  # the run's owner dies without cleaning up
        owner.wait()
        removed = engine.sweep()
    finally:
        owner.kill()
        owner.wait()
        engine.remove_run(orphan_run)
    prefix = engine.network_name(orphan_run)
    assert f"{prefix}-orphan" in removed.containers
    assert prefix in removed.networks
    assert f"{prefix}-data" in removed.volumes
    assert orphan_run not in engine.runs()
    assert run_id in engine.runs() and answers(mine)  # a live owner's run is left alone
    assert engine.sweep([run_id]).containers == [mine.container.name]  # by id, from a registry


def test_a_container_another_process_removes_during_the_sweep_is_no_error(
    engine: DockerEngine, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every run sweeps the engine at its start, whatever it uses; another run (or test
    # session) removing its own container at that moment must not stop this one.
    from interlock.stack.backends.docker.sweep import run_labels
    from tests.stack.docker_fixtures import BASE_IMAGE

    doomed = engine.client.containers.create(
        BASE_IMAGE, ["true"], labels=run_labels(run_id, "default", "doomed"))
    inspect = engine.client.api.inspect_container

    def removed_meanwhile(container: object, *args: object, **kwargs: object) -> object:
        if doomed.id.startswith(str(getattr(container, "id", container))):
            doomed.remove(force=True)  # as if another process did it now
        return inspect(container, *args, **kwargs)

    monkeypatch.setattr(engine.client.api, "inspect_container", removed_meanwhile)
    engine.runs()  # listing the runs does not stumble on it
    engine.sweep()  # nor does sweeping them
    engine.sweep([run_id])
    assert run_id not in engine.runs()


def test_a_run_sharing_the_stack_reads_a_containers_log_through_the_engine(
    engine: DockerEngine, images: Images, run_id: str, tmp_path: Path
) -> None:
    """A worker of ``interlock run -j`` (or a run with INTERLOCK_REUSE) that did not start a
    container reads its log from the engine, as the run that started it does: the container
    writes its log file only when it is removed."""
    from interlock import eventually
    from interlock.stack.spec import ServiceSpec
    from interlock.stack.stack import Stack

    svc = web(engine, images, run_id)
    assert svc.log_source() == {"backend": "docker", "container": svc.container.id}
    spec = ServiceSpec.from_dict("web", {"external": {"url": svc.address.url}}, where="test")
    borrower = Stack("shared", {"web": spec}, run_dir=tmp_path / "run",
                     progress=lambda line: None)
    borrower.adopt({"web": svc.address}, {"web": tmp_path / "never-written.log"},
                   {"web": svc.log_source()})
    assert "listening on 8000" in borrower.log_since("web", None)
    mark = borrower.log_marks()["web"]
    requests.get(f"{svc.address.url}/after-the-mark", timeout=5)

    def logged() -> None:
        assert "/after-the-mark" in borrower.log_since("web", mark)

    eventually(logged, 10)
    assert "listening on 8000" not in borrower.log_since("web", mark)
    borrower.stop()  # closes the engine connection it read the logs through, not the container
    assert svc.is_running()
