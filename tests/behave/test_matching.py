"""Step lookup by the patterns' beginnings (``behave/matching.py``) finds what behave's own
loop finds: for every step of the reference suite and of STEPS.md's examples, the same
definition (or none), with the same arguments."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from behave.parser import parse_file
from behave.step_registry import StepRegistry

from interlock.behave import steps as _steps  # noqa: F401  (registers the sentences)
from interlock.behave.binding import ensure_registered
from interlock.behave.matching import beginnings, literal_prefix

ROOT = Path(__file__).resolve().parents[2]


def _all_steps() -> list[object]:
    found = []
    for path in sorted((ROOT / "features").rglob("*.feature")):
        feature = parse_file(str(path))
        if feature.background:
            found.extend(feature.background.steps)
        for scenario in feature.walk_scenarios():
            found.extend(scenario.steps)
    return found


def test_the_same_definition_is_found_for_every_step_of_the_reference_suite() -> None:
    plain, fast = StepRegistry(), StepRegistry()
    ensure_registered(plain)
    plain.find_match = StepRegistry.find_match.__get__(plain)  # behave's own loop again
    ensure_registered(fast)
    steps = _all_steps()
    assert len(steps) > 400
    matched = 0
    # Twice: the second time each text is found by the definition that matched it first.
    for step in steps + steps:
        mine, theirs = fast.find_match(step), plain.find_match(step)
        if theirs is None:
            assert mine is None, step.name
            continue
        matched += 1
        assert mine is not None, step.name
        assert mine.func is theirs.func and mine.location == theirs.location, step.name
        assert [(a.name, a.value) for a in mine.arguments] == [
            (a.name, a.value) for a in theirs.arguments], step.name
    assert matched > 600  # the library's sentences (the rest are the suite's domain steps)


def test_a_patterns_beginning_is_what_every_match_starts_with() -> None:
    from interlock.behave.binding import SENTENCES

    unsure = 0
    for pattern, _ in SENTENCES:
        starts = beginnings(f"^{pattern}$")
        unsure += not starts
        for step in _all_steps():
            if re.match(f"^{pattern}$", step.name) and starts:
                assert step.name.startswith(starts), (pattern, step.name)
    assert unsure == 0  # every sentence has a beginning (within's, and its own)
    assert literal_prefix(r"^a\.b\"c\d") == 'a.b"c'
    assert literal_prefix(r"^ab*") == "a" and literal_prefix(r"^x{2}") == ""
    assert literal_prefix(r"^(?i)Hello") == "" and literal_prefix(r"^[ab]c") == ""


def test_a_suites_own_steps_in_behaves_default_matcher_are_looked_up_the_same() -> None:
    from behave.matchers import ParseMatcher

    from interlock.behave.matching import _prefix_of

    def step(context: object, path: str) -> None: ...

    assert _prefix_of(ParseMatcher(step, 'I get "{path}"')) == ('I get "',)
    registry = StepRegistry()
    registry.add_step_definition("when", 'I get "{path}"', step)
    registry.add_step_definition("when", "{anything} happens", step)
    ensure_registered(registry)

    class Step:
        step_type, name = "when", 'I get "/orders/1"'

    found = registry.find_match(Step())
    assert found is not None and found.arguments[0].value == "/orders/1"
    Step.name = "it all happens"
    assert registry.find_match(Step()) is not None  # no beginning: always tried
    # A text seen before is found by the definition that matched it, unless one was added
    # since (it may come first: the list is walked again).
    registry.steps["when"].insert(0, ParseMatcher(step, "it all {what}"))
    again = registry.find_match(Step())
    assert again is not None and again.arguments[0].value == "happens"


def test_adding_a_definition_refuses_what_behave_refuses_and_keeps_what_it_keeps() -> None:
    """The registry's ``add_step_definition`` checks a new definition only against those whose
    beginning its text has, and leaves the library's patterns uncompiled: the same
    definitions are kept and the same steps refused as behave's own method."""
    import pytest
    from behave.step_registry import AmbiguousStep

    from interlock.behave.binding import SENTENCES

    for pattern, _ in SENTENCES:  # added uncompiled, so compiled here: every one is good
        re.compile(f"^{pattern}$")
    ours, theirs = StepRegistry(), StepRegistry()
    ensure_registered(ours)
    theirs._interlock_adding = True  # behave's own add_step_definition, from the start
    ensure_registered(theirs)
    assert "add_step_definition" in vars(ours) and "add_step_definition" not in vars(theirs)
    assert [d.pattern for d in ours.steps["step"]] == [d.pattern for d in theirs.steps["step"]]

    def mine(context: object, **_: str) -> None: ...

    @functools.wraps(SENTENCES[0][1])  # a suite's wrapper of a sentence is not the library's
    def wrapper(context: object, **_: str) -> None: ...

    from interlock.behave.binding import _is_sentence

    assert _is_sentence(SENTENCES[0][1]) and not _is_sentence(wrapper)

    cases = [("then", 'the response status is {code:d}'),  # the library's sentence, again
             ("step", "the response status is 200"),  # its text is matched by a sentence
             ("given", 'a customer named "{name}"'),  # new
             ("given", 'a customer named "{name}"'),  # the same function and place: kept once
             ("when", "I open [the door"),  # the parse matcher takes it (not a regex)
             ("given", "a {thing:NoSuchType} here"),  # a bad definition: left out by both
             ]
    for keyword, text in cases:
        outcomes = []
        for registry in (ours, theirs):
            try:
                registry.add_step_definition(keyword, text, mine)
                outcomes.append("kept")
            except (AmbiguousStep, ValueError) as err:
                outcomes.append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
        assert outcomes[0] == outcomes[1], (text, outcomes)
    refused = []
    for registry in (ours, theirs):
        with pytest.raises(AmbiguousStep):
            registry.add_step_definition("step", "the response status is 201", mine)
        refused.append(len(registry.steps["step"]))
    assert refused[0] == refused[1]
    assert {k: len(v) for k, v in ours.steps.items()} == {
        k: len(v) for k, v in theirs.steps.items()}
