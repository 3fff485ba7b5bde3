"""``interlock run -j N``: features on worker processes that share one stack (issue 15 item 2).

A real run of a small suite: the shared stack is started once (by worker 1) and stopped once,
the workers use its secrets and read its services' logs, a feature that stops a service and a
@serial one run alone on it while the other worker waits (with the reasons printed), and the
results land in one Allure folder and one JUnit folder. The plan's reasons are checked on
parsed features."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from interlock._core.shards import Durations
from interlock.behave.parallel import plan, scoped_services
from tests.behave.suite_builder import MiniSuite, mini_suite
from tests.behave.test_hooks import tiny_processes

SERVICES = """
secrets: {key: "{uuid}"}
services:
  web:
    process: {command: "{tiny} --port {port}"}
    env: {TINY_SECRET: "{secrets.key}"}
    ready: {http: /health}
"""

PLAIN = """
Feature: plain {n}
  Scenario: the service knows the run's secret {n}
    When I send GET "/env/TINY_SECRET" to "web"
    Then the response status is 200
    And the response JSON at "$.value" is "{{secrets.key}}"
    And within 5 seconds, the "web" service log contains "request /env/TINY_SECRET"
"""


# A feature that waits a minute for what never comes: the run is mid-way while it waits.
WAITS = textwrap.dedent("""
    Feature: waits {n}
      Scenario: waits for what never comes
        When I send GET "/health" to "web"
        Then within 60 seconds, the response status is 599
""")

RUN_PLAIN = [sys.executable, "-m", "interlock.cli", "run", "-j", "2", "--no-capture",
             "-f", "plain"]


def run_parallel(suite: MiniSuite) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "interlock.cli", "run", "-j", "2", "--no-capture",
               "-f", "plain", "-f", "allure_behave.formatter:AllureFormatter",
               "-o", "-", "-o", str(suite.results), "--junit",
               "--junit-directory", str(suite.root / "reports" / "junit")]
    return subprocess.run(command, cwd=suite.root, env=suite.env(), capture_output=True,
                          text=True, timeout=300, check=False)


def test_features_share_one_stack_and_its_secrets_and_results_merge(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, SERVICES)
    for n in range(4):
        suite.write(f"features/plain_{n}.feature", PLAIN.format(n=n))
    suite.write("features/outage.feature", """
        Feature: outage
          Scenario: a restarted service answers again
            When the "web" service is stopped
            And the "web" service is restarted
            And I send GET "/health" to "web"
            Then the response status is 200
    """)
    suite.write("features/alone.feature", "@serial\n" + PLAIN.format(n=9))
    before = {p.pid for p in tiny_processes()}
    run = run_parallel(suite)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[:8000]
    alone = "runs alone on the shared stack (the other workers wait): "
    assert f"features/outage.feature {alone}it stops or slows" in output
    assert f"features/alone.feature {alone}it is tagged @serial" in output
    assert "6 features passed, 0 failed, 0 skipped" in output
    assert "6 scenarios passed, 0 failed, 0 skipped" in output
    web_lines = [line for line in output.splitlines() if "web ready at" in line]
    assert len(web_lines) == 1, output[-4000:]  # one stack, for every feature
    # Worker 1 started it and runs the two alone once the four that share it are taken; the
    # workers take those four one at a time.
    assert "6 features on 2 worker(s), each taking the next one when free; worker 1 starts " \
        "the shared stack, and runs the 2 that need it alone once the others are taken" in output
    # Said as it happens, on interlock run's own stderr (each worker's output, on stdout, is
    # shown when it ends).
    assert "interlock: worker 1 starts the shared stack" in run.stderr
    assert "interlock: worker 1 runs features/outage.feature (alone on the shared stack)" \
        in run.stderr
    assert "interlock: worker 2 runs features/plain_" in run.stderr
    assert "--- worker " in run.stdout and "--- worker " not in run.stderr
    ran = dict(re.findall(r"^--- worker (\d): (\d+) features?, passed", output, re.MULTILINE))
    assert set(ran) == {"1", "2"} and int(ran["1"]) >= 2, output[-4000:]
    assert int(ran["1"]) + int(ran["2"]) == 6
    durations = json.loads((suite.root / "reports" / "durations.json").read_text())
    assert set(durations["features"]) == {f"features/{name}.feature" for name in (
        "plain_0", "plain_1", "plain_2", "plain_3", "outage", "alone")}
    assert {p.pid for p in tiny_processes()} - before == set()  # every service stopped
    results = [json.loads(p.read_text()) for p in suite.results.glob("*-result.json")]
    assert sorted(r["status"] for r in results) == ["passed"] * 6
    assert len(list((suite.root / "reports" / "junit").glob("TESTS-*.xml"))) == 6
    assert not list(tmp_path.glob("**/stack.json"))  # the state file, with the secrets, went


def test_counting_steps_run_alone_unless_they_name_the_scenarios_own_data(
        tmp_path: Path) -> None:
    features = tmp_path / "features"
    features.mkdir()
    texts = {
        "scoped": '''
            Then exactly 1 event on "orders.created" matches:
              """
              {"orderId": "{order_id}"}
              """
        ''',
        "unscoped": '''
            Then no event arrives on "orders.assigned" within 1 second
        ''',
        "whole_table": '''
            Then the table "orders" has 0 rows
        ''',
        "fault": '''
            When the "auth" service is paused
        ''',
        "isolated_counting": '''
            Then no event arrives on "orders.assigned" within 1 second
        ''',
        "stub_unscoped": '''
            Then the "payments" stub received POST "/charges"
        ''',
        "stub_scoped": '''
            Then the "payments" stub received POST "/charges" with JSON containing:
              """
              {"reference": "{order_id}"}
              """
        ''',
        "isolated_fault": '''
            When the "auth" service is paused
        ''',
    }
    for name, steps in texts.items():
        tag = "@isolated\n" if name.startswith("isolated") else ""
        (features / f"{name}.feature").write_text(
            f"{tag}Feature: {name}\n  Scenario: one\n" + textwrap.indent(
                textwrap.dedent(steps).strip(), "    ") + "\n")
    planned = {Path(p.path).stem: p for p in plan([features], tmp_path, Durations.load(tmp_path / "durations.json"))}
    assert planned["scoped"].alone == "" and planned["scoped"].breaks == ""
    assert planned["unscoped"].alone.startswith("it counts or refuses events")
    assert "line 3" in planned["unscoped"].alone
    assert planned["whole_table"].alone.startswith("it counts every row")
    assert planned["fault"].breaks.startswith("it stops or slows") and not planned["fault"].alone
    assert planned["isolated_fault"].breaks == ""  # it has a stack of its own already
    assert planned["isolated_counting"].alone == ""  # alone on its own stack already
    assert planned["stub_unscoped"].alone.startswith("it looks for a request to a stub")
    assert planned["stub_scoped"].alone == ""


def test_sigterm_stops_the_workers_and_the_stack(tmp_path: Path) -> None:
    """A CI timeout (SIGTERM) mid-run, one worker waiting for its turn to run alone: the
    workers stop, the shared stack stops, nothing is left."""
    import signal

    import psutil

    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/waits_1.feature", WAITS.format(n=1))
    suite.write("features/waits_3.feature", WAITS.format(n=3))
    suite.write("features/waits_2.feature", "@serial\n" + WAITS.format(n=2))
    before = {p.pid for p in tiny_processes()}
    command = RUN_PLAIN
    run = subprocess.Popen(command, cwd=suite.root, env=suite.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the shared stack is up
            started = {p.pid for p in tiny_processes()} - before
            if started:
                break
            time.sleep(0.1)
        workers = [p for p in psutil.Process(run.pid).children()
                   if "python" in p.name().lower()]
        assert len(workers) == 2
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode != 0
    psutil.wait_procs(workers, timeout=10)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert {p.pid for p in tiny_processes()} - before == set()


def test_counting_on_a_correlated_channel_shares_the_stack(tmp_path: Path) -> None:
    """The stack file says which field tells a scenario's events apart (events: correlate:):
    a feature that counts events there no longer runs alone, in each broker's wildcards."""
    from interlock.behave.parallel import correlated_channels
    from interlock.suite import Suite

    features = tmp_path / "features"
    features.mkdir()
    for name, channel in (("covered", "orders.assigned"), ("other", "payments.received"),
                          ("wildcard", "orders.>")):
        (features / f"{name}.feature").write_text(
            f'Feature: {name}\n  Scenario: one\n    Then no event arrives on "{channel}" '
            "within 1 second\n")
    durations = Durations.load(tmp_path / "durations.json")
    for broker, covered, alone in (
            ("{type: nats, url: 'nats://127.0.0.1:4222'}", '"orders.*"', {"other", "wildcard"}),
            ("{type: nats, url: 'nats://127.0.0.1:4222'}", '"orders.>"', {"other"}),
            ("{type: kafka, url: 'kafka://127.0.0.1:9092'}", '"orders.*"',  # no wildcards: exact
             {"covered", "other", "wildcard"})):
        config = tmp_path / "interlock.yaml"
        config.write_text(f"brokers: {{bus: {broker}}}\n"
                          f"events: {{correlate: {{{covered}: $.orderId}}}}\n")
        suite = Suite.load(config, progress=lambda line: None)
        try:
            planned = plan([features], tmp_path, durations, correlated_channels(suite))
        finally:
            suite.close()
        assert {Path(p.path).stem for p in planned if p.alone} == alone, (broker, covered)


def test_features_left_out_by_tags_do_not_stop_a_worker_taking_the_next(
        tmp_path: Path) -> None:
    """The workers take the features one at a time: one that --tags leaves out is counted as
    a plain run counts it, and the worker goes on to the next."""
    suite = mini_suite(tmp_path, SERVICES)
    for n in range(4):
        tag = "@slow\n" if n in (0, 2) else ""
        suite.write(f"features/plain_{n}.feature", tag + textwrap.dedent(PLAIN.format(n=n)))
    command = [sys.executable, "-m", "interlock.cli", "run", "-j", "2", "--no-capture",
               "-f", "plain", "--tags", "not @slow"]
    run = subprocess.run(command, cwd=suite.root, env=suite.env(), capture_output=True,
                         text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "2 features passed, 0 failed, 2 skipped" in output, output[-4000:]
    assert "2 scenarios passed, 0 failed, 2 skipped" in output


def test_a_shared_stack_that_does_not_start_fails_every_worker_at_once(tmp_path: Path) -> None:
    """Worker 1 cannot start the shared stack (a service exits at once): the other worker
    stops waiting for it, every scenario is stopped with the reason, nothing is left."""
    broken = SERVICES + (
        "  broken:\n"
        f"    process: {{command: \"{sys.executable} -c 'raise SystemExit(3)'\"}}\n"
        "    ready: {http: /health, timeout: 20s}\n")
    suite = mini_suite(tmp_path, broken)
    for n in range(3):
        suite.write(f"features/plain_{n}.feature", PLAIN.format(n=n))
    before = {p.pid for p in tiny_processes()}
    began = time.monotonic()
    run = run_parallel(suite)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert time.monotonic() - began < 120, output[-3000:]  # not the 600 s a worker may wait
    assert "0 scenarios passed" in output, output[-3000:]
    assert 'broken' in output
    assert "Traceback" not in output, output[-3000:]
    assert "The stack 'default' this run shares did not start" in output  # worker 2's
    assert "still use the shared stack" not in output
    assert {p.pid for p in tiny_processes()} - before == set()


def test_the_report_folders_exist_before_the_workers_start(tmp_path: Path) -> None:
    """Behave checks whether the JUnit folder exists and then makes it: two workers whose first
    features end together both saw it missing, and one failed with a traceback (CI saw it).
    ``interlock run`` makes the folders first."""
    from behave.configuration import Configuration

    from interlock.behave.parallel import _make_report_folders

    junit = tmp_path / "reports" / "junit"
    text = tmp_path / "reports" / "plain" / "run.txt"
    config = Configuration(command_args=["--junit", "--junit-directory", str(junit),
                                         "-f", "plain", "-o", str(text)], load_config=False)
    _make_report_folders(config)
    assert junit.is_dir()
    assert text.parent.is_dir()
    assert not text.exists()  # the worker writes it; only its folder is made


def test_what_a_killed_run_left_is_swept_by_the_next(tmp_path: Path) -> None:
    """``interlock run`` and its workers killed outright (SIGKILL, an OOM kill): the shared
    stack's services and the run's own folder (the workers' logs, the claims) are left; the
    next run removes both before it starts."""
    import os
    import signal

    suite = mini_suite(tmp_path, SERVICES)
    for n in range(2):
        suite.write(f"features/waits_{n}.feature", WAITS.format(n=n))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**suite.env(), "TMPDIR": str(temp)}
    before = {p.pid for p in tiny_processes()}
    command = RUN_PLAIN
    run = subprocess.Popen(command, cwd=suite.root, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT, start_new_session=True)
    runs = suite.root / ".interlock" / "runs"

    def recorded() -> str:  # what the run registry holds (a service is there once started)
        return " ".join(p.read_text() for p in runs.glob("*.json")) if runs.is_dir() else ""

    left: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = {p.pid for p in tiny_processes()} - before
            if left and all(f'"{pid}"' in recorded() for pid in left):
                break
            time.sleep(0.1)
        assert left and all(f'"{pid}"' in recorded() for pid in left), "no shared stack"
        os.killpg(run.pid, signal.SIGKILL)  # interlock run and its workers, not the services
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    folders = list(temp.glob("interlock-run-*"))
    assert len(folders) == 1 and {p.pid for p in tiny_processes()} >= left
    for name in ("waits_0", "waits_1"):
        (suite.root / "features" / f"{name}.feature").unlink()
    suite.write("features/plain_0.feature", PLAIN.format(n=0))
    again = subprocess.run(command, cwd=suite.root, env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    output = again.stdout + again.stderr
    swept = again.returncode == 0 and "interlock: swept folder" in output and (
        "swept process web" in output)
    if not swept:
        for pid in {p.pid for p in tiny_processes()} & left:
            os.killpg(pid, signal.SIGKILL)
    assert swept, output[-3000:]
    try:
        assert not list(temp.glob("interlock-run-*"))  # the killed run's, and this run's own
        assert not ({p.pid for p in tiny_processes()} & left)
    finally:
        for pid in {p.pid for p in tiny_processes()} & left:  # (if the sweep missed them)
            os.killpg(pid, signal.SIGKILL)


def test_a_stub_that_tells_scenarios_apart_shares_the_stack(tmp_path: Path) -> None:
    """A stub with a scenario_header: the features that set its answers and count its requests
    run beside the others; the same steps on another stub still run alone."""
    from interlock.suite import Suite

    features = tmp_path / "features"
    features.mkdir()
    for name, stub in (("scoped", "payments"), ("other", "mail")):
        (features / f"{name}.feature").write_text(
            f'Feature: {name}\n  Scenario: one\n    Given the "{stub}" stub answers POST "/x" '
            f'with status 500\n    Then the "{stub}" stub received 1 request to POST "/x"\n')
    config = tmp_path / "interlock.yaml"
    config.write_text("services:\n  payments: {kind: stub, options: {scenario_header: "
                      "traceparent}}\n  mail: {kind: stub}\n")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        planned = plan([features], tmp_path, Durations.load(tmp_path / "durations.json"),
                       scoped_services=scoped_services(suite))
    finally:
        suite.close()
    assert {Path(p.path).stem: p.alone.split(" (")[0] for p in planned} == {
        "scoped": "", "other": "it sets how a stub answers, for the features running beside "
        "it too"}
    other = next(p for p in planned if Path(p.path).stem == "other")
    assert other.alone.endswith('it would run beside them if the "mail" stub told scenarios '
                                "apart (services.mail.options.scenario_header: a header the "
                                "system passes on, e.g. traceparent)")


def test_a_delay_on_a_proxy_that_tells_scenarios_apart_shares_the_stack(tmp_path: Path) -> None:
    """delay_proxy: {scenario_header: traceparent}: a feature that slows the service for its
    own scenario runs beside the others; the same delay on a plain proxy, or stopping the
    service, still runs alone (and says how to let the delay share)."""
    from interlock.suite import Suite

    features = tmp_path / "features"
    features.mkdir()
    steps = {"scoped": 'Given the "auth" service responds with a delay of 3 seconds',
             "plain": 'Given the "mail" service responds with a delay of 3 seconds',
             "stub": 'Given the "payments" service responds with a delay of 3 seconds',
             "stopped": 'When the "auth" service is stopped'}
    for name, step in steps.items():
        (features / f"{name}.feature").write_text(
            f"Feature: {name}\n  Scenario: one\n    {step}\n")
    config = tmp_path / "interlock.yaml"
    config.write_text(
        "services:\n"
        "  auth: {external: 'http://127.0.0.1:1', delay_proxy: {scenario_header: traceparent}}\n"
        "  mail: {external: 'http://127.0.0.1:2', delay_proxy: true}\n"
        # a stub that tells scenarios apart by its answers, not by its delays
        "  payments: {kind: stub, options: {scenario_header: traceparent}, "
        "delay_proxy: true}\n")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        assert suite.delay_headers == {"auth": "traceparent"}
        assert suite.scenario_headers == {"payments": "traceparent"}  # (auth is not a stub)
        planned = plan([features], tmp_path, Durations.load(tmp_path / "durations.json"),
                       scoped_services=scoped_services(suite))
    finally:
        suite.close()
    stops = {Path(p.path).stem: p.breaks.split(" (")[0] for p in planned}
    fault = "it stops or slows a service that features running beside it use"
    assert stops == {"scoped": "", "plain": fault, "stub": fault, "stopped": fault}
    assert not any(p.alone for p in planned)
    plain = next(p for p in planned if Path(p.path).stem == "plain")
    assert plain.breaks.endswith('it would run beside them if the "mail" service told '
                                 "scenarios apart (services.mail.delay_proxy.scenario_header: a "
                                 "header the system passes on, e.g. traceparent)")


def test_only_sentences_scoped_by_a_stub_are_shared_on_a_scoped_stub(
        tmp_path: Path) -> None:
    """A serial sentence naming a stub runs beside others on a stub that tells scenarios
    apart only when it says it is about the scenario's own requests (a sentence about the
    whole journal would not be)."""
    from behave.parser import parse_file

    from interlock.behave.parallel import why

    path = tmp_path / "one.feature"
    path.write_text('Feature: one\n  Scenario: one\n    Then the "payments" stub forgets all\n')
    feature = parse_file(str(path))
    pattern = re.compile(r'the "(?P<stub>[^"]+)" stub forgets all')
    for group, expected in (("stub", ""), ("", "it forgets every scenario's requests")):
        reason = why(feature, [(pattern, "it forgets every scenario's requests", False,
                                group)], scoped_services={"stub": {"payments"}})
        assert reason.split(" (")[0] == expected


def test_features_that_wait_head_one_workers_queue_and_end_the_others(tmp_path: Path) -> None:
    """Two features that wait side by side (for a timeout, for an event that must not come)
    leave the machine idle: with the CPU each took last time recorded, worker 1 takes the
    waiting ones first and worker 2 the busy ones; without it, both take the heaviest first."""
    from interlock._core.shards import Durations
    from interlock.behave.parallel import Planned, plan, take_order

    for name in ("wait_long", "wait_short", "busy_long", "busy_short", "unknown"):
        (tmp_path / "features").mkdir(exist_ok=True)
        (tmp_path / "features" / f"{name}.feature").write_text(
            f"Feature: {name}\n  Scenario: one\n    Given I am not logged in\n")
    seconds = {"features/wait_long.feature": 3.0, "features/wait_short.feature": 1.0,
               "features/busy_long.feature": 2.0, "features/busy_short.feature": 0.5}
    cpu = {"features/wait_long.feature": 0.1, "features/wait_short.feature": 0.05,
           "features/busy_long.feature": 1.6, "features/busy_short.feature": 0.4}
    unknown = Durations(tmp_path / "none.json", dict(seconds))
    known = Durations(tmp_path / "d.json", dict(seconds), cpu=dict(cpu))

    def names(order: list[Planned]) -> list[str]:
        return [Path(p.path).stem for p in order]

    planned = plan([Path("features")], tmp_path, unknown)
    assert names(take_order(planned, 1)) == names(take_order(planned, 2)) == [
        "wait_long", "busy_long", "unknown", "wait_short", "busy_short"]
    planned = plan([Path("features")], tmp_path, known)
    assert names(take_order(planned, 1)) == [
        "wait_long", "wait_short", "busy_long", "unknown", "busy_short"]
    assert names(take_order(planned, 2)) == [
        "busy_long", "unknown", "busy_short", "wait_long", "wait_short"]
    # an @isolated feature starts its own stack: every worker's last (beside the features
    # that hold the shared stack alone, on worker 1)
    (tmp_path / "features" / "own.feature").write_text(
        "@isolated\nFeature: own\n  Scenario: one\n    Given I am not logged in\n")
    planned = plan([Path("features")], tmp_path, known)
    assert names(take_order(planned, 1))[-1] == names(take_order(planned, 2))[-1] == "own"


def test_the_run_says_which_features_mostly_wait_and_who_takes_them_first(
        tmp_path: Path) -> None:
    """With the CPU of each feature recorded by an earlier run, the plan's line names the
    features that mostly wait; the first worker takes the heaviest of them first."""
    suite = mini_suite(tmp_path, SERVICES)
    for n in range(3):
        suite.write(f"features/plain_{n}.feature", textwrap.dedent(PLAIN.format(n=n)))
    recorded = Durations(suite.root / "reports" / "durations.json")
    recorded.update({f"features/plain_{n}.feature": 1.0 for n in range(3)},
                    cpu={"features/plain_0.feature": 0.9, "features/plain_1.feature": 0.05,
                         "features/plain_2.feature": 0.8})
    recorded.save()
    run = subprocess.run(RUN_PLAIN, cwd=suite.root, env=suite.env(), capture_output=True,
                         text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert ("interlock: 1 feature mostly waits (by the CPU recorded in "
            f"{Path('reports') / 'durations.json'}): the odd workers take them first, the even "
            "ones last, so that one works while another waits: plain_1.feature") in output
    assert "interlock: worker 1 runs features/plain_1.feature" in output, output[-4000:]
