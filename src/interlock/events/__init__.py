"""Events: listen on brokers, publish to them, and expect what arrives.

The plain API (no behave): connect the configured brokers, then per scenario an
``EventListeners``.

Example:
    >>> from interlock.events import brokers_from_dict
    >>> configs = brokers_from_dict({"hooks": {"type": "webhook"}}, "brokers")
    >>> hooks = configs["hooks"].connect()
    >>> events = EventListeners({"hooks": hooks}, timeout=1)
    >>> events.listen("orders/*")
    >>> events.close(); hooks.close()
"""

from interlock.events.base import Broker, Event, EventBuffer, Subscription
from interlock.events.config import (
    ADAPTERS,
    BrokerConfig,
    EventsConfig,
    Listen,
    brokers_from_dict,
)
from interlock.events.listeners import EventListeners

__all__ = [
    "ADAPTERS",
    "Broker",
    "BrokerConfig",
    "Event",
    "EventBuffer",
    "EventListeners",
    "EventsConfig",
    "Listen",
    "Subscription",
    "brokers_from_dict",
]
