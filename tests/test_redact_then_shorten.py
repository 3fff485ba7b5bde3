"""Every text Interlock shortens is redacted first: a long secret cut before it is hidden no
longer matches itself, and its start would reach the terminal, Allure and JUnit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interlock._core.errors import Failure, InterlockError
from interlock._core.match import expect_match
from interlock._core.match.jsonpaths import select_one
from interlock._core.secrets import Secrets
from interlock.contracts import SchemaLibrary
from interlock.events.base import Event
from interlock.http.exchange import _SHOWN_BYTES, Exchange

LONG = "canary-" + "q9Zr" * 40
START = LONG[:24]


@pytest.fixture
def secrets() -> Secrets:
    hidden = Secrets()
    hidden.add(LONG)
    return hidden


def test_secrets_shorten_redacts_before_cutting(secrets: Secrets) -> None:
    assert secrets.shorten(f"token {LONG} end", 40) == "token *** end"
    assert START not in secrets.shorten(f"x {LONG}", 30)


@pytest.mark.parametrize(("expected", "actual", "mode"), [
    ({"note": "short"}, {"note": LONG}, "is"),           # the actual value, cut at 80
    ({"note": LONG}, {"note": "short"}, "is"),           # the expected value, cut at 80
    ({"items": [{"t": "x", "q": 1}]}, {"items": [{"t": LONG, "q": 2}]}, "contains"),  # closest
])
def test_a_mismatch_never_shows_the_start_of_a_secret(
        secrets: Secrets, expected: object, actual: object, mode: str) -> None:
    with pytest.raises(Failure) as caught:
        expect_match(expected, actual, mode, secrets=secrets)
    assert START not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_missing_path_shows_its_parent_redacted(secrets: Secrets) -> None:
    with pytest.raises(Failure) as caught:
        select_one({"a": LONG}, "$.a.b", secrets=secrets)
    assert START not in str(caught.value)


def test_a_schema_violation_quotes_the_value_redacted(tmp_path: Path, secrets: Secrets) -> None:
    (tmp_path / "n.schema.json").write_text(json.dumps(
        {"type": "object", "properties": {"n": {"type": "integer"}}}))
    with pytest.raises(Failure) as caught:
        SchemaLibrary([tmp_path]).check({"n": LONG}, "n.schema.json", secrets=secrets)
    assert "is not of type" in str(caught.value)
    assert START not in str(caught.value)


def test_a_long_text_body_is_redacted_before_the_report_cuts_it(secrets: Secrets) -> None:
    body = ("a" * (_SHOWN_BYTES - 10) + LONG).encode()  # the secret straddles the cut
    exchange = Exchange("GET", "http://127.0.0.1:1/x", None, {}, b"", 200, "OK",
                        {"Content-Type": "text/plain"}, body, 0.01, secrets=secrets)
    assert START[:10] not in exchange.report()


def test_an_event_that_is_not_json_shows_its_body_redacted(secrets: Secrets) -> None:
    with pytest.raises(InterlockError) as caught:
        Event.now("orders", f"not json {LONG}".encode()).json(secrets)
    assert START not in str(caught.value)


def test_a_secret_inside_a_longer_one_hides_the_longer_one_whole() -> None:
    """Values are hidden longest first: a token that contains the password is one mask, and a
    value added after the first redaction is hidden too."""
    secrets = Secrets()
    secrets.add("pw-1234")
    assert secrets.redact("a pw-1234 b") == "a *** b"
    secrets.add("tok.pw-1234.sig")
    assert secrets.redact("Bearer tok.pw-1234.sig and pw-1234") == "Bearer *** and ***"
