"""``interlock schema``: the stack file's JSON Schema (or, ``--markdown``, its reference).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(); commands = parser.add_subparsers()
    >>> add_schema_parser(commands)
    >>> parser.parse_args(["schema", "--markdown"]).markdown
    True
"""

from __future__ import annotations

import argparse
import json
import sys

from interlock._core.stackfile import json_schema
from interlock._core.stackfile.markdown import reference


def add_schema_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``interlock schema [--markdown]`` to the command line."""
    parser = commands.add_parser(
        "schema", help="print the stack file's JSON Schema (--markdown: its reference)",
        description="Print the JSON Schema of environment/interlock.yaml, for editors "
        "(interlock schema > .interlock/stack-file.schema.json), or with --markdown the "
        "reference (interlock schema --markdown > docs/STACK-FILE.md).",
    )
    parser.add_argument("--markdown", action="store_true",
                        help="print the field reference (docs/STACK-FILE.md) instead")
    parser.set_defaults(run=print_schema)


def print_schema(args: argparse.Namespace) -> int:
    """Print the schema or the reference on standard output."""
    if args.markdown:
        sys.stdout.write(reference())
    else:
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0
