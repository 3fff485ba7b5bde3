"""The Docker backend: services as containers on a network of their stack.

``engine.py`` (the connection and what Interlock does with it), ``service.py`` (one running
container), ``spec.py`` (a service as a container; addresses seen from the host or the
network), ``build.py`` (images built from a context, reused when unchanged), ``sweep.py``
(labels, and removing what a killed run left), ``delay.py`` (the delay proxy as a container).
"""

from interlock.stack.backends.docker.engine import (
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SERVICE,
    LABEL_STACK,
    ContainerSpec,
    DockerEngine,
    DockerService,
    Removed,
    address_for,
    addresses_seen_from,
    owner_is_alive,
    this_owner,
)

__all__ = [
    "LABEL_OWNER", "LABEL_RUN", "LABEL_SERVICE", "LABEL_STACK", "ContainerSpec", "DockerEngine",
    "DockerService", "Removed", "address_for", "addresses_seen_from", "owner_is_alive",
    "this_owner",
]
