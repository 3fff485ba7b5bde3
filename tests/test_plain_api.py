"""The plain API works without behave and without its hooks: a ``Suite``, a stack, a login, an
HTTP call and a database check, in a script that never imports behave (issue 10).

The stack is passed, never stored on the suite: a login after ``suite.stack()`` reaches that
stack's auth service, and what the stack owns (database engines, broker connections) closes
with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import sys
    from interlock import Databases, HttpSession, ScenarioData, Suite, status_is

    suite = Suite.load("environment/interlock.yaml", progress=lambda line: None)
    try:
        stack = suite.stack()
        http: HttpSession = suite.new_http_session(stack)
        http.credentials = suite.auth.credentials_for("customer")
        placed = http.send("POST", "/orders", service="orders",
                           json={"items": [{"productId": "p-1", "quantity": 2}]})
        status_is(placed, 201)
        order_id = placed.json()["id"]
        databases: Databases = suite.databases_for(stack)
        with ScenarioData(databases) as data:
            data.database("orders-db").expect_row_matching(
                "order_events", {"order_id": order_id, "type": "OrderCreated"})
        assert suite.databases_for(stack) is databases  # one per stack
    finally:
        suite.close()
    print("behave imported:", any(m == "behave" or m.startswith("behave.")
                                  for m in sys.modules))
""")


def test_a_script_drives_a_suite_stack_login_http_and_database_without_behave() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "behave imported: False" in run.stdout
