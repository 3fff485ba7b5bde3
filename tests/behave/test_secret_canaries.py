"""Canary secrets in a real behave run whose comparisons fail on them: none of them (nor the
``eyJ`` start of a token) may reach the terminal, the Allure results, the JUnit report or
``interlock config``. A comparison cuts long values; it must hide them first."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behave.suite_builder import MiniSuite, mini_suite
from tests.http.app import Account, LocalApp

PASSWORD = "canary-pw-5e1b7c"
LONG = "canary-long-" + "x7Yq" * 30  # a configured secret of more than 100 characters


@pytest.fixture
def app() -> Iterator[LocalApp]:
    with LocalApp(accounts={"alice": Account(PASSWORD, "customer")}) as running:
        yield running


def canary_suite(root: Path, app: LocalApp) -> MiniSuite:
    # The login password and the signing key are written in place in the stack file, the long
    # secret (and the password again, for the feature to send) come from secrets:; the tokens
    # are minted (robot) and issued by a login (alice).
    suite = mini_suite(root, f"""
secrets:
  long: "{LONG}"
  pw: "{PASSWORD}"
services:
  app:
    external: "{app.url}"
databases:
  notes: {{url: "sqlite:///{root}/notes.db", cleanup: tracked}}
auth:
  signing: {{algorithm: HS256, secret: "{app.keys.hs_secret}"}}
  users:
    alice:
      login: {{service: app, path: /auth/login, json: {{username: alice, password: "{PASSWORD}"}}}}
    robot:
      jwt: {{claims: {{sub: robot, role: technician}}}}
""")
    suite.write("features/canary.feature", """
        Feature: failing comparisons on secrets
          Scenario: a login token compared
            Given I am logged in as "alice"
            When I send GET "/echo" to "app"
            Then the response JSON at "$.headers.Authorization" is "Bearer nope"

          Scenario: a minted token compared
            Given I am logged in as "robot"
            When I send GET "/echo" to "app"
            Then the response JSON at "$.headers" contains {"Authorization": "Bearer nope"}

          Scenario: a minted token in a whole document
            Given I am logged in as "robot"
            When I send GET "/echo" to "app"
            Then the response JSON contains:
              \"\"\"
              {"headers": {"Authorization": "Bearer nope", "Accept": "nothing"}}
              \"\"\"

          Scenario: configured secrets sent and compared
            When I send POST "/echo" to "app" with JSON:
              \"\"\"
              {"note": "{secrets.long}", "pw": "{secrets.pw}"}
              \"\"\"
            Then the response JSON at "$.json" is {"note": "short", "pw": "nope"}

          Scenario: a secret expected but not there
            When I send POST "/echo" to "app" with JSON:
              \"\"\"
              {"note": "plain"}
              \"\"\"
            Then the response JSON at "$.json.note" is "{secrets.long}"

          Scenario: a secret in the response body text
            When I send POST "/echo" to "app" with JSON:
              \"\"\"
              {"note": "{secrets.long}"}
              \"\"\"
            Then the response body contains "nowhere to be found"

          Scenario: a secret in a table
            Given I run the SQL:
              \"\"\"
              CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, body TEXT)
              \"\"\"
            Given the table "notes" contains:
              | id | body           |
              | n1 | {secrets.long} |
            Then the table "notes" has a row matching:
              | id | body  |
              | n1 | short |
    """)
    return suite


def _leaks(text: str, app: LocalApp, tokens: list[str]) -> list[str]:
    canaries = {"password": PASSWORD, "HS256 key": app.keys.hs_secret, "long secret": LONG,
                "start of the long secret": LONG[:40], "eyJ": "eyJ"}
    canaries.update({f"token {i}": token for i, token in enumerate(tokens)})
    return [name for name, value in canaries.items() if value in text]


def test_no_canary_reaches_terminal_allure_junit_or_config(tmp_path: Path, app: LocalApp) -> None:
    suite = canary_suite(tmp_path, app)
    junit = tmp_path / "reports" / "junit"
    result = suite.run("--junit", "--junit-directory", str(junit))
    terminal = result.stdout + result.stderr
    assert result.returncode != 0
    # every scenario failed on its comparison (not on a set-up problem)
    assert "0 scenarios passed, 7 failed" in terminal, terminal[-3000:]
    assert "does not match" in terminal or "does not contain" in terminal
    tokens = [str(e["headers"].get("Authorization", "")).partition(" ")[2]
              for e in app.requests if e["path"] == "/echo"]
    tokens = [t for t in tokens if t]
    assert len(tokens) >= 3  # alice's issued token, robot's minted one (twice)
    assert _leaks(terminal, app, tokens) == []
    # a table column is as wide as the hidden value, not as the secret (its length stays hidden)
    assert '| "n1" | "***" |' in terminal, terminal[-1500:]
    for folder in (suite.results, junit):
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, folder
        for path in files:
            assert _leaks(path.read_text(errors="replace"), app, tokens) == [], path
    config = subprocess.run(
        [sys.executable, "-m", "interlock.cli", "config"], cwd=tmp_path, env=suite.env(),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert config.returncode == 0, config.stderr
    assert "robot" in config.stdout  # the configuration is shown...
    assert _leaks(config.stdout + config.stderr, app, tokens) == []  # ...its secrets are not
