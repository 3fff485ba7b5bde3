"""Secrets written in place in the stack file (not under ``secrets:``) are hidden from the start
of a run, like configured ones; settings that only look alike are not."""

from __future__ import annotations

from pathlib import Path

from interlock.suite import Suite


def test_values_under_secret_fields_are_hidden_from_the_start(tmp_path: Path) -> None:
    config = tmp_path / "environment" / "interlock.yaml"
    config.parent.mkdir()
    config.write_text("""
variables: {max_tokens: 1000, token_path: "$.data.token"}
services:
  api:
    external: http://127.0.0.1:1
    env: {SIGNING_KEY: sk-7a7a7a7a, PASSWORD: "{env.HOME}"}
auth:
  signing: {algorithm: HS256, secret: hs-8b8b8b8b}
""")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        shown = suite.secrets.redact("sk-7a7a7a7a hs-8b8b8b8b 1000 $.data.token")
    finally:
        suite.close()
    assert shown == "*** *** 1000 $.data.token"
