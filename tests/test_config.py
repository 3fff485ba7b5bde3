"""The stack file: every bad field is named with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from interlock.errors import InterlockError
from interlock.suite import Suite


def write_config(suite_dir: Path, text: str) -> Path:
    path = suite_dir / "environment" / "interlock.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(suite_dir: Path, text: str) -> Suite:
    suite = Suite.load(write_config(suite_dir, text), progress=lambda line: None)
    suite.close()
    return suite


@pytest.mark.parametrize(("text", "message", "line"), [
    ("servics:\n  a: {}\n", 'Unknown section "servics"', 1),
    ("services:\n  auth:\n    proces: {command: x}\n", 'Unknown field "proces"', 3),
    ("services:\n  auth:\n    kind: postgress\n", 'Unknown kind "postgress"', 3),
    ("services:\n  auth:\n    env: {A: 1}\n", 'Service "auth" has no way to run', 2),
    ("services:\n  auth:\n    process: {cwd: x}\n", "process needs a command", 3),
    ("services:\n  auth:\n    kind: nats\n    ready: {log: '('}\n", "not a valid regex", 4),
    ("services:\n  a: {kind: nats}\nstacks:\n  small: [b]\n", 'names unknown service "b"', 4),
    ("services:\n  a:\n    kind: nats\n  b: [\n", "not valid YAML", 5),
])
def test_bad_field_is_named_with_its_line(suite_dir: Path, text: str, message: str,
                                          line: int) -> None:
    with pytest.raises(InterlockError) as caught:
        load(suite_dir, text)
    rendered = str(caught.value)
    assert message in rendered
    assert f"interlock.yaml:{line}" in rendered


def test_did_you_mean_for_a_misspelt_field(suite_dir: Path) -> None:
    with pytest.raises(InterlockError, match='did you mean "depends_on"'):
        load(suite_dir, "services:\n  a:\n    kind: nats\n    depend_on: [b]\n")


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(InterlockError, match="Configuration file not found"):
        Suite.load(tmp_path / "environment" / "interlock.yaml")


def test_stage_overrides_and_env_backend(suite_dir: Path, monkeypatch) -> None:
    path = write_config(suite_dir, """
        suite: {backend: process}
        services:
          api: {external: "http://127.0.0.1:1"}
        stages:
          staging:
            services:
              api: {external: "http://127.0.0.1:2"}
    """)
    monkeypatch.setenv("INTERLOCK_STAGE", "staging")
    monkeypatch.setenv("INTERLOCK_BACKEND", "external")
    suite = Suite.load(path, progress=lambda line: None)
    try:
        assert suite.backend == "external"
        assert suite.services["api"].external is not None
        assert suite.services["api"].external.url == "http://127.0.0.1:2"
    finally:
        suite.close()
    monkeypatch.setenv("INTERLOCK_STAGE", "prod")
    with pytest.raises(InterlockError, match=r'(?s)Unknown stage "prod".*staging'):
        Suite.load(path)


def test_a_stage_removes_what_it_sets_to_null(suite_dir: Path, monkeypatch) -> None:
    path = write_config(suite_dir, """
        services:
          nats: {kind: nats}
          bus: {kind: kafka}
        brokers:
          nats: {type: nats, url: "{nats.url}", streams: [ORDERS]}
        stages:
          kafka:
            brokers:
              nats: null
              bus: {type: kafka, url: "{bus.url}"}
    """)
    monkeypatch.setenv("INTERLOCK_STAGE", "kafka")
    suite = Suite.load(path, progress=lambda line: None)
    try:
        assert list(suite.section("brokers")) == ["bus"]
    finally:
        suite.close()
