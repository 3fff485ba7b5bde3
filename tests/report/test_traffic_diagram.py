"""The traffic diagram of a scenario that sends HTTP, publishes and receives an event and runs
a query: one lifeline per party, the arrows in the order they happened, numbered by step,
no secret anywhere in the SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from interlock._core.diagram import sequence_svg
from interlock._core.report import MemoryReporter
from interlock._core.secrets import Secrets
from interlock.db import Databases
from interlock.db.config import DatabaseConfig
from interlock.events.listeners import EventListeners
from interlock.events.memory import MemoryBroker
from interlock.http import HttpSession
from tests.http.app import Account, LocalApp

SVG = "{http://www.w3.org/2000/svg}"
TOKEN = "tok-7f3a9c2e51d04b8a"


@pytest.fixture
def app() -> Iterator[LocalApp]:
    with LocalApp(accounts={"alice": Account("alice-pw-123")}) as running:
        yield running


def test_a_scenario_with_http_an_event_and_a_query_is_drawn_in_order_and_redacted(
    app: LocalApp,
) -> None:
    secrets = Secrets()
    secrets.add(TOKEN)
    reporter = MemoryReporter(secrets)
    traffic = reporter.traffic
    broker = MemoryBroker("bus")
    events = EventListeners({"bus": broker}, reporter=reporter, secrets=secrets)
    events.listen("orders.>")
    databases = Databases({"shop": DatabaseConfig("shop", "sqlite://")}, secrets=secrets,
                          reporter=reporter)
    with HttpSession(base_url_of=lambda name: app.url, secrets=secrets,
                     reporter=reporter) as http:
        traffic.begin_step(1, f'When I send GET "/echo?token={TOKEN}" to "orders"')
        http.send("GET", f"/echo?token={TOKEN}", service="orders")
        traffic.begin_step(2, 'When I publish to "orders.created"')
        events.publish("orders.created", {"id": "o-1", "token": TOKEN})
        traffic.begin_step(3, 'Then the database "shop" has 1 row')
        databases.get("shop").query("SELECT 1 AS one")
        traffic.fail_step(3)
    events.close()
    databases.close()

    svg = sequence_svg(traffic, secrets, title="a scenario")
    root = ET.fromstring(svg)  # well-formed XML: the report shows it as an image

    heads = [(g.get("data-kind"), g.findall(f"{SVG}text")[0].text)
             for g in root.iter(f"{SVG}g") if g.get("class") == "lifeline"]
    assert heads == [("test", "test"), ("service", "orders"), ("broker", "bus"),
                     ("database", "shop")]

    arrows = ["".join(t.text or "" for t in g.iter(f"{SVG}text"))
              for g in root.iter(f"{SVG}g") if g.get("class") == "message"]
    assert [a.split(" ", 1)[0] for a in arrows] == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]
    assert arrows[0].startswith("1.1 GET /echo?token=***")
    assert arrows[1].startswith("1.2 200")
    assert arrows[2] == "2.1 publish orders.created"
    assert arrows[3] == "2.2 deliver orders.created"
    assert arrows[4] == "3.1 SELECT 1 AS one"
    assert arrows[5] == "3.2 1 row"

    bands = [t for t in root.iter(f"{SVG}text") if "band" in (t.get("class") or "")]
    assert [b.text.split(" ", 1)[0] for b in bands if b.text] == ["1", "2", "3"]
    assert "failed" in (bands[2].get("class") or "")  # the failed step's band is red
    assert "failed" not in (bands[0].get("class") or "")
    # ...and so is the answer its check looked at (the step's last), and nothing else.
    red = [g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-failed") == "true"]
    assert red == ["3"]
    assert TOKEN not in svg
    # No address (a port picked per run) on the arrows: the path says enough.
    assert not any("127.0.0.1" in text for text in arrows)


def test_an_exchange_that_got_no_answer_is_red(app: LocalApp) -> None:
    reporter = MemoryReporter()
    with HttpSession(base_url_of=lambda name: "http://127.0.0.1:9", secrets=Secrets(),
                     reporter=reporter) as http:
        reporter.traffic.begin_step(1, "When I send")
        with pytest.raises(Exception, match='Cannot reach the "orders" service: GET /health'):
            http.send("GET", "/health", service="orders")
    root = ET.fromstring(sequence_svg(reporter.traffic))
    failed = [g for g in root.iter(f"{SVG}g") if g.get("data-failed") == "true"]
    assert len(failed) == 1
    assert failed[0].find(f"{SVG}line").get("stroke") == "#c62828"


def test_a_scenario_that_saw_nothing_still_has_a_diagram() -> None:
    root = ET.fromstring(sequence_svg(MemoryReporter().traffic, title="quiet"))
    assert any("no HTTP" in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_a_message_noted_while_the_diagram_is_drawn_is_no_error() -> None:
    """An event listener's thread may note a message (with a new participant, the broker)
    while the scenario's diagram is drawn: on a shared stack, another worker's event that
    arrives late. The diagram is drawn from one copy of both, taken together."""
    from interlock._core.traffic import BROKER, Traffic

    traffic = Traffic()
    traffic.note("test", "orders", "GET /orders")

    class Late(dict):  # its items are read, then a listener notes a message
        def items(self):  # type: ignore[override]
            seen = list(super().items())
            if "nats" not in self:
                traffic.note("nats", "test", "orders.created", source_kind=BROKER)
            return seen

    traffic.participants = Late(traffic.participants)
    svg = sequence_svg(traffic)  # a KeyError ('nats') before
    assert "GET /orders" in svg
