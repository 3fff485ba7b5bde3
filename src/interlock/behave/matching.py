"""Finding a step's definition without trying every pattern on it.

behave tries the definitions of a step's keyword (then those of ``@step``) one after
another, each a regular expression, until one matches: with the library's sentences about 35
tries a step. Most patterns start with words of their own (``the response status is ``), and
a pattern can only match a text that starts with its literal beginning; so a text is tried
only against the patterns whose beginning it has, in behave's order, and the first to match
wins as before. A pattern whose beginning cannot be read safely (an alternation at its top,
a flag, a matcher of another kind) is always tried.

Example:
    >>> literal_prefix(r"^the response status is (?P<code>\\d+)$")
    'the response status is '
    >>> literal_prefix(r"^(?:within (?P<s>\\d+) seconds?, )?the response$")
    ''
    >>> literal_prefix(r"^an? order$"), literal_prefix(r"^yes|no$")
    ('a', '')
"""

from __future__ import annotations

import types
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


def _top_level_alternation(pattern: str) -> bool:
    depth, index, in_class = 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _prefix_of(definition: Any) -> str:
    """The literal beginning of a step definition's pattern ("" when unknown)."""
    from behave.matchers import ParseMatcher, RegexMatcher

    pattern = getattr(definition, "pattern", None)
    if not isinstance(pattern, str):
        return ""
    if isinstance(definition, RegexMatcher):
        return literal_prefix(pattern)
    if isinstance(definition, ParseMatcher) and definition.CASE_SENSITIVE:
        return pattern.split("{", 1)[0]  # "{{" is a brace, but stopping there is safe
    return ""


def install(registry: Any) -> None:
    """Make ``registry`` (behave's step registry) look a step up by the patterns'
    beginnings; the same definition is found as behave's own loop finds."""
    if getattr(registry, "_interlock_matching", False):
        return
    prefixes: dict[int, tuple[Any, str]] = {}  # id -> (the definition, kept alive; its prefix)

    def find_match(self: Any, step: Any) -> Any:
        text = step.name
        lists = [self.steps[step.step_type]]
        if step.step_type != "step":
            lists.append(self.steps.get("step", []))
        for definitions in lists:
            for definition in definitions:
                known = prefixes.get(id(definition))
                if known is None or known[0] is not definition:
                    known = prefixes[id(definition)] = (definition, _prefix_of(definition))
                if known[1] and not text.startswith(known[1]):
                    continue
                result = definition.match(text)
                if result:
                    return result
        return None

    registry.find_match = types.MethodType(find_match, registry)
    registry._interlock_matching = True
