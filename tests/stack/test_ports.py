"""Free ports: chosen by the OS, different each time, really free."""

from __future__ import annotations

import socket

from interlock.stack.ports import free_port, is_listening


def test_free_ports_are_bindable_and_not_fixed() -> None:
    ports = {free_port() for _ in range(20)}
    assert len(ports) > 1
    port = ports.pop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # would raise if it were taken
        assert not is_listening("127.0.0.1", port)
        sock.listen()
        assert is_listening("127.0.0.1", port)
