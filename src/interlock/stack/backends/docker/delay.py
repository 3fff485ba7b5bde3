"""The delay proxy of a service that runs in a container.

Callers of a Docker service are containers on the stack's network that reach it by name, so
a proxy on the host cannot stand in between. Instead the proxy (``stack/proxy.py``, standard
library only) runs in a small container of its own on that network:

* the proxy container takes the service's name as its network alias (``auth``), so every
  ``{auth.url}`` rendered for another container goes through it;
* the real container answers as ``auth-direct``, which is where the proxy forwards;
* the proxy's service port and its control port are published on 127.0.0.1: the steps
  reach the service through the first, and set the delay through the second.

The proxy needs a Python image: ``INTERLOCK_BASE_IMAGE`` when set (the reference suite's
own base image), else ``python:3.11-slim``.

Example (needs an engine, so not run as a doctest; ``Stack`` does this for
``delay_proxy: true``):

    spec = ContainerSpec("auth", ..., aliases=(direct_alias("auth"),))
    delay = ContainerDelay.start(engine, spec, run_id="r1", stack="default")
    auth = engine.start(spec, run_id="r1", stack="default")  # or at the same time
    delay.delay = 3.0        # every answer of auth now comes 3 s late, to containers and host
    delay.port               # the published port the host uses instead of auth's own
    delay.stop()
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from interlock._core.errors import InterlockError
from interlock.stack import proxy
from interlock.stack.backends.docker.service import DockerService
from interlock.stack.backends.docker.spec import ContainerSpec
from interlock.stack.base import ReadyCheck, python_image
from interlock.stack.remote_delay import set_delay

CONTROL_PORT = 7070  # inside the proxy container only; published on a free host port


def direct_alias(service: str) -> str:
    """The network name of a delayed service's real container: ``auth-direct``."""
    return f"{service}-direct"


class ContainerDelay:
    """A running proxy container in front of one Docker service; a ``proxy.Delay``."""

    def __init__(self, service: str, container: DockerService,
                 scenario_header: str | None = None) -> None:
        self.service = service
        self.container = container
        self.port = container.published_port
        self.scenario_header = scenario_header
        self._control = f"http://127.0.0.1:{container.published(CONTROL_PORT)}/delay"
        self._delay = 0.0

    @classmethod
    def start(
        cls, engine: Any, service: ContainerSpec, *, run_id: str, stack: str,
        log_dir: Path | None = None, progress: Callable[[str], None] = lambda line: None,
        names: tuple[str, ...] = (), scenario_header: str | None = None,
    ) -> ContainerDelay:
        """Start the proxy of ``service`` (whose container answers as ``direct_alias``); it
        takes the service's name on the network and its other ``names`` (Compose aliases),
        so that no caller reaches the service around it. ``scenario_header``: the header
        that tells the scenarios' requests apart, for a scenario's own delays.

        It needs nothing from the service's container (it looks its address up for every
        connection), so both may start at the same time.
        """
        port = service.port
        if not port:
            raise InterlockError(
                f'Service "{service.name}" has delay_proxy: true but no docker port',
                where=f'service "{service.name}"',
                hint="Add port: (the port it listens on inside its container) to its docker: "
                "block; the proxy forwards to it.",
            )
        source = Path(proxy.__file__).read_text(encoding="utf-8")
        spec = ContainerSpec(
            f"{service.name}-delay", image=python_image(), port=port,
            more_ports=(CONTROL_PORT,), aliases=tuple(dict.fromkeys((service.name, *names))),
            entrypoint=("python3",),
            command=("-c", source, "--listen", str(port),
                     "--upstream", f"{direct_alias(service.name)}:{port}",
                     "--control", str(CONTROL_PORT),
                     *(("--scenario-header", scenario_header) if scenario_header else ())),
            url_template=service.url_template,
            ready=ReadyCheck("log", pattern=proxy.READY_LINE, timeout=30),
        )
        try:
            container = engine.start(spec, run_id=run_id, stack=stack, log_dir=log_dir,
                                     progress=progress)
        except InterlockError as err:
            err.hint = (f"The delay proxy of {service.name} runs on a Python image: set "
                        f"INTERLOCK_BASE_IMAGE to one this engine has (now {spec.image}). "
                        + (err.hint or ""))
            raise
        return cls(service.name, container, scenario_header)

    @property
    def delay(self) -> float:
        """Seconds added to each answer of the service (0: none)."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._put(seconds)
        self._delay = seconds

    def delay_scenario(self, scenario: str, seconds: float) -> None:
        """Add ``seconds`` to the answers to ``scenario``'s requests only (0: none)."""
        self._put(seconds, scenario)

    def control_url(self) -> str:
        """The proxy's control port, published on 127.0.0.1."""
        return self._control

    def _put(self, seconds: float, scenario: str | None = None) -> None:
        set_delay(self.service, self._control, seconds, scenario,
                  hint=f"Its proxy container {self.container.container.name} may have "
                  "stopped: read its log (docker logs).")

    def stop(self) -> None:
        """Remove the proxy container."""
        self.container.remove()
