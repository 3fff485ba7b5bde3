"""behave's hooks for the reference suite: Interlock's, unchanged.

A suite that needs more (seeding a system it does not own, a VPN) wraps one of them:

    from interlock.behave import hooks

    def before_all(context):
        hooks.before_all(context)
        ...
"""

from interlock.behave.hooks import *  # noqa: F403
from interlock.behave.hooks import __all__  # noqa: F401
