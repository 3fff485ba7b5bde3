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
