"""The service backends, one file (or package) each, and the registry that names them:
adding one is adding a file here and a line below.

Each entry is a class that follows ``base.Backend``; it is imported only when a stack needs
it (a process-only run never imports the Docker SDK). ``Stack`` asks this registry, never a
backend module, so the scheduler knows no backend.

Example:
    >>> list(BACKENDS)
    ['process', 'docker', 'external', 'memory']
    >>> BACKENDS.load("external").name
    'external'
"""

from __future__ import annotations

from interlock._core.plugins import Plugins

BACKENDS = Plugins("backend", {
    "process": "interlock.stack.backends.process:ProcessBackend",
    "docker": "interlock.stack.backends.docker.backend:DockerBackend",
    "external": "interlock.stack.backends.external:ExternalBackend",
    "memory": "interlock.stack.backends.memory:MemoryBackend",  # the fake, for fast tests
}, hint="(set in suite.backend or INTERLOCK_BACKEND)")

FALLBACK = ("process", "docker", "external")
"""A service the stack's backend cannot run (an external one in a process stack) runs on the
first of these that can."""
