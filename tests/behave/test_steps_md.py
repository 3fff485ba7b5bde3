"""Every sentence of STEPS.md (the product's public contract) is a defined step.

The sentences are taken from the document itself, code block by code block, and run with
``behave --dry-run``: an undefined or ambiguous sentence fails this test.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.behave.suite_builder import mini_suite

ROOT = Path(__file__).resolve().parents[2]
STEPS_MD = ROOT / "docs" / "STEPS.md"
SHARED = ROOT.parent / "shared" / "STEPS.md"
KEYWORDS = ("Given ", "When ", "Then ", "And ", "But ")


def gherkin_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```gherkin\n(.*?)```", text, re.S)]


def as_feature(blocks: list[list[str]]) -> str:
    lines = ["Feature: every sentence of STEPS.md"]
    for number, block in enumerate(blocks, 1):
        lines.append(f"  Scenario: block {number}")
        for line in block:
            if line.strip():
                lines.append("    " + line)
    return "\n".join(lines) + "\n"


def test_the_document_is_the_shared_contract() -> None:
    # The repository carries a copy for its readers; it must not drift from the contract.
    if SHARED.exists():
        assert STEPS_MD.read_text() == SHARED.read_text()
    assert len(gherkin_blocks(STEPS_MD.read_text())) >= 7


def test_every_sentence_is_defined(tmp_path: Path) -> None:
    blocks = gherkin_blocks(STEPS_MD.read_text())
    sentences = [line for block in blocks for line in block if line.lstrip().startswith(KEYWORDS)]
    assert len(sentences) > 55
    suite = mini_suite(tmp_path, "variables: {}\n")
    suite.write("features/steps_md.feature", as_feature(blocks))
    result = suite.run("--dry-run", "--no-summary", "-f", "plain")
    output = result.stdout + result.stderr
    assert "undefined" not in output.lower(), output[-3000:]
    assert "ambiguous" not in output.lower(), output[-3000:]
    assert result.returncode == 0, output[-3000:]
