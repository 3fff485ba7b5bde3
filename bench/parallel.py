"""How much faster is the reference suite on 2 workers than on 1?

Runs the whole reference suite (features/, the demo's default stack) with plain ``behave``
and with ``interlock run -j 2``, interleaved, several rounds, in one run; prints each run's
wall time, the medians, and the ratio (serial = 1.00), and checks that both pass the same
scenarios. Goal (issue 15): at least 1.5x on this 2-core machine.

    PYTHONPATH=src:. python bench/parallel.py [--rounds 3] [--jobs 2] [FEATURE-PATH...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("paths", nargs="*", help="feature files or folders (features/)")
    args = parser.parse_args()
    behave = [sys.executable, "-m", "behave", "-f", "null", *args.paths]
    parallel = [sys.executable, "-m", "interlock.cli", "run", "-j", str(args.jobs),
                "-f", "null", *args.paths]
    serial_times: list[float] = []
    parallel_times: list[float] = []
    summaries = set()
    for n in range(args.rounds):
        for label, command, times in (("serial", behave, serial_times),
                                      (f"-j {args.jobs}", parallel, parallel_times)):
            seconds, summary = timed(command)
            times.append(seconds)
            summaries.add(summary)
            print(f"round {n + 1}: {label:7} {seconds:6.2f} s  ({summary})", flush=True)
    serial, both = statistics.median(serial_times), statistics.median(parallel_times)
    each = statistics.median(s / p for s, p in zip(serial_times, parallel_times, strict=True))
    print(f"median: serial {serial:.2f} s, -j {args.jobs} {both:.2f} s; "
          f"speed-up {serial / both:.2f}x (goal 1.5x); median of the rounds' own "
          f"speed-ups {each:.2f}x")
    if len(summaries) != 1:
        sys.exit(f"the runs passed different scenarios: {sorted(summaries)}")


if __name__ == "__main__":
    main()
