"""Parsing the stack file's YAML: mappings that remember their keys' lines, duplicate keys
refused. Imported only when a file is parsed (``config.read_yaml`` keeps what a file parsed
to while it is unchanged), so that a run's start does not import PyYAML.

Example:
    >>> parse("services:\\n  web: {external: 'http://127.0.0.1:1'}\\n", "x.yaml")["services"].lines
    {'web': 2}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from interlock._core.config import Located
from interlock._core.errors import InterlockError

# libyaml's parser where PyYAML was built with it (its wheels are): the same nodes and marks,
# about ten times faster than the pure-Python parser (36 ms to 4 ms on the demo's stack file).
_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_PARSER):
    """A safe loader whose mappings are ``Located`` and whose duplicate keys are errors."""

    path: Path | str = ""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    _refuse_duplicates(loader, node)
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise InterlockError(
                "A key in the configuration is not a plain name",
                where=f"{loader.path}:{key_node.start_mark.line + 1}",
            )
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.lines[str(key)] = key_node.start_mark.line + 1
    return result


def _refuse_duplicates(loader: _Loader, node: yaml.MappingNode) -> None:
    # YAML keeps the last of two equal keys without a word: a second service or header of
    # the same name would silently replace the first. Only the mapping's own keys count, so
    # a key that overrides one merged in with `<<: *base` stays allowed.
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in seen:
            raise InterlockError(
                f'Duplicate key "{key_node.value}" in the configuration',
                where=f"{loader.path}:{line}",
                hint=f'"{key_node.value}" is already set on line {seen[key_node.value]} of the '
                "same block; YAML would keep only the last one. Remove or rename one of them.",
            )
        seen[key_node.value] = line


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse(text: str, path: Path | str) -> Any:
    """``text`` (the file at ``path``) parsed: mappings are ``Located``, duplicate keys and
    YAML errors are ``InterlockError``s that name the file and line."""
    loader = _Loader(text)
    loader.path = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        col = f", column {mark.column + 1}" if mark else ""
        problem = str(err.problem)
        if mark is not None and text[mark.index:mark.index + 1] == "\t":  # libyaml omits it
            problem += " (a tab: YAML indents with spaces only)"
        raise InterlockError(
            f"The configuration is not valid YAML: {problem}{col}",
            where=f"{path}{line}",
            hint="Check the indentation and quoting on that line (quote values with : or {).",
        ) from None
    finally:
        loader.dispose()
