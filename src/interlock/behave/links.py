"""Where a report links to: each scenario's feature file and line in the repository, and the
CI build that ran it (Allure's executor).

The repository's web address is ``-D interlock.repository_url=…`` or
``INTERLOCK_REPOSITORY_URL`` (the address of the checkout's root, files below it, e.g.
``https://git.example.com/shop/blob/main``); on GitHub Actions and GitLab CI it is known
without either, at the commit that ran. The build's address is ``INTERLOCK_BUILD_URL`` or what
the CI sets (GitHub Actions, GitLab CI, Jenkins, Buildkite).

Example:
    >>> env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
    ...        "GITHUB_SHA": "abc123", "GITHUB_RUN_ID": "42", "GITHUB_WORKSPACE": "/w"}
    >>> repository_url({}, env)
    'https://github.com/acme/shop/blob/abc123'
    >>> source_link("https://github.com/acme/shop/blob/abc123", "/w/features/a.feature", 7, env)
    'https://github.com/acme/shop/blob/abc123/features/a.feature#L7'
    >>> build_url(env)
    'https://github.com/acme/shop/actions/runs/42'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

GLOSSARY_FILE = "GLOSSARY.md"
"""Beside ``features/``: the sentences a suite uses, explained (``interlock glossary``,
``interlock docs``); a report links each scenario to it when it is there."""


def repository_url(userdata: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    """The web address of the repository's root at the commit that ran, if known."""
    given = userdata.get("interlock.repository_url") or environ.get("INTERLOCK_REPOSITORY_URL")
    if given:
        return given.rstrip("/")
    if environ.get("GITHUB_REPOSITORY") and environ.get("GITHUB_SHA"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/blob/{environ['GITHUB_SHA']}"
    if environ.get("CI_PROJECT_URL") and environ.get("CI_COMMIT_SHA"):
        return f"{environ['CI_PROJECT_URL'].rstrip('/')}/-/blob/{environ['CI_COMMIT_SHA']}"
    return None


def source_link(base: str, filename: str, line: int | None, environ: Mapping[str, str]) -> str:
    """The address of ``filename`` (as behave names it) at ``line`` under ``base``.

    The file is taken relative to the checkout's root: the CI's workspace when it says
    where that is, else the folder the run started in.
    """
    root = Path(environ.get("GITHUB_WORKSPACE") or environ.get("CI_PROJECT_DIR") or os.getcwd())
    path = Path(filename)
    absolute = path if path.is_absolute() else Path(os.getcwd()) / path
    try:
        relative = absolute.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    return f"{base}/{relative}" + (f"#L{line}" if line else "")


def build_url(environ: Mapping[str, str]) -> str | None:
    """The web address of the CI build running now, if the CI says it."""
    if environ.get("INTERLOCK_BUILD_URL"):
        return environ["INTERLOCK_BUILD_URL"]
    if environ.get("GITHUB_REPOSITORY") and environ.get("GITHUB_RUN_ID"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
    for name in ("CI_JOB_URL", "BUILD_URL", "BUILDKITE_BUILD_URL"):
        if environ.get(name):
            return environ[name]
    return None
