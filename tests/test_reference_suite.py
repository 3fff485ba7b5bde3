"""The reference suite (features/, steps/, environment/) catches what it claims to catch.

Each test copies the suite and the demo system into a temp folder, breaks one demo behaviour
there with a small text substitution (a mutation), runs behave on the group or feature that
is meant to notice, and checks that the run fails and that exactly the expected scenarios
fail. One more run checks that the untouched suite passes as a whole, with the Allure labels
every feature promises.

Every run starts the real demo stack (PostgreSQL, NATS, the four services) as processes on
free ports; behave is stopped with SIGTERM (the hooks then stop the stack) if it overruns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("features", "steps", "environment", "demo", "environment.py")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "wheels", ".interlock")
RUN_TIMEOUT = 240.0
# behave's summary: "Failing scenarios:" / "Errored scenarios:" then "  <file>:<line>  <name>"
_LISTED = re.compile(r"^\s+(?P<location>\S+\.feature:\d+)\s+(?P<name>.+?)\s*$")
_OUTLINE_ROW = re.compile(r"\s+--\s+@\d+\.\d+.*$")


@dataclass(frozen=True)
class Mutation:
    """Break the demo: replace ``old`` (which must occur exactly once) by ``new``."""

    name: str
    file: str
    old: str
    new: str
    run: tuple[str, ...]
    failing: frozenset[str]


MUTATIONS = [
    Mutation(
        "orders publishes no OrderAssigned (@event)",
        "demo/orders/app.py",
        "        await publish(kind, order, event_id, at)\n        return JSONResponse(order)\n",
        "        if kind != \"OrderAssigned\":\n"
        "            await publish(kind, order, event_id, at)\n"
        "        return JSONResponse(order)\n",
        ("features/events/publishing.feature",),
        frozenset({"Assigning an order announces OrderAssigned with the technician"}),
    ),
    Mutation(
        "notifications is not idempotent (@event)",
        "demo/notifications/app.py",
        "CONSTRAINT notifications_once_per_event UNIQUE (event_id, technician_id)",
        "CONSTRAINT notifications_once_per_event UNIQUE (id)",
        ("--tags=@event",),
        frozenset({
            "The same assignment event published twice notifies once",
            "A replayed assignment is ignored, and the next assignment still gets through",
        }),
    ),
    Mutation(
        "orders accepts a quantity of 0 (@api)",
        "demo/orders/model.py",
        "not 1 <= quantity <= MAX_QUANTITY",
        "not 0 <= quantity <= MAX_QUANTITY",
        ("--tags=@api",),
        # the payment feature's "refused before payment" orders a quantity of 0 as well
        frozenset({"An order with a wrong field is refused, naming the field (quantity of zero)",
                   "An order refused before payment is never charged"}),
    ),
    Mutation(
        "orders answers 500 instead of 503 when auth is down (@api)",
        "demo/bearer.py",
        'self.log.warning("auth unreachable (%s)", type(error).__name__)\n'
        '            raise ApiError(503, "auth unavailable")',
        'self.log.warning("auth unreachable (%s)", type(error).__name__)\n'
        '            raise ApiError(500, "auth unavailable")',
        ("features/api/auth_outage.feature",),
        frozenset({'A stopped auth service makes orders answer "unavailable"'}),
    ),
    Mutation(
        "orders no longer passes the trace context on to auth: a scenario's delay of auth "
        "does not reach the calls it makes for that scenario (@api)",
        "demo/bearer.py",
        '"Authorization": f"Bearer {token.strip()}",\n'
        '                                   **passed_on(request.headers.get("traceparent"))}',
        '"Authorization": f"Bearer {token.strip()}"}',
        ("features/api/auth_slow.feature",),
        frozenset({'A slow auth service makes orders answer "unavailable" within its timeout'}),
    ),
    Mutation(
        "a customer may assign (@api and @e2e)",
        "demo/orders/app.py",
        'caller.require("dispatcher", "admin")\n        body = await read_json(request)',
        'caller.require("dispatcher", "admin", "customer")\n'
        "        body = await read_json(request)",
        ("features/api/authorization.feature", "features/e2e/order_lifecycle.feature"),
        frozenset({"A customer cannot assign an order", "Only the dispatcher sends a technician"}),
    ),
    Mutation(
        "a refused request lacks its Bearer challenge (@contract)",
        "demo/bearer.py",
        'CHALLENGE = {"WWW-Authenticate": "Bearer"}',
        "CHALLENGE: dict[str, str] = {}",
        ("--tags=@contract",),
        frozenset({"A refused request without a token follows the contract (a Bearer challenge)"}),
    ),
    Mutation(
        "OrderCompleted renames completedAt (@contract)",
        "demo/orders/model.py",
        'body["completedAt"] = order["completedAt"]',
        'body["finishedAt"] = order["completedAt"]',
        ("features/contract/order_events.feature",),
        frozenset({"OrderCompleted matches its schema"}),
    ),
    Mutation(
        "order lines are stored from line 0 (@data)",
        "demo/orders/store.py",
        "for line, item in enumerate(items, start=1)",
        "for line, item in enumerate(items, start=0)",
        ("--tags=@data",),
        frozenset({"Placing an order stores the order, its lines and its audit entry"}),
    ),
    Mutation(
        "analytics ignores completed orders (@e2e)",
        "demo/analytics/app.py",
        '"orders.completed": "completed_at"',
        '"orders.completed.v2": "completed_at"',
        ("--tags=@e2e",),
        frozenset({"A customer's order is assigned, worked on and completed"}),
    ),
    Mutation(
        "orders stops retrying a failing payment provider (@api and @e2e)",
        "demo/orders/payments.py",
        "TRIES = 2  # a provider error is tried once more",
        "TRIES = 1",
        ("features/api/payments.feature", "features/e2e/order_payment.feature"),
        frozenset({
            "A provider error is tried once more, and the second try places the order",
            "A provider that keeps failing is tried twice, then the customer is told",
            "One failure at the provider does not lose the sale",
        }),
    ),
    Mutation(
        "orders ignores a declined charge (@api and @e2e)",
        "demo/orders/payments.py",
        "            if answer.status_code == 402:\n",
        "            if answer.status_code == 402:\n"
        "                return \"declined, placed anyway\"\n"
        "            if answer.status_code == -402:\n",
        ("features/api/payments.feature", "features/e2e/order_payment.feature"),
        frozenset({
            "A declined charge places no order and says why",
            "A declined card places no order",
        }),
    ),
]


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    failing: dict[str, str]  # scenario name -> feature:line, failed or errored

    def tail(self, lines: int = 120) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def copy_suite(target: Path) -> Path:
    """The suite and the demo, as files of their own that a mutation may change."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=SKIPPED)
        else:
            shutil.copy2(source, target / name)
    return target


def mutate(root: Path, mutation: Mutation) -> None:
    path = root / mutation.file
    text = path.read_text(encoding="utf-8")
    found = text.count(mutation.old)
    assert found == 1, f"{mutation.file}: the text to replace occurs {found} times, not once"
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


def listed_scenarios(output: str) -> dict[str, str]:
    """Scenarios in behave's "Failing scenarios:" and "Errored scenarios:" lists."""
    found: dict[str, str] = {}
    in_list = False
    for line in output.splitlines():
        if line.strip() in ("Failing scenarios:", "Errored scenarios:"):
            in_list = True
            continue
        match = _LISTED.match(line) if in_list else None
        if match is None:
            in_list = False
            continue
        found[_OUTLINE_ROW.sub("", match["name"])] = match["location"]
    return found


def behave(root: Path, *args: str) -> Run:
    """Run behave in ``root`` on this checkout's Interlock; SIGTERM first if it overruns."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(root)])}
    env.pop("INTERLOCK_BACKEND", None)
    command = [sys.executable, "-m", "behave", "--no-capture", "-f", "plain", *args]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the hooks stop the stack on SIGTERM
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"behave {' '.join(args)} ran over {RUN_TIMEOUT:g} s:\n{output[-6000:]}")
    return Run(process.returncode, output, listed_scenarios(output))


def test_listed_scenarios_reads_behaves_summary() -> None:
    output = (
        "Failing scenarios:\n"
        "  features/api/validation.feature:8  An order is refused (quantity of zero) -- @1.1 \n"
        "  features/e2e/order_lifecycle.feature:9  A customer's order is completed\n"
        "\n"
        "Errored scenarios:\n"
        "  features/data/seeded_orders.feature:20  A technician starts a job\n"
        "\n"
        "2 features passed, 1 failed, 0 skipped\n"
    )
    assert listed_scenarios(output) == {
        "An order is refused (quantity of zero)": "features/api/validation.feature:8",
        "A customer's order is completed": "features/e2e/order_lifecycle.feature:9",
        "A technician starts a job": "features/data/seeded_orders.feature:20",
    }


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_a_broken_behaviour_fails_exactly_the_scenarios_that_check_it(
    tmp_path: Path, mutation: Mutation
) -> None:
    root = copy_suite(tmp_path)
    mutate(root, mutation)

    run = behave(root, *mutation.run)

    assert run.returncode != 0, f"the suite did not notice: {mutation.name}\n{run.tail()}"
    assert set(run.failing) == mutation.failing, (
        f"{mutation.name}: expected to fail {sorted(mutation.failing)}, "
        f"failed {sorted(run.failing)}\n{run.tail()}"
    )


def test_the_untouched_suite_passes_labelled_and_without_tokens(tmp_path: Path) -> None:
    root = copy_suite(tmp_path)
    results = root / "reports" / "allure-results"

    run = behave(root, "-f", "allure_behave.formatter:AllureFormatter", "-o", "-",
                 "-o", str(results))

    assert run.returncode == 0, f"the reference suite failed:\n{run.tail()}"
    assert run.failing == {}
    assert re.search(r"\b0 failed", run.output), run.tail()
    scenarios = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert len(scenarios) > 50
    unlabelled = []
    for scenario in scenarios:
        labels = {label["name"] for label in scenario.get("labels", [])}
        missing = {"epic", "feature", "owner", "tag"} - labels
        if missing:
            unlabelled.append(f"{scenario['name']}: no {', '.join(sorted(missing))}")
    assert unlabelled == []
    groups = {"api", "contract", "data", "e2e", "event"}
    untagged = [s["name"] for s in scenarios
                if not groups & {label["value"] for label in s["labels"] if label["name"] == "tag"}]
    assert untagged == []
    # Every login answers a JWT and every request carries one: none may reach the report.
    leaked = [p.name for p in results.iterdir() if "eyJ" in p.read_text(errors="replace")]
    assert leaked == []
