"""The foundation: what every other layer builds on, and which imports nothing above it.

Errors and failures, ``{var}`` templates and JSON values, matching and JSONPath, secrets,
the reporter protocol, the stack file (its loader and its one definition), optional extras,
waiting, plug-in registries, the traffic record and its diagram, CI shards. A module's layer
is its path: ``interlock/_core/`` is the foundation; the capabilities are the packages beside
it (``http/``, ``auth/``, ``contracts/``, ``events/``, ``db/``, ``stack/``, ``stubs/``);
ARCHITECTURE.md draws the rest. The public names are ``interlock``'s own
(``from interlock import Failure``).
"""
