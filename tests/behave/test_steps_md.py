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


PENDING: dict[str, str] = {}
"""Parts of the 1.1 contract that later issues build, by name; nothing else may be pending."""


def gherkin_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```gherkin\n(.*?)```", text, re.S)]


def named_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Each gherkin block with its name: the section, and for a block introduced by a
    paragraph of its own, that paragraph's first words ("Events / Keys and headers")."""
    named: list[tuple[str, list[str]]] = []
    section = ""
    for match in re.finditer(r"^## ([^\n]+)$|```gherkin\n(.*?)```", text, re.S | re.M):
        if match.group(1):
            section = match.group(1).strip()
            continue
        before = text[: match.start()].rstrip().split("\n\n")[-1]
        name = section
        if before.startswith("Keys and headers"):
            name = f"{section} / Keys and headers"
        named.append((name, match.group(2).splitlines()))
    return named


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


def _sentences(blocks: list[list[str]]) -> list[str]:
    return [line for block in blocks for line in block if line.lstrip().startswith(KEYWORDS)]


def _dry_run(tmp_path: Path, blocks: list[list[str]]) -> str:
    suite = mini_suite(tmp_path, "variables: {}\n")
    suite.write("features/steps_md.feature", as_feature(blocks))
    result = suite.run("--dry-run", "--no-summary", "-f", "plain")
    return result.stdout + result.stderr


def test_every_sentence_is_defined(tmp_path: Path) -> None:
    named = named_blocks(STEPS_MD.read_text())
    blocks = [block for name, block in named if name not in PENDING]
    assert len(_sentences(blocks)) > 55
    output = _dry_run(tmp_path, blocks)
    assert "undefined" not in output.lower(), output[-3000:]
    assert "ambiguous" not in output.lower(), output[-3000:]


def test_only_the_named_parts_are_pending(tmp_path: Path) -> None:
    # Each pending part exists in the document and is still undefined: when an issue builds
    # it, this fails until the part is taken off PENDING (and so tested above).
    named = named_blocks(STEPS_MD.read_text())
    for part in PENDING:
        blocks = [block for name, block in named if name == part]
        assert blocks, f"{part} is not in STEPS.md"
        output = _dry_run(tmp_path / part.replace(" / ", "-").replace(" ", "_"), blocks)
        assert "undefined" in output.lower(), f"{part} is defined now: take it off PENDING"
