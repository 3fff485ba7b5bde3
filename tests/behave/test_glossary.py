"""``interlock glossary`` (issue 16 item 4): every sentence the features use, with the domain
step's docstring as its explanation and where it is used, business steps apart from the
library's; ``interlock docs`` writes it too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.behave.suite_builder import SRC, mini_suite


def glossary(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interlock.cli", "glossary", "--suite", str(root), *args],
        cwd=root, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=120, check=False)


def test_the_glossary_explains_each_sentence_and_says_where_it_is_used(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path, "variables: {a: 1}\n")
    suite.write("steps/shop_steps.py", '''
        from behave import given

        @given("a customer orders {quantity:d} {product}")
        def customer_orders(context, quantity, product):
            """A customer buys something in the shop."""

        @given("nobody explained this")
        def unexplained(context):
            pass
    ''')
    suite.write("features/shop.feature", """
        Feature: shop
          Background:
            Given nobody explained this

          Scenario: one
            Given a customer orders 2 drills
            When I send GET "/health" to "web"

          Scenario Outline: many
            Given a customer orders <n> ladders
            Examples:
              | n |
              | 1 |
              | 3 |
    """)
    done = glossary(tmp_path, "--output", "-")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    business, library = text.split("## Library steps")
    assert "### a customer orders <quantity> <product>" in business
    assert "A customer buys something in the shop." in business
    assert "- `Given a customer orders 2 drills` (features/shop.feature:6)" in business
    assert "`Given a customer orders 1 ladders`" in business  # an outline's examples
    assert "`Given a customer orders 3 ladders`" in business
    assert "(No explanation yet: give the step a docstring.)" in business
    assert "### HTTP" in library
    assert '`When I send GET "/health" to "web"` (features/shop.feature:7)' in library
    # A background's step: once per place, not once per scenario.
    assert "- `Given nobody explained this` (features/shop.feature:3)\n" in business

    written = glossary(tmp_path)
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "GLOSSARY.md").read_text() == text
