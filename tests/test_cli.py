"""The ``interlock`` command: the effective configuration, secrets hidden; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlock.cli import main


def test_config_prints_the_effective_configuration_without_secrets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "environment").mkdir()
    config = tmp_path / "environment" / "interlock.yaml"
    config.write_text(
        "secrets: {token: '{env.SECRET_TOKEN}'}\n"
        "services:\n  api:\n    external: http://127.0.0.1:1\n"
        "    env: {TOKEN: '{secrets.token}', RAW: 'tok-abcdef-123'}\n"
        "stages:\n  ci:\n    services: {api: {external: http://127.0.0.1:2}}\n"
    )
    monkeypatch.setenv("SECRET_TOKEN", "tok-abcdef-123")
    monkeypatch.setenv("INTERLOCK_STAGE", "ci")
    assert main(["--config", str(config), "config"]) == 0
    out = capsys.readouterr().out
    assert "# stage: ci" in out
    assert "http://127.0.0.1:2" in out
    assert "tok-abcdef-123" not in out
    assert "token: '***'" in out or "token: ***" in out


def test_a_mistake_is_one_clear_line_and_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml"), "config"]) == 2
    err = capsys.readouterr().err
    assert "Configuration file not found" in err
    assert "Traceback" not in err


def test_config_states_the_embedded_kafka_brokers_limits(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "interlock.yaml"
    config.write_text("services:\n  bus: {kind: kafka}\n  cache: {kind: redis}\n")
    monkeypatch.delenv("INTERLOCK_BACKEND", raising=False)
    assert main(["--config", str(config), "config"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# bus")]
    assert len(notes) == 1
    assert all(word in notes[0] for word in ("memory-only", "transactions", "session.timeout.ms"))
    monkeypatch.setenv("INTERLOCK_BACKEND", "docker")
    assert main(["--config", str(config), "config"]) == 0
    assert "memory-only" not in capsys.readouterr().out  # apache/kafka has none of these limits
