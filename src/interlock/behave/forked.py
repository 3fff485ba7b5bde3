"""A ``behave`` worker forked from ``interlock run`` instead of started anew.

A new Python process spends most of a second importing behave, Interlock, its step library
and the stack file's parts before its first feature; ``interlock run`` has imported them
already to plan the run. A forked worker starts from there: on a 2-core machine that second
is the first worker's (which starts the shared stack everybody waits for) and the CPU of the
others. Forking is safe only while this process runs no other thread; where it does, or where
there is no ``fork`` (Windows), the worker is a new process as before (``fork_behave`` says
None).

The child never returns into the caller's frames (their ``finally`` blocks belong to the
parent): it runs behave's ``main`` with its output in a file and ends with ``os._exit``, as
``multiprocessing`` ends its forked children.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out.log"
    >>> child = fork_behave(["--version"], dict(os.environ), out)
    >>> child is None or (child.wait(), "behave" in out.read_text()) == (0, True)
    True
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class Forked:
    """A forked child, waited for like a ``subprocess.Popen``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lock = threading.Lock()  # one waitpid at a time

    def poll(self) -> int | None:
        """Its exit code, or None while it runs (or while another thread waits for it)."""
        if self.returncode is None and self._lock.acquire(blocking=False):
            try:
                self._reap(os.WNOHANG)
            finally:
                self._lock.release()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code, once it has ended; ``subprocess.TimeoutExpired`` after ``timeout``."""
        if timeout is None:
            with self._lock:
                self._reap(0)
        deadline = time.monotonic() + (timeout or 0.0)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def _reap(self, options: int) -> None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, options)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)

    def terminate(self) -> None:
        """SIGTERM: its hooks stop what it started."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass


def fork_behave(args: Sequence[str], env: Mapping[str, str], output: Path,
                close: Sequence[int] = ()) -> Forked | None:
    """``behave args`` in a forked child with ``env`` as its environment, its output in
    ``output``, and the file descriptors ``close`` closed (a pipe end that is not its);
    None when this process cannot fork safely."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    from behave.__main__ import main  # imported here, once, for every child

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return Forked(pid)
    code = 1
    try:
        for fd in close:
            os.close(fd)
        log = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__  # fd 1 and 2, not a capture
        os.environ.clear()
        os.environ.update(env)
        code = int(main(list(args)) or 0)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # said in its output; the child ends all the same
        import traceback

        traceback.print_exc()
    finally:
        try:
            writer = sys.modules.get("interlock.behave.allure_writer")
            if writer is not None:  # Allure files still queued (os._exit runs no atexit)
                writer.close_all()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
