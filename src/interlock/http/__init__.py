"""HTTP for acceptance tests: a per-scenario client that reports every exchange.

Example:
    >>> from interlock.http import HttpSession, Exchange, NO_BODY
    >>> sorted(__all__)
    ['Connections', 'Credentials', 'Exchange', 'HttpSession', 'NO_BODY']
"""

from interlock.http.exchange import Exchange
from interlock.http.session import NO_BODY, Connections, Credentials, HttpSession

__all__ = ["NO_BODY", "Connections", "Credentials", "Exchange", "HttpSession"]
