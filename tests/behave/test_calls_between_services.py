"""The traffic diagram draws the calls one service makes to another, as seen by the delay
proxy in front of the callee (issue 16 item 1): between the test's request and its answer."""

from __future__ import annotations

import json
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
