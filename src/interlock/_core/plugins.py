"""One way to find a plug-in by name: a backend, a kind of server, a broker adapter.

A registry maps a name to ``"module:attribute"`` (or a bare module); the module is imported
only when the name is asked for, so a suite that never uses MQTT never imports paho, and a
process-only run never imports the Docker SDK. An unknown name is an error that lists the
known ones, closest first.

Example:
    >>> codecs = Plugins("codec", {"json": "json:dumps", "pickle": "pickle"})
    >>> codecs.load("json")({"a": 1})
    '{"a": 1}'
    >>> sorted(codecs)
    ['json', 'pickle']
    >>> try:
    ...     codecs.load("jsn", where="suite.yaml:3")
    ... except InterlockError as err:
    ...     print(err.title, "|", err.hint)
    Unknown codec "jsn" | did you mean "json"? Known: "json", "pickle"
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from interlock._core.errors import InterlockError, did_you_mean


class Plugins(Mapping[str, str]):
    """Names of plug-ins of one sort, each with where it lives (imported on first use)."""

    def __init__(self, sort: str, entries: Mapping[str, str], hint: str = "",
                 unknown: str = 'Unknown {sort} "{name}"') -> None:
        self.sort = sort
        self._entries = dict(entries)
        self._hint = hint
        self._unknown = unknown  # the error's title

    def __getitem__(self, name: str) -> str:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def check(self, name: str, where: str = "") -> None:
        """An error naming the known ones when ``name`` is not registered."""
        if name not in self._entries:
            hint = did_you_mean(name, list(self._entries))
            raise InterlockError(self._unknown.format(sort=self.sort, name=name), where=where,
                                 hint=hint + (f" {self._hint}" if self._hint else ""))

    def load(self, name: str, where: str = "") -> Any:
        """The plug-in registered as ``name`` (its module, or the attribute named after ``:``)."""
        self.check(name, where)
        module_name, _, attribute = self._entries[name].partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attribute) if attribute else module


def lazy_names(module: str, names: Mapping[str, str]) -> tuple[Any, Any]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) that import each public name
    from its module on first use, so that ``import interlock`` does not load SQLAlchemy, a
    broker client or the Docker SDK before a suite uses them.

    Example:
        >>> __getattr__, __dir__ = lazy_names("pkg", {"dumps": "json"})
        >>> __getattr__("dumps")({"a": 1})
        '{"a": 1}'
    """

    def __getattr__(name: str) -> Any:
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where), name)
        if module in sys.modules:
            sys.modules[module].__dict__[name] = value  # the next lookup is a plain one
        return value

    def __dir__() -> list[str]:
        own = sys.modules[module].__dict__ if module in sys.modules else {}
        return sorted(set(own) | set(names))

    return __getattr__, __dir__
