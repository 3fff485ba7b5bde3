"""The suite's configuration file (``environment/interlock.yaml``): read once, checked early.

The file is YAML. Every mapping it holds remembers the line of each key, so an error about a
field names ``file:line`` and the field's path. Stages (``local``, ``ci``, ``staging``…) are
layered over the base (``INTERLOCK_STAGE=ci``), then environment variables
(``INTERLOCK_BACKEND``) over both.

Each capability parses its own section (``services``, ``auth``, ``brokers``, ``databases``…)
with a ``from_dict(data, where)`` of its own; this module only knows the file, the layering
and where each value came from.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "interlock.yaml"
    >>> _ = path.write_text("services:\\n  auth:\\n    process: {command: run-auth}\\n")
    >>> cfg = load_config(path)
    >>> cfg.where("services", "auth", "process")
    '...interlock.yaml:3 (services.auth.process)'
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from interlock.errors import InterlockError, did_you_mean

SECTIONS = (
    "suite", "services", "stacks", "variables", "secrets", "auth", "brokers", "events",
    "databases", "data", "contracts", "report", "stages",
)


class Located(dict):
    """A mapping that remembers the line of each of its keys (1-based)."""

    lines: dict[str, int]
    line: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}
        self.line = 0


class _Loader(yaml.SafeLoader):
    """A safe loader whose mappings are ``Located``."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise InterlockError(
                "A key in the configuration is not a plain name",
                where=f"line {key_node.start_mark.line + 1}",
            )
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.lines[str(key)] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Read a YAML file whose mappings remember their lines; errors name file, line, column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InterlockError(
            f"Configuration file not found: {path}",
            hint="Create it (see README.md, 'The stack file') or pass "
            "-D interlock.config=<path> to behave.",
        ) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        col = f", column {mark.column + 1}" if mark else ""
        raise InterlockError(
            f"The configuration is not valid YAML: {err.problem}{col}",
            where=f"{path}{line}",
            hint="Check the indentation and quoting on that line (quote values with : or {).",
        ) from None


@dataclass
class SuiteConfig:
    """The effective configuration: the base file with the stage and env overrides applied.

    ``data`` is the merged document; ``where(*keys)`` says which file and line a value came
    from, for error messages.
    """

    path: Path
    data: Located
    stage: str = ""
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The suite's folder: the configuration file's folder's parent (``environment/..``)."""
        return self.path.resolve().parent.parent

    def section(self, name: str) -> Located:
        """A top-level section (an empty one when absent)."""
        value = self.data.get(name)
        if value is None:
            return Located()
        if not isinstance(value, dict):
            raise InterlockError(
                f'"{name}" must be a mapping', where=self.where(name),
                hint=f"Write it as\n{name}:\n  key: value",
            )
        return value if isinstance(value, Located) else Located(value)

    def where(self, *keys: str) -> str:
        """``file:line (a.b.c)`` for the deepest of ``keys`` that has a known line."""
        node: Any = self.data
        line = 0
        for key in keys:
            if isinstance(node, Located) and key in node.lines:
                line = node.lines[key]
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        location = f"{self.path}:{line}" if line else str(self.path)
        return f"{location} ({'.'.join(keys)})" if keys else location

    def setting(self, env_name: str, *keys: str, default: str = "") -> str:
        """A scalar setting: the environment variable wins over the file."""
        if os.environ.get(env_name):
            return os.environ[env_name]
        node: Any = self.data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return str(node)


def load_config(path: Path | str, stage: str | None = None) -> SuiteConfig:
    """Read the configuration file, check its top level, apply the stage.

    The stage is ``stage``, else ``INTERLOCK_STAGE``, else none. A stage's mapping is merged
    key by key over the base (mappings merge, everything else replaces; a key set to null in
    the stage is removed, e.g. a broker or a dependency the stage does without).
    """
    path = Path(path)
    document = read_yaml(path)
    if document is None:
        document = Located()
    if not isinstance(document, Located):
        raise InterlockError(
            "The configuration must be a mapping of sections",
            where=str(path), hint="Start with\nservices:\n  my-service: ...",
        )
    config = SuiteConfig(path=path, data=document)
    for key in document:
        if key not in SECTIONS:
            raise InterlockError(
                f'Unknown section "{key}" in the configuration',
                where=config.where(key), hint=did_you_mean(key, SECTIONS),
            )
    chosen = stage if stage is not None else os.environ.get("INTERLOCK_STAGE", "")
    if chosen:
        stages = config.section("stages")
        if chosen not in stages:
            raise InterlockError(
                f'Unknown stage "{chosen}"',
                where=config.where("stages") if stages else str(path),
                hint=did_you_mean(chosen, list(stages)) + " (set by INTERLOCK_STAGE)",
            )
        config.data = _merge(document, stages[chosen] or Located())
        config.stage = chosen
    return config


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = Located(copy.copy(base))
        merged.lines = dict(getattr(base, "lines", {}))
        merged.line = getattr(base, "line", 0)
        for key, value in over.items():
            if value is None and key in base:  # null in a stage: the base's entry goes
                del merged[key]
                merged.lines.pop(key, None)
                continue
            merged[key] = _merge(base.get(key), value) if key in base else value
            if isinstance(over, Located) and key in over.lines:
                merged.lines[key] = over.lines[key]
        return merged
    return over


def require_mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    """``value`` as a mapping, or an error saying ``what`` must be one."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InterlockError(f"{what} must be a mapping, not {type(value).__name__}", where=where)
    return value


_WHERE = re.compile(r"^(?P<file>.*?)(?::(?P<line>\d+))?(?: \((?P<path>[^)]*)\))?$")


def field_where(where: str, data: Any, key: str) -> str:
    """The ``where`` of field ``key`` inside a mapping whose own ``where`` is given:
    its own line when the mapping remembers it, and the dotted path one deeper.

    Example:
        >>> node = Located({"redy": 1}); node.lines["redy"] = 7
        >>> field_where("interlock.yaml:5 (services.web)", node, "redy")
        'interlock.yaml:7 (services.web.redy)'
    """
    match = _WHERE.match(where)
    if not match or not match.group("file"):
        return where
    line = getattr(data, "lines", {}).get(key) or match.group("line")
    path = f"{match.group('path')}.{key}" if match.group("path") else key
    return f"{match.group('file')}{':' + str(line) if line else ''} ({path})"
