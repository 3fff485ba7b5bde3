"""The Docker delay proxy takes every name its service answers to on the network."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from interlock.stack.backends.docker.delay import ContainerDelay, direct_alias
from interlock.stack.backends.docker.spec import ContainerSpec


class RecordingEngine:
    """Records what would be started (no engine needed to see the proxy's names)."""

    def __init__(self) -> None:
        self.started: list[ContainerSpec] = []

    def start(self, spec: ContainerSpec, **_: Any) -> Any:
        self.started.append(spec)
        return SimpleNamespace(published_port=1, published=lambda port: 2)


def test_a_delayed_compose_service_keeps_its_aliases_behind_the_proxy() -> None:
    """A Compose alias of a delayed service named the service's own container, so a caller
    using it went around the delay; the proxy takes it, the service keeps only its direct
    name."""
    engine = RecordingEngine()
    service = ContainerSpec("auth", image="x", port=8080, aliases=(direct_alias("auth"),))
    ContainerDelay.start(engine, service, run_id="r", stack="s", names=("login", "auth"))
    (proxy,) = engine.started
    assert proxy.aliases == ("auth", "login")
    assert direct_alias("auth") not in proxy.aliases
