"""Which process holds one end of a TCP connection on this machine: how the delay proxy's
watcher tells which service called the service behind it.

``owner_of(local_port, remote_port, candidates)`` looks only at the candidate processes (the
stack's services and the test itself): on Linux it finds the socket's inode in the kernel's
TCP tables and then the candidate whose file descriptors hold it, a millisecond or two.
``psutil.net_connections`` reads every process's descriptors on the machine, which took 15 ms
on a quiet machine and 150 ms on a CI machine running Docker, once per connection; it is
kept for systems without ``/proc`` and for a holder that is no candidate (a service's child).

Example:
    >>> import socket, os
    >>> server = socket.create_server(("127.0.0.1", 0))
    >>> client = socket.create_connection(server.getsockname())
    >>> local, remote = client.getsockname()[1], server.getsockname()[1]
    >>> owner_of(local, remote, [os.getpid()]) == os.getpid()
    True
    >>> client.close(); server.close()
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def owner_of(local_port: int, remote_port: int, candidates: Iterable[int]) -> int | None:
    """The pid holding the loopback connection ``local_port`` -> ``remote_port``: one of
    ``candidates`` when one holds it, else any process's; None when none could be told."""
    inode = _socket_inode(local_port, remote_port)
    if inode is not None:
        target = f"socket:[{inode}]"
        for pid in dict.fromkeys(candidates):
            if _holds(pid, target):
                return pid
    return _any_owner(local_port, remote_port)


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the connection in the kernel's TCP tables (None without ``/proc``)."""
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, remote = fields[1].rpartition(":")[2], fields[2].rpartition(":")[2]
            if int(local, 16) == local_port and int(remote, 16) == remote_port:
                return fields[9]
    return None


def _holds(pid: int, target: str) -> bool:
    folder = f"/proc/{pid}/fd"
    try:
        descriptors = os.listdir(folder)
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"{folder}/{descriptor}") == target:
                return True
        except OSError:
            continue
    return False


def _any_owner(local_port: int, remote_port: int) -> int | None:
    import psutil

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    return next((c.pid for c in connections if c.laddr and c.laddr.port == local_port
                 and c.raddr and c.raddr.port == remote_port), None)
