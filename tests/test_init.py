"""``interlock init``: a new suite in another repository, and plain ``behave`` passes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _interlock(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(folder, "-m", "interlock.cli", *args)


def test_init_then_behave_passes_in_an_existing_repository(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "theirs"\n')
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    done = _interlock(tmp_path, "init")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "behave" in done.stdout
    pyproject = (tmp_path / "pyproject.toml").read_text()
    assert pyproject.startswith('[project]\nname = "theirs"\n')  # theirs, kept
    assert "[tool.behave]" in pyproject and "AllureFormatter" in pyproject
    assert (tmp_path / ".gitignore").read_text().splitlines() == [
        "node_modules/", "reports/", ".interlock/"]
    run = _run(tmp_path, "-m", "behave")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "3 scenarios passed, 0 failed" in output
    assert any((tmp_path / "reports" / "allure-results").glob("*-result.json"))


def test_init_with_postgres_and_nats_declares_them_and_their_examples_pass(
    tmp_path: Path,
) -> None:
    done = _interlock(tmp_path, "init", "--with", "postgres,nats")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pip install 'interlock[postgres,nats]'" in done.stdout
    stack = (tmp_path / "environment" / "interlock.yaml").read_text()
    assert "kind: postgres" in stack and "kind: nats" in stack
    config = _interlock(tmp_path, "config")
    assert config.returncode == 0, config.stderr
    run = _run(tmp_path, "-m", "behave")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "5 scenarios passed, 0 failed" in output


def test_init_with_kafka_and_a_stub_declares_them_and_their_examples_pass(
    tmp_path: Path,
) -> None:
    done = _interlock(tmp_path, "init", "--with", "kafka,stub")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pip install 'interlock[kafka]'" in done.stdout  # a stub needs no extra
    stack = (tmp_path / "environment" / "interlock.yaml").read_text()
    assert "kind: kafka" in stack and "kind: stub" in stack and "type: kafka" in stack
    run = _run(tmp_path, "-m", "behave")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "5 scenarios passed, 0 failed" in output


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    assert _interlock(tmp_path, "init").returncode == 0
    feature = tmp_path / "features" / "notes.feature"
    feature.write_text("Feature: mine\n")
    (tmp_path / "pyproject.toml").write_text('[tool.behave]\npaths = ["specs"]\n')
    again = _interlock(tmp_path, "init")
    assert again.returncode == 0
    assert "kept     features/notes.feature" in again.stdout
    assert feature.read_text() == "Feature: mine\n"
    assert (tmp_path / "pyproject.toml").read_text() == '[tool.behave]\npaths = ["specs"]\n'
    assert "add the Allure formatter" in again.stdout
    forced = _interlock(tmp_path, "init", "--force")
    assert forced.returncode == 0
    assert feature.read_text().startswith("Feature: Notes")


def test_init_with_an_unknown_choice_is_a_clear_error(tmp_path: Path) -> None:
    done = _interlock(tmp_path, "init", "--with", "postgress")
    assert done.returncode == 2
    assert 'cannot add "postgress"' in done.stderr
    assert "postgres" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "environment").exists()
