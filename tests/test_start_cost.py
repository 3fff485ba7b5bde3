"""What a run's start costs: the stack file is parsed once and then read back from the
suite's cache while it is unchanged, and a suite that uses no database, broker, container or
contract imports none of their libraries (nor PyYAML, nor psutil), nor Interlock's own modules
for them (nor those for compose files, delay proxies, readiness probes or a stack shared by
other runs), to start (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interlock._core.config import load_config, read_yaml
from interlock._core.errors import InterlockError

ROOT = Path(__file__).resolve().parent.parent


def _stack_file(root: Path, text: str) -> Path:
    path = root / "environment" / "interlock.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_an_unchanged_stack_file_is_read_from_the_cache_and_a_changed_one_again(
        tmp_path: Path) -> None:
    path = _stack_file(tmp_path, "services:\n  web: {external: 'http://127.0.0.1:1'}\n")
    first = load_config(path)
    cached = list((tmp_path / ".interlock" / "cache").glob("yaml-*.json"))
    assert len(cached) == 1
    again = load_config(path)
    assert again.data == first.data and again.where("services", "web") == first.where(
        "services", "web")
    assert again.data["services"].lines == {"web": 2}  # the lines survive the cache
    path.write_text("services:\n\n  api: {external: 'http://127.0.0.1:2'}\n")
    changed = load_config(path)
    assert list(changed.data["services"]) == ["api"]
    assert changed.where("services", "api").endswith("interlock.yaml:3 (services.api)")


def test_a_damaged_cache_file_is_parsed_again_and_an_error_is_never_cached(
        tmp_path: Path) -> None:
    path = _stack_file(tmp_path, "services:\n  web: {external: 'http://127.0.0.1:1'}\n")
    load_config(path)
    (kept,) = (tmp_path / ".interlock" / "cache").glob("yaml-*.json")
    kept.write_text('{"text": "services: {}", "document": ["M"')  # cut short
    assert list(load_config(path).data["services"]) == ["web"]
    twice = tmp_path / "twice.yaml"
    twice.write_text("a: 1\na: 2\n")
    for _ in range(2):  # the second read parses again, and refuses again
        with pytest.raises(InterlockError, match='Duplicate key "a"'):
            read_yaml(twice, cache=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*"))


START = """
import sys
import behave.__main__
import interlock.behave.hooks, interlock.behave.steps
from interlock.suite import Suite
suite = Suite.load("environment/interlock.yaml", progress=lambda line: None)
suite.stack()
suite.close()
heavy = ("yaml", "psutil", "sqlalchemy", "docker", "jsonschema", "openapi_core",
         "allure_commons", "nats", "pika", "redis", "paho", "kafka", "aiokafka")
print("loaded:", sorted(name for name in heavy if name in sys.modules))
own = ("interlock.auth", "interlock.contracts", "interlock.db", "interlock.events",
       "interlock.stack.compose", "interlock.stack.reuse", "interlock.stack.turns",
       "interlock.stack.proxy", "interlock.stack.remote_delay", "interlock.stack.ready")
print("own:", sorted(name for name in own if name in sys.modules))
"""


def test_a_plain_http_suite_starts_without_the_heavy_libraries(tmp_path: Path) -> None:
    _stack_file(tmp_path, "services:\n  web: {external: 'http://127.0.0.1:1'}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    runs = [subprocess.run([sys.executable, "-c", START], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
    assert "loaded: ['yaml']" in runs[0].stdout  # the first start parses the stack file
    assert "loaded: []" in runs[1].stdout, runs[1].stdout  # the next reads it back
    # nor Interlock's own modules for the sections the stack file does not have
    assert "own: []" in runs[1].stdout, runs[1].stdout


def test_the_cache_keeps_the_newest_parsed_texts_only(tmp_path: Path) -> None:
    from interlock._core import config

    cache = tmp_path / "cache"
    path = tmp_path / "s.yaml"
    for n in range(config._CACHE_KEPT + 5):
        path.write_text(f"services: {{web{n}: {{external: 'http://127.0.0.1:1'}}}}\n")
        assert list(read_yaml(path, cache=cache)["services"]) == [f"web{n}"]
    assert len(list(cache.glob("yaml-*.json"))) == config._CACHE_KEPT
    assert not list(cache.glob("*.tmp"))


def test_the_cache_is_this_users_and_a_document_json_cannot_hold_is_parsed_each_time(
        tmp_path: Path) -> None:
    import stat

    path = _stack_file(tmp_path, "services:\n  web: {external: 'http://127.0.0.1:1'}\n")
    load_config(path)
    (kept,) = (tmp_path / ".interlock" / "cache").glob("yaml-*.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    dated = tmp_path / "dated.yaml"
    dated.write_text("when: 2026-12-06\nlist: [1, {a: 2}]\n")
    for _ in range(2):
        document = read_yaml(dated, cache=tmp_path / "other")
        assert str(document["when"]) == "2026-12-06" and document["list"][1].lines == {"a": 2}
    assert not list((tmp_path / "other").glob("yaml-*"))


def test_a_tab_is_named_in_the_error(tmp_path: Path) -> None:
    """libyaml's message for a tab does not show it (PyYAML's own parser did): said here."""
    path = _stack_file(tmp_path, "services:\n\tweb: {external: 'http://127.0.0.1:1'}\n")
    with pytest.raises(InterlockError, match="a tab: YAML indents with spaces only") as err:
        load_config(path)
    assert "interlock.yaml:2" in str(err.value)


def test_the_allure_formatter_loads_no_yaml_glossary_or_html() -> None:
    """A run that writes Allure results (the default of a suite `interlock init` makes) pays
    for what it writes, not for the glossary's YAML or html's table of entities (35 ms)."""
    code = ("import sys, interlock.behave.allure_formatter, interlock._core.diagram\n"
            "print(sorted(m for m in ('yaml', 'html', 'interlock.behave.glossary',"
            " 'interlock.behave.catalogue') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]", done.stdout
