"""CI shards, with real behave runs: two shards of a small suite run each feature exactly once,
the split is the same each time and follows recorded durations, and their merged reports count
what a serial run counts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from interlock.cli import main as interlock
from tests.behave.suite_builder import MiniSuite, mini_suite

STEPS = '''
import time
from behave import given

@given('the work takes {seconds:f} seconds')
def work(context, seconds):
    time.sleep(seconds)  # the workload whose duration the split balances


@given('the work keeps the runner busy for {seconds:f} seconds')
def busy(context, seconds):
    began = time.thread_time()
    while time.thread_time() - began < seconds:
        pass
'''

QUICK = """
Feature: {name}
  Scenario: {name} one
    Given I am not logged in
  Scenario: {name} two
    Given I am not logged in
"""


def _suite(tmp_path: Path) -> MiniSuite:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    suite.write("steps/domain.py", STEPS)
    suite.write("features/a_slow.feature", """
        Feature: slow
          Scenario: slow one
            Given the work takes 0.6 seconds
    """)
    for name in ("b", "c", "d"):
        suite.write(f"features/{name}.feature", QUICK.format(name=name))
    return suite


def test_the_runners_cpu_in_each_feature_is_recorded(tmp_path: Path) -> None:
    """What interlock run -j reads to pair a feature that waits with one that works."""
    suite = _suite(tmp_path / "suite")
    suite.write("features/e_busy.feature", """
        Feature: busy
          Scenario: busy one
            Given the work keeps the runner busy for 0.3 seconds
    """)
    reports = suite.root / "reports"
    _run(suite, reports)
    recorded = json.loads((reports / "durations.json").read_text())["features"]
    assert recorded["features/a_slow.feature"]["seconds"] >= 0.6
    assert "cpu" not in recorded["features/a_slow.feature"]  # the first: it pays the imports
    assert recorded["features/e_busy.feature"]["cpu"] >= 0.3
    assert recorded["features/b.feature"]["cpu"] < 0.3
    # the next run, in another order, measures it; the last CPU known of b stays
    _run(suite, reports, "features/b.feature", "features/a_slow.feature")
    recorded = json.loads((reports / "durations.json").read_text())["features"]
    assert recorded["features/a_slow.feature"]["cpu"] < 0.3  # it sleeps
    assert "cpu" in recorded["features/b.feature"]


def _run(suite: MiniSuite, reports: Path, *args: str) -> str:
    command = [sys.executable, "-m", "behave", "--no-capture", "-f", "plain",
               "-f", "allure_behave.formatter:AllureFormatter", "-o", "-",
               "-o", str(reports / "allure-results"), "--junit",
               "--junit-directory", str(reports / "junit"), *args]
    done = subprocess.run(command, cwd=suite.root, env=suite.env(), capture_output=True,
                          text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return output


def _results(reports: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]


def _features(reports: Path) -> set[str]:
    return {p.name for p in (reports / "junit").glob("TESTS-*.xml")}


def _testcases(reports: Path) -> int:
    return sum(len(ElementTree.parse(p).getroot().findall("testcase"))
               for p in (reports / "junit").glob("*.xml"))


def test_two_shards_run_each_feature_once_and_merge_into_a_serial_runs_report(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite")
    shards = tmp_path / "shards"
    outputs = [_run(suite, shards / f"shard-{i}", "-D", f"interlock.shard={i}/2",
                    "-D", f"interlock.durations={shards / f'shard-{i}' / 'durations.json'}")
               for i in (1, 2)]
    one, two = (_features(shards / f"shard-{i}") for i in (1, 2))
    assert one and two and not one & two
    assert "shard 1/2: 2 of 4 features, balanced by scenario counts" in outputs[0]
    assert (shards / "shard-1" / "durations-shard-1-of-2.json").is_file()
    # The split is decided by each shard alone: the same again.
    _run(suite, tmp_path / "again", "-D", "interlock.shard=1/2",
         "-D", f"interlock.durations={tmp_path / 'again' / 'durations.json'}")
    assert _features(tmp_path / "again") == one

    serial = tmp_path / "serial"
    _run(suite, serial)
    assert one | two == _features(serial)
    merged = tmp_path / "merged"
    assert interlock(["merge", str(shards / "shard-1"), str(shards / "shard-2"),
                      "--into", str(merged)]) == 0
    assert len(_results(merged)) == len(_results(serial)) == 7
    assert _testcases(merged) == _testcases(serial) == 7
    names = [p.name for p in (merged / "allure-results").iterdir()]
    assert len(names) == len(set(names))
    recorded = json.loads((merged / "durations.json").read_text())["features"]
    assert sorted(recorded) == ["features/a_slow.feature", "features/b.feature",
                                "features/c.feature", "features/d.feature"]


def test_shards_run_one_after_another_in_one_folder_read_the_same_durations(
        tmp_path: Path) -> None:
    # Locally, shards run in turn in one checkout: the first must not change what the
    # second splits by (it records its own file), or a feature runs twice and one never.
    suite = _suite(tmp_path / "suite")
    common = tmp_path / "durations.json"
    _run(suite, tmp_path / "serial", "-D", f"interlock.durations={common}")
    before = common.read_bytes()
    for index in (1, 2):
        _run(suite, tmp_path / f"shard-{index}", "-D", f"interlock.shard={index}/2",
             "-D", f"interlock.durations={common}")
    assert common.read_bytes() == before
    one, two = (_features(tmp_path / f"shard-{i}") for i in (1, 2))
    assert not one & two and one | two == _features(tmp_path / "serial")
    assert sorted(p.name for p in tmp_path.glob("durations*.json")) == [
        "durations-shard-1-of-2.json", "durations-shard-2-of-2.json", "durations.json"]


def test_recorded_durations_put_the_slow_feature_alone_in_its_shard(tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite")
    reports = suite.root / "reports"
    _run(suite, reports)  # a serial run records each feature's duration beside its results
    recorded = json.loads((reports / "durations.json").read_text())["features"]
    assert recorded["features/a_slow.feature"]["seconds"] >= 0.6
    assert recorded["features/b.feature"]["seconds"] < 0.6
    shutil.rmtree(reports / "junit")
    output = _run(suite, reports, "-D", "interlock.shard=1/2")
    assert "balanced by the durations recorded in" in output
    assert _features(reports) == {"TESTS-features.a_slow.xml"}
    shutil.rmtree(reports / "junit")
    _run(suite, reports, "-D", "interlock.shard=2/2")
    assert _features(reports) == {"TESTS-features.b.xml", "TESTS-features.c.xml", "TESTS-features.d.xml"}


def test_a_wrong_shard_is_a_clear_error(tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite")
    done = suite.run("-D", "interlock.shard=3/2")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert '-D interlock.shard="3/2" is not a shard' in output
    assert "Traceback" not in output


def test_a_shard_of_interlock_run_spreads_only_its_features_over_the_workers(
        tmp_path: Path) -> None:
    suite = _suite(tmp_path / "suite")
    seen: list[set[str]] = []
    for index in (1, 2):
        reports = tmp_path / f"shard-{index}"
        command = [sys.executable, "-m", "interlock.cli", "run", "-j", "2", "--no-capture",
                   "-f", "plain", "-f", "allure_behave.formatter:AllureFormatter",
                   "-o", "-", "-o", str(reports / "allure-results"), "--junit",
                   "--junit-directory", str(reports / "junit")]
        done = subprocess.run(command, cwd=suite.root,
                              env={**suite.env(), "INTERLOCK_SHARD": f"{index}/2"},
                              capture_output=True, text=True, timeout=300, check=False)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-3000:]
        assert f"interlock: shard {index}/2: 2 features" in output
        seen.append(_features(reports))
    assert len(seen[0]) == len(seen[1]) == 2 and not seen[0] & seen[1]
    assert seen[0] | seen[1] == {"TESTS-features.a_slow.xml", "TESTS-features.b.xml",
                                 "TESTS-features.c.xml", "TESTS-features.d.xml"}
