"""Builds a small behave suite in a temp folder and runs plain ``behave`` on it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

TINY = str(Path(__file__).resolve().parent.parent / "stack" / "tiny_service.py")
SRC = str(Path(__file__).resolve().parents[2] / "src")


@dataclass
class MiniSuite:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "behave", "--no-capture", "-f", "plain",
                "-f", "interlock.behave.allure_formatter:AllureFormatter", "-o", "-",
                "-o", str(self.results), *args]

    @property
    def results(self) -> Path:
        return self.root / "reports" / "allure-results"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": SRC + os.pathsep + str(self.root)}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), cwd=self.root, env=self.env(),
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), cwd=self.root, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def mini_suite(root: Path, services_yaml: str) -> MiniSuite:
    """A suite with Interlock's hooks and steps, and the given services section."""
    suite = MiniSuite(root)
    suite.write("environment.py", "from interlock.behave.hooks import *  # noqa\n")
    suite.write("steps/interlock_steps.py", "from interlock.behave.steps import *  # noqa\n")
    suite.write("environment/interlock.yaml",
                services_yaml.replace("{tiny}", f"{sys.executable} {TINY}"))
    return suite
