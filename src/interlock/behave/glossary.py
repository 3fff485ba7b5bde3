"""``interlock glossary``: every sentence the features use, in plain words, and where.

The suite's step modules are loaded as behave loads them, and every step of every feature
(outline examples, backgrounds included) is matched to its definition. Sentences are grouped
into the suite's own **business steps**, whose docstrings are the explanations, and the
**library steps** of Interlock, by library. ``interlock docs`` writes it too
(``GLOSSARY.md`` beside ``features/``), and each scenario of the Allure report links to it
when the repository's address is known (``INTERLOCK_REPOSITORY_URL``).

Example:
    $ interlock glossary                 # writes GLOSSARY.md in the suite's folder
    $ interlock glossary --output -      # prints it
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.behave.catalogue import LIBRARIES, readable
from interlock.behave.links import GLOSSARY_FILE

LIBRARY_PACKAGE = "interlock.behave.steps"
FILE_NAME = GLOSSARY_FILE
_SHOWN_USES = 6  # distinct sentences shown per step definition
_SHOWN_PLACES = 3  # places shown per sentence


@dataclass
class Term:
    """One step definition and the sentences of the features that use it."""

    sentence: str
    explanation: str
    library: str  # "" for a business step
    uses: dict[str, list[str]] = field(default_factory=dict)  # sentence -> ["file:line"]


def explanation(func: Any) -> str:
    """The plain words of a step: its docstring, the example line of a library docstring left
    out when more follows.

    Example:
        >>> def step(context):
        ...     '''A customer orders: the order is placed in the shop as that customer.'''
        >>> explanation(step)
        'A customer orders: the order is placed in the shop as that customer.'
    """
    text = inspect.getdoc(func) or ""
    return " ".join(text.split("\n\n")[0].split())


def collect(root: Path, features: Path | None = None) -> list[Term]:
    """Load the suite in ``root`` (its ``steps/``) and match every step of ``features``."""
    import behave.runner as behave_runner
    from behave.configuration import Configuration
    from behave.parser import parse_file
    from behave.runner import Runner

    from interlock.behave.binding import ensure_registered

    features = features or root / "features"
    if not features.is_dir():
        raise InterlockError(f"No features folder at {features}",
                             hint="Run it in the suite's folder, or pass --suite <folder>.")
    before = Path.cwd()
    os.chdir(root)  # behave finds steps/ (and the suite imports its own modules) from here
    sys.path.insert(0, str(root))
    try:
        config = Configuration(command_args=["-f", "null", str(features)], load_config=False)
        runner = Runner(config)
        runner.setup_paths()
        runner.load_step_definitions()
        registry = runner.step_registry or behave_runner.the_step_registry
        ensure_registered(registry)
        terms: dict[int, Term] = {}
        for path in sorted(features.rglob("*.feature")):
            feature = parse_file(str(path))
            if feature is None:
                continue
            seen: set[tuple[str, str]] = set()
            for scenario in feature.walk_scenarios():
                for step in scenario.all_steps:
                    place = f"{_relative(Path(step.filename), root)}:{step.line}"
                    text = f"{step.keyword} {step.name}"
                    if (place, text) in seen:
                        continue  # a background's step, once per place
                    seen.add((place, text))
                    definition = registry.find_step_definition(step)
                    if definition is None:
                        continue
                    term = terms.setdefault(id(definition), _term(definition))
                    term.uses.setdefault(text, []).append(place)
    finally:
        sys.path.remove(str(root))
        os.chdir(before)
    return list(terms.values())


def _term(definition: Any) -> Term:
    func = definition.func
    module = getattr(func, "__module__", "") or ""
    pattern = str(getattr(definition, "pattern", ""))
    if module.startswith(LIBRARY_PACKAGE):
        library = LIBRARIES.get(module.rsplit(".", 1)[-1], module.rsplit(".", 1)[-1])
        return Term(readable(pattern.strip("^$")), explanation(func), library)
    # A parse pattern ("... {quantity:d} {product}") as a reader writes it: <quantity> <product>
    return Term(re.sub(r"\{(\w+)(?::[^}]*)?\}", r"<\1>", pattern), explanation(func), "")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def render(terms: list[Term]) -> str:
    """The glossary as Markdown."""
    lines = [
        "# Glossary",
        "",
        "Every sentence the features use, in plain words, and where it is used. Written by",
        "`interlock glossary` (and `interlock docs`) from the step definitions and the "
        "features: do not edit by hand.",
        "",
    ]
    business = sorted((t for t in terms if not t.library), key=lambda t: t.sentence.lower())
    library: dict[str, list[Term]] = defaultdict(list)
    for term in terms:
        if term.library:
            library[term.library].append(term)
    lines += ["## Business steps", ""]
    if not business:
        lines += ["(The suite defines none: every sentence is one of Interlock's.)", ""]
    for term in business:
        lines += _entry(term, "###")
    lines += ["## Library steps", "",
              "Interlock's sentences (the whole language: docs/STEPS.md, `interlock steps`).",
              ""]
    for name in sorted(library):
        lines += [f"### {name}", ""]
        for term in sorted(library[name], key=lambda t: t.sentence.lower()):
            lines += _entry(term, "####")
    return "\n".join(lines).rstrip() + "\n"


def _entry(term: Term, heading: str) -> list[str]:
    lines = [f"{heading} {term.sentence}", ""]
    lines.append(term.explanation or "(No explanation yet: give the step a docstring.)")
    lines += ["", "Used as:", ""]
    ordered = sorted(term.uses.items(), key=lambda item: (-len(item[1]), item[0]))
    for text, places in ordered[:_SHOWN_USES]:
        shown = ", ".join(places[:_SHOWN_PLACES])
        more = f" and {len(places) - _SHOWN_PLACES} more" if len(places) > _SHOWN_PLACES else ""
        lines.append(f"- `{text}` ({shown}{more})")
    if len(ordered) > _SHOWN_USES:
        lines.append(f"- … and {len(ordered) - _SHOWN_USES} other wordings")
    return [*lines, ""]


def write_glossary(root: Path, out: Path | None = None) -> Path:
    """Write the glossary of the suite in ``root`` (``GLOSSARY.md`` there by default); the
    file is rewritten only when its text changes."""
    out = out or root / FILE_NAME
    text = render(collect(root))
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out


def glossary_command(args: argparse.Namespace) -> int:
    """``interlock glossary [--output FILE|-]``."""
    root = Path(args.suite).resolve()
    if args.output == "-":
        print(render(collect(root)), end="")
        return 0
    out = write_glossary(root, Path(args.output) if args.output else None)
    print(f"interlock: glossary written to {out}")
    return 0


def add_glossary_parser(commands: Any) -> None:
    """Register ``interlock glossary`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "glossary", help="every sentence the features use, explained, and where (GLOSSARY.md)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default=".", help="the suite's folder (default: here)")
    parser.add_argument("--output", help="the file to write (default: GLOSSARY.md in the "
                        "suite's folder; - prints it)")
    parser.set_defaults(run=glossary_command)
