"""Built-in kinds of server: one module each, with ``plan(ctx) -> ProcessPlan`` (and
``docker_plan(ctx) -> DockerPlan`` for the Docker backend). Adding a kind is adding a module
and a line here.

Example:
    >>> sorted(KINDS)
    ['kafka', 'mariadb', 'mosquitto', 'nats', 'postgres', 'rabbitmq', 'redis', 'stub']
"""

from __future__ import annotations

from types import ModuleType

from interlock._core.plugins import Plugins

KINDS = Plugins("kind", {
    "postgres": "interlock.stack.kinds.postgres",
    "nats": "interlock.stack.kinds.nats",
    "redis": "interlock.stack.kinds.redis",
    "rabbitmq": "interlock.stack.kinds.rabbitmq",
    "mariadb": "interlock.stack.kinds.mariadb",
    "mosquitto": "interlock.stack.kinds.mosquitto",
    "kafka": "interlock.stack.kinds.kafka",
    "stub": "interlock.stack.kinds.stub",
})


def kind_module(name: str, where: str = "") -> ModuleType:
    """The module that knows how to run a built-in kind."""
    module: ModuleType = KINDS.load(name, where)
    return module
