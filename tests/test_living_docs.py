"""Living documentation: INTEGRATION-TEST.md from a suite's configuration and Allure results.

Most tests write results in the exact shape allure-behave writes (``*-result.json`` with
nested steps and attachments, attachment files, ``*-container.json``, environment.properties);
the last one runs a real behave project with the Allure formatter against a real HTTP server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from interlock._core.errors import InterlockError
from interlock.living_docs import add_docs_parser, write_integration_doc
from interlock.living_docs.results import Touch, read_results, touch_of

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
services:
  auth:
    process: {command: "python -m auth"}
    openapi: contracts/auth.yaml
  orders:
    process:
      command: "python -m orders --db {db.url}"
      env: {AUTH_URL: "{auth.url}"}
    env: {NOTIFY: "http://{notifications.host}:{notifications.port}", API_KEY: "{secrets.k}"}
    openapi: contracts/orders.yaml
  notifications:
    process: {command: "python -m notifications"}
  db:
    kind: postgres
secrets:
  k: sk-live-0123456789
events:
  timeout: 2 seconds
  schemas: {orders.created: order-created.schema.json}
  publishers: {orders.created: [orders], orders.cancelled: [orders]}
  consumers: {payments.received: [orders]}
databases:
  orders-db: {url: "{db.url}/orders"}
  audit-db: "sqlite:///audit.db"
"""

ORDERS = {
    "openapi": "3.1.0",
    "info": {"title": "orders", "version": "1"},
    "servers": [{"url": "https://api.example.test/v1"}],
    "paths": {
        "/orders": {
            "post": {"summary": "Create an order",
                     "responses": {"201": {"description": "c"}, "400": {"description": "b"},
                                   "401": {"description": "u"}}},
            "get": {"summary": "List orders", "responses": {"200": {"description": "ok"}}},
        },
        "/orders/{id}": {"get": {"summary": "Get an order | by id", "responses": {
            "200": {"description": "ok"}, "404": {"description": "nf"}}}},
        "/orders/mine": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/orders/{id}/assign": {"post": {"operationId": "assignOrder", "responses": {
            "200": {"description": "ok"}, "4XX": {"description": "client"},
            "default": {"description": "other"}}}},
    },
}
AUTH = {
    "openapi": "3.0.3",
    "info": {"title": "auth", "version": "1"},
    "paths": {"/login": {"post": {"responses": {"200": {"description": "ok"},
                                                "401": {"description": "no"}}}}},
}
ORDERS_URL = "http://127.0.0.1:41234"
ORDER_ID = "3f2a9c1e-1111-4222-8333-444455556666"


class AllureResults:
    """Writes results the way allure-behave 2.x does (see allure_commons.model2)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.clock = 1_795_000_000_000

    def attachment(self, name: str, body: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.txt"
        (self.folder / source).write_text(body)
        return {"name": name, "source": source, "type": "text/plain"}

    def exchange(self, method: str, url: str, status: int, reason: str = "OK",
                 service: str = "") -> dict[str, str]:
        """An exchange named as Interlock names it (``POST /orders → orders: 201 Created``),
        or as results before it were named (``POST http://…/orders``) without ``service``."""
        body = f"{method} {url}\nAccept: */*\n\nHTTP {status} {reason}  (3.1 ms)\n\n{{}}\n\ncurl …"
        if not service:
            return self.attachment(f"{method} {url}", body)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.attachment(f"{method} {path} → {service}: {status} {reason}", body)

    def scenario(self, feature: str, name: str, steps: list[list[dict[str, str]]], *,
                 status: str = "passed", history: str = "", tags: tuple[str, ...] = (),
                 start: int | None = None) -> str:
        self.clock += 1000
        begin = self.clock if start is None else start
        test_uuid = str(uuid.uuid4())
        result: dict[str, Any] = {
            "name": name,
            "status": status,
            "steps": [
                {"name": f"When step {i}", "status": "passed", "attachments": attachments,
                 "start": begin + i, "stop": begin + i + 1}
                for i, attachments in enumerate(steps)
            ],
            "start": begin,
            "stop": begin + 500,
            "uuid": test_uuid,
            "historyId": history or uuid.uuid4().hex,
            "testCaseId": uuid.uuid4().hex,
            "fullName": f"{feature}: {name}",
            "labels": [{"name": "severity", "value": "normal"},
                       *({"name": "tag", "value": t} for t in tags),
                       {"name": "feature", "value": feature},
                       {"name": "framework", "value": "behave"}],
            "titlePath": ["features", feature],
        }
        if status == "failed":
            result["statusDetails"] = {"message": "Failure", "trace": "…"}
        (self.folder / f"{uuid.uuid4()}-result.json").write_text(json.dumps(result, indent=4))
        return test_uuid

    def container(self, children: list[str], attachments: list[dict[str, str]]) -> None:
        container = {"uuid": str(uuid.uuid4()), "children": children,
                     "befores": [{"name": "before_scenario", "status": "passed",
                                  "attachments": attachments}], "afters": []}
        (self.folder / f"{uuid.uuid4()}-container.json").write_text(json.dumps(container))


@pytest.fixture
def suite(suite_dir: Path) -> Path:
    (suite_dir / "environment" / "interlock.yaml").write_text(CONFIG)
    (suite_dir / "contracts").mkdir()
    (suite_dir / "contracts" / "orders.yaml").write_text(json.dumps(ORDERS))
    (suite_dir / "contracts" / "auth.yaml").write_text(json.dumps(AUTH))
    results = AllureResults(suite_dir / "reports" / "allure-results")
    (results.folder / "environment.properties").write_text(
        "interlock.backend=process\n"
        f"service.orders={ORDERS_URL}\n"
        "service.auth=http://localhost:41235\n"
        "service.notifications=http://127.0.0.1:41236\n"
        "service.db=postgresql://127.0.0.1:41237\n"
    )
    # An older run of "Create an order" that called GET /orders: it must not count.
    results.scenario("Orders", "Create an order",
                     [[results.exchange("GET", f"{ORDERS_URL}/orders", 200)]],
                     history="create", start=1_700_000_000_000)
    results.scenario("Orders", "Create an order", [
        [results.exchange("POST", "http://127.0.0.1:41235/login?next=%2F", 200, service="auth")],
        [results.exchange("POST", f"{ORDERS_URL}/v1/orders", 201, "Created", "orders")],
        [results.attachment("event orders.created", '{"type": "OrderCreated"}'),
         results.attachment("SQL orders-db", "SELECT 1")],
        [results.attachment("response JSON", "{}")],  # not an integration point
    ], history="create", tags=("api", "critical"))
    results.scenario("Orders", "Assign an order", [
        [results.exchange("POST", f"{ORDERS_URL}/orders/{ORDER_ID}/assign", 409, "Conflict",
                                          "orders")],
        [results.exchange("GET", f"{ORDERS_URL}/orders/{ORDER_ID}", 404, "Not Found", "orders"),
         results.exchange("GET", f"{ORDERS_URL}/orders/mine", 200, service="orders")],
        [results.exchange("DELETE", f"{ORDERS_URL}/orders/o-9", 405, "Method Not Allowed",
                          "orders"),
         results.exchange("POST", f"{ORDERS_URL}/orders", 500, "Internal Server Error",
                          "orders"),
         results.exchange("POST", "http://127.0.0.1:41236/notify", 202, "Accepted",
                          "notifications")],
    ], status="failed")
    paid = results.scenario("Payments", "Payment received", [
        [results.attachment("event payments.received (published)", '{"amount": 1}')],
        [results.attachment("received orders.paid", '{"orderId": "o-1"}'),
         results.attachment("published payments.refunded", "{}")],
    ])
    results.container([paid], [results.exchange("GET", f"{ORDERS_URL}/orders", 200)])
    return suite_dir


def generate(suite: Path) -> tuple[Any, str]:
    out = suite / "INTEGRATION-TEST.md"
    summary = write_integration_doc(suite / "environment" / "interlock.yaml",
                                    suite / "reports" / "allure-results", out)
    return summary, out.read_text()


def row(text: str, *cells: str) -> str:
    """The table row whose first cells are ``cells``."""
    start = "| " + " | ".join(cells) + " |"
    found = [line for line in text.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"{len(found)} rows start with {start!r}"
    return found[0]


def section(text: str, title: str) -> str:
    head = text.index(f"\n{title}\n")
    level = title.split()[0]
    rest = text[head + len(title) + 2 :]
    ends = [rest.find(f"\n{h} ") for h in ("#" * n for n in range(1, len(level) + 1))]
    ends = [e for e in ends if e >= 0]
    return rest[: min(ends)] if ends else rest


# --- reading attachments -------------------------------------------------------------------


def test_attachment_names_say_what_was_touched() -> None:
    assert touch_of("event orders.created", "") == Touch("event", "orders.created", "received")
    assert touch_of("received orders.created", "") == Touch("event", "orders.created", "received")
    assert touch_of("published pay.in", "") == Touch("event", "pay.in", "published")
    assert touch_of("event pay.in (published)", "") == Touch("event", "pay.in", "published")
    assert touch_of("SQL orders-db", "") == Touch("sql", "orders-db")
    assert touch_of("PATCH http://h:1/a?token=x#f", "PATCH …\n\nHTTP/1.1 204 No Content") == (
        Touch("http", "PATCH http://h:1/a", status=204))
    assert touch_of("GET http://h:1/a", "no status line here").status is None
    # Today's names: the service, no address; the body's request line has the address.
    assert touch_of("PATCH /a?token=x → orders: 204 No Content",
                    "PATCH http://h:1/a?token=***\nAccept: */*\n\nHTTP 204 No Content") == (
        Touch("http", "PATCH http://h:1/a", status=204, service="orders"))
    assert touch_of("GET /a → 127.0.0.1:9: 200 OK", "") == Touch(
        "http", "GET /a", status=200, service="127.0.0.1:9")
    for other in ("response JSON", "curl", "GETTING http://x", "event ", "service log orders"):
        assert touch_of(other, "") is None, other


def test_only_the_latest_result_of_a_scenario_counts(suite: Path) -> None:
    results = read_results(suite / "reports" / "allure-results")
    assert [s.full_name for s in results.scenarios] == [
        "Orders: Assign an order", "Orders: Create an order", "Payments: Payment received"]
    create = results.scenarios[1]
    assert ("http", "GET http://127.0.0.1:41234/orders") not in [
        (t.kind, t.target) for t in create.touches]
    assert create.tags == ("api", "critical")
    assert results.services["auth"] == "http://localhost:41235"
    # The fixture's attachment reached the scenario its container wraps.
    paid = results.scenarios[2]
    assert Touch("http", f"GET {ORDERS_URL}/orders", status=200) in paid.touches


# --- the document ----------------------------------------------------------------------------


def test_header_says_generated_from_what_and_when(suite: Path) -> None:
    _, text = generate(suite)
    assert text.startswith("<!-- Generated by `interlock docs`: do not edit by hand")
    assert ("Generated by `interlock docs` from the Allure results in "
            "`reports/allure-results`") in text
    assert "**Do not edit this file by hand.**" in text
    assert "3 scenarios: 2 passed, 1 failed" in text
    # The date is the results' own (the last scenario's stop), so regenerating is stable.
    assert "(run finished 2026-11-18 11:06 UTC; 3 scenarios" in text


def test_integration_points(suite: Path) -> None:
    _, text = generate(suite)
    orders = section(text, "### `orders`")
    assert "APIs exposed (`contracts/orders.yaml`):" in orders
    assert row(orders, "POST /orders", "Create an order", "201, 400, 401")
    assert row(orders, "GET /orders/{id}", "Get an order \\| by id", "200, 404")
    assert row(orders, "POST /orders/{id}/assign", "assignOrder", "200, 4XX, default")
    assert row(orders, "auth", "env AUTH_URL")
    # db holds a database: orders depends on its data, it does not call it as an API.
    assert "| db |" not in orders
    assert "- Databases it holds: `orders-db`" in section(text, "### `db`")
    assert "Called by" not in section(text, "### `db`")
    assert row(orders, "notifications", "env NOTIFY")
    assert "- Events published: `orders.cancelled`, `orders.created`" in orders
    assert "- Events consumed: `payments.received`" in orders
    assert "- Databases used: `orders-db`" in orders
    assert "- Called by: `orders`" in section(text, "### `auth`")
    assert "no OpenAPI document configured" in section(text, "### `notifications`")
    events = section(text, "### Events")
    assert row(events, "orders.created", "order-created.schema.json", "orders", "—")
    assert row(events, "payments.received", "—", "—", "orders")
    data = section(text, "### Data dependencies")
    assert row(data, "orders-db", "db", "orders")
    assert row(data, "audit-db", "—", "—")


def test_operation_coverage_with_statuses(suite: Path) -> None:
    summary, text = generate(suite)
    table = section(text, "### API operations")
    # Coverage cells count scenarios by feature (the scenario index lists them one by one).
    create, assign = "Orders (1)", "Orders (1, 1 failed)"
    # /v1 is the servers prefix; 500 came from the failing scenario.
    assert row(table, "orders", "POST /orders", "Orders (2, 1 failed)", "201, 500", "400, 401")
    assert row(table, "orders", "GET /orders", "Payments (1)", "200", "—")
    # The concrete template wins over /orders/{id}.
    assert row(table, "orders", "GET /orders/mine", assign, "200", "—")
    assert row(table, "orders", "GET /orders/{id}", assign, "404", "200")
    # 409 falls under 4XX; default is never a gap.
    assert row(table, "orders", "POST /orders/{id}/assign", assign, "409", "200")
    # localhost in environment.properties, 127.0.0.1 in the exchange: the same service.
    assert row(table, "auth", "POST /login", create, "200", "401")
    assert (summary.operations, summary.operations_covered) == (6, 6)


def test_event_and_database_coverage(suite: Path) -> None:
    summary, text = generate(suite)
    events = section(text[text.index("## Coverage") :], "### Events")
    paid = "Payments (1)"
    assert row(events, "orders.created", "order-created.schema.json", "Orders (1)", "—")
    assert row(events, "payments.received", "—", "—", paid)
    assert row(events, "orders.cancelled", "—", "—", "—")
    assert row(events, "orders.paid (not configured)", "—", paid, "—")
    assert row(events, "payments.refunded (not configured)", "—", "—", paid)
    databases = section(text, "### Databases")
    assert row(databases, "orders-db", "Orders (1)")
    assert row(databases, "audit-db", "—")
    assert (summary.channels, summary.channels_covered) == (3, 2)
    assert (summary.databases, summary.databases_covered) == (2, 1)


def test_gaps(suite: Path) -> None:
    summary, text = generate(suite)
    assert list(summary.gaps) == [
        "`auth` POST /login: documented status 401 never seen",
        "`orders` POST /orders: documented statuses 400, 401 never seen",
        "`orders` POST /orders: status 500 seen but not documented",
        "`orders` GET /orders/{id}: documented status 200 never seen",
        "`orders` POST /orders/{id}/assign: documented status 200 never seen",
        "`orders` DELETE /orders/o-9: called, but its OpenAPI document has no such operation",
        "`notifications`: called by scenarios, but has no OpenAPI document",
        "event `orders.cancelled`: no scenario receives or publishes it",
        "event `orders.paid`: seen, but not described under events: in the configuration",
        "event `payments.refunded`: seen, but not described under events: in the configuration",
        "database `audit-db`: no scenario runs SQL on it",
    ]
    gaps = section(text, "### Gaps")
    assert [line[6:] for line in gaps.splitlines() if line.startswith("- [ ] ")] == list(
        summary.gaps)


def test_an_operation_no_scenario_calls_is_a_gap(suite: Path) -> None:
    document = json.loads((suite / "contracts" / "orders.yaml").read_text())
    document["paths"]["/orders/{id}/cancel"] = {
        "post": {"responses": {"200": {"description": "ok"}}}}
    (suite / "contracts" / "orders.yaml").write_text(json.dumps(document))
    summary, text = generate(suite)
    assert "`orders` POST /orders/{id}/cancel: no scenario calls it" in summary.gaps
    assert row(section(text, "### API operations"), "orders", "POST /orders/{id}/cancel",
               "—", "—", "200")
    assert (summary.operations, summary.operations_covered) == (7, 6)


def test_an_exchange_with_a_stack_of_its_own_counts_for_the_service_its_name_gives(
    suite: Path,
) -> None:
    # An @isolated scenario's stack has addresses of its own, not in environment.properties:
    # the attachment's name still says which service answered.
    results = AllureResults(suite / "reports" / "allure-results")
    results.scenario("Limits", "Its own stack", [[results.exchange(
        "GET", "http://127.0.0.1:45999/orders/o-3", 200, service="orders")]])
    summary, text = generate(suite)
    assert row(section(text, "### API operations"), "orders", "GET /orders/{id}",
               "Limits (1)<br>Orders (1, 1 failed)", "200, 404", "—")
    assert not [gap for gap in summary.gaps if "45999" in gap]
    assert row(section(text, "## Scenarios"), "Limits: Its own stack", "passed", "—",
               "orders: GET /orders/{id}")


def test_regenerating_gives_the_same_file(suite: Path) -> None:
    _, first = generate(suite)
    out = suite / "INTEGRATION-TEST.md"
    before = out.stat().st_mtime_ns
    _, second = generate(suite)
    assert first == second
    assert out.stat().st_mtime_ns == before  # unchanged text: the file is not rewritten


def test_scenarios_table_and_secrets(suite: Path) -> None:
    _, text = generate(suite)
    scenarios = section(text, "## Scenarios")
    assert row(scenarios, "Orders: Create an order", "passed", "@api @critical",
               "SQL orders-db<br>auth: POST /login<br>event orders.created (received)"
               "<br>orders: POST /orders")
    assert "sk-live-0123456789" not in text
    assert "41234" not in text  # ports change every run; the document names operations


def test_a_secret_written_in_an_attachment_name_is_hidden(suite: Path) -> None:
    results = AllureResults(suite / "reports" / "allure-results")
    results.scenario("Leaks", "Token in a path", [[results.exchange(
        "GET", "http://127.0.0.1:9/sk-live-0123456789/x", 200)]])
    _, text = generate(suite)
    assert "sk-live-0123456789" not in text
    assert "GET http://127.0.0.1:9/***/x: no configured service has this address" in text


def test_a_doc_without_results_folder_is_an_error_that_says_how(suite: Path) -> None:
    with pytest.raises(InterlockError) as caught:
        write_integration_doc(suite / "environment" / "interlock.yaml", suite / "nope",
                              suite / "INTEGRATION-TEST.md")
    assert "No Allure results folder" in caught.value.render()
    assert "AllureFormatter" in caught.value.render()
    assert not (suite / "INTEGRATION-TEST.md").exists()


def test_a_missing_openapi_document_names_the_setting(suite: Path) -> None:
    (suite / "contracts" / "auth.yaml").unlink()
    with pytest.raises(InterlockError) as caught:
        generate(suite)
    shown = caught.value.render()
    assert 'The OpenAPI document of service "auth" is not there: contracts/auth.yaml' in shown
    assert "interlock.yaml:4 (services.auth.openapi)" in shown


def test_a_channel_naming_an_unknown_service_is_an_error(suite: Path) -> None:
    config = suite / "environment" / "interlock.yaml"
    config.write_text(config.read_text().replace("consumers: {payments.received: [orders]}",
                                                 "consumers: {payments.received: [order]}"))
    with pytest.raises(InterlockError) as caught:
        generate(suite)
    shown = caught.value.render()
    assert 'Channel "payments.received" names unknown service "order"' in shown
    assert "orders" in shown  # did you mean


def test_the_docs_command(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    add_docs_parser(parser.add_subparsers(dest="command"))
    out = suite / "docs" / "INTEGRATION.md"
    args = parser.parse_args(["--config", str(suite / "environment" / "interlock.yaml"),
                              "docs", "--out", str(out)])
    assert args.run(args) == 0
    text = out.read_text()
    assert "Generated by `interlock docs --out docs/INTEGRATION.md`" in text
    printed = capsys.readouterr().out
    assert "3 scenarios; operations 6/6, channels 2/3, databases 1/2; 11 gaps" in printed
    assert "  gap: database `audit-db`: no scenario runs SQL on it" in printed


# --- a real behave run with the Allure formatter ----------------------------------------------

FEATURE = """\
@api
Feature: Orders
  Scenario: Create an order
    When I create an order
    Then the order service answered 201
"""

ENVIRONMENT = """\
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Orders(BaseHTTPRequestHandler):
    def do_POST(self):
        body = b'{"id": "o-1"}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def before_all(context):
    context.server = ThreadingHTTPServer(("127.0.0.1", 0), Orders)
    threading.Thread(target=context.server.serve_forever, daemon=True).start()
    context.orders_url = f"http://127.0.0.1:{context.server.server_port}"
    results = Path(context.config.userdata["results"])
    results.mkdir(parents=True, exist_ok=True)
    (results / "environment.properties").write_text(f"service.orders={context.orders_url}\\n")


def after_all(context):
    context.server.shutdown()
    context.server.server_close()
"""

STEPS = """\
import urllib.request

from behave import then, when

from interlock.allure import AllureReporter
from interlock._core.secrets import Secrets


@when("I create an order")
def create(context):
    url = context.orders_url + "/orders"
    request = urllib.request.Request(url, data=b"{}", method="POST")
    with urllib.request.urlopen(request) as response:
        context.status = response.status
        body = response.read().decode()
    AllureReporter(Secrets()).attach(
        f"POST {url}", f"POST {url}\\n\\nHTTP {context.status} Created\\n\\n{body}")
    AllureReporter(Secrets()).attach("event orders.created", '{"id": "o-1"}')


@then("the order service answered 201")
def answered(context):
    assert context.status == 201
"""


def test_from_a_real_behave_run_with_the_allure_formatter(suite_dir: Path) -> None:
    (suite_dir / "environment" / "interlock.yaml").write_text(
        "services:\n  orders:\n    process: {command: run-orders}\n"
        "    openapi: contracts/orders.yaml\n")
    (suite_dir / "contracts").mkdir()
    (suite_dir / "contracts" / "orders.yaml").write_text(json.dumps(ORDERS))
    features = suite_dir / "features"
    (features / "steps").mkdir(parents=True)
    (features / "orders.feature").write_text(FEATURE)
    (features / "environment.py").write_text(ENVIRONMENT)
    (features / "steps" / "orders.py").write_text(STEPS)
    results = suite_dir / "reports" / "allure-results"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-m", "behave", "-f", "allure_behave.formatter:AllureFormatter",
         "-o", str(results), "-D", f"results={results}", "features"],
        cwd=suite_dir, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert list(results.glob("*-result.json")), "behave wrote no Allure results"

    summary = write_integration_doc(suite_dir / "environment" / "interlock.yaml", results,
                                    suite_dir / "INTEGRATION-TEST.md")
    text = (suite_dir / "INTEGRATION-TEST.md").read_text()
    table = section(text, "### API operations")
    assert row(table, "orders", "POST /orders", "Orders (1)", "201", "400, 401")
    assert row(table, "orders", "GET /orders/{id}", "—", "—", "200, 404")
    assert "1 scenario: 1 passed" in text
    # No channels in the configuration: the integration points list them as seen.
    assert row(section(text, "## Integration points"), "orders.created",
               "published by the system")
    assert ("event `orders.created`: seen, but not described under events: in the "
            "configuration") in summary.gaps
    assert "`orders` GET /orders/mine: no scenario calls it" in summary.gaps
    assert (summary.scenarios, summary.operations_covered) == (1, 1)


def test_a_steps_docstring_attachment_is_not_taken_for_an_event() -> None:
    """The Allure formatter names a publish step's docstring in plain words; it is no event
    channel (an attachment named "event to publish" once listed a channel "to publish")."""
    from interlock.behave.allure_formatter import argument_name
    from interlock.living_docs.results import touch_of

    name = argument_name("when", 'I publish to "orders.created":', False)
    assert touch_of(name, "{}") is None
    assert touch_of(argument_name("then", 'an event on "x" matches:', False), "{}") is None


def test_a_request_a_stub_received_is_counted_for_that_stub() -> None:
    """The stub's name is in its attachment's name: coverage can give the call to the stub
    even when its address is one no configured service has (an @isolated stack's)."""
    from interlock.living_docs.results import touch_of

    touch = touch_of('stub "payments" received POST http://127.0.0.1:5/charges?x=1 -> 201', "")
    assert touch is not None
    assert (touch.service, touch.target, touch.status) == (
        "payments", "POST http://127.0.0.1:5/charges", 201)
