"""How much faster is the reference suite on 2 workers than on 1?

Runs the whole reference suite (features/, the demo's default stack) with plain ``behave``
and with ``interlock run -j 2``, interleaved, several rounds, in one run; prints each run's
wall time, the medians, and the ratio (serial = 1.00), and checks that both pass the same
scenarios. Goal (issue 15): at least 1.5x on this 2-core machine.

It also prints what each serial run says of the best any number of workers could do
(Amdahl's bound): a serial run records each feature's seconds, and the plan of ``interlock
run`` says which features share the stack, which hold it alone and which start a stack of
their own (``@isolated``). Only the first kind spreads over the workers; what is outside the
features (Python, the shared stack's start and stop) is paid once, and a feature that holds
the stack alone has only isolated features beside it. So on ``jobs`` workers a run takes at
least ``outside + shared / jobs + max(alone, (alone + isolated) / jobs)``, even with no cost
of its own and every core free.

    PYTHONPATH=src:. python bench/parallel.py [--rounds 3] [--jobs 2] [FEATURE-PATH...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = re.compile(r"^\d+ scenarios? passed, \d+ failed, \d+ skipped.*$", re.MULTILINE)


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds of one run and its scenario summary line (the run must pass)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    began = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                         check=False)
    seconds = time.perf_counter() - began
    output = run.stdout + run.stderr
    summary = SCENARIOS.findall(output)
    if run.returncode != 0 or not summary:
        kept = ROOT / ".interlock" / f"parallel-failed-{os.getpid()}.log"
        kept.parent.mkdir(exist_ok=True)
        kept.write_text(output)
        said = [line for line in output.splitlines()
                if re.search(r"HOOK-ERROR|set-up error|Error|Failing scenarios|failed", line)]
        sys.exit(f"{' '.join(command)} failed (whole output: {kept}):\n"
                 + "\n".join(said[:40]) + f"\n...\n{output[-3000:]}")
    return seconds, summary[-1]


@dataclass(frozen=True)
class Sections:
    """Where one serial run's seconds went, by what the plan of ``interlock run`` makes of
    each feature."""

    wall: float
    shared: float  # features that run beside others on the shared stack
    alone: float  # features that hold the shared stack alone
    isolated: float  # @isolated features (their own stack's start and stop included)

    @property
    def outside(self) -> float:
        """Outside the features: Python, the plan, the shared stack's start and stop."""
        return self.wall - self.shared - self.alone - self.isolated

    def best(self, jobs: int) -> float:
        """The least time ``jobs`` workers could take (Amdahl's bound, see the module).

        Example:
            >>> Sections(16.0, 8.0, 2.0, 1.0).best(2)
            11.0
        """
        return (self.outside + self.shared / jobs
                + max(self.alone, (self.alone + self.isolated) / jobs))


def sections(wall: float, recorded: Path, kinds: dict[str, str]) -> Sections:
    """The sections of a serial run that took ``wall`` seconds and recorded its features'
    seconds in ``recorded``; ``kinds``: feature path -> "shared", "alone" or "isolated"."""
    from interlock._core.shards import Durations

    seconds = Durations.load(recorded).seconds
    unknown = sorted(set(seconds) - set(kinds))
    if unknown:  # recorded under another name than the plan's (a path from another folder)
        sys.exit(f"the serial run recorded features the plan does not know: {unknown}")
    total = {kind: sum(s for path, s in seconds.items() if kinds[path] == kind)
             for kind in ("shared", "alone", "isolated")}
    return Sections(wall, total["shared"], total["alone"], total["isolated"])


def kinds_of(paths: list[str]) -> dict[str, str]:
    """What ``interlock run`` makes of each feature: "shared", "alone" or "isolated"."""
    from interlock._core.config import find_config
    from interlock._core.shards import Durations
    from interlock.behave.parallel import correlated_channels, plan, scoped_services
    from interlock.suite import Suite

    suite = Suite.load(find_config(None, ROOT, setting="--config"))
    try:
        planned = plan([Path(p) for p in paths or ["features"]], ROOT,
                       Durations.load(ROOT / "reports" / "durations.json"),
                       correlated_channels(suite), scoped_services(suite))
    finally:
        suite.close()
    return {p.path: "isolated" if p.isolated else "alone" if p.alone or p.breaks else "shared"
            for p in planned}


def measure(args: argparse.Namespace, kinds: dict[str, str], scratch: Path) -> None:
    """The interleaved rounds; the serial runs record their durations in ``scratch``."""
    parallel = [sys.executable, "-m", "interlock.cli", "run", "-j", str(args.jobs),
                "-f", "null", *args.paths]
    serial_times: list[float] = []
    parallel_times: list[float] = []
    bounds: list[float] = []
    summaries = set()
    for n in range(args.rounds):
        recorded = scratch / f"serial-{n + 1}.json"
        behave = [sys.executable, "-m", "behave", "-f", "null",
                  "-D", f"interlock.record_durations={recorded}", *args.paths]
        for label, command, times in (("serial", behave, serial_times),
                                      (f"-j {args.jobs}", parallel, parallel_times)):
            seconds, summary = timed(command)
            times.append(seconds)
            summaries.add(summary)
            print(f"round {n + 1}: {label:7} {seconds:6.2f} s  ({summary})", flush=True)
            if label == "serial":
                found = sections(seconds, recorded, kinds)
                bounds.append(found.wall / found.best(args.jobs))
                print(f"         serial sections: outside the features {found.outside:.2f} s, "
                      f"shared {found.shared:.2f} s, alone {found.alone:.2f} s, isolated "
                      f"{found.isolated:.2f} s: {args.jobs} workers at best "
                      f"{found.best(args.jobs):.2f} s ({bounds[-1]:.2f}x)", flush=True)
    serial, both = statistics.median(serial_times), statistics.median(parallel_times)
    each = statistics.median(s / p for s, p in zip(serial_times, parallel_times, strict=True))
    print(f"median: serial {serial:.2f} s, -j {args.jobs} {both:.2f} s; "
          f"speed-up {serial / both:.2f}x (goal 1.5x); median of the rounds' own "
          f"speed-ups {each:.2f}x; the best {args.jobs} workers could do, by the serial runs' "
          f"sections: {statistics.median(bounds):.2f}x")
    if len(summaries) != 1:
        sys.exit(f"the runs passed different scenarios: {sorted(summaries)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("paths", nargs="*", help="feature files or folders (features/)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the plan's code, from this checkout
    kinds = kinds_of(args.paths)
    with tempfile.TemporaryDirectory(prefix="interlock-bench-parallel-") as scratch:
        measure(args, kinds, Path(scratch))


if __name__ == "__main__":
    main()
