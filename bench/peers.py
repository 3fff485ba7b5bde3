"""Interlock beside its peers: the same acceptance test written for each, run as a user runs it.

The test: N scenarios (default 100), each two GET requests to one local API (the test app, in
a process of its own), each request followed by a status check and a JSON field check. Every
runner is a fresh process (`behave` or `pytest`), start-up included, as in CI:

  hand-written      behave with its own steps over one requests.Session (the baseline, 1.00)
  hand+allure       the same with allure-behave's formatter
  interlock         Interlock's hooks and sentences, the API as an `external:` service,
                    Allure off
  interlock+allure  Allure on: Interlock's formatter, which `[tool.behave]` in Interlock's
                    template names (allure-behave's, its files written on a thread)
  interlock+junit   Allure and behave's JUnit reporter
  tavern            the same test as a Tavern YAML file under pytest, when Tavern is
                    installed (here, or in the Python given by --tavern-python)

Runs are interleaved (each round runs every runner once, in a shuffled order), so drift on a
busy machine hits all alike. Printed per runner: the median wall time of a run, its ratio to
the hand-written baseline (median of the per-round ratios), the same for the CPU time of the
runner's process (steadier when other work shares the machine), and, from a 1-scenario run of
each, its CPU start-up and its CPU cost per scenario past start-up. The goals are printed by
the medians of the rounds' ratios, and by each runner's best run ("best wall", "best CPU": on
a shared machine noise only adds time, so the fastest run is the closest to the runner's own
cost).

Goals (issue 15): interlock <= 1.15 x hand-written; interlock+allure <= 1.3 x hand+allure;
interlock at least 3x faster than tavern.

    PYTHONPATH=src:. python bench/peers.py [--scenarios 100] [--rounds 3] [--profile RUNNER]
                                          [--baseline-src ../other-checkout/src]

``--profile interlock`` runs that runner once more under cProfile and prints the top of it.
``--instructions`` counts what hand-written and Interlock (Allure off) execute, under valgrind:
the times of a run drift by 10 % on a busy machine, its instructions do not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from http_steps import served

ROOT = Path(__file__).resolve().parent.parent

HAND_STEPS = '''
import requests
from behave import then, when

SESSION = requests.Session()


@when('I get "{path}"')
def get(context, path):
    context.response = SESSION.get(context.config.userdata["base"] + path, timeout=10)


@then("the status is {code:d}")
def status_is(context, code):
    assert context.response.status_code == code, context.response.status_code


@then('the JSON field "{name}" is "{value}"')
def json_field_is(context, name, value):
    assert context.response.json()[name] == value
'''


def hand_feature(count: int) -> str:
    scenarios = "".join(f"""
  Scenario: order {i}
    When I get "/orders/a-{i}"
    Then the status is 200
    And the JSON field "status" is "pending"
    When I get "/orders/b-{i}"
    Then the status is 200
    And the JSON field "status" is "pending"
""" for i in range(count))
    return f"Feature: orders\n{scenarios}"


def interlock_feature(count: int) -> str:
    scenarios = "".join(f"""
  Scenario: order {i}
    When I send GET "/orders/a-{i}" to "orders"
    Then the response status is 200
    And the response JSON at "$.status" is "pending"
    When I send GET "/orders/b-{i}" to "orders"
    Then the response status is 200
    And the response JSON at "$.status" is "pending"
""" for i in range(count))
    return f"Feature: orders\n{scenarios}"


def tavern_file(count: int, url: str) -> str:
    def stage(path: str) -> str:
        return f"""  - name: get {path}
    request:
      url: {url}{path}
      method: GET
    response:
      status_code: 200
      json:
        status: pending
"""
    return "".join(f"""---
test_name: order {i}
strict:
  - json:off
stages:
{stage(f"/orders/a-{i}")}{stage(f"/orders/b-{i}")}""" for i in range(count))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip() if text.startswith("\n") else text)


@dataclass
class Runner:
    """One way of running the test: its folder (per size) and its command."""

    name: str
    command: Callable[[Path], list[str]]
    folders: dict[int, Path] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    startup: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    startup_cpu: list[float] = field(default_factory=list)

    def run(self, size: int) -> tuple[float, float]:
        """Run once; its wall time and the CPU time (user + system) of its process."""
        folder = self.folders[size]
        shutil.rmtree(folder / "reports", ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(self.command(folder), cwd=folder, env=child_env(self.env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False, timeout=600)
        took = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{self.name} failed (exit {done.returncode}) in {folder}:\n"
                             f"{done.stdout[:3000]}\n...\n{done.stdout[-1500:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return took, cpu


def instructions(runner: Runner, size: int) -> int:
    """The instructions one run of ``runner`` executes in its own process (valgrind's
    callgrind; the same from run to run, where times drift by 10 % on this machine)."""
    folder = runner.folders[size]
    shutil.rmtree(folder / "reports", ignore_errors=True)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         *runner.command(folder)],
        cwd=folder, env=child_env({**runner.env, "PYTHONHASHSEED": "0"}), text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, timeout=1200)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{runner.name} under valgrind failed (exit {done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    return int(found.group(1))


def count_instructions(runners: list[Runner], size: int) -> dict[str, tuple[int, int]]:
    """Hand-written and Interlock (Allure off): the instructions of a whole run and of a
    one-scenario run (start-up)."""
    chosen = [r for r in runners if r.name in ("hand-written", "interlock", "interlock@baseline")]
    return {r.name: (instructions(r, size), instructions(r, 1)) for r in chosen}


def print_instructions(counts: dict[str, tuple[int, int]], size: int) -> None:
    """A whole run, start-up and each scenario past it, in instructions."""
    whole, _ = counts["hand-written"]
    print(f"\ninstructions (valgrind), {size} scenarios, one run each:")
    for name, (many, one) in counts.items():
        print(f"{name:25} {many / 1e6:8.0f} M  ratio {many / whole:5.3f}   start-up "
              f"{one / 1e6:6.0f} M   per scenario {(many - one) / max(1, size - 1) / 1e6:6.2f} M")


def child_env(more: dict[str, str]) -> dict[str, str]:
    """The runners' environment: bytecode is cached (as it is for an installed package; a
    PYTHONDONTWRITEBYTECODE here would make every run compile Interlock's source again)."""
    env = {**os.environ, **more}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def behave(*more: str) -> Callable[[Path], list[str]]:
    def command(folder: Path) -> list[str]:
        return [sys.executable, "-m", "behave", "--no-capture", "-f", "plain", "-o", os.devnull,
                *[part.replace("{folder}", str(folder)) for part in more]]
    return command


ALLURE = ("-f", "allure_behave.formatter:AllureFormatter", "-o", "{folder}/reports/allure")
# What a suite made by `interlock init` names in its [tool.behave] (the same files, written on
# a thread of their own: src/interlock/behave/allure_writer.py).
INTERLOCK_ALLURE = ("-f", "interlock.behave.allure_formatter:AllureFormatter",
                    "-o", "{folder}/reports/allure")
JUNIT = ("--junit", "--junit-directory", "{folder}/reports/junit")


def tavern_python(given: str | None) -> str | None:
    if given:
        return given
    return sys.executable if importlib.util.find_spec("tavern") else None


def make_runners(base: Path, url: str, sizes: tuple[int, ...], tavern: str | None,
                 src: Path = ROOT / "src", baseline: Path | None = None) -> list[Runner]:
    userdata = ("-D", f"base={url}")
    runners = [
        Runner("hand-written", behave(*userdata)),
        Runner("hand+allure", behave(*userdata, *ALLURE)),
        Runner("interlock", behave()),
        Runner("interlock+allure", behave(*INTERLOCK_ALLURE)),
        Runner("interlock+junit", behave(*INTERLOCK_ALLURE, *JUNIT)),
    ]
    if baseline is not None:  # another checkout's Interlock, Allure off and on, same rounds
        runners.append(Runner("interlock@baseline", behave()))
        runners.append(Runner("interlock+allure@baseline", behave(*INTERLOCK_ALLURE)))
    if tavern:
        runners.append(Runner("tavern", lambda folder: [
            tavern, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_orders.tavern.yaml"]))
    pythonpath = os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])
    for runner in runners:
        runner.env["PYTHONPATH"] = pythonpath
        if runner.name.endswith("@baseline") and baseline is not None:
            runner.env["PYTHONPATH"] = os.pathsep.join(
                [str(baseline), os.environ.get("PYTHONPATH", "")])
        for size in sizes:
            folder = base / runner.name / str(size)
            runner.folders[size] = folder
            if runner.name.startswith("hand"):
                write(folder / "steps" / "orders_steps.py", HAND_STEPS)
                write(folder / "features" / "orders.feature", hand_feature(size))
            elif runner.name.startswith("interlock"):
                write(folder / "environment.py",
                      "from interlock.behave.hooks import *  # noqa: F403\n")
                write(folder / "steps" / "interlock_steps.py",
                      "from interlock.behave.steps import *  # noqa: F403\n")
                write(folder / "environment" / "interlock.yaml",
                      f"services:\n  orders:\n    external: '{url}'\n")
                write(folder / "features" / "orders.feature", interlock_feature(size))
            else:
                write(folder / "test_orders.tavern.yaml", tavern_file(size, url))
    return runners


def profile(runner: Runner, size: int) -> None:
    folder = runner.folders[size]
    shutil.rmtree(folder / "reports", ignore_errors=True)
    out = folder / "profile.out"
    command = runner.command(folder)
    command[1:2] = ["-m", "cProfile", "-o", str(out), "-m"]  # python -m cProfile -m behave
    subprocess.run(command, cwd=folder, env=child_env(runner.env), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    import pstats

    print(f"\n== profile of {runner.name}, {size} scenarios (cumulative, top 40)")
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(40)
    print("== the same, by own time (top 30)")
    pstats.Stats(str(out)).sort_stats("tottime").print_stats(30)
    print("== who builds tracebacks and stack summaries")
    pstats.Stats(str(out)).sort_stats("cumulative").print_callers("extract_stack|extract_tb")
    print("== who compiles regular expressions")
    pstats.Stats(str(out)).sort_stats("cumulative").print_callers(r"re/__init__.py.*\(compile\)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tavern-python", help="a Python with Tavern installed")
    parser.add_argument("--profile", metavar="RUNNER", help="profile one runner afterwards")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the instructions of hand-written and Interlock (Allure "
                        "off) under valgrind: a ratio that does not drift (about 2 minutes)")
    parser.add_argument("--interlock-src", type=Path, default=ROOT / "src",
                        help="the Interlock source to measure (default: this checkout's)")
    parser.add_argument("--baseline-src", type=Path,
                        help="another checkout's src/: its Interlock runs in the same rounds, "
                        "Allure off and on (interlock@baseline, interlock+allure@baseline), to "
                        "compare before and after")
    args = parser.parse_args()
    sizes = (args.scenarios, 1)
    tavern = tavern_python(args.tavern_python)

    # The runners' suites, and the reports they write, live in the checkout (under the
    # ignored .interlock/), as a suite's reports/ does in its repository: on this project's
    # machines a file is created 5 to 20 times slower in /tmp than there, which weighed on
    # whichever runner writes more files (Allure's attachments), not on the runner itself.
    (ROOT / ".interlock").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="peers-", dir=ROOT / ".interlock"))
    try:
        with served() as url:
            runners = make_runners(base, url, sizes, tavern, args.interlock_src,
                                   args.baseline_src)
            for runner in runners:  # warm up: files cached, .pyc written, connections made
                runner.run(1)
            # A new order each round (the same from run to run): in a fixed rotation the
            # same runner always followed the one that writes Allure's files, and paid for
            # their writing back (8 % on the same code run twice, in the last session).
            order = random.Random(15)
            ratios: dict[str, list[float]] = {r.name: [] for r in runners}
            cpu_ratios: dict[str, list[float]] = {r.name: [] for r in runners}
            for _ in range(args.rounds):
                took: dict[str, tuple[float, float]] = {}
                for runner in order.sample(runners, len(runners)):
                    took[runner.name] = runner.run(args.scenarios)
                    runner.times.append(took[runner.name][0])
                    runner.cpu.append(took[runner.name][1])
                    wall, cpu = runner.run(1)
                    runner.startup.append(wall)
                    runner.startup_cpu.append(cpu)
                for runner in runners:
                    ratios[runner.name].append(took[runner.name][0] / took["hand-written"][0])
                    cpu_ratios[runner.name].append(
                        took[runner.name][1] / took["hand-written"][1])
            counted: dict[str, tuple[int, int]] = {}
            if args.instructions and shutil.which("valgrind") is not None:
                counted = count_instructions(runners, args.scenarios)
            if args.profile:
                chosen = [r for r in runners if r.name == args.profile]
                if not chosen:
                    raise SystemExit(f"no runner {args.profile!r}: "
                                     f"{', '.join(r.name for r in runners)}")
                profile(chosen[0], args.scenarios)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"{args.scenarios} scenarios x 2 requests, one local API, {args.rounds} interleaved "
          f"rounds; each run a fresh process; medians")
    print("wall: what a user waits; CPU: the runner process's own user+system time (steadier "
          "on a busy machine; the API's time is not in it)")
    print(f"{'runner':25} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6} "
          f"{'CPU start-up':>13} {'CPU/scenario':>13}")
    for runner in runners:
        run, cpu = statistics.median(runner.times), statistics.median(runner.cpu)
        one = statistics.median(runner.startup_cpu)
        per = (cpu - one) / max(1, args.scenarios - 1)
        print(f"{runner.name:25} {run:6.3f} s {statistics.median(ratios[runner.name]):6.2f} "
              f"{cpu:6.3f} s {statistics.median(cpu_ratios[runner.name]):6.2f} "
              f"{one:11.3f} s {per * 1e3:10.2f} ms")
    if counted:
        print_instructions(counted, args.scenarios)
    elif args.instructions:
        print("instructions: valgrind is not installed (apt-get install valgrind)")
    if not tavern:
        print("tavern: not installed (pip install tavern, or --tavern-python <python>)")
    # The best run of each: what the runner costs when nothing else takes the machine's time
    # (on a shared machine, noise only adds time), beside the medians of the rounds' ratios.
    fastest = {r.name: min(r.times) for r in runners}
    least = {r.name: min(r.cpu) for r in runners}
    best_wall = {name: fastest[name] / fastest["hand-written"] for name in fastest}
    best_cpu = {name: least[name] / least["hand-written"] for name in least}
    for label, table in (("wall", ratios), ("CPU", cpu_ratios),
                         ("best wall", {n: [v] for n, v in best_wall.items()}),
                         ("best CPU", {n: [v] for n, v in best_cpu.items()})):
        median = {name: statistics.median(values) for name, values in table.items()}
        print(f"{label}: goal interlock <= 1.15 x hand-written: {median['interlock']:.2f}; "
              f"goal interlock+allure <= 1.3 x hand+allure: "
              f"{median['interlock+allure'] / median['hand+allure']:.2f}"
              + (f"; goal tavern / interlock >= 3: {median['tavern'] / median['interlock']:.2f}"
                 if tavern else "")
              + (f"; interlock / interlock@baseline: "
                 f"{median['interlock'] / median['interlock@baseline']:.2f}, "
                 f"interlock+allure / interlock+allure@baseline: "
                 f"{median['interlock+allure'] / median['interlock+allure@baseline']:.2f}"
                 if "interlock@baseline" in median else ""))


if __name__ == "__main__":
    main()
