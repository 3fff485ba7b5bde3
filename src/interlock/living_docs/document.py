"""``write_integration_doc``: the suite's configuration and last results in, the file out;
``docs_command``: the same for ``interlock docs``.

Example:
    >>> summary = write_integration_doc(Path("environment/interlock.yaml"),
    ...     Path("reports/allure-results"), Path("INTEGRATION-TEST.md"))  # doctest: +SKIP
    >>> summary.gaps[:1]  # doctest: +SKIP
    ['`orders` POST /orders/{id}/cancel: no scenario calls it']
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock._core.config import load_config, suite_root
from interlock._core.secrets import Secrets
from interlock.living_docs.coverage import coverage
from interlock.living_docs.markdown import render
from interlock.living_docs.points import relative, system_map
from interlock.living_docs.results import read_results

DEFAULT_RESULTS = "reports/allure-results"
DEFAULT_OUT = "INTEGRATION-TEST.md"


@dataclass(frozen=True)
class Summary:
    """What the generated file says, in numbers, and its gaps."""

    out: Path
    scenarios: int
    operations: int
    operations_covered: int
    channels: int
    channels_covered: int
    databases: int
    databases_covered: int
    gaps: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.out}: {self.scenarios} scenarios; operations {self.operations_covered}/"
            f"{self.operations}, channels {self.channels_covered}/{self.channels}, databases "
            f"{self.databases_covered}/{self.databases}; {len(self.gaps)} gaps"
        )


def write_integration_doc(config_path: Path, results_dir: Path, out: Path) -> Summary:
    """Regenerate ``out`` from the configuration at ``config_path`` and the Allure results in
    ``results_dir``; the file is only rewritten when its text changes."""
    config = load_config(config_path)
    system = system_map(config)
    results = read_results(results_dir)
    cov = coverage(system, results)
    root = config.root
    shown_results = relative(results_dir, root)
    command = "interlock docs"
    if shown_results != DEFAULT_RESULTS:
        command += f" --results {shown_results}"
    if relative(out, root) != DEFAULT_OUT:
        command += f" --out {relative(out, root)}"
    text = render(system, cov, results, command=command, results_shown=shown_results)
    # The last gate before a file people read and commit: configured secrets and redacted
    # header/field names, as everywhere else.
    text = _secrets(config.section("report"), config.section("secrets")).redact(text)
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    configured = [ch for ch in cov.channels if ch.configured]
    return Summary(
        out=out,
        scenarios=len(cov.scenarios),
        operations=len(cov.operations),
        operations_covered=sum(1 for op in cov.operations if op.scenarios),
        channels=len(configured),
        channels_covered=sum(1 for ch in configured if ch.received or ch.published),
        databases=len(cov.configured_databases),
        databases_covered=len(cov.configured_databases & set(cov.databases)),
        gaps=tuple(cov.gaps()),
    )


def _secrets(report: Any, secrets: Any) -> Secrets:
    hidden = Secrets(
        headers=[str(h) for h in report.get("redact_headers", [])],
        fields=[str(f) for f in report.get("redact_fields", [])],
    )
    for value in secrets.values():
        if isinstance(value, str) and "{" not in value:
            hidden.add(value)  # a literal in the file; templates ({env.X}) never reach the doc
    return hidden


def add_docs_parser(commands: Any) -> None:
    """Add ``docs`` to the ``interlock`` command's subparsers."""
    docs = commands.add_parser(
        "docs", help="regenerate INTEGRATION-TEST.md from the configuration and last results")
    docs.add_argument("--results", help=f"the Allure results folder ({DEFAULT_RESULTS} "
                      "under the suite's folder)")
    docs.add_argument("--out", help=f"the file to write ({DEFAULT_OUT} under the suite's folder)")
    docs.set_defaults(run=docs_command)


def docs_command(args: argparse.Namespace) -> int:
    """``interlock docs [--results DIR] [--out FILE]``: regenerate the file, print a summary.

    The configuration is ``--config``, else ``INTERLOCK_CONFIG``, else
    ``environment/interlock.yaml``; the defaults of ``--results`` and ``--out`` are under the
    suite's folder (the configuration's folder's parent).
    """
    config_path = Path(getattr(args, "config", None) or os.environ.get(
        "INTERLOCK_CONFIG", "environment/interlock.yaml"))
    root = suite_root(config_path)
    results = Path(args.results) if getattr(args, "results", None) else root / DEFAULT_RESULTS
    out = Path(args.out) if getattr(args, "out", None) else root / DEFAULT_OUT
    summary = write_integration_doc(config_path, results, out)
    print(f"interlock: wrote {summary}")
    for gap in summary.gaps:
        print(f"  gap: {gap}")
    return 0
