"""Allure's files written on a thread (``behave/allure_writer.py``): every file reported is in
place once ``close`` returns, with allure-commons' own names and contents; a file that cannot
be written is said, once, without a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Status
from allure_commons.model2 import TestResult as Result

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
    written: list[str] = []
    renamed: list[str] = []
    write_bytes = Path.write_bytes
    monkeypatch.setattr(Path, "write_bytes",
                        lambda self, data: (written.append(self.name), write_bytes(self, data))[1])
    replace = os.replace
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (renamed.append(Path(b).name), replace(a, b))[0])
    logger = BackgroundFileLogger(tmp_path)
    logger.report_attached_data("GET /orders/1", "a1-attachment.txt")
    logger.report_attached_data(b"<svg/>", "d1-attachment.svg")
    logger.report_result(Result(uuid="u1", name="scenario", status=Status.PASSED))
    logger.close()
    result = next(tmp_path.glob("*-result.json")).name
    assert written == ["a1-attachment.txt", "d1-attachment.svg", f"{result}.tmp"]
    assert renamed == [result]
