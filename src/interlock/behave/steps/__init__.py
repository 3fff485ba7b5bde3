"""Every library sentence of STEPS.md, one module per library. Importing this package
registers them all with behave.
"""

from interlock.behave.steps import auth, db, events, http, services, stubs  # noqa: F401

__all__: list[str] = []
