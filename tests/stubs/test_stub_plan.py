"""The stub kind's container plan: the changes file is mounted only when the engine runs on
this machine, where a write in the container is a write to the same file here."""

from __future__ import annotations

from pathlib import Path

from interlock.stack.backends.docker.engine import same_machine
from interlock.stack.base import KindContext
from interlock.stack.kinds.stub import docker_plan


def test_on_this_machines_engine_the_changes_file_is_a_file_here_mounted_empty(
        tmp_path: Path) -> None:
    workdir = tmp_path / "payments"
    (workdir).mkdir()
    (workdir / "journal-changes").write_bytes(b"12345678")  # an earlier server's number
    plan = docker_plan(KindContext("payments", workdir, 0, same_machine=True))
    here = Path(plan.extra["changes_file"])
    assert here == workdir / "journal-changes"
    assert here.read_bytes() == b""  # emptied: until the new server writes, the test asks
    assert plan.volumes[str(here)] == "/opt/interlock-stub/journal-changes"  # read-write
    assert plan.command[-2:] == ["--changes-file", "/opt/interlock-stub/journal-changes"]


def test_elsewhere_nothing_of_this_machines_run_folder_is_mounted(tmp_path: Path) -> None:
    plan = docker_plan(KindContext("payments", tmp_path / "payments", 0))
    assert plan.extra == {} and "--changes-file" not in plan.command
    assert not any(str(tmp_path) in source for source in plan.volumes)
    assert not (tmp_path / "payments").exists()


def test_an_engine_is_on_this_machine_only_through_a_local_address_and_on_this_kernel() -> None:
    linux = {"KernelVersion": "6.1.0-18-amd64", "OperatingSystem": "Debian GNU/Linux 12"}
    assert same_machine("http+docker://localhost", linux, "6.1.0-18-amd64")
    assert same_machine("http://127.0.0.1:2375", linux, "6.1.0-18-amd64")
    assert not same_machine("http://127.0.0.1:2375", linux, "6.8.0-31-generic")  # a VM's
    assert not same_machine("https://build-host:2376", linux, "6.1.0-18-amd64")
    assert not same_machine("http://127.0.0.10:2375", linux, "6.1.0-18-amd64")
    desktop = {"KernelVersion": "6.1.0-18-amd64", "OperatingSystem": "Docker Desktop"}
    assert not same_machine("http+docker://localhost", desktop, "6.1.0-18-amd64")
