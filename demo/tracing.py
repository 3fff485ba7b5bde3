"""The W3C trace context a demo service passes on to the services it calls.

A traced service keeps the caller's trace id on its own calls, with a span id of each call's
own; so a request the test sent can be followed through orders to auth and to the payment
provider (Interlock's stubs and delay proxies tell scenarios apart by it).

    >>> passed_on("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")["traceparent"][:36]
    '00-4bf92f3577b34da6a3ce929d0e0e4736-'
    >>> passed_on(None), passed_on("junk")
    ({}, {})
"""

from __future__ import annotations

import os


def passed_on(trace: str | None) -> dict[str, str]:
    """The headers that carry ``trace`` (the ``traceparent`` of the request being served) on
    to a call this service makes: the caller's trace id with a span of this call's own
    (version, trace id, parent span id, flags); none when the request carried none."""
    parts = (trace or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32:
        return {}
    return {"traceparent": f"{parts[0]}-{parts[1]}-{os.urandom(8).hex()}-{parts[3]}"}
