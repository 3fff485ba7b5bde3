"""Turns on a stack several workers share (``stack/turns.py``): beside each other, or alone.

Two ``Turns`` on one file are two open files, which ``flock`` keeps apart just as it keeps
two processes apart."""

from __future__ import annotations

import threading
from pathlib import Path

from interlock.stack.turns import Turns


def test_shared_turns_go_together_and_a_turn_alone_waits_for_them(tmp_path: Path) -> None:
    path = tmp_path / "stack.json.turns"
    first, second = Turns(path), Turns(path)
    try:
        first.share()
        second.share()  # at once: both run beside each other
        second.end()
        waiting = threading.Event()
        holds = threading.Event()

        def alone() -> None:
            second.alone(waiting=waiting.set)
            holds.set()

        thread = threading.Thread(target=alone, daemon=True)
        thread.start()
        assert waiting.wait(10)  # told to wait: the first holds a turn
        assert not holds.wait(0.3)
        first.end()
        assert holds.wait(10)  # its turn came when the other's ended
        shared = threading.Event()
        told = threading.Event()
        later = threading.Thread(target=lambda: (first.share(waiting=told.set), shared.set()),
                                 daemon=True)
        later.start()
        assert told.wait(10)  # told to wait (the run says so)
        assert not shared.wait(0.3)  # nobody goes beside a feature that runs alone
        second.end()
        assert shared.wait(10)
        first.end()
    finally:
        first.close()
        second.close()


def test_a_turn_alone_on_a_free_stack_is_taken_at_once(tmp_path: Path) -> None:
    turns = Turns(tmp_path / "turns")
    said: list[str] = []
    turns.alone(waiting=lambda: said.append("waits"))
    turns.end()
    turns.close()
    assert said == []
