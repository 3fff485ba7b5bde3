"""A stack's state file while its owner starts it (``stack/reuse.py``): the runs waiting for
it stop waiting when the owner says it could not start it, and wake when the owner closes
its pipe (``interlock run -j``)."""

from __future__ import annotations

import os
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


def _write_started(path: Path) -> None:
    KeptStack._save(path, "default", {"web": {"url": "http://127.0.0.1:1", "host": "127.0.0.1",
                                              "port": 1, "extra": {}, "log": ""}}, {})


def test_a_waiting_run_wakes_when_the_owner_closes_its_pipe(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    waiting = KeptStack.announce(path, "default", {})
    read_end, write_end = os.pipe()

    def owner() -> None:  # the stack is up: the state says so, then the pipe closes
        _write_started(path)
        os.close(write_end)

    threading.Timer(0.2, owner).start()
    try:
        up = waiting.started(timeout=60, up=read_end)
    finally:
        os.close(read_end)
    assert up.services is not None and up.services["web"]["port"] == 1


def test_a_pipe_closed_before_the_state_says_started_is_followed_by_reading_the_file(
        tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    waiting = KeptStack.announce(path, "default", {})
    read_end, write_end = os.pipe()
    os.close(write_end)  # closed early: the owner still runs (this process), so the file
    threading.Timer(0.2, lambda: _write_started(path)).start()  # is read until it changes
    try:
        up = waiting.started(timeout=60, up=read_end)
    finally:
        os.close(read_end)
    assert up.services is not None and "web" in up.services
