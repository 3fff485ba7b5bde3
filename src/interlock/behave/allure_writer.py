"""Allure's result files written on a thread of their own.

allure-commons writes each result and attachment as the run goes: a file opened, written,
closed and renamed into place, in the middle of the scenario. An Interlock scenario has
three or four files (its HTTP exchanges, its traffic diagram, its result), and creating a file
costs 0.05 to 1.5 ms of system time on the disks measured (issue 15, bench/README.md): as
much as the scenario's own steps. Here
the files' contents are made where allure-commons makes them (so nothing changes after it is
reported) and a writer thread does the file system's part while the run goes on; ``close``
waits until every file is in place.

A result or container file is written whole under another name, then renamed into place (as
allure-commons does: a reader never sees half a result). An attachment is written straight
to its own name: the files are written in the order they were reported, and a scenario's
result (the only file that names its attachments) comes after them, so a reader that finds
an attachment through its result finds it whole; one rename less for each of a scenario's
three or four files.

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
import queue
import sys
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any

from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from attr import asdict

_OPEN: weakref.WeakSet[BackgroundFileLogger] = weakref.WeakSet()  # this process's writers


def close_all() -> None:
    """Wait for every writer of this process (a forked worker ends with ``os._exit``, which
    runs no ``atexit``: ``forked.py`` calls this first)."""
    for writer in list(_OPEN):
        writer.close()


class BackgroundFileLogger(AllureFileLogger):
    """allure-commons' file logger (the same files, names and contents), writing them on a
    thread; ``close`` (also at exit) waits for the last one."""

    def __init__(self, report_dir: Path | str) -> None:
        super().__init__(report_dir)
        # (file name, contents, whether to write it whole under another name first)
        self._queue: queue.SimpleQueue[tuple[str, bytes, bool] | None] = queue.SimpleQueue()
        self._failed: list[str] = []
        self._thread = threading.Thread(target=self._write_all, daemon=True,
                                        name="interlock-allure-files")
        self._thread.start()
        atexit.register(self.close)
        _OPEN.add(self)

    def _write_all(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            name, data, renamed = item
            final = self._report_dir / name
            try:
                if renamed:
                    fresh = final.with_name(f"{name}.tmp")
                    fresh.write_bytes(data)
                    os.replace(fresh, final)
                else:
                    final.write_bytes(data)
            except OSError as err:
                self._failed.append(f"{final}: {err.strerror or err}")

    def _report_item(self, item: Any) -> None:
        indent = 4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None
        name = item.file_pattern.format(prefix=uuid.uuid4())
        data = asdict(item, filter=lambda _, value: value or value is False)
        self._queue.put((name, json.dumps(data, indent=indent, ensure_ascii=False).encode(),
                         True))

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
        self._queue.put((file_name, body.encode() if isinstance(body, str) else bytes(body),
                         False))

    def close(self) -> None:
        """Wait until every file reported so far is written (once; later calls return; one
        interrupted by a signal may be called again)."""
        if not self._thread.is_alive():
            return
        self._queue.put(None)
        self._thread.join()
        atexit.unregister(self.close)
        _OPEN.discard(self)
        for failure in self._failed[:5]:
            print(f"interlock: an Allure file was not written: {failure}",
                  file=sys.__stderr__, flush=True)
        if len(self._failed) > 5:
            print(f"interlock: ... and {len(self._failed) - 5} more Allure files were not "
                  f"written to {self._report_dir}", file=sys.__stderr__, flush=True)
