"""behave's hook file. Interlock's hooks do the work; this suite's own additions live in the
``environment/`` package, beside its stack file and test data."""

from environment.hooks import *  # noqa: F403
