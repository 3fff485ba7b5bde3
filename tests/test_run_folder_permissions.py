"""A run folder holds the services' logs and data (tokens included): it is readable by the
user who runs the suite only (0700), and so are the logs (0600)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from interlock.suite import Suite

TINY = str(Path(__file__).parent / "stack" / "tiny_service.py")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_folders_are_0700_and_service_logs_0600(tmp_path: Path) -> None:
    config = tmp_path / "environment" / "interlock.yaml"
    config.parent.mkdir()
    config.write_text(f"""
services:
  web:
    process: {{command: ["{sys.executable}", "{TINY}", "--port", "{{port}}"]}}
    ready: {{http: /health, timeout: 10 seconds}}
""")
    suite = Suite.load(config, progress=lambda line: None)
    try:
        stack = suite.stack()
        log = stack.run_dir / "web.log"
        assert log.is_file()
        assert _mode(stack.run_dir.parent) == 0o700  # interlock-<run id>
        assert _mode(stack.run_dir) == 0o700  # the stack's folder in it
        assert _mode(log) == 0o600
    finally:
        suite.close()
