"""The matcher: markers, the two modes, the mismatch report, JSONPath selection."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock._core.errors import Failure, InterlockError
from interlock._core.match import (
    MISSING,
    Mismatch,
    _path_segments,
    child_path,
    compare,
    expect_match,
    format_mismatches,
    select,
    select_one,
)
from interlock._core.secrets import Secrets

UUID = "3f2a9c1e-1111-4222-8333-444455556666"


def reasons(expected, actual, mode="is"):
    return [(m.path, m.reason) for m in compare(expected, actual, mode)]


# --- markers -------------------------------------------------------------------------------

GOOD_AND_BAD = [
    ("#string", ["", "x"], [1, None, True, [], {}]),
    ("#number", [0, 1.5, -3], ["1", True, None]),
    ("#integer", [0, 7, 2.0, -4], [1.5, "1", True]),
    ("#boolean", [True, False], [0, 1, "true", None]),
    ("#array", [[], [1, "a"]], [{}, "[]", None]),
    ("#object", [{}, {"a": 1}], [[], "{}", None]),
    ("#null", [None], [0, "", "null", False]),
    ("#notnull", [0, "", False, [], {}], [None]),
    ("#present", [None, 0, "x"], []),
    ("#ignore", [None, 0, "x", [1]], []),
    ("#absent", [], [None, 0, "x"]),
    ("#uuid", [UUID, UUID.upper()], ["nope", UUID[:-1], UUID + "0", 42]),
    (
        "#datetime",
        ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+02:00", "2024-05-01t10:00:00z"],
        ["2024-05-01", "2024-05-01T10:00:00", "2024-13-01T10:00:00Z", "2024-02-30T10:00:00Z", 0],
    ),
    ("#date", ["2024-05-01", "2024-02-29"], ["2024-5-1", "2023-02-29", "2024-05-01T10:00:00Z", 1]),
    ("#email", ["a@b.co", "first.last+tag@example.org"], ["a@b", "@b.co", "a b@c.de", 5]),
    ("#uri", ["https://x.org/a?b=1", "urn:isbn:123", "mailto:a@b.co"], ["/relative", "no", 3]),
    ("#regex p-\\d+", ["p-1", "p-123"], ["p-", "xp-1", "p-1x", 1]),
    ("#[2]", [[1, 2], ["a", None]], [[], [1], [1, 2, 3], "ab", {"a": 1, "b": 2}]),
    ("#[]", [[], [1, 2, 3]], ["", {}, None]),
    ("#[] #string", [[], ["a", "b"]], [[1], ["a", 2]]),
    ("#[2] #uuid", [[UUID, UUID]], [[UUID], [UUID, "x"]]),
]


@pytest.mark.parametrize(("marker", "good", "bad"), GOOD_AND_BAD)
def test_each_marker_accepts_what_it_names_and_rejects_the_rest(marker, good, bad):
    for value in good:
        assert compare({"k": marker}, {"k": value}) == [], (marker, value)
    for value in bad:
        found = compare({"k": marker}, {"k": value})
        assert len(found) == 1, (marker, value)
        assert found[0] == Mismatch("$.k", marker, value, found[0].reason)
        assert found[0].reason


def test_marker_reasons_are_short_and_specific():
    assert reasons({"id": "#uuid"}, {"id": "x"}) == [("$.id", "not a uuid")]
    assert reasons({"a": "#[2]"}, {"a": [1]}) == [("$.a", "array length 1, expected 2")]
    assert reasons({"a": "#[] #string"}, {"a": ["x", 1]}) == [("$.a", "element [1] not a string")]
    assert reasons({"a": "#absent"}, {"a": 1}) == [("$.a", "present, expected absent")]
    assert reasons({"a": "#regex a+"}, {"a": "b"}) == [("$.a", "does not match a+")]


def test_a_missing_key_fails_every_marker_but_absent_and_ignore():
    for marker in ("#string", "#null", "#notnull", "#present", "#uuid", "#[]", "#regex .*"):
        assert compare({"k": marker}, {}) == [Mismatch("$.k", marker, MISSING, "missing key")]
    assert compare({"k": "#absent", "j": "#ignore"}, {}) == []


def test_double_hash_makes_a_key_optional():
    assert compare({"k": "##string"}, {}) == []
    assert compare({"k": "##string"}, {"k": "x"}) == []
    assert reasons({"k": "##string"}, {"k": 1}) == [("$.k", "not a string")]
    assert reasons({"k": "##string"}, {"k": None}) == [("$.k", "not a string")]
    assert compare({"k": "##null"}, {"k": None}) == []
    assert compare({"k": "##[2]"}, {}) == []
    assert compare({"k": "##regex a+"}, {"k": "aa"}) == []


def test_escaped_hash_is_a_literal_string():
    assert compare({"tag": "\\#blue"}, {"tag": "#blue"}) == []
    found = compare({"tag": "\\#blue"}, {"tag": "#red"})
    assert [m.reason for m in found] == ["differs"]
    assert format_mismatches(found) == '$.tag: expected "\\#blue", got "#red"'


def test_a_hash_in_the_middle_of_a_string_is_not_a_marker():
    assert compare("a#string", "a#string") == []
    assert reasons("a#string", "x") == [("$", "differs")]


def test_an_unknown_marker_is_a_suite_mistake_that_lists_the_known_ones():
    with pytest.raises(InterlockError) as caught:
        compare({"items": [{"id": "#uuidd"}]}, {"items": []}, "contains")
    err = caught.value
    assert err.title == 'Unknown marker "#uuidd" at $.items[0].id'
    assert 'did you mean "#uuid"' in err.hint
    assert '"#datetime"' in err.hint and "\\#" in err.hint


def test_unknown_marker_is_reported_even_where_the_data_is_missing():
    with pytest.raises(InterlockError, match="#strin"):
        compare({"a": {"b": "#strin"}}, {})


def test_an_invalid_regex_is_a_suite_mistake():
    with pytest.raises(InterlockError, match=r"Invalid regular expression.*\$\.a"):
        compare({"a": "#regex [a"}, {"a": "x"})


def test_expect_match_locates_marker_mistakes():
    with pytest.raises(InterlockError) as caught:
        expect_match({"a": "#nope"}, {"a": 1}, where="order.feature:12")
    assert caught.value.where == "order.feature:12"


def test_unknown_mode_is_a_suite_mistake():
    with pytest.raises(InterlockError, match='mode "equals"'):
        compare(1, 1, "equals")


# --- scalars -------------------------------------------------------------------------------


def test_numbers_compare_by_value_but_booleans_are_not_numbers():
    assert compare(2, 2.0) == []
    assert compare({"n": 2.0}, {"n": 2}) == []
    assert reasons(True, 1) == [("$", "number, not boolean")]
    assert reasons(1, True) == [("$", "boolean, not number")]
    assert reasons(0, False) == [("$", "boolean, not number")]
    assert reasons(None, 0) == [("$", "number, not null")]
    assert reasons("2", 2) == [("$", "number, not string")]
    assert reasons(1, 2) == [("$", "differs")]


# --- is ------------------------------------------------------------------------------------


def test_is_needs_the_same_keys():
    found = compare({"a": 1, "b": 2}, {"a": 1, "c": 3})
    assert found == [
        Mismatch("$.b", 2, MISSING, "missing key"),
        Mismatch("$.c", MISSING, 3, "unexpected key"),
    ]


def test_is_needs_the_same_array_order_and_length():
    assert reasons([1, 2], [2, 1]) == [("$[0]", "differs"), ("$[1]", "differs")]
    assert reasons([1, 2], [1]) == [("$", "array length 1, expected 2")]
    assert reasons([1], [1, 2]) == [("$", "array length 2, expected 1")]


def test_is_lists_every_mismatch_not_just_the_first():
    expected = {
        "id": "#uuid",
        "status": "pending",
        "items": [{"productId": "p-1", "quantity": 2}],
        "customer": {"name": "Alice", "tier": "gold"},
    }
    actual = {
        "id": "nope",
        "status": "cancelled",
        "items": [{"productId": "p-2", "quantity": 2, "extra": True}],
        "customer": {"name": "Bob"},
    }
    assert reasons(expected, actual) == [
        ("$.id", "not a uuid"),
        ("$.status", "differs"),
        ("$.items[0].productId", "differs"),
        ("$.items[0].extra", "unexpected key"),
        ("$.customer.name", "differs"),
        ("$.customer.tier", "missing key"),
    ]


def test_nested_arrays_report_exact_paths():
    assert reasons([[1, [2, 3]]], [[1, [2, 4]]]) == [("$[0][1][1]", "differs")]


def test_type_mismatch_of_containers():
    assert reasons({"a": {}}, {"a": []}) == [("$.a", "array, not object")]
    assert reasons({"a": []}, {"a": "x"}) == [("$.a", "string, not array")]
    assert reasons({"a": []}, {}) == [("$.a", "missing key")]


def test_paths_quote_names_that_need_it():
    found = compare(
        {"first name": 1, "it's": 2, "ok_1": 3}, {"first name": 0, "it's": 0, "ok_1": 0}
    )
    assert [m.path for m in found] == ["$['first name']", "$['it\\'s']", "$.ok_1"]


# --- contains ------------------------------------------------------------------------------


def test_contains_needs_only_the_listed_keys_recursively():
    actual = {"id": 1, "status": "pending", "customer": {"name": "Alice", "tier": "gold"}}
    assert compare({"customer": {"tier": "gold"}}, actual, "contains") == []
    assert reasons({"customer": {"tier": "silver"}}, actual, "contains") == [
        ("$.customer.tier", "differs")
    ]
    assert reasons({"missing": 1}, actual, "contains") == [("$.missing", "missing key")]


def test_contains_arrays_in_any_order():
    assert compare([3, 1], [1, 2, 3], "contains") == []
    assert compare([], [1, 2], "contains") == []
    assert compare([{"id": 2}], [{"id": 1, "x": 0}, {"id": 2, "x": 0}], "contains") == []


def test_contains_assigns_distinct_elements_not_greedy_first():
    actual = [{"a": 1}, {"a": 1, "b": 2}]
    assert compare([{"a": 1, "b": 2}, {"a": 1}], actual, "contains") == []
    # greedy would give {"a": 1} the element [1] and then fail {"a": 1, "b": 2}
    assert compare([{"a": 1}, {"a": 1, "b": 2}], actual, "contains") == []


def test_contains_needs_as_many_elements_as_listed():
    found = compare([{"a": 1}, {"a": 1}], [{"a": 1}, {"b": 1}], "contains")
    assert len(found) == 1
    assert found[0].path == "$"
    assert found[0].reason == "no element left: [0] is taken by other expected elements"


def test_contains_names_the_closest_element():
    actual = {"items": [{"productId": "p-1", "quantity": 1}, {"productId": "p-2", "quantity": 5}]}
    found = compare({"items": [{"productId": "p-2", "quantity": 2}]}, actual, "contains")
    assert len(found) == 1
    assert found[0].path == "$.items"
    assert found[0].expected == {"productId": "p-2", "quantity": 2}
    assert found[0].actual == {"productId": "p-2", "quantity": 5}
    assert found[0].reason == (
        "no element matches (closest $.items[1].quantity: expected 2, got 5)"
    )


def test_contains_in_an_empty_array():
    found = compare([1], [], "contains")
    assert [m.reason for m in found] == ["no element matches (empty)"]


def test_contains_honours_markers_and_absent():
    actual = {"id": UUID, "tags": ["a"], "debug": True}
    assert compare({"id": "#uuid", "tags": "#[1]"}, actual, "contains") == []
    assert reasons({"debug": "#absent"}, actual, "contains") == [
        ("$.debug", "present, expected absent")
    ]


def test_contains_reports_every_unmatched_element():
    found = compare([1, 2, 3], [1], "contains")
    assert [m.expected for m in found] == [2, 3]


# --- the Failure text ----------------------------------------------------------------------


def test_failure_text_lists_each_mismatch_with_path_expected_and_actual():
    with pytest.raises(Failure) as caught:
        expect_match(
            {"status": "pending", "id": "#uuid", "n": 2, "gone": 1},
            {"status": "cancelled", "id": 7, "n": 2, "new": [1]},
            where="orders.feature:9",
        )
    failure = caught.value
    assert failure.title == "response JSON does not match (4 mismatches)"
    assert failure.where == "orders.feature:9"
    assert failure.details.splitlines() == [
        '$.status: expected "pending", got "cancelled"',
        "$.id: expected #uuid, got 7 (not a uuid)",
        "$.gone: expected 1, got nothing (missing key)",
        "$.new: unexpected key, got [1]",
        'actual: {"status": "cancelled", "id": 7, "n": 2, "new": [1]}',
    ]
    shown = str(failure)
    assert shown.startswith("response JSON does not match (4 mismatches)\n")
    assert '  $.status: expected "pending", got "cancelled"' in shown


def test_failure_title_for_one_mismatch_and_for_contains():
    with pytest.raises(Failure) as caught:
        expect_match({"a": 1}, {"a": 2}, what="event")
    assert caught.value.title == "event does not match"
    with pytest.raises(Failure) as caught:
        expect_match({"a": 1, "b": 1}, {"a": 2, "b": 2}, "contains")
    assert caught.value.title == "response JSON does not contain the expected values (2 mismatches)"


def test_expect_match_returns_quietly_on_success():
    assert expect_match({"a": "#number"}, {"a": 1}) is None


def test_long_values_are_cut():
    found = compare({"note": "short"}, {"note": "x" * 500})
    line = format_mismatches(found)
    assert len(line) < 120
    assert line.endswith("…")


def test_long_documents_show_an_excerpt_around_the_mismatches():
    actual = {f"field{i}": {"value": i, "padding": "y" * 30} for i in range(30)}
    actual["field7"]["value"] = "wrong"
    expected = json.loads(json.dumps(actual))
    expected["field7"]["value"] = 7
    text = format_mismatches(compare(expected, actual), actual)
    lines = text.splitlines()
    assert lines[0] == '$.field7.value: expected 7, got "wrong" (string, not number)'
    assert lines[1] == "actual (excerpt):"
    assert '      "value": "wrong",  ←' in lines
    assert any("… 29 more" in line for line in lines)
    assert len(lines) < 15
    assert "field12" not in text


def test_the_excerpt_is_capped():
    actual = [{"v": i, "pad": "z" * 80} for i in range(200)]
    expected = [{"v": -1, "pad": "z" * 80} for _ in range(200)]
    text = format_mismatches(compare(expected, actual), actual)
    assert "… and 150 more mismatches" in text
    assert len(text.splitlines()) <= 50 + 1 + 1 + 40


def test_sensitive_fields_and_secret_values_are_hidden():
    secrets = Secrets()
    secrets.add("tok-123456")
    actual = {"password": "hunter22", "token": "tok-123456", "note": "uses tok-123456"}
    with pytest.raises(Failure) as caught:
        expect_match({"password": "x", "note": "y"}, actual, "contains", secrets=secrets)
    text = str(caught.value)
    assert "hunter22" not in text and "tok-123456" not in text
    assert '$.password: expected "x", got "***"' in text


# --- JSONPath ------------------------------------------------------------------------------

DOC = {
    "id": "o-1",
    "items": [{"productId": "p-1", "qty": 2}, {"productId": "p-2", "qty": 1}],
    "first name": "Alice",
}


def test_select_follows_rfc_9535():
    assert select(DOC, "$.id") == ["o-1"]
    assert select(DOC, "$.items[*].productId") == ["p-1", "p-2"]
    assert select(DOC, "$.items[?@.qty > 1].productId") == ["p-1"]
    assert select(DOC, "$['first name']") == ["Alice"]
    assert select(DOC, "$..qty") == [2, 1]
    assert select(DOC, "$.nope") == []


@pytest.mark.parametrize("path", ["$.items[", "items", "$.items[?@.qty ==]", "$..", ""])
def test_an_invalid_path_is_a_suite_mistake_with_the_parser_message(path):
    with pytest.raises(InterlockError) as caught:
        select(DOC, path, where="a.feature:3")
    err = caught.value
    assert err.title.startswith(f'Invalid JSONPath "{path}": ')
    assert len(err.title) > len(f'Invalid JSONPath "{path}": ')
    assert err.details.splitlines()[0] == path
    assert err.where == "a.feature:3"
    assert "$.items[0].productId" in err.hint


def test_select_one_gives_the_single_value():
    assert select_one(DOC, "$.items[1].qty") == 1
    assert select_one({"a": None}, "$.a") is None


def test_select_one_shows_the_nearest_parent_when_nothing_is_there():
    with pytest.raises(Failure) as caught:
        select_one(DOC, "$.items[0].quantity", where="x.feature:1")
    failure = caught.value
    assert failure.title == "no value at $.items[0].quantity in response JSON"
    assert failure.details.splitlines()[0] == '$.items[0] has keys: "productId", "qty"'
    assert "document" in failure.details


def test_select_one_explains_an_index_out_of_range_and_a_scalar_parent():
    with pytest.raises(Failure, match=r"\$\.items is an array of 2 items"):
        select_one(DOC, "$.items[5].qty")
    with pytest.raises(Failure, match=r'\$\.id is "o-1" \(string\)'):
        select_one(DOC, "$.id.x")


def test_select_one_excerpt_of_a_long_document_stays_short():
    doc = {f"k{i}": "v" * 40 for i in range(100)}
    doc["inner"] = {"a": 1}
    with pytest.raises(Failure) as caught:
        select_one(doc, "$.inner.b")
    details = caught.value.details
    assert '$.inner has keys: "a"' in details
    assert "document (excerpt):" in details
    assert len(details.splitlines()) <= 16


def test_select_one_with_several_values_fails():
    with pytest.raises(Failure, match=r"2 values at \$\.items\[\*\]\.qty"):
        select_one(DOC, "$.items[*].qty")


# --- properties ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8).filter(lambda s: not s.startswith(("#", "\\#"))),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_value_matches_itself_in_both_modes(value):
    assert compare(value, value, "is") == []
    assert compare(value, value, "contains") == []


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_is_implies_contains(expected, actual):
    if not compare(expected, actual, "is"):
        assert compare(expected, actual, "contains") == []


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=4), json_values)
def test_an_extra_key_keeps_contains_but_breaks_is(document, extra):
    key = "extra-" + "".join(sorted(document))
    bigger = {**document, key: extra}
    assert compare(document, bigger, "contains") == []
    path = child_path("$", key)
    assert Mismatch(path, MISSING, extra, "unexpected key") in compare(document, bigger)
    assert _path_segments(path) == [key]


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=5), st.randoms())
def test_contains_ignores_array_order(items, random):
    shuffled = list(items)
    random.shuffle(shuffled)
    assert compare(items, shuffled, "contains") == []


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_every_mismatch_path_is_a_valid_jsonpath(expected, actual):
    for mismatch in compare(expected, actual, "is"):
        assert isinstance(mismatch.reason, str) and mismatch.reason
        # a valid RFC 9535 path that finds the value (or nothing, for a missing key)
        assert select(actual, mismatch.path) == (
            [] if mismatch.actual is MISSING else [mismatch.actual]
        )


small_objects = st.dictionaries(st.sampled_from("ab"), st.sampled_from([1, 2]), max_size=2)


@settings(max_examples=400, deadline=None)
@given(st.lists(small_objects, max_size=3), st.lists(small_objects, max_size=4))
def test_contains_agrees_with_trying_every_assignment(expected, actual):
    import itertools

    def fits(want, got):
        return all(k in got and got[k] == v for k, v in want.items())

    possible = any(
        all(fits(want, actual[i]) for want, i in zip(expected, chosen, strict=True))
        for chosen in itertools.permutations(range(len(actual)), len(expected))
    )
    assert (compare(expected, actual, "contains") == []) == possible
    assert (compare({"x": [expected]}, {"x": [actual, 0]}, "contains") == []) == possible


# -- simple paths are walked without the JSONPath library: the same answers ----------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=2),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "0", "_x"]), inner, max_size=3),
    max_leaves=12,
)
_SEGMENTS = st.lists(st.sampled_from([".a", ".b", "._x", "[0]", "[1]", "[2]", "[10]"]),
                     max_size=4)


@settings(max_examples=300, deadline=None)
@given(document=_JSON, segments=_SEGMENTS)
def test_a_simple_path_selects_what_the_library_selects(document, segments):
    import jsonpath_rfc9535

    from interlock._core.match.jsonpaths import _simple_segments

    path = "$" + "".join(segments)
    assert _simple_segments(path) is not None  # the walk answers, not the library
    expected = [node.value for node in jsonpath_rfc9535.compile(path).find(document)]
    assert select(document, path) == expected


@pytest.mark.parametrize("path", ["$.items[*]", "$..id", "$['a b']", "$.a[-1]", "$.a[01]",
                                  "$.a[0:2]", "$[?@.id]", "$.é"])
def test_any_other_path_goes_to_the_library(path):
    from interlock._core.match.jsonpaths import _simple_segments

    assert _simple_segments(path) is None


def test_a_leading_zero_index_is_refused_as_the_library_refuses_it():
    with pytest.raises(InterlockError, match=r'Invalid JSONPath "\$\.a\[01\]"'):
        select({"a": [1, 2]}, "$.a[01]")
