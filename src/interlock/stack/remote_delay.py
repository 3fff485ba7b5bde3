"""The delays of a proxy another process runs: what a run that shares a stack holds (and
``set_delay``, how any proxy's control port is asked, with a suite's error when it fails).

The workers of ``interlock run -j`` that did not start the shared stack (and runs that reuse
one ``interlock stack up`` keeps) set their scenarios' delays through the control port of
each proxy that tells scenarios apart; the stack's state file names it (``reuse.py``). Only a
scenario's own delays can be set from here: a delay for every caller is set by the run that
holds the stack alone.

Example (``Stack.adopt`` does this from the state file)::

    auth = RemoteDelay("auth", "http://127.0.0.1:41234/delay", "traceparent")
    auth.delay_scenario("4bf92f3577b34da6a3ce929d0e0e4736", 3.0)
"""

from __future__ import annotations

from interlock._core.errors import InterlockError
from interlock.stack import proxy


class RemoteDelay:
    """A ``proxy.Delay`` whose proxy runs in the process that started the stack."""

    def __init__(self, service: str, url: str, scenario_header: str, port: int = 0) -> None:
        self.service = service
        self.url = url
        self.scenario_header: str | None = scenario_header
        self.port = port
        self.delay = 0.0  # never set from here

    def delay_scenario(self, scenario: str, seconds: float) -> None:
        """``PUT /delay?scenario=<id>``: the seconds added to the scenario's requests; an
        ``InterlockError`` when the proxy cannot be reached."""
        set_delay(self.service, self.url, seconds, scenario,
                  hint="The run that started the shared stack may have ended: its output says "
                  "why.")

    def control_url(self) -> str:
        """The proxy's control port."""
        return self.url

    def stop(self) -> None:
        """Nothing: the proxy is its owner's to stop."""


def set_delay(service: str, url: str, seconds: float, scenario: str | None, hint: str) -> None:
    """Set the delay of ``service``'s proxy through its control port ``url`` (every caller's,
    or ``scenario``'s requests' only); an ``InterlockError`` naming the service, the request
    and ``hint`` (what to do) when the proxy cannot be reached or refuses it."""
    try:
        proxy.put_delay(url, seconds, scenario)
    except proxy.ControlError as err:
        raise InterlockError(
            f'Cannot set the delay of service "{service}"', details=str(err),
            where=f'service "{service}"', hint=hint) from None
