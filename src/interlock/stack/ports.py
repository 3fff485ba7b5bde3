"""Free ports, chosen by the operating system at start (never fixed).

Example:
    >>> port = free_port()
    >>> 1024 < port < 65536
    True
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now.

    The OS picks it (bind to port 0). Another process could take it before the service
    binds it; the process backend notices (the readiness check fails with the service's
    "address in use" log) and tries again with a new port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_listening(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
