"""``docs/STACK-FILE.md``: the stack file's reference, written from its definition.

Regenerate it with ``interlock schema --markdown > docs/STACK-FILE.md``.

Example:
    >>> text = reference()
    >>> "| `timeout` | duration | `30 seconds` |" in text
    True
"""

from __future__ import annotations

from typing import Any

import yaml

from interlock._core.stackfile import blocks
from interlock._core.stackfile.model import Field

HEADER = """\
# The stack file: reference

<!-- Generated from src/interlock/_core/stackfile/fields.py by
     `interlock schema --markdown > docs/STACK-FILE.md`; do not edit by hand. -->

The stack file (`environment/interlock.yaml`, looked for in the suite's folder and the folders
above it; `-D interlock.config=<path>` or `interlock --config <path>` to choose another)
describes the system under test and what the steps need. The suite folder is the stack file's
folder's parent: relative paths below are taken from there.

Texts may hold `{variable}`, `{service.url}` / `.host` / `.port`, `{env.NAME}`
(`{env.NAME|default}`), `{secrets.name}`, `{uuid}` and `{fake.x}`. `INTERLOCK_STAGE=<stage>`
merges a stage over the base; `INTERLOCK_BACKEND=docker` runs services in containers.

Editors check the file as you type with the JSON Schema that `interlock schema` prints: the
first line `interlock init` writes, `# yaml-language-server: $schema=...`, points the YAML
language server (VS Code's YAML extension, IntelliJ, Neovim) at it.

A field marked **required** must be given when its block is; a `<name>` in a path is a name
you choose (a service, a user, a database).
"""


def reference() -> str:
    """The whole reference, as Markdown."""
    parts = [HEADER]
    for path, block in blocks().items():
        title = path or "top level"
        parts.append(f"## `{title}`\n\n{block.doc}\n")
        if path == "stages.<stage>":
            parts.append("A stage holds any of the top-level sections except `stages`, with "
                         "the fields described for each; it names only what it changes, and "
                         "`null` removes a key of the base (`brokers: {nats: null}`).\n")
            continue
        parts.append("| field | type | default | description | example |\n"
                     "|---|---|---|---|---|")
        parts.extend(_row(f) for f in block.fields)
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _row(f: Field) -> str:
    default = "**required**" if f.required else ("" if f.default is None else _inline(f.default))
    cells = [f"`{f.name}`", f.type.word, default, f.doc,
             _inline({f.name: f.example}, braces=False) if f.example is not None else ""]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _inline(value: Any, *, braces: bool = True) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    text = text.strip().removesuffix("...").strip()
    if not braces and text.startswith("{") and text.endswith("}"):
        text = text[1:-1]  # `timeout: 60 seconds`, as written in the file
    return f"`{text}`"
