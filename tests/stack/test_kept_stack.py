"""A stack's state file while its owner starts it (``stack/reuse.py``): the runs waiting for
it stop waiting when the owner says it could not start it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from interlock._core.errors import InterlockError
from interlock.stack.reuse import KeptStack


def test_a_stack_that_did_not_start_stops_the_runs_waiting_for_it(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    announced = KeptStack.announce(path, "default", {"key": "s3cret"})
    assert announced.starting
    waiting = KeptStack.read(tmp_path, path)
    assert waiting is not None and waiting.secrets == {"key": "s3cret"}
    threading.Timer(0.2, lambda: KeptStack.failed(
        path, "default", 'Service "web" did not become ready')).start()
    began = time.monotonic()
    with pytest.raises(InterlockError) as raised:
        waiting.started(timeout=60)
    assert time.monotonic() - began < 30  # not the whole wait
    assert "did not start" in str(raised.value)
    assert 'Service "web" did not become ready' in raised.value.details
