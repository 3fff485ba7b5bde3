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


def test_config_is_found_from_a_folder_inside_the_suite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "interlock.yaml").write_text("variables: {greeting: hello}\n")
    (tmp_path / "features" / "api").mkdir(parents=True)
    monkeypatch.delenv("INTERLOCK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path / "features" / "api")
    assert main(["config"]) == 0
    assert "greeting: hello" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--config", ""], "The setting --config is empty"),
    (["--config", "."], "The configuration path is a folder, not a file"),
    (["--config", "nope.yaml"], "Configuration file not found: nope.yaml"),
])
def test_a_bad_config_path_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*args, "config"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_config_checks_the_whole_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "interlock.yaml"
    config.write_text("databases:\n  main:\n    url: sqlite://\n    cleanup: trackd\n")
    assert main(["--config", str(config), "config"]) == 2
    err = capsys.readouterr().err
    assert 'Unknown cleanup "trackd" for database "main"' in err
    assert f"{config}:4 (databases.main.cleanup)" in err
    assert '"tracked"' in err and '"truncate"' in err and '"template"' in err


def test_config_hides_secrets_written_in_place(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # Not one of these comes from secrets:; each sits under a secret-bearing field (or in a
    # URL's password, or under a field the suite lists as secret).
    (tmp_path / "environment").mkdir()
    config = tmp_path / "environment" / "interlock.yaml"
    config.write_text("""
report: {redact_fields: [pin]}
services:
  api:
    external: http://127.0.0.1:1
    env: {PIN: pin-0a0a0a, HMAC_KEY: hmac-1b1b1b, API_TOKEN: tok-2c2c2c, MODE: fast}
databases:
  shop: {url: "postgresql://app:dbpw-3d3d3d@127.0.0.1:1/shop"}
auth:
  signing: {algorithm: HS256, secret: hs-key-4e4e4e}
  users:
    alice:
      login: {service: api, path: /login, json: {username: alice, password: pw-5f5f5f}}
    robot:
      oauth2: {grant: client_credentials, token_url: "http://127.0.0.1:1/oauth/token",
               client_id: robot, client_secret: cs-6a6a6a}
""")
    assert main(["--config", str(config), "config"]) == 0
    out = capsys.readouterr().out
    for secret in ("pin-0a0a0a", "hmac-1b1b1b", "tok-2c2c2c", "dbpw-3d3d3d", "hs-key-4e4e4e",
                   "pw-5f5f5f", "cs-6a6a6a"):
        assert secret not in out
    assert "MODE: fast" in out  # the rest is shown as it is
    assert "algorithm: HS256" in out
    assert "username: alice" in out
    assert "token_url: http://127.0.0.1:1/oauth/token" in out  # names a secret, is not one
    assert "client_id: robot" in out
    assert "postgresql://app:***@127.0.0.1:1/shop" in out


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
