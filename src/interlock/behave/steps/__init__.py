"""Every library sentence of STEPS.md, one module per library. Importing this package
registers them all with behave.
"""

from interlock.behave.steps import auth, events, http, services  # noqa: F401

__all__: list[str] = []
