"""Finding a step's definition without trying every pattern on it.

behave tries the definitions of a step's keyword (then those of ``@step``) one after
another, each a regular expression, until one matches: with the library's sentences about 35
tries a step. Most patterns start with words of their own (``the response status is ``), and
a pattern can only match a text that starts with its literal beginning (or, after an
optional group such as ``within 5 seconds, ``, with either that group's or the rest's); so a
text is tried only against the patterns whose beginning it has, in behave's order, and the
first to match wins as before. A pattern whose beginning cannot be read safely (an
alternation at its top, a flag, a matcher of another kind) is always tried. behave's match
also works out where the step function is (a relative path, for every step); that is kept
per definition and working folder.

Adding a definition is the same trick (``install_adding``): behave checks that no definition
already there matches the new one's pattern text (an ambiguous step), compiling and trying
every one of them, about 15 ms of every run's start for the library's sentences; only those
whose beginning the new text has can match it. The library's own patterns are not compiled
when added (behave's check that a pattern compiles: tests compile every one), only when a
step first needs them, nor checked against each other (a test runs every sentence of
STEPS.md and finds none ambiguous).

Example:
    >>> literal_prefix(r"^the response status is (?P<code>\\d+)$")
    'the response status is '
    >>> beginnings(r"^(?:within (?P<s>\\d+) seconds?, )?the response$")
    ('within ', 'the response')
    >>> literal_prefix(r"^an? order$"), beginnings(r"^yes|no$")
    ('a', ())
"""

from __future__ import annotations

import functools
import os
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

_META = set(".^$*+?{}[]|()\\")
_QUANTIFIERS = set("*+?{")


def literal_prefix(pattern: str) -> str:
    """The text every match of the regular expression ``pattern`` starts with (a
    conservative answer: ``""`` when unsure)."""
    if _top_level_alternation(pattern):
        return ""
    body = pattern.removeprefix("^").removeprefix(r"\A")
    if body.startswith("(?"):  # a group, or inline flags
        return ""
    prefix: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            following = body[index + 1:index + 2]
            if not following or following.isalnum():  # \d, \w, \s, \b...: not a literal
                break
            literal, width = following, 2
        elif char in _META:
            break
        else:
            literal, width = char, 1
        if body[index + width:index + width + 1] in _QUANTIFIERS:  # "n?": the n is optional
            break
        prefix.append(literal)
        index += width
    return "".join(prefix)


@functools.lru_cache(maxsize=1024)  # a pattern's, asked for when added and when looked up
def beginnings(pattern: str) -> tuple[str, ...]:
    """What every match of ``pattern`` starts with: one of these texts (``()`` when unsure:
    the pattern is always tried). A leading optional group gives two: its own beginning, and
    the rest's."""
    if _top_level_alternation(pattern):
        return ()
    body = pattern.removeprefix("^").removeprefix(r"\A")
    if body.startswith("("):
        end = _group_end(body)
        if end is None or body[end + 1:end + 2] != "?" or body[end + 2:end + 3] == "?":
            return ()
        inside = body[1:end]
        if inside.startswith("?:"):
            inside = inside[2:]
        elif inside.startswith("?P<"):
            inside = inside[inside.index(">") + 1:]
        elif inside.startswith("?"):  # a lookahead, a flag: unsure
            return ()
        first, rest = literal_prefix(inside), literal_prefix(body[end + 2:])
        return (first, rest) if first and rest else ()
    prefix = literal_prefix(pattern)
    return (prefix,) if prefix else ()


def _group_end(body: str) -> int | None:
    """The index of the parenthesis that closes the group ``body`` starts with."""
    return next((index for index, char, depth in _structure(body)
                 if char == ")" and depth == 0), None)


def _top_level_alternation(pattern: str) -> bool:
    if "|" not in pattern:
        return False
    return any(char == "|" and depth == 0 for _, char, depth in _structure(pattern))


_QUOTED_OUT = re.compile(r"\\(?:.|$)|\[(?:\\(?:.|$)|[^\]\\])*(?:\]|$)", re.DOTALL)
"""An escaped character, or a ``[...]`` class (to its end, or the pattern's)."""
_STRUCTURAL = re.compile(r"[()|]")


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """Each parenthesis and ``|`` of ``pattern`` that is neither escaped nor in a ``[...]``
    class, with its index and the depth of parentheses after it (a ``)`` counts as closed)."""
    blanked = _QUOTED_OUT.sub(lambda found: " " * len(found.group()), pattern)
    depth = 0
    for found in _STRUCTURAL.finditer(blanked):
        char = found.group()
        depth += (char == "(") - (char == ")")
        yield found.start(), char, depth


def _prefix_of(definition: Any) -> tuple[str, ...]:
    """What a text a step definition matches starts with (``()`` when unknown)."""
    from behave.matchers import ParseMatcher, RegexMatcher

    pattern = getattr(definition, "pattern", None)
    if not isinstance(pattern, str):
        return ()
    if isinstance(definition, RegexMatcher):
        return beginnings(pattern)
    if isinstance(definition, ParseMatcher) and definition.CASE_SENSITIVE:
        prefix = pattern.split("{", 1)[0]  # "{{" is a brace, but stopping there is safe
        return (prefix,) if prefix else ()
    return ()


class _Beginnings:
    """Each definition's beginnings, worked out once per registry (the definition is kept
    with them, so that its id is not reused while it is known)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, tuple[str, ...]]] = {}

    def may_match(self, definition: Any, text: str) -> bool:
        """Whether ``text`` starts with one of ``definition``'s beginnings (or they are
        unknown): only then can the definition match it."""
        known = self._known.get(id(definition))
        if known is None or known[0] is not definition:
            known = self._known[id(definition)] = (definition, _prefix_of(definition))
        return not known[1] or text.startswith(known[1])


def _beginnings_of(registry: Any) -> _Beginnings:
    """The registry's ``_Beginnings`` (one for adding definitions and for looking steps up)."""
    found = getattr(registry, "_interlock_beginnings", None)
    if found is None:
        found = registry._interlock_beginnings = _Beginnings()
    return found


def install_adding(registry: Any, trusted: Callable[[Any], bool]) -> None:
    """Make ``registry`` (behave's step registry) check a new definition only against the
    definitions whose beginning its text has; the definitions of functions ``trusted`` says
    are the library's are not compiled before they are used. Anything else is behave's own
    ``add_step_definition``: the same definitions kept, the same ``AmbiguousStep`` raised."""
    if getattr(registry, "_interlock_adding", False):
        return
    from behave.matchers import make_step_matcher
    from behave.step_registry import AmbiguousStep

    beginnings_known = _beginnings_of(registry)

    def add_step_definition(self: Any, keyword: str, step_text: str, func: Any) -> None:
        step_type = keyword.lower()
        step_text = str(step_text)
        new = make_step_matcher(func, step_text, step_type)
        library = trusted(func)
        if not library and not self.is_good_step_definition(new):
            return  # behave's handler said why (or raised)
        for existing in self.steps[step_type]:
            if library and trusted(existing.func):  # two of the library's sentences
                if existing.func is func and existing.pattern == new.pattern:
                    return  # its module imported twice
                continue  # a test runs them all: none is ambiguous
            if self.same_step_matcher(existing, new):
                return  # a step module imported twice
            if beginnings_known.may_match(existing, step_text) and existing.matches(step_text):
                raise AmbiguousStep(
                    f"{new.describe()} has already been defined in\n  existing step "
                    f"{existing.describe(existing.SCHEMA_AT_LOCATION)}")
        self.steps[step_type].append(new)

    registry.add_step_definition = types.MethodType(add_step_definition, registry)
    registry._interlock_adding = True


def install(registry: Any) -> None:
    """Make ``registry`` (behave's step registry) look a step up by the patterns'
    beginnings; the same definition is found as behave's own loop finds."""
    if getattr(registry, "_interlock_matching", False):
        return
    beginnings_known = _beginnings_of(registry)
    matches: dict[tuple[int, str], Any] = {}  # (id, working folder) -> a first Match
    # A step's text -> the definition that matched it, and how many definitions there were
    # then: a suite says the same sentences again and again, and the definitions before it
    # in the list did not match that text (none is removed; one added is seen in the count).
    matched: dict[tuple[str, str], tuple[int, Any]] = {}

    def find_match(self: Any, step: Any) -> Any:
        text = step.name
        lists = [self.steps[step.step_type]]
        if step.step_type != "step":
            lists.append(self.steps.get("step", []))
        count = sum(len(definitions) for definitions in lists)
        known = matched.get((step.step_type, text))
        if known is not None and known[0] == count:
            result = _match(known[1], text, matches)
            if result:
                return result
        for definitions in lists:
            for definition in definitions:
                if not beginnings_known.may_match(definition, text):
                    continue
                result = _match(definition, text, matches)
                if result:
                    matched[(step.step_type, text)] = (count, definition)
                    return result
        return None

    registry.find_match = types.MethodType(find_match, registry)
    registry._interlock_matching = True


def _match(definition: Any, text: str, matches: dict[tuple[int, str], Any]) -> Any:
    """``definition.match(text)``, the step function's location taken from its first match
    (behave works it out anew, a relative path, for every step)."""
    key = (id(definition), os.getcwd())
    first = matches.get(key)
    if first is None or first.func is not definition.func:
        result = definition.match(text)
        if result and type(result).__name__ == "Match":  # not a MatchWithError
            matches[key] = result
        return result
    try:
        arguments = definition.check_match(text)
    except Exception:  # a type converter failed: behave's own match says so
        return definition.match(text)
    return None if arguments is None else first.with_arguments(arguments)
