"""``interlock steps``: the step catalogue, for people and for editors.

Every library sentence with a readable form (``"<name>"`` for a quoted name, ``[...]`` for
an optional part, ``(is|contains)`` for a choice), one example taken from its docstring, and
the library it belongs to (HTTP, Auth, Events, Databases, Services). ``--format json`` gives
the same with the regular expression behave matches, for tools.

Example:
    >>> readable(r'I send (?P<method>GET|POST) "(?P<path>[^"]*)"(?: to "(?P<service>[^"]*)")?')
    'I send (GET|POST) "<path>" [to "<service>"]'
    >>> readable(r"(?:within (?P<within>[^,]+?),\\s*)?the table has (?P<n>\\d+) rows?")
    '[within <n> seconds,] the table has <n> row(s)'
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from interlock.behave import binding

_PLAIN = re.compile(r"^[\w ]+(?:\|[\w ]+)*$")
_PLACEHOLDERS = {"n": "<n>", "status": "<n>", "limit": "<n>", "window": "<duration>",
                 "delay": "<duration>"}
LIBRARIES = {"http": "HTTP", "auth": "Auth", "events": "Events", "db": "Databases",
             "services": "Services and faults"}


@dataclass(frozen=True)
class Entry:
    """One sentence of the catalogue."""

    sentence: str
    example: str
    library: str
    pattern: str


def readable(pattern: str) -> str:
    """A sentence's regular expression as a reader would write it."""
    text, _ = _parse(pattern, 0)
    return re.sub(r"\s+", " ", text).strip()


def _parse(p: str, i: int) -> tuple[str, int]:
    parts: list[str] = []
    while i < len(p):
        c = p[i]
        if c == "(":
            name = ""
            if p.startswith("(?P<", i):
                end = p.index(">", i)
                name, start = p[i + 4 : end], end + 1
            else:
                start = i + 3 if p.startswith("(?:", i) else i + 1
            inner, i = _parse(p, start)
            raw = p[start : i - 1]
            optional = i < len(p) and p[i] == "?"
            i += 1 if optional else 0
            parts.append(_group(name, raw, inner, optional))
        elif c == ")":
            return "".join(parts), i + 1
        elif c == "\\":
            parts.append({"s": " ", "d": "", "w": ""}.get(p[i + 1], p[i + 1]))
            i += 2
        elif c == "[":
            i = p.index("]", i + 2) + 1  # a character class: its group names it
        elif c == "{" and re.match(r"\{\d+(,\d*)?\}", p[i:]):
            i = p.index("}", i) + 1
        elif c == "?" and parts:
            last = parts.pop()
            parts.append(f"{last[:-1]}({last[-1]})" if last and last[-1].isalpha() else last)
            i += 1
        elif c in "*+^$":
            i += 1
        else:
            parts.append(c)
            i += 1
    return "".join(parts), i


def _group(name: str, raw: str, inner: str, optional: bool) -> str:
    if name == "within":
        text = "<n> seconds"
    elif name and not _PLAIN.match(raw):
        text = _PLACEHOLDERS.get(name, f"<{name}>")
    elif _alternatives(raw):
        lead = " " if inner.startswith(" ") else ""
        text = f"{lead}({'|'.join(part.strip() for part in inner.split('|'))})"
    else:
        text = inner
    if not optional:
        return text
    lead = " " if text.startswith(" ") else ""
    trail = " " if text.endswith(" ") else ""
    return f"{lead}[{text.strip()}]{trail}"


def _alternatives(raw: str) -> bool:
    """Whether ``raw`` is a choice at its own level (``a|b``, not ``(?:a|b) c``)."""
    depth = 0
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = raw.index("]", i + 2) + 1
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "|" and depth == 0:
            return True
        i += 1
    return False


def _example(run: Any) -> str:
    first = (run.__doc__ or "").strip().split("\n")[0]
    first = re.split(r" \(|\.$", first)[0]
    return first.rstrip(".:") + (":" if first.rstrip(".").endswith(":") else "")


def catalogue() -> list[Entry]:
    """Every library sentence, in the order the libraries define them."""
    import interlock.behave.steps  # noqa: F401  (registers the sentences)

    entries: list[Entry] = []
    for pattern, run in binding.SENTENCES:
        module = run.__module__.rsplit(".", 1)[-1]
        entries.append(Entry(readable(pattern), _example(run), LIBRARIES.get(module, module),
                             pattern))
    return entries


def steps_command(args: argparse.Namespace) -> int:
    """``interlock steps``: print the catalogue (text, or JSON with ``--format json``)."""
    entries = catalogue()
    if args.format == "json":
        print(json.dumps([asdict(e) for e in entries], indent=2))
        return 0
    library = ""
    for entry in entries:
        if entry.library != library:
            library = entry.library
            print(f"\n{library}\n{'-' * len(library)}")
        print(f"  {entry.sentence}")
        if entry.example:
            print(f"      e.g. {entry.example}")
    print("\nAny sentence works after Given, When, Then, And or But. The whole language, with "
          "markers and comparison modes: docs/STEPS.md.")
    return 0


def add_steps_parser(commands: Any) -> None:
    """Register ``interlock steps`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "steps", help="list the library's step sentences, with an example each",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--format", choices=["text", "json"], default="text",
                        help="text for people (default), json for editors and tools")
    parser.set_defaults(run=steps_command)
