"""Allure's result files written by a process of their own.

allure-commons writes each result and attachment as the run goes: a file opened, written,
closed and renamed into place, in the middle of the scenario. An Interlock scenario has
three or four files (its HTTP exchanges, its traffic diagram, its result), and creating a file
costs 0.05 to 1.5 ms of system time on the disks measured (issue 15, bench/README.md): as
much as the scenario's own steps. Here the files' contents are made where allure-commons makes
them (so nothing changes after it is reported) and handed, in order, through a pipe to a small
process (``_file_writer.py``, the standard library only) that does the file system's part on
another core while the run goes on; ``close`` waits until every file is in place. (A thread
did it before: the run's thread and the writer's then took turns at Python's lock, some
twelve thousand times for 300 scenarios, and the run waited for it: the process took a third
off Allure's cost on the wall clock, bench/README.md.)

A result or container file is written whole under another name, then renamed into place (as
allure-commons does: a reader never sees half a result). An attachment is written straight
to its own name: the files are written in the order they were reported, and a scenario's
result (the only file that names its attachments) comes after them, so a reader that finds
an attachment through its result finds it whole; one rename less for each of a scenario's
three or four files.

The writer ends when its input does: when ``close`` closes it, or when the run's process
dies (the system closes the pipe), after writing what it was given; Ctrl-C does not stop it
before that. Where it cannot be started, the files are written by the run's own process, as
allure-commons writes them; if it stops (killed), the files from then on are, and ``close``
says that those handed to it before may be missing. A process forked from the run lets go of
the pipe and writes its own files.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> writer = BackgroundFileLogger(folder)
    >>> writer.report_attached_data("GET /health", "a-attachment.txt")
    >>> writer.close()
    >>> (folder / "a-attachment.txt").read_text()
    'GET /health'
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import subprocess
import sys
import uuid
import weakref
from pathlib import Path
from typing import Any

from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from attr import asdict

from interlock.behave import _file_writer

_OPEN: weakref.WeakSet[BackgroundFileLogger] = weakref.WeakSet()  # this process's writers

# The writer runs apart from the terminal's process group (Ctrl-C is for the run, and would
# lose the files it was handed): a session of its own, a process group of its own on Windows.
_APART: dict[str, Any] = (
    {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)} if os.name == "nt"
    else {"start_new_session": True})


def close_all() -> None:
    """Wait for every writer of this process (a forked worker ends with ``os._exit``, which
    runs no ``atexit``: ``forked.py`` calls this first)."""
    for writer in list(_OPEN):
        writer.close()


def _forked() -> None:
    """In a process forked from this one (a step's ``multiprocessing``, say), the writers'
    pipes are the parent's: the child lets go of them (else a writer would not see its input
    end while the child lives, and the run's ``close`` would wait for it) and writes its own
    files itself."""
    for writer in list(_OPEN):
        writer.let_go()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class BackgroundFileLogger(AllureFileLogger):
    """allure-commons' file logger (the same files, names and contents), writing them in a
    process of its own; ``close`` (also at exit) waits for the last one."""

    def __init__(self, report_dir: Path | str) -> None:
        super().__init__(report_dir)
        self._failed: list[str] = []
        self._closed = False
        self._cut = ""  # a file a signal interrupted the handing on of (written here instead)
        self._writer: subprocess.Popen[bytes] | None = None
        self._handing = False  # whether files go to the writer (else they are written here)
        script = Path(_file_writer.__file__)
        try:
            if not script.is_file():  # (Interlock run from a zip archive: no file to run)
                raise FileNotFoundError(errno.ENOENT, "no such file", str(script))
            self._writer = subprocess.Popen(
                [sys.executable, "-I", "-S", str(script), str(self._report_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                bufsize=0,  # each file handed on when reported: none lost if this process dies
                **_APART)
            self._handing = True
        except OSError as err:  # written here instead, as allure-commons does
            self._stopped(f"could not be started ({err.strerror or err})")
        atexit.register(self.close)
        _OPEN.add(self)

    def _put(self, name: str, data: bytes, renamed: bool) -> None:
        stdin = self._writer.stdin if self._writer is not None else None
        if (self._handing and not self._closed and stdin is not None
                and _file_writer.can_hand_on(name)):
            frame = _file_writer.item(name, data, renamed)
            rest = memoryview(frame)
            try:
                while rest:  # (a signal may end a write part way)
                    rest = rest[stdin.write(rest) or 0:]
                return
            except OSError as err:
                self._stopped(f"stopped ({err.strerror or err})")
                if len(rest) < len(frame):
                    self._cut = name
            except BaseException:  # Ctrl-C part way: this file is written here, then it goes on
                if rest and len(rest) < len(frame):  # the writer's input ends in half of it
                    self._handing, self._cut = False, name
                if rest:
                    self._write_here(name, data, renamed)
                raise
        self._write_here(name, data, renamed)

    def _write_here(self, name: str, data: bytes, renamed: bool) -> None:
        try:
            _file_writer.write(self._report_dir, name, data, renamed)
        except OSError as err:
            self._failed.append(f"{self._report_dir / name}: {err.strerror or err}")

    def let_go(self) -> None:
        """Close this process's ends of the writer's pipes without waiting for it (in a
        forked child: the parent's run still hands files to it); the files reported from here
        on are written here."""
        if self._writer is not None:
            for pipe in (self._writer.stdin, self._writer.stdout):
                if pipe is not None:
                    pipe.close()
        self._writer, self._handing = None, False

    def _stopped(self, how: str) -> None:
        """The writer process is gone: this process writes the files from here on."""
        print(f"interlock: the process writing Allure's files {how}: Interlock writes them "
              "itself from here on", file=sys.__stderr__, flush=True)
        self._handing = False

    def _report_item(self, item: Any) -> None:
        indent = 4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None
        name = item.file_pattern.format(prefix=uuid.uuid4())
        data = asdict(item, filter=lambda _, value: value or value is False)
        self._put(name, json.dumps(data, indent=indent, ensure_ascii=False).encode(), True)

    @hookimpl
    def report_result(self, result: Any) -> None:
        self._report_item(result)

    @hookimpl
    def report_container(self, container: Any) -> None:
        self._report_item(container)

    @hookimpl
    def report_globals(self, globals_item: Any) -> None:
        self._report_item(globals_item)

    @hookimpl
    def report_attached_data(self, body: str | bytes, file_name: str) -> None:
        self._put(file_name, body.encode() if isinstance(body, str) else bytes(body), False)

    def close(self) -> None:
        """Wait until every file reported so far is written (once; later calls return; one
        interrupted by a signal may be called again)."""
        if self._closed:
            return
        if self._writer is not None:
            said, _ = self._writer.communicate()
            # (a file said cut short is the one this process wrote itself: the one being
            # handed on when a signal came)
            self._failed[:0] = [line for line in said.decode(errors="replace").splitlines()
                                if not (self._cut and line.endswith(_file_writer.CUT_SHORT))]
            if self._writer.returncode != 0:
                self._failed[:0] = [
                    f"{self._report_dir}: the process writing them ended early (exit code "
                    f"{self._writer.returncode}); files reported before that may be missing"]
        self._closed = True
        atexit.unregister(self.close)
        _OPEN.discard(self)
        for failure in self._failed[:5]:
            print(f"interlock: an Allure file was not written: {failure}",
                  file=sys.__stderr__, flush=True)
        if len(self._failed) > 5:
            print(f"interlock: ... and {len(self._failed) - 5} more Allure files were not "
                  f"written to {self._report_dir}", file=sys.__stderr__, flush=True)
