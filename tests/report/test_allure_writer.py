"""Allure's files written by a process of their own (``behave/allure_writer.py``,
``behave/_file_writer.py``): every file reported is in place once ``close`` returns, with
allure-commons' own names and contents, also after Ctrl-C or when the run's process dies; a
file that cannot be written is said, once, without a traceback; without the writer process the
run writes them itself."""

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
    os.killpg(0, signal.SIGINT)  # Ctrl-C: the terminal signals its whole process group
    os.killpg(0, signal.SIGTERM)  # a CI runner's stop
    signal.pause()
except KeyboardInterrupt:
    logger.report_result(TestResult(uuid="u1", name="scenario", status=Status.BROKEN))
    logger.close()
    print(logger._writer.returncode)
"""


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
    writer = psutil.Process(int(died.stdout))
    try:
        writer.wait(timeout=30)  # it ends on its own, once its input is closed
    except psutil.NoSuchProcess:
        pass
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
    assert (tmp_path / "a2-attachment.txt").read_text() == "second"
    assert (tmp_path / "a3-attachment.txt").read_text() == "third"
