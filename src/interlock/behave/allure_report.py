"""``interlock report``: an HTML report from ``reports/allure-results``, without Java if need be.

Whatever Allure command line is there is used, in this order:

* ``INTERLOCK_ALLURE`` (a command, e.g. ``npx allure``), when set;
* ``allure`` on the PATH: Allure 3 (``npm install -g allure``) or Allure 2 (needs Java);
* ``node_modules/.bin/allure`` under the suite folder (``npm install -D allure``).

With none of them, the error says exactly what to install. Allure 3 gets a configuration made
here (``allurerc.json`` beside the report): grouped by epic, feature and story, Interlock's
failure categories, and history kept in ``reports/history.jsonl`` so trends fill in across
runs. Allure 2 gets its history carried over from the last report's ``history/`` folder.

Example:
    $ interlock report                      # reports/allure-results -> reports/allure-report
    $ interlock report --results out/r --output out/html
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.behave.allure_files import CATEGORIES

INSTALL_HINT = (
    "Install the Allure 3 command line (Node.js, no Java): `npm install -g allure` (or "
    "`npm install -D allure` in the suite folder), or Allure 2 (Java): "
    "`npm install -g allure-commandline`. Or set INTERLOCK_ALLURE to the command to run."
)


@dataclass(frozen=True)
class AllureCli:
    """An Allure command line found on this machine, and its major version (2 or 3)."""

    command: tuple[str, ...]
    major: int


def find_allure(root: Path) -> AllureCli | None:
    """The Allure command line to use, or None when there is none.

    Example:
        >>> find_allure(Path("/nonexistent")) is None or True
        True
    """
    candidates: list[tuple[str, ...]] = []
    configured = os.environ.get("INTERLOCK_ALLURE", "").strip()
    if configured:
        candidates.append(tuple(shlex.split(configured)))
    on_path = shutil.which("allure")
    if on_path:
        candidates.append((on_path,))
    local = root / "node_modules" / ".bin" / "allure"
    if local.exists():
        candidates.append((str(local),))
    for command in candidates:
        major = _major_version(command)
        if major:
            return AllureCli(command, major)
    return None


def _major_version(command: tuple[str, ...]) -> int:
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    text = (done.stdout + done.stderr).strip()
    for word in text.split():
        head = word.lstrip("v").split(".")[0]
        if head.isdigit() and int(head) >= 2:
            return int(head)
    return 0


def allure3_config(output: Path, history: Path, name: str) -> dict[str, Any]:
    """Allure 3's configuration: epic/feature/story tree, our categories, history file.

    Example:
        >>> config = allure3_config(Path("r/html"), Path("r/history.jsonl"), "Suite")
        >>> config["plugins"]["awesome"]["options"]["groupBy"]
        ['epic', 'feature', 'story']
        >>> config["categories"]["rules"][0]["name"]
        'Test defects: the suite is wrong'
    """
    return {
        "name": name,
        "output": str(output),
        "historyPath": str(history),
        # Allure 3 reads Allure 2's category rules (messageRegex, matchedStatuses), but as
        # JavaScript regular expressions that search, where Allure 2's Java ones match whole.
        "categories": {"rules": [_for_javascript(rule) for rule in CATEGORIES]},
        "plugins": {
            "awesome": {
                "options": {"reportName": name, "groupBy": ["epic", "feature", "story"]},
            },
        },
    }


def _for_javascript(rule: dict[str, Any]) -> dict[str, Any]:
    """A category rule with its ``(?s).*X.*`` (Java, whole message) as ``X`` (JS, search).

    Example:
        >>> _for_javascript({"name": "n", "messageRegex": "(?s).*(a|b).*"})["messageRegex"]
        '(a|b)'
    """
    regex = rule.get("messageRegex")
    if not isinstance(regex, str):
        return dict(rule)
    return {**rule, "messageRegex": regex.removeprefix("(?s).*").removesuffix(".*")}


def build_report(results: Path, output: Path, *, root: Path, name: str = "Interlock") -> Path:
    """Build the HTML report of ``results`` into ``output``; the path of its index.html."""
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise InterlockError(
            f"No Allure results in {results}",
            hint="Run behave first (its Allure formatter writes there), or pass --results.",
        )
    allure = find_allure(root)
    if allure is None:
        raise InterlockError("No Allure command line found to build the HTML report",
                             hint=INSTALL_HINT)
    output.parent.mkdir(parents=True, exist_ok=True)
    if allure.major >= 3:
        history = output.parent / "history.jsonl"
        config = output.parent / "allurerc.json"
        config.write_text(json.dumps(allure3_config(output, history, name), indent=2))
        command = [*allure.command, "generate", str(results), "--config", str(config),
                   "--output", str(output)]
    else:
        _carry_history(output, results)
        command = [*allure.command, "generate", str(results), "-o", str(output), "--clean"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    index = output / "index.html"
    if done.returncode != 0 or not index.exists():
        raise InterlockError(
            f"Allure {allure.major} could not build the report (exit {done.returncode})",
            details=(done.stdout + done.stderr).strip()[-2000:],
            where=" ".join(command),
            hint="Check the Allure version (`allure --version`) and the results folder.",
        )
    return index


def _carry_history(output: Path, results: Path) -> None:
    """Allure 2 reads trends from ``<results>/history``: copy the last report's there."""
    previous = output / "history"
    if previous.is_dir():
        shutil.copytree(previous, results / "history", dirs_exist_ok=True)


def report_command(args: argparse.Namespace) -> int:
    """``interlock report``: build the HTML report and say where it is."""
    root = Path.cwd()
    index = build_report(Path(args.results), Path(args.output), root=root, name=args.name)
    print(f"interlock: report written to {index}")
    print(f"interlock: open it with any browser, or serve it: python -m http.server "
          f"--directory {index.parent}")
    return 0


def add_report_parser(commands: Any) -> None:
    """Register ``interlock report`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "report", help="build the HTML report from the Allure results (Allure 3 or 2)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="reports/allure-results",
                        help="the Allure results folder (default: reports/allure-results)")
    parser.add_argument("--output", default="reports/allure-report",
                        help="where the HTML goes (default: reports/allure-report)")
    parser.add_argument("--name", default="Interlock", help="the report's title")
    parser.set_defaults(run=report_command)
