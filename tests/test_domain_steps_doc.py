"""docs/DOMAIN-STEPS.md works as written: its feature runs on its step module (every Python
block but the last, in order) against the demo system, and its last block, the plain API
without behave, runs as a script (issue 11, item 4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "DOMAIN-STEPS.md"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


def blocks(language: str) -> list[str]:
    """The doc's fenced blocks of one language, in order."""
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_doc_has_a_feature_a_step_module_and_a_script() -> None:
    assert len(blocks("gherkin")) == 1
    python = blocks("python")
    assert len(python) >= 3
    steps = "\n".join(python[:-1])
    for sentence in re.findall(r"^    (?:Given|Then|And|When) (.+)$", blocks("gherkin")[0],
                               flags=re.MULTILINE):
        pattern = re.sub(r"\d+", "{quantity:d}", sentence, count=1)
        assert sentence in steps or pattern.split(" {")[0] in steps, sentence


def test_the_docs_feature_passes_on_its_domain_steps(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    (tmp_path / "features").mkdir()
    (tmp_path / "environment.py").write_text("from interlock.behave.hooks import *  # noqa\n")
    (tmp_path / "steps" / "interlock_steps.py").write_text(
        (ROOT / "steps" / "interlock_steps.py").read_text())
    (tmp_path / "steps" / "queue_steps.py").write_text("\n\n".join(blocks("python")[:-1]))
    (tmp_path / "features" / "queue.feature").write_text(blocks("gherkin")[0])
    run = subprocess.run(
        [sys.executable, "-m", "behave", "--no-capture", "-f", "plain", "-D",
         f"interlock.config={ROOT / 'environment' / 'interlock.yaml'}"],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "1 scenario passed, 0 failed" in output, output[-4000:]
    assert "4 steps passed, 0 failed" in output, output[-4000:]


def test_the_docs_script_runs_without_behave() -> None:
    script = blocks("python")[-1] + (
        "\nimport sys\nprint('behave imported:', any(m == 'behave' or m.startswith('behave.')"
        " for m in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "behave imported: False" in run.stdout
