"""The demo with its event bus on Kafka (stage "kafka" of environment/interlock.yaml): the
reference suite's @event, @data and @e2e features pass unchanged, no NATS is started, and the
events in the report come from Kafka topics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from demo.bus import _covers

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.servers


def test_the_reference_features_pass_with_the_demo_on_kafka() -> None:
    # The repository's own behave configuration writes the Allure results; only the files
    # this run wrote are read.
    results = ROOT / "reports" / "allure-results"
    before = set(results.iterdir()) if results.is_dir() else set()
    env = {**os.environ, "INTERLOCK_STAGE": "kafka",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "behave", "--tags=@event,@data,@e2e", "--format", "plain",
         "--no-capture"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert " scenarios passed, 0 failed" in output
    assert "bus ready at kafka://127.0.0.1:" in output
    assert "nats ready" not in output  # the stage runs without NATS
    names = "".join(p.read_text(errors="replace") for p in set(results.glob("*-result.json"))
                    - before)
    assert "event orders.created (partition 0, offset" in names  # read from a Kafka topic


def test_the_kafka_bus_covers_topics_with_nats_wildcards() -> None:
    assert _covers("orders.*", "orders.created")
    assert not _covers("orders.*", "notifications.sent")
    assert _covers("orders.>", "orders.created")
    assert not _covers("orders.assigned", "orders.created")
