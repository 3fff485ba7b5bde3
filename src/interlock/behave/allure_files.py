"""The files beside the Allure results that make the report useful at a glance:
``environment.properties`` (backend, stage, services and their addresses), ``executor.json``
(who ran it) and ``categories.json`` (product defect, test defect, infrastructure).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.behave.links import build_url
from interlock.suite import Suite

CATEGORIES = [
    {
        "name": "Test defects: the suite is wrong",
        "messageRegex": "(?s).*Suite error:.*",
        "matchedStatuses": ["failed", "broken"],
    },
    {
        "name": "Infrastructure: a service did not start or died",
        "messageRegex": "(?s).*(was not ready within|exited before it was ready|is it running"
        "|stopped unexpectedly|Cannot start service|Cannot reach).*",
        "matchedStatuses": ["failed", "broken"],
    },
    {"name": "Product defects: the system did not behave", "matchedStatuses": ["failed"]},
    {"name": "Test defects: broken steps or hooks", "matchedStatuses": ["broken"]},
]


def allure_results_dir(context: Any) -> Path | None:
    """Where the Allure formatter of this behave run writes, if one is configured."""
    for formatter in getattr(context._runner, "formatters", []):
        if type(formatter).__name__ == "AllureFormatter":
            name = getattr(formatter.stream_opener, "name", None)
            return Path(name) if name else None
    return None


# What Allure and Interlock write into a results folder, and only that: the folder may be one a
# user chose (-o .), and history/ (Allure's trend, copied in on purpose) stays.
_RESULT_FILE = re.compile(  # (a .tmp one: half written by a run that was killed)
    r"^[0-9a-f-]{36}-(result\.json|container\.json|attachment(\.\w+)?)(\.tmp)?$"
    r"|^(environment\.properties|executor\.json|categories\.json)$"
)


def clear_old_results(folder: Path) -> int:
    """Remove the results of earlier runs from ``folder``, so that a report (and ``interlock
    docs``) counts this run only; how many files went.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "0b7c8a52-44ee-4e1f-9a57-0a3b1c2d3e4f-result.json").write_text("{}")
        >>> _ = (folder / "1b7c8a52-44ee-4e1f-9a57-0a3b1c2d3e4f-attachment.txt.tmp").write_text("")
        >>> _ = (folder / "notes.txt").write_text("mine")
        >>> clear_old_results(folder), sorted(p.name for p in folder.iterdir())
        (2, ['notes.txt'])
    """
    if not folder.is_dir():
        return 0
    old = [path for path in folder.iterdir() if path.is_file() and _RESULT_FILE.match(path.name)]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)


def write_allure_files(folder: Path, suite: Suite) -> None:
    """Write the three files into the results folder (redacted)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"interlock.backend={suite.backend}",
        f"interlock.stage={suite.config.stage or 'none'}",
        f"interlock.run={suite.registry.run_id}",
        f"python={'.'.join(map(str, sys.version_info[:3]))}",
    ]
    for stack in suite.stacks.values():
        for name in stack.running:
            lines.append(f"service.{name}={stack.address(name).url}")
    text = suite.secrets.redact("\n".join(lines) + "\n")
    (folder / "environment.properties").write_text(text)
    executor: dict[str, Any] = {
        "name": "Interlock", "type": "behave", "buildName": suite.registry.run_id,
    }
    build = build_url(os.environ)
    if build:
        executor["buildUrl"] = build
    (folder / "executor.json").write_text(json.dumps(executor, indent=2))
    (folder / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))


def one_allure_formatter(formatters: list[Any]) -> None:
    """Let only the first Allure formatter of a run write, and say why the others do not.

    allure-behave follows one scenario at a time a process: a second Allure formatter wraps
    every scenario again, and the run ends in a ``KeyError`` at the end of the first one.
    behave adds the formats given with ``-f`` to those its configuration names, so a suite
    that configures Interlock's formatter and is run with ``-f allure_behave...`` has two.
    The others are unplugged (they write nothing) and an ``InterlockError`` says which to
    remove; the run stops every scenario with it.
    """
    allure = [f for f in formatters
              if any(base.__module__.startswith("allure_behave") for base in type(f).__mro__)]
    if len(allure) < 2:
        return
    import allure_commons  # (not before: a run without Allure never imports it)

    for extra in allure[1:]:
        for plugin in (getattr(extra, "listener", None), getattr(extra, "file_logger", None)):
            if plugin is not None and allure_commons.plugin_manager.is_registered(plugin):
                allure_commons.plugin_manager.unregister(plugin)
        for event in ("uri", "feature", "step", "match", "result", "eof", "close_stream"):
            setattr(extra, event, lambda *args: None)

    def named(formatter: Any) -> str:
        kind = type(formatter)
        folder = getattr(formatter.stream_opener, "name", None) or "?"
        return f"{kind.__module__}:{kind.__name__} (writing to {folder})"

    raise InterlockError(
        f"{len(allure)} Allure formatters in one run: allure-behave can follow only one",
        details="\n".join(named(f) for f in allure),
        hint="behave adds the formats given with -f to those in its configuration "
             "([tool.behave] format in pyproject.toml, or behave.ini): leave the Allure "
             "formatter out of -f (the configured one already writes Allure results), or "
             "out of the configuration.")
