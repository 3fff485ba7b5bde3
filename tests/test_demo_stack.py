"""The reference suite's own stack (environment/interlock.yaml) starts for real, answers, and
stops without leaving a process; a run of the first feature leaves no token in the report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psutil
import requests

from interlock.stack.backends.process import ProcessService
from interlock.suite import Suite

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_stack_starts_and_stops_for_real() -> None:
    lines: list[str] = []
    suite = Suite.load(ROOT / "environment" / "interlock.yaml", progress=lines.append)
    try:
        stack = suite.stack()
        pids = [s.pid for s in stack.running.values() if isinstance(s, ProcessService)]
        assert len(pids) == 7  # db, nats, the payments stub and the four services
        for name in ("auth", "orders", "notifications", "analytics"):
            assert requests.get(stack.address(name).url + "/health", timeout=5).status_code == 200
        stub = stack.address("payments").url + "/__interlock/health"
        assert requests.get(stub, timeout=5).status_code == 200
    finally:
        suite.close()
    assert any("stack 'default' ready: 7 services" in line for line in lines)
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert alive == []


def test_a_run_leaves_no_token_or_password_in_the_report() -> None:
    # The repository's own behave configuration writes the Allure results; only the files
    # this run wrote are read.
    results = ROOT / "reports" / "allure-results"
    before = set(results.iterdir()) if results.is_dir() else set()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-m", "behave", "features/api/place_order.feature"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    written = [p for p in results.iterdir() if p not in before and p.is_file()]
    assert any(p.name.endswith("-result.json") for p in written)
    report = "".join(p.read_text(errors="replace") for p in written)
    assert "Authorization: ***" in report
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.", report + run.stdout + run.stderr)
    # the demo users' password is generated per run and registered as a secret
    assert '"password": "***"' in report
