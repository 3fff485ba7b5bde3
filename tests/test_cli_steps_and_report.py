"""``interlock steps`` (the step catalogue) and ``interlock report`` (HTML without Java)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from interlock.cli import main
from tests.behave.suite_builder import mini_suite

ROOT = Path(__file__).resolve().parents[1]
ALLURE3 = ROOT / ".venv" / "allure" / "node_modules" / ".bin" / "allure"
KEYWORDS = ("Given", "When", "Then", "And", "But")


def test_every_catalogue_entry_has_an_example_its_own_pattern_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["steps", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) > 40
    assert {e["library"] for e in entries} >= {"HTTP", "Auth", "Events", "Databases"}
    for entry in entries:
        keyword, _, sentence = entry["example"].partition(" ")
        assert keyword in KEYWORDS, entry
        assert re.fullmatch(entry["pattern"], sentence), entry
        assert "(?P<" not in entry["sentence"] and "\\" not in entry["sentence"], entry


def test_the_text_catalogue_reads_like_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps"]) == 0
    out = capsys.readouterr().out
    assert '[within <n> seconds,] the response JSON at "<path>" (is|contains)' in out
    assert 'I send (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) "<target>" [to "<service>"]' in out
    assert 'e.g. Then I remember the response JSON at "$.id" as "order_id"' in out


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("config", "stack", "docs", "report", "steps"):
        line = next((ln for ln in out.splitlines() if ln.strip().startswith(command)), "")
        assert len(line.split()) > 1, f"{command} has no help text:\n{out}"


def _results(tmp_path: Path) -> Path:
    suite = mini_suite(tmp_path, "variables: {greeting: hello}\n")
    suite.write("features/report.feature", """
        @epic.ordering
        Feature: the report
          Scenario: a passing scenario
            Given I remember the response JSON at "$.x" as "y"

          Scenario: a remembered value
            Then the response status is 200
    """)
    suite.run()
    assert any(suite.results.glob("*-result.json"))
    return suite.results


def test_report_without_an_allure_cli_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("INTERLOCK_ALLURE", raising=False)
    monkeypatch.chdir(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "report", "--results", str(results)],
        capture_output=True, text=True, env={**os.environ, "PATH": str(tmp_path / "empty")},
        check=False,
    )
    assert done.returncode == 2
    assert "No Allure command line found" in done.stderr
    assert "npm install -g allure" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not ALLURE3.exists() and not os.environ.get("CI"),
                    reason="Allure 3 not installed (make test installs it with npm)")
def test_report_builds_html_with_allure_3_and_keeps_history(tmp_path: Path) -> None:
    assert ALLURE3.exists(), "make test installs Allure 3 (scripts/allure.sh); CI needs it"
    results = _results(tmp_path / "suite")
    output = tmp_path / "html" / "allure-report"
    env = {**os.environ, "INTERLOCK_ALLURE": str(ALLURE3)}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "interlock.cli", "report", "--results", str(results),
             "--output", str(output), "--name", "Orders suite"],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    index = output / "index.html"
    assert index.exists() and "<html" in index.read_text().lower()
    data = "".join(p.read_text(errors="replace") for p in output.rglob("*.json"))
    assert "a passing scenario" in data and "a remembered value" in data
    assert "Test defects: the suite is wrong" in data  # our categories, in Allure 3 too
    config = json.loads((output.parent / "allurerc.json").read_text())
    assert config["plugins"]["awesome"]["options"]["groupBy"] == ["epic", "feature", "story"]
    history = (output.parent / "history.jsonl").read_text().splitlines()
    assert len(history) == 2  # one entry per report: trends fill in
