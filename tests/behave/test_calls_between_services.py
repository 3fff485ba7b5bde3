"""The traffic diagram draws the calls one service makes to another, as seen by the delay
proxy in front of the callee (issue 16 item 1): between the test's request and its answer."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.behave.suite_builder import mini_suite

RELAY = str(Path(__file__).resolve().parent / "relay_service.py")
SERVICES = f"""
services:
  up:
    process: {{command: "{{tiny}} --port {{port}}"}}
    ready: {{http: /health}}
    delay_proxy: true
  front:
    process: {{command: "{sys.executable} {RELAY} --port {{port}}"}}
    env: {{UP_URL: "{{up.url}}"}}
    depends_on: {{up: started}}
    ready: {{http: /health}}
"""


def test_a_call_from_one_service_to_another_is_an_arrow_between_them(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, SERVICES)
    suite.write("features/relay.feature", """
        Feature: relay
          Scenario: front calls up
            When I send GET "/relay" to "front"
            Then the response JSON at "$.upstream" is 200
    """)
    run = suite.run()
    assert run.returncode == 0, run.stdout + run.stderr
    [result] = [json.loads(p.read_text()) for p in suite.results.glob("*-result.json")]
    [svg] = [a for a in result["attachments"] if a["name"] == "traffic diagram"]
    root = ET.fromstring((suite.results / svg["source"]).read_text())
    ns = "{http://www.w3.org/2000/svg}"
    arrows = [(g.get("data-from"), g.get("data-to"),
               "".join(t.text or "" for t in g.iter(f"{ns}text")))
              for g in root.iter(f"{ns}g") if g.get("class") == "message"]
    assert arrows == [
        ("test", "front", "1.1 GET /relay"),
        ("front", "up", "1.2 GET /hello"),
        ("up", "front", "1.3 200 OK"),
        ("front", "test", "1.4 200 OK"),
    ]


def _service_arrows(results: Path) -> dict[str, int]:
    """How many calls between the services each scenario's diagram draws."""
    ns = "{http://www.w3.org/2000/svg}"
    found = {}
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text())
        [svg] = [a for a in result["attachments"] if a["name"] == "traffic diagram"]
        root = ET.fromstring((results / svg["source"]).read_text())
        found[result["name"]] = sum(1 for g in root.iter(f"{ns}g")
                                    if g.get("class") == "message"
                                    and (g.get("data-from"), g.get("data-to")) == ("front", "up"))
    return found


def test_beside_other_workers_only_a_scenarios_own_calls_are_drawn(tmp_path: Path) -> None:
    """interlock run -j: the proxy in worker 1 also passes the calls made for the other
    workers' scenarios. Through a proxy that tells scenarios apart (the relay passes the
    trace context on), a scenario's diagram has its own call only; through one that cannot
    tell, no call between services is drawn (it could be another scenario's)."""
    for delay_proxy, most in (("true", 0), ("{scenario_header: traceparent}", 1)):
        root = tmp_path / ("plain" if delay_proxy == "true" else "scoped")
        suite = mini_suite(root, SERVICES.replace("delay_proxy: true",
                                                  f"delay_proxy: {delay_proxy}"))
        for name in ("one", "two"):
            suite.write(f"features/{name}.feature", f"""
                Feature: {name}
                  Scenario: front calls up for {name}
                    When I send GET "/relay" to "front"
                    Then the response JSON at "$.upstream" is 200
            """)
        run = subprocess.run(
            [sys.executable, "-m", "interlock.cli", "run", "-j", "2", "-f",
             "interlock.behave.allure_formatter:AllureFormatter", "-o", str(suite.results)],
            cwd=root, env=suite.env(), capture_output=True, text=True, timeout=180, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        arrows = _service_arrows(suite.results)
        assert len(arrows) == 2, arrows
        assert max(arrows.values()) == most, (delay_proxy, arrows)
