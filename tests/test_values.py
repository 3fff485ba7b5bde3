"""Templates, literals and durations: what every step argument goes through."""

from __future__ import annotations

import json
import re

import pytest

from interlock._core.errors import InterlockError
from interlock._core.values import (
    Scope,
    parse_cell,
    parse_duration,
    parse_json,
    parse_literal,
    render,
    render_json,
)


def test_variables_services_env_and_literal_braces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "k1")
    scope = Scope({"order_id": "o-1"}, {"orders": {"url": "http://127.0.0.1:9"}.__getitem__})
    text = render("{orders.url}/orders/{order_id}?k={env.API_KEY}&x={{y}}", scope)
    assert text == "http://127.0.0.1:9/orders/o-1?k=k1&x={y}"


def test_unknown_variable_names_it_where_and_the_known_ones() -> None:
    scope = Scope({"order_id": "o-1", "customer": "c"})
    with pytest.raises(InterlockError) as caught:
        render("/orders/{ordr_id}", scope, "orders.feature:7")
    message = str(caught.value)
    assert 'Unknown variable "{ordr_id}"' in message
    assert "orders.feature:7" in message
    assert 'did you mean "order_id"' in message
    assert '"customer"' in message


def test_unknown_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(InterlockError, match="NOPE_NOT_SET is not set"):
        render("{env.NOPE_NOT_SET}", Scope())


def test_generated_values_are_fresh_on_every_use() -> None:
    scope = Scope()
    first, second = render("{uuid}", scope), render("{uuid}", scope)
    assert first != second
    assert re.fullmatch(r"[0-9a-f-]{36}", first)
    assert "@" in render("{fake.email}", scope)
    with pytest.raises(InterlockError, match="no provider 'nonsense'"):
        render("{fake.nonsense}", scope)


def test_json_templates_escape_inside_strings_and_type_outside() -> None:
    scope = Scope({"name": 'say "hi"', "n": 2, "items": [1]})
    assert render_json('{"a": "{name}", "n": {n}, "i": {items}}', scope) == {
        "a": 'say "hi"', "n": 2, "i": [1],
    }


def test_invalid_json_points_at_line_and_column() -> None:
    with pytest.raises(InterlockError) as caught:
        parse_json('{\n  "a": 1,\n}', "x.feature:3")
    message = str(caught.value)
    assert "line 3, column 1" in message
    assert "x.feature:3" in message
    assert "^" in message


def test_literals_cells_and_durations() -> None:
    assert parse_literal('"pending"') == "pending"
    assert parse_literal("null") is None
    assert parse_cell("gold") == "gold"
    assert parse_cell('"gold"') == "gold"
    assert parse_cell("2") == 2
    assert parse_duration("500 ms") == 0.5
    assert parse_duration("1 second") == 1.0
    with pytest.raises(InterlockError, match="Not a duration"):
        parse_duration("soon")


@pytest.mark.parametrize("cell", ['{"a": 1', "[1, 2", '["x"', '{ "a"', "[true"])
def test_a_cell_that_looks_like_json_but_is_not_is_an_error(cell: str) -> None:
    with pytest.raises(InterlockError) as caught:
        parse_cell(cell, column="payload")
    assert caught.value.title.startswith(f'The cell {cell} (column "payload") is not valid JSON')
    assert json.dumps(cell) in caught.value.hint  # how to mean the text itself


@pytest.mark.parametrize(("cell", "value"), [
    ("[draft]", "[draft]"), ("{name}", "{name}"), ("gold", "gold"), ("a {b", "a {b"),
    ('"[1, 2"', "[1, 2"), ("[]", []), ("{}", {}), ('{"a": [1]}', {"a": [1]}),
])
def test_a_cell_that_plainly_is_text_stays_text(cell: str, value: object) -> None:
    assert parse_cell(cell, column="c") == value


def test_default_after_a_bar_when_the_name_has_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTERLOCK_TEST_UNSET", raising=False)
    monkeypatch.setenv("INTERLOCK_TEST_SET", "interlock/python-base:bookworm")
    scope = Scope({"order_id": "o-1"}, {"orders": {"url": "http://127.0.0.1:9"}.__getitem__})
    assert render("[{env.INTERLOCK_TEST_UNSET|}]", scope) == "[]"
    assert render("{env.INTERLOCK_TEST_UNSET|python:3.11-slim}", scope) == "python:3.11-slim"
    assert render("{env.INTERLOCK_TEST_SET|python:3.11-slim}", scope) == (
        "interlock/python-base:bookworm")
    assert render("{order_id|none} {missing|two words}", scope) == "o-1 two words"
    assert render("{orders.url|x} {orders.nope|x}", scope) == "http://127.0.0.1:9 x"
    # the default is text; JSON templates quote it outside strings, escape it inside
    assert render_json('{"a": {missing|x}, "b": "{missing|say "hi"}"}', scope) == {
        "a": "x", "b": 'say "hi"'}
    assert render("{{missing|x}}", scope) == "{missing|x}"


def test_without_a_bar_an_unknown_name_is_still_an_error() -> None:
    with pytest.raises(InterlockError, match=re.escape('Unknown variable "{nope}"')):
        render("{nope}", Scope())
    assert render("{a b}", Scope()) == "{a b}"  # a space in a name: not a placeholder


def test_json_braces_are_never_taken_for_names() -> None:
    scope = Scope({"id": "o-1"})
    assert render_json('{"a": {"b": 1}}', scope) == {"a": {"b": 1}}
    assert render_json('[{"a": {"id": "{id}"}}]', scope) == [{"a": {"id": "o-1"}}]
    assert render_json('{"text": "{{not a name}}"}', scope) == {"text": "{not a name}"}
    assert render('{"a":1}', scope) == '{"a":1}'
