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
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import block

SECTIONS = block("").names  # the definition of every field: interlock/stackfile/fields.py


class Located(dict):
    """A mapping that remembers the line of each of its keys (1-based)."""

    lines: dict[str, int]
    line: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}
        self.line = 0


def suite_root(stack_file: Path) -> Path:
    """The suite's folder: the stack file's folder's parent (``environment/..``).

    Example:
        >>> suite_root(Path("/work/shop/environment/interlock.yaml")).as_posix()
        '/work/shop'
    """
    return stack_file.resolve().parent.parent


def cache_folder(root: Path) -> Path:
    """Where a suite keeps what is slow to work out again (the parsed stack file, checked
    documents): ``.interlock/cache``, beside its run registry."""
    return root / ".interlock" / "cache"


def read_yaml(path: Path, cache: Path | None = None) -> Any:
    """Read a YAML file whose mappings remember their lines; errors name file, line, column.

    With ``cache`` (a folder, the suite's ``.interlock/cache``), what a text parsed to is kept
    there under the text's hash (as JSON, readable by this user only), and read back while the
    file is unchanged: a run then never imports PyYAML for its stack file (about 14 ms of
    every start).

    Example:
        >>> import tempfile
        >>> twice = Path(tempfile.mkdtemp()) / "twice.yaml"
        >>> _ = twice.write_text("services:\\n  a: 1\\n  a: 2\\n")
        >>> read_yaml(twice)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Duplicate key "a" in the configuration
    """
    text = _read_text(path)
    kept = _cache_file(cache, text)
    if kept is not None:
        try:
            return _decoded(json.loads(kept.read_text(encoding="utf-8"))["document"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):  # parsed again
            pass
    from interlock._core.yaml_located import parse

    document = parse(text, path)
    if kept is not None:
        try:
            encoded = json.dumps({"document": _encoded(document)})
        except (TypeError, ValueError):  # a date, a set, bytes: not kept, parsed each time
            return document
        _keep(kept, encoded)
    return document


_CACHE_FORMAT = "3"  # changes when what a cache file holds changes (Located's attributes)
_CACHE_KEPT = 32  # parsed texts kept (older ones go when a new one is written)


def _encoded(value: Any) -> Any:
    """A parsed document as JSON: a mapping is ``["M", line, [[key, line, value]...]]``, a
    list ``["L", [...]]``; text, numbers, booleans and null as they are."""
    if isinstance(value, dict):
        lines = getattr(value, "lines", {})
        return ["M", getattr(value, "line", 0),
                [[key, lines.get(key, 0), _encoded(item)] for key, item in value.items()]]
    if isinstance(value, list):
        return ["L", [_encoded(item) for item in value]]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not kept: {type(value).__name__}")


def _decoded(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    if value[0] == "L":
        return [_decoded(item) for item in value[1]]
    mapping = Located()
    mapping.line = int(value[1])
    for key, line, item in value[2]:
        mapping[key] = _decoded(item)
        if line:
            mapping.lines[key] = int(line)
    return mapping


def _cache_file(cache: Path | None, text: str) -> Path | None:
    if cache is None:
        return None
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\n{text}".encode()).hexdigest()[:32]
    return cache / f"yaml-{digest}.json"


def _keep(path: Path, data: str) -> None:
    """Write a cache file whole or not at all (parallel runs may write the same one), readable
    by this user only (a stack file may hold a password); the oldest go beyond
    ``_CACHE_KEPT``, with any a killed run half wrote."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                       encoding="utf-8") as out:
            out.write(data)
        fresh.replace(path)
        kept = sorted(path.parent.glob("yaml-*.json"), key=lambda p: p.stat().st_mtime)
        stale = [tmp for tmp in path.parent.glob("yaml-*.tmp")  # not another run's, now
                 if time.time() - tmp.stat().st_mtime > 600]
        for old in kept[:-_CACHE_KEPT] + stale:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only checkout: parsed each time


def _read_text(path: Path) -> str:
    """The file's text, or an error that says what is wrong with the path."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InterlockError(
            f"Configuration file not found: {path}",
            hint="Create it (see README.md, 'The stack file') or pass "
            "-D interlock.config=<path> to behave.",
        ) from None
    except IsADirectoryError:
        raise InterlockError(
            f"The configuration path is a folder, not a file: {path}",
            hint=f"Name the file itself, e.g. {Path(path) / 'interlock.yaml'}",
        ) from None
    except OSError as err:
        raise InterlockError(
            f"Cannot read the configuration file: {err.strerror}", where=str(path),
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InterlockError(
            f"The configuration file is not UTF-8 text (byte {raw[err.start]:#04x})",
            where=f"{path}:{line}",
            hint="Save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).",
        ) from None


DEFAULT_PATH = "environment/interlock.yaml"


def find_config(given: str | None, suite_dir: Path, *, setting: str = "interlock.config") -> Path:
    """The stack file to read: ``given`` (a setting such as ``-D interlock.config=``) or, when
    nothing is given, ``environment/interlock.yaml`` in the suite's folder (where behave found
    ``environment.py`` and ``steps/``) or the nearest folder above it, so a run from any
    working folder finds the same file.

    A relative ``given`` is looked for in the working folder, then in the suite's folder. An
    empty setting, a folder or a missing file is an error that names every place looked at.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp()); (root / "environment").mkdir()
        >>> _ = (root / "environment" / "interlock.yaml").write_text("services: {}\\n")
        >>> find_config(None, root) == root / "environment" / "interlock.yaml"
        True
        >>> find_config("", root)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: The setting interlock.config is empty
    """
    if given is not None and not given.strip():
        raise InterlockError(
            f"The setting {setting} is empty",
            hint=f"Name the stack file (-D {setting}=environment/interlock.yaml), or leave the "
            f"setting out to use {suite_dir / DEFAULT_PATH}.",
        )
    wanted = Path(given.strip()) if given is not None else Path(DEFAULT_PATH)
    if wanted.is_absolute():
        candidates = [wanted]
    elif given is None:
        # The suite's folder first; then the folders above it, for a suite whose steps/ and
        # environment.py live in features/ beside a top-level environment/ folder.
        candidates = [folder / wanted for folder in (suite_dir, *suite_dir.parents)]
    else:
        candidates = list(dict.fromkeys([Path.cwd() / wanted, suite_dir / wanted]))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    folders = [c for c in candidates if c.is_dir()]
    if folders:
        raise InterlockError(
            f"The configuration path is a folder, not a file: {folders[0]}",
            hint=f"Name the file itself, e.g. {folders[0] / 'interlock.yaml'}",
        )
    looked = "\n".join(f"- {c}" for c in candidates[:2])
    if len(candidates) > 2:
        looked += f"\n- and {wanted} in every folder above those"
    raise InterlockError(
        f"Configuration file not found: {wanted}",
        details=f"looked at:\n{looked}",
        hint="Create it (see README.md, 'The stack file') or pass "
        f"-D {setting}=<path> to behave.",
    )


@dataclass(eq=False)
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
        return suite_root(self.path)

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
    document = read_yaml(path, cache=cache_folder(suite_root(path)))
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
    # Every stage's sections are checked, not only the chosen one's: a misspelt section in
    # the ci stage must not wait for the CI run to be noticed.
    for name, over in config.section("stages").items():
        if over is None:
            continue
        if not isinstance(over, Located):
            raise InterlockError(f'Stage "{name}" must be a mapping of sections',
                                 where=config.where("stages", name))
        for key in over:
            if key not in SECTIONS or key == "stages":
                raise InterlockError(
                    f'Unknown section "{key}" in stage "{name}"',
                    where=f"{path}:{over.lines[key]} (stages.{name}.{key})",
                    hint=did_you_mean(key, [s for s in SECTIONS if s != "stages"]),
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


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str, what: str) -> None:
    """Refuse a key of ``data`` that is not ``allowed``, at its own line, with the close ones.

    Example:
        >>> check_keys({"url": 1, "timout": 2}, ("url", "timeout"), "x.yaml:3 (db)", "db")
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: Unknown field "timout" in db
          where: x.yaml:3 (db.timout)
          hint:  did you mean "timeout"? Known: "timeout", "url"
    """
    for key in data:
        if key not in allowed:
            raise InterlockError(
                f'Unknown field "{key}" in {what}', where=field_where(where, data, str(key)),
                hint=did_you_mean(str(key), allowed),
            )


def key_where(where: str, data: Any, key: str) -> str:
    """``field_where`` when ``data`` was read from the stack file and remembers ``key``'s
    line; otherwise ``where.key`` (a block built in code, or rendered, names no line).

    Example:
        >>> key_where("brokers.nats", {"url": 1}, "url")
        'brokers.nats.url'
    """
    if key in getattr(data, "lines", {}):
        return field_where(where, data, key)
    return f"{where}.{key}"


_WORDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"), (int, "a whole number"), (float, "a number"), (str, "text"),
    (list, "a list"), (Mapping, "a mapping"),
)
_YES = ("yes", "true", "on", "y")
_NO = ("no", "false", "off", "n")


def typed(
    data: Mapping[str, Any],
    key: str,
    where: str,
    kind: type | tuple[type, ...],
    default: Any = None,
    *,
    items: type | None = None,
    wanted: str = "",
) -> Any:
    """Field ``key`` of ``data`` when its value has the type ``kind`` (``default`` when it is
    absent or empty); otherwise an ``InterlockError`` naming the field's line and what it takes.

    ``True`` is never taken for a number, nor ``"no"`` for a boolean (YAML reads a quoted
    ``"no"`` as text, which Python would take as true). ``items`` checks a list's items.

    Example:
        >>> node = Located({"check_contract": "no"}); node.lines["check_contract"] = 9
        >>> typed(node, "check_contract", "x.yaml:8 (services.orders)", bool, False)
        Traceback (most recent call last):
        interlock._core.errors.InterlockError: "check_contract" must be true or false, not ...
          where: x.yaml:9 (services.orders.check_contract)
          hint:  Write check_contract: false (without quotes).
        >>> typed(node, "depends_on", "x.yaml:8", list, [], items=str)
        []
    """
    value = data.get(key)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    wanted = wanted or " or ".join(_word(k) for k in kinds)
    at = field_where(where, data, key)
    if not _is(value, kinds):
        hint = ""
        if bool in kinds and isinstance(value, str) and value.strip().lower() in _YES + _NO:
            plain = "true" if value.strip().lower() in _YES else "false"
            hint = f"Write {key}: {plain} (without quotes)."
        raise InterlockError(f'"{key}" must be {wanted}, not {_described(value)}', where=at,
                             hint=hint)
    if items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            if not _is(item, (items,)):
                raise InterlockError(
                    f'"{key}" must be a list of {_word(items)}, but item {index + 1} is '
                    f"{_described(item)}", where=at,
                )
    return value


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in kinds:
        return False
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def _word(kind: type) -> str:
    return next((word for k, word in _WORDS if k is kind), kind.__name__)


def _described(value: Any) -> str:
    """A value as a user reads it in the YAML: ``the text "no"``, ``the number 5``, ``a list``."""
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
