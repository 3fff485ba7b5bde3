"""Starting, breaking and stopping the services a feature needs.

The public names are ``Stack``, ``ServiceSpec`` and ``ReadyCheck``; backends and kinds are
internal.
"""

from interlock.stack.base import Address, ReadyCheck
from interlock.stack.spec import ServiceSpec
from interlock.stack.stack import Stack

__all__ = ["Address", "ReadyCheck", "ServiceSpec", "Stack"]
