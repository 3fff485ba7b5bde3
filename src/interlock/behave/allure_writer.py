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
before that. Where it cannot be started (or stops), the files are written by the run's own
process, as allure-commons writes them.

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


def close_all() -> None:
    """Wait for every writer of this process (a forked worker ends with ``os._exit``, which
    runs no ``atexit``: ``forked.py`` calls this first)."""
    for writer in list(_OPEN):
        writer.close()


class BackgroundFileLogger(AllureFileLogger):
    """allure-commons' file logger (the same files, names and contents), writing them in a
    process of its own; ``close`` (also at exit) waits for the last one."""

    def __init__(self, report_dir: Path | str) -> None:
        super().__init__(report_dir)
        self._failed: list[str] = []
        self._closed = False
        self._writer: subprocess.Popen[bytes] | None = None
        self._handing = False  # whether files go to the writer (else they are written here)
        try:
            self._writer = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(_file_writer.__file__)),
                 str(self._report_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                bufsize=0,  # each file handed on when reported: none lost if this process dies
                start_new_session=True)  # Ctrl-C reaches the terminal's group, not the writer
            self._handing = True
        except OSError as err:  # written here instead, as allure-commons does
            self._stopped(f"could not be started ({err.strerror or err})")
        atexit.register(self.close)
        _OPEN.add(self)

    def _put(self, name: str, data: bytes, renamed: bool) -> None:
        if self._handing and self._writer is not None and self._writer.stdin is not None:
            rest = memoryview(_file_writer.item(name, data, renamed))
            try:
                while rest:  # (a signal may end a write part way)
                    rest = rest[self._writer.stdin.write(rest) or 0:]
                return
            except OSError as err:  # (a file cut short there is not written: see serve)
                self._stopped(f"stopped ({err.strerror or err})")
        try:
            _file_writer.write(self._report_dir, name, data, renamed)
        except OSError as err:
            self._failed.append(f"{self._report_dir / name}: {err.strerror or err}")

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
            self._failed[:0] = said.decode(errors="replace").splitlines()
        self._closed = True
        atexit.unregister(self.close)
        _OPEN.discard(self)
        for failure in self._failed[:5]:
            print(f"interlock: an Allure file was not written: {failure}",
                  file=sys.__stderr__, flush=True)
        if len(self._failed) > 5:
            print(f"interlock: ... and {len(self._failed) - 5} more Allure files were not "
                  f"written to {self._report_dir}", file=sys.__stderr__, flush=True)
