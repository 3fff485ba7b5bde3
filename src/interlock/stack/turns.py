"""Whose turn it is on a stack that several runs share (``interlock run -j``).

Features that may run beside each other take a shared turn; a feature that must run alone
(it stops or slows a service, sets a stub's answers, counts a whole table) takes the stack
alone: it waits until the features running in the other workers end, and they wait for it.
The turns are a lock on a file beside the stack's state file (``flock``: shared or
exclusive); the kernel ends a turn when the process holding it ends, however it ends.

Example:
    >>> import tempfile, pathlib
    >>> turns = Turns(pathlib.Path(tempfile.mkdtemp()) / "stack.json.turns")
    >>> turns.share(); turns.end()
    >>> turns.alone(waiting=lambda: print("waiting")); turns.end()
    >>> turns.close()
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path


class Turns:
    """This process's turns on one shared stack (one at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def share(self, waiting: Callable[[], None] = lambda: None) -> None:
        """Hold a turn beside the others: at once when no feature has the stack alone, else
        ``waiting()`` is called (say so) and the turn comes when that feature's ends."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def alone(self, waiting: Callable[[], None]) -> None:
        """Hold the stack alone: at once when nobody holds a turn, else ``waiting()`` is
        called (say so) and the turn comes when the others' end."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def end(self) -> None:
        """End the turn held (nothing when none is)."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """End any turn and let go of the file."""
        os.close(self._fd)
