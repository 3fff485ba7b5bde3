"""The scenarios of one stack share its kept-alive HTTP connections (one pool per stack for the
run, closed when the stack stops), so a scenario's first request does not open a connection."""

from __future__ import annotations

import time
from pathlib import Path

from interlock.suite import Suite
from tests.http.app import LocalApp


def test_sessions_of_a_stack_share_its_connections_until_it_stops(tmp_path: Path) -> None:
    with LocalApp() as app:
        config = tmp_path / "environment" / "interlock.yaml"
        config.parent.mkdir()
        config.write_text(f"services:\n  api:\n    external: '{app.url}'\n")
        suite = Suite.load(config, progress=lambda line: None)
        try:
            stack = suite.stack()
            for _ in range(3):  # three scenarios, each its own session
                with suite.new_http_session(stack) as session:
                    assert session.send("GET", "/orders/1", service="api").status == 200
            assert app.connections_accepted == 1
            stack.stop()  # closes its connections: the server sees the kept-alive one end
            deadline = time.monotonic() + 10
            while app.open_connections and time.monotonic() < deadline:
                time.sleep(0.01)
            assert app.open_connections == 0
            isolated = suite.new_stack("default", label="isolated")
            isolated.start()
            with suite.new_http_session(isolated) as session:  # another stack, its own pool
                session.send("GET", "/orders/1", service="api")
            assert app.connections_accepted == 2
        finally:
            suite.close()
