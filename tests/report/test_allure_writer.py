"""Allure's files written by a process of their own (``behave/allure_writer.py``,
``behave/_file_writer.py``): every file reported is in place once ``close`` returns, with
allure-commons' own names and contents, also after Ctrl-C or when the run's process dies; a
file that cannot be written is said, once, without a traceback; without the writer process the
run writes them itself; a Ctrl-C part way through handing a file on, a name the writer would
misread, or a process forked from the run lose nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Status
from allure_commons.model2 import TestResult as Result

from interlock.behave import _file_writer, allure_writer
from interlock.behave.allure_writer import BackgroundFileLogger


def _results(folder: Path) -> list[dict[str, object]]:
    return sorted((json.loads(p.read_text()) for p in folder.glob("*-result.json")),
                  key=lambda r: str(r["name"]))


def test_the_same_files_as_allure_commons_once_closed(tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    for logger in (AllureFileLogger(theirs), BackgroundFileLogger(ours)):
        for n in range(50):
            logger.report_result(Result(uuid=f"u{n}", name=f"scenario {n:02}",
                                            status=Status.PASSED))
            logger.report_attached_data(f"GET /orders/{n}", f"a{n}-attachment.txt")
            logger.report_attached_data(b"<svg/>", f"d{n}-attachment.svg")
        if isinstance(logger, BackgroundFileLogger):
            logger.close()
            logger.close()  # a second close returns at once
    assert _results(ours) == _results(theirs) and len(_results(ours)) == 50
    assert sorted(p.name for p in ours.glob("*-attachment.*")) == sorted(
        p.name for p in theirs.glob("*-attachment.*"))
    assert (ours / "a7-attachment.txt").read_text() == "GET /orders/7"
    assert not list(ours.glob("*.tmp"))


def test_a_file_that_cannot_be_written_is_said(tmp_path: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results"
    logger = BackgroundFileLogger(folder)
    shutil.rmtree(folder)  # (the run's folder removed under it)
    logger.report_attached_data("x", "gone-attachment.txt")
    logger.close()
    said = capfd.readouterr().err
    assert "an Allure file was not written:" in said and "gone-attachment.txt" in said
    assert "Traceback" not in said


def test_many_files_not_written_are_said_as_five_and_a_count(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results"
    logger = BackgroundFileLogger(folder)
    shutil.rmtree(folder)
    for n in range(8):
        logger.report_attached_data("x", f"gone{n}-attachment.txt")
    logger.close()
    said = capfd.readouterr().err
    assert said.count("an Allure file was not written:") == 5
    assert f"... and 3 more Allure files were not written to {folder}" in said


def test_results_are_renamed_into_place_after_their_attachments_written_straight(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    renamed: list[str] = []
    real_open, real_replace = open, os.replace

    def noted_open(name: str, mode: str) -> Any:
        opened.append(Path(name).name)
        return real_open(name, mode)

    def noted_replace(source: str, target: str) -> None:
        renamed.append(Path(target).name)
        real_replace(source, target)

    monkeypatch.setattr(_file_writer, "open", noted_open, raising=False)
    monkeypatch.setattr(os, "replace", noted_replace)
    stream = io.BytesIO(_file_writer.item("a1-attachment.txt", b"GET /orders/1")
                        + _file_writer.item("d1-attachment.svg", b"<svg/>")
                        + _file_writer.item("u1-result.json", b"{}", renamed=True))
    assert _file_writer.serve(stream, tmp_path) == []
    assert opened == ["a1-attachment.txt", "d1-attachment.svg", "u1-result.json.tmp"]
    assert renamed == ["u1-result.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a1-attachment.txt", "d1-attachment.svg", "u1-result.json"]


def test_a_file_cut_short_is_not_written(tmp_path: Path) -> None:
    whole = _file_writer.item("a1-attachment.txt", b"GET /orders/1")
    cut = _file_writer.item("a2-attachment.txt", b"GET /orders/2")[:-3]
    assert _file_writer.serve(io.BytesIO(whole + cut), tmp_path) == [
        f"{tmp_path / 'a2-attachment.txt'}: cut short"]
    assert [p.name for p in tmp_path.iterdir()] == ["a1-attachment.txt"]


_INTERRUPTED = """
import os, signal, sys
from allure_commons.model2 import Status, TestResult
from interlock.behave.allure_writer import BackgroundFileLogger
logger = BackgroundFileLogger(sys.argv[1])
for n in range(20):
    logger.report_attached_data(f"GET /orders/{n}", f"a{n}-attachment.txt")
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (the run's own answer to SIGTERM: not here)
try:
    os.killpg(0, signal.SIGTERM)  # a CI runner's stop, to the whole process group
    os.killpg(0, signal.SIGINT)  # Ctrl-C: the terminal signals its whole process group
    signal.pause()
except KeyboardInterrupt:
    logger.report_result(TestResult(uuid="u1", name="scenario", status=Status.BROKEN))
    logger.close()
    print(logger._writer.returncode)
"""


def test_a_header_cut_short_or_unreadable_ends_the_writing_and_is_said(tmp_path: Path) -> None:
    whole = _file_writer.item("a1-attachment.txt", b"GET /orders/1")
    assert _file_writer.serve(io.BytesIO(whole + b"a2-attachm"), tmp_path) == [
        f"{tmp_path}: the last file handed on was cut short"]
    assert _file_writer.serve(io.BytesIO(b"not a header\n" + whole), tmp_path / "x") == [
        f"{tmp_path / 'x'}: a file's header was unreadable; the files after it were not "
        "written"]
    assert [p.name for p in tmp_path.iterdir()] == ["a1-attachment.txt"]


def test_ctrl_c_does_not_stop_the_writer_before_its_files_are_written(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", _INTERRUPTED, str(tmp_path)],
                         capture_output=True, text=True, timeout=60, check=False,
                         start_new_session=True)  # (its group is not pytest's)
    assert run.stdout.strip() == "0", run.stderr  # the writer ended as asked: its input closed
    assert len(list(tmp_path.glob("*-attachment.txt"))) == 20
    assert len(_results(tmp_path)) == 1


_DIES = """
import os, signal, sys
from interlock.behave import _file_writer, allure_writer
from interlock.behave.allure_writer import BackgroundFileLogger
logger = BackgroundFileLogger(sys.argv[1])
for n in range(200):
    logger.report_attached_data("x" * 5000, f"a{n}-attachment.txt")
print(logger._writer.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_when_the_run_dies_its_files_are_written_and_the_writer_ends(tmp_path: Path) -> None:
    died = subprocess.run([sys.executable, "-c", _DIES, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert died.returncode == -signal.SIGKILL, died.stderr
    # (run() returned once the writer, which shares the script's standard error, had ended)
    pid = int(died.stdout)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert len(list(tmp_path.glob("*-attachment.txt"))) == 200
    assert (tmp_path / "a199-attachment.txt").read_text() == "x" * 5000


def test_without_the_writer_process_the_run_writes_the_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    def cannot_start(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(allure_writer.subprocess, "Popen", cannot_start)
    logger = BackgroundFileLogger(tmp_path)
    logger.report_attached_data("GET /orders/1", "a1-attachment.txt")
    logger.report_result(Result(uuid="u1", name="scenario", status=Status.PASSED))
    logger.close()
    said = capfd.readouterr().err
    assert said.count("the process writing Allure's files could not be started "
                      "(Permission denied): Interlock writes them itself") == 1
    assert (tmp_path / "a1-attachment.txt").read_text() == "GET /orders/1"
    assert len(_results(tmp_path)) == 1 and not list(tmp_path.glob("*.tmp"))


def test_a_writer_that_stops_part_way_leaves_the_rest_to_the_run(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logger = BackgroundFileLogger(tmp_path)
    assert logger._writer is not None
    logger.report_attached_data("first", "a1-attachment.txt")
    logger._writer.kill()
    logger._writer.wait()
    logger.report_attached_data("second", "a2-attachment.txt")
    logger.report_attached_data("third", "a3-attachment.txt")
    logger.close()
    said = capfd.readouterr().err
    assert said.count("the process writing Allure's files stopped") == 1
    assert (f"an Allure file was not written: {tmp_path}: the process writing them ended early "
            f"(exit code -{signal.SIGKILL}); files reported before that may be missing") in said
    assert (tmp_path / "a2-attachment.txt").read_text() == "second"
    assert (tmp_path / "a3-attachment.txt").read_text() == "third"


class _Interrupted:
    """A pipe's end whose first write takes part of what it is given (as a write that a signal
    ends part way does), and whose second is interrupted (Ctrl-C) before it writes anything."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.writes = 0

    def write(self, data: memoryview) -> int:
        self.writes += 1
        if self.writes > 1:
            raise KeyboardInterrupt
        return int(self.real.write(data[:10]))


def test_ctrl_c_part_way_through_handing_a_file_on_loses_nothing(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logger = BackgroundFileLogger(tmp_path)
    assert logger._writer is not None and logger._writer.stdin is not None
    logger.report_attached_data("before", "a1-attachment.txt")
    real = logger._writer.stdin
    logger._writer.stdin = _Interrupted(real)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        logger.report_attached_data("x" * 1000, "a2-attachment.txt")
    logger._writer.stdin = real
    logger.report_attached_data("after", "a3-attachment.txt")
    logger.close()
    assert capfd.readouterr().err == ""  # (the file cut short in the pipe was written here)
    assert (tmp_path / "a1-attachment.txt").read_text() == "before"
    assert (tmp_path / "a2-attachment.txt").read_text() == "x" * 1000
    assert (tmp_path / "a3-attachment.txt").read_text() == "after"


def test_a_name_the_writer_would_misread_is_written_here(tmp_path: Path) -> None:
    logger = BackgroundFileLogger(tmp_path)
    logger.report_attached_data("tabbed", "a\t1-attachment.txt")
    logger.close()
    logger.report_attached_data("late", "a2-attachment.txt")  # after close: written here
    assert (tmp_path / "a\t1-attachment.txt").read_text() == "tabbed"
    assert (tmp_path / "a2-attachment.txt").read_text() == "late"


_FORKS = """
import os, sys, time
from interlock.behave.allure_writer import BackgroundFileLogger
logger = BackgroundFileLogger(sys.argv[1])
logger.report_attached_data("parent", "a1-attachment.txt")
child = os.fork()
if child == 0:  # a step's own child process, still running when the run ends
    logger.report_attached_data("child", "a2-attachment.txt")
    time.sleep(60)
    os._exit(0)
logger.close()
print("closed", flush=True)
os.kill(child, 9)
os.waitpid(child, 0)
"""


def test_a_process_forked_from_the_run_does_not_hold_the_writer_open(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", _FORKS, str(tmp_path)], capture_output=True,
                         text=True, timeout=50, check=False)
    assert run.stdout.strip() == "closed", run.stderr
    assert (tmp_path / "a1-attachment.txt").read_text() == "parent"
    assert (tmp_path / "a2-attachment.txt").read_text() == "child"
