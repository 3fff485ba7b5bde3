"""``interlock``: the command line for people working on a suite.

    interlock config                 the effective configuration, secrets hidden
    interlock stack up [NAME]        start a stack and keep it up (Ctrl-C stops it);
                                     behave runs with INTERLOCK_REUSE=1 use it
    interlock stack ps               what the kept-up stack runs, and where
    interlock stack logs SERVICE     a service's log
    interlock stack down             stop the kept-up stack
    interlock run -j N [BEHAVE-ARGS] the features on N workers sharing one stack
    interlock docs                   regenerate INTEGRATION-TEST.md from the last results,
                                     and GLOSSARY.md from the steps and features
    interlock glossary               every sentence the features use, explained (GLOSSARY.md)
    interlock schema [--markdown]    the stack file's JSON Schema (or its reference)
    interlock merge DIR... --into D  CI shards' reports (Allure results, JUnit, durations)
                                     copied into one folder
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from interlock._core.config import find_config, suite_root
from interlock._core.errors import InterlockError
from interlock._core.secrets import Secrets
from interlock._core.shards import DURATIONS_FILE, merge_reports
from interlock._core.stackfile.command import add_schema_parser
from interlock.behave.allure_report import add_report_parser
from interlock.behave.catalogue import add_steps_parser
from interlock.behave.glossary import add_glossary_parser, write_glossary
from interlock.behave.parallel import add_run_parser
from interlock.living_docs import add_docs_parser
from interlock.scaffold import add_init_parser
from interlock.stack.kinds import kind_module
from interlock.stack.reuse import KeptStack
from interlock.suite import DEFAULT_STACK, Suite


def _config_path(args: argparse.Namespace) -> Path:
    """``--config``, else ``INTERLOCK_CONFIG``, else the stack file of the suite this folder
    is in (the nearest folder upwards with ``environment/interlock.yaml``)."""
    given = args.config if args.config is not None else os.environ.get("INTERLOCK_CONFIG") or None
    return find_config(given, Path.cwd(), setting="--config")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def show_config(args: argparse.Namespace) -> int:
    """Print the effective configuration (stage and env applied), secrets redacted."""
    suite = Suite.load(_config_path(args), progress=lambda line: None)
    try:
        # Every value under a secret-bearing field is hidden, whether it came from secrets:
        # or was written in place (a password in a login body, a signing key).
        data = suite.secrets.redact_config(_plain(suite.config.data))
        text = yaml.safe_dump(data, sort_keys=False)
        print(f"# stage: {suite.config.stage or '(none)'}   backend: {suite.backend}")
        for line in _kind_notes(suite):
            print(line)
        print(suite.secrets.redact(text), end="")
    finally:
        suite.close()
    return 0


def _kind_notes(suite: Suite) -> list[str]:
    """A comment line per service whose built-in kind runs with limits on this backend
    (the embedded Kafka broker: memory-only, no transactions, slow group joins)."""
    if suite.backend != "process":
        return []
    notes = []
    for name, spec in suite.services.items():
        if spec.kind and "external" not in spec.forms:
            # A kind module may state the limits of its embedded server in LIMITS.
            limits = getattr(kind_module(spec.kind), "LIMITS", "")
            if limits:
                notes.append(f"# {name} ({spec.kind}): {limits}")
    return notes


def stack_up(args: argparse.Namespace) -> int:
    """Start a stack and keep it up until Ctrl-C or ``interlock stack down``."""
    suite = Suite.load(_config_path(args))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stopped.set())
    try:
        stack = suite.stack(args.name)
        kept = KeptStack.write(suite.root, stack, suite.secret_values())
        print(f"interlock: stack {args.name!r} is up; run behave with INTERLOCK_REUSE=1 to use it.")
        print("interlock: Ctrl-C or `interlock stack down` stops it.")
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        kept.remove()
    finally:
        suite.close()
    return 0


def stack_down(args: argparse.Namespace) -> int:
    """Stop the kept-up stack."""
    kept = KeptStack.read(Path.cwd())
    if kept is None:
        print("interlock: no stack is kept up here")
        return 0
    os.kill(kept.owner_pid, signal.SIGTERM)
    print(f"interlock: asked the stack (pid {kept.owner_pid}) to stop")
    return 0


def stack_ps(args: argparse.Namespace) -> int:
    """List the kept-up stack's services and addresses."""
    kept = KeptStack.read(Path.cwd())
    if kept is None:
        print("interlock: no stack is kept up here (interlock stack up starts one)")
        return 0
    if kept.services is None:
        print(f"interlock: pid {kept.owner_pid} is still starting stack {kept.name!r}")
    for name, service in (kept.services or {}).items():
        print(f"{name:20} {service['url']:45} {service.get('log', '')}")
    return 0


def stack_logs(args: argparse.Namespace) -> int:
    """Print a kept-up service's log."""
    kept = KeptStack.read(Path.cwd())
    services = (kept.services or {}) if kept else {}
    if kept is None or args.service not in services:
        known = ", ".join(services) if kept else "none (no stack is kept up)"
        raise InterlockError(f'No kept-up service "{args.service}"', hint=f"Known: {known}")
    log = services[args.service].get("log", "")
    text = Path(log).read_text(errors="replace") if log and Path(log).exists() else ""
    secrets = Secrets()
    secrets.add(*kept.secrets.values())
    print(secrets.redact(text), end="")
    return 0


def merge(args: argparse.Namespace) -> int:
    """``interlock merge``: the reports of CI shards copied into one folder."""
    into = Path(args.into)
    counts = merge_reports([Path(folder) for folder in args.folders], into)
    print(f"interlock: merged {len(args.folders)} shards into {into}: "
          f"{counts['allure-results']} Allure files, {counts['junit']} JUnit files, "
          f"{counts[DURATIONS_FILE]} durations files")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``interlock`` command."""
    parser = argparse.ArgumentParser(prog="interlock", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="the configuration file (environment/interlock.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("config", help="print the effective configuration").set_defaults(
        run=show_config)
    stack = commands.add_parser("stack", help="keep a stack up between behave runs")
    actions = stack.add_subparsers(dest="action", required=True)
    up = actions.add_parser("up")
    up.add_argument("name", nargs="?", default=DEFAULT_STACK)
    up.set_defaults(run=stack_up)
    actions.add_parser("down").set_defaults(run=stack_down)
    actions.add_parser("ps").set_defaults(run=stack_ps)
    logs = actions.add_parser("logs")
    logs.add_argument("service")
    logs.set_defaults(run=stack_logs)
    merging = commands.add_parser(
        "merge", help="copy CI shards' reports (allure-results/, junit/, durations.json) "
        "into one folder")
    merging.add_argument("folders", nargs="+", help="each shard's reports folder")
    merging.add_argument("--into", default="reports",
                         help="the merged reports folder (default: reports)")
    merging.set_defaults(run=merge)
    add_docs_parser(commands)
    add_report_parser(commands)
    add_steps_parser(commands)
    add_init_parser(commands)
    add_schema_parser(commands)
    add_run_parser(commands)
    add_glossary_parser(commands)
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":  # whatever interlock does not know is behave's
        args.behave_args = [*rest, *args.behave_args]
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "docs":
        args.run = _docs_and_glossary(args.run)
    try:
        return int(args.run(args))
    except InterlockError as err:
        print(f"interlock: {err.render()}", file=sys.stderr)
        return 2




def _docs_and_glossary(docs: Any) -> Any:
    """``interlock docs`` also writes the glossary beside the features (its own command is
    ``interlock glossary``): the living documents are regenerated together."""

    def run(args: argparse.Namespace) -> int:
        done = int(docs(args))
        root = suite_root(_config_path(args))
        if (root / "features").is_dir() and (root / "steps").is_dir():
            print(f"interlock: wrote {write_glossary(root)}")
        return done

    return run


if __name__ == "__main__":
    sys.exit(main())
