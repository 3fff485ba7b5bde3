"""The process that writes a run's Allure files (``allure_writer.py`` starts it).

It reads files from its standard input, each as a header line ``name<TAB>size<TAB>renamed``
followed by ``size`` bytes, and writes them into the folder it was given, in the order they
came: a file marked ``renamed`` is written whole under another name first, then renamed into
place (a reader never sees half a result). It ends when its input does (the run closed it, or
the run's process died), after the last file; the files it could not write are said on its
standard output, one a line, at the end.

It runs as ``python -I -S _file_writer.py FOLDER``: the standard library only, so it starts in
milliseconds. Ctrl-C and SIGTERM do not stop it (it runs in a session of its own, and ignores
them): they are for the run, and the files it already reported would be lost; the end of its
input stops it.

Example:
    >>> import io, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> serve(io.BytesIO(item("a-attachment.txt", b"GET /health")), folder)
    []
    >>> (folder / "a-attachment.txt").read_bytes()
    b'GET /health'
"""

from __future__ import annotations

import os
import signal
import sys
from typing import BinaryIO

CUT_SHORT = "cut short"  # how a file the run stopped handing on part way is said


def can_hand_on(name: str) -> bool:
    """Whether a file of this name can be handed on (a tab or a line break would read as
    the header's framing; allure-commons names files from a uuid and a suffix)."""
    return "\t" not in name and "\n" not in name


def item(name: str, data: bytes, renamed: bool = False) -> bytes:
    """One file as the writer reads it (a ``name`` that ``can_hand_on``)."""
    return f"{name}\t{len(data)}\t{int(renamed)}\n".encode() + data


def write(folder: str | os.PathLike[str], name: str, data: bytes, renamed: bool) -> None:
    """Write one file into ``folder`` (``OSError`` if it cannot be)."""
    final = os.path.join(folder, name)
    target = f"{final}.tmp" if renamed else final
    with open(target, "wb") as out:
        out.write(data)
    if renamed:
        os.replace(target, final)


def serve(source: BinaryIO, folder: str | os.PathLike[str]) -> list[str]:
    """Write every file read from ``source`` until it ends; those that could not be written,
    as ``"path: reason"``."""
    failed = []
    while header := source.readline():
        if not header.endswith(b"\n"):  # the run's process stopped part way through a header
            failed.append(f"{folder}: the last file handed on was {CUT_SHORT}")
            break
        try:
            name, size, renamed = header.decode("utf-8").rstrip("\n").split("\t")
            length = int(size)
        except ValueError:  # (UnicodeDecodeError is one) not a header: the rest is unreadable
            failed.append(f"{folder}: a file's header was unreadable; the files after it were "
                          "not written")
            break
        data = source.read(length)
        if len(data) < length:  # the run's process stopped part way through handing it on
            failed.append(f"{os.path.join(folder, name)}: {CUT_SHORT}")
            break
        try:
            write(folder, name, data, renamed == "1")
        except OSError as err:
            failed.append(f"{os.path.join(folder, name)}: {err.strerror or err}")
    return failed


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    failed = serve(sys.stdin.buffer, sys.argv[1])
    said = "".join(f"{line}\n" for line in failed).encode(errors="replace")
    try:
        while said:
            said = said[os.write(sys.stdout.fileno(), said):]
    except OSError:  # the run's process is gone: nobody to tell
        pass


if __name__ == "__main__":
    main()
