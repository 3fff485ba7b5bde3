"""Labels on what a run creates, and removing what a run left behind.

Every container, network and volume a run creates carries ``interlock.run``,
``interlock.stack``, ``interlock.service`` (containers and volumes) and ``interlock.owner``:
``<host>/<pid>/<start time>`` of the process that created it. A run whose owner process is
gone (killed, crashed, Ctrl-C twice) is found by its labels and removed by ``sweep``.

Example:
    >>> owner_is_alive(this_owner())
    True
    >>> print(Removed(containers=["interlock-r1-default-web"], networks=["interlock-r1-default"]))
    removed 1 container (interlock-r1-default-web), 1 network (interlock-r1-default)
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil
from docker.errors import NotFound

LABEL_RUN = "interlock.run"
LABEL_STACK = "interlock.stack"
LABEL_SERVICE = "interlock.service"
LABEL_OWNER = "interlock.owner"


def this_owner() -> str:
    """This process as an owner label: host/pid/start time (pids are reused, start times not)."""
    me = psutil.Process()
    return f"{socket.gethostname()}/{me.pid}/{int(me.create_time())}"


def owner_is_alive(owner: str) -> bool:
    """Whether the process named by an owner label still runs.

    An owner on another host cannot be checked from here: it counts as alive, so a run on a
    shared engine is never swept by somebody else's machine.
    """
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        return str(int(psutil.Process(int(pid_text)).create_time())) == started
    except psutil.NoSuchProcess:
        return False


def run_labels(run_id: str, stack: str, service: str = "") -> dict[str, str]:
    """The labels on everything a run creates.

    Example:
        >>> sorted(run_labels("r1", "default", "web"))
        ['interlock.owner', 'interlock.run', 'interlock.service', 'interlock.stack']
    """
    labels = {LABEL_RUN: run_id, LABEL_STACK: stack, LABEL_OWNER: this_owner()}
    if service:
        labels[LABEL_SERVICE] = service
    return labels


@dataclass
class Removed:
    """What a clean-up removed, to say so."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes)

    def __str__(self) -> str:
        parts = [
            f"{len(names)} {what}{'s' if len(names) != 1 else ''} ({', '.join(names)})"
            for what, names in (
                ("container", self.containers), ("network", self.networks),
                ("volume", self.volumes),
            )
            if names
        ]
        return "removed " + ", ".join(parts) if parts else "nothing to remove"

    def add(self, other: Removed) -> None:
        """Take in what another clean-up removed."""
        self.containers += other.containers
        self.networks += other.networks
        self.volumes += other.volumes


def runs_on(client: Any) -> dict[str, str]:
    """Run ids that have containers, networks or volumes on the engine, and their owners."""
    found: dict[str, str] = {}
    label = {"label": LABEL_RUN}
    # ignore_removed: a container another run removes between the list and its inspection
    # (the SDK inspects each one) is not there any more, which is no error here.
    for kind in (client.containers.list(all=True, filters=label, ignore_removed=True),
                 client.networks.list(filters=label),
                 client.volumes.list(filters=label)):
        for item in kind:
            item_labels = item.attrs.get("Labels") or item.attrs.get("Config", {}).get("Labels")
            labels = item_labels or {}
            found.setdefault(labels[LABEL_RUN], labels.get(LABEL_OWNER, ""))
    return found

def remove_run(client: Any, run_id: str) -> Removed:
    """Remove every container, network and volume labelled with ``run_id``."""
    removed = Removed()
    label = {"label": f"{LABEL_RUN}={run_id}"}
    for container in client.containers.list(all=True, filters=label, ignore_removed=True):
        try:
            container.remove(force=True, v=True)
            removed.containers.append(container.name)
        except NotFound:
            pass
    for network in client.networks.list(filters=label):
        try:
            network.remove()
            removed.networks.append(network.name)
        except NotFound:
            pass
    for volume in client.volumes.list(filters=label):
        try:
            volume.remove(force=True)
            removed.volumes.append(volume.name)
        except NotFound:
            pass
    return removed

def sweep(client: Any, run_ids: Iterable[str] | None = None) -> Removed:
    """Remove the leftovers of runs whose owner is gone.

    With ``run_ids`` (from the run registry), those runs; without, every run on the
    engine whose ``interlock.owner`` process no longer exists on this host.
    """
    if run_ids is None:
        run_ids = [run for run, owner in runs_on(client).items() if not owner_is_alive(owner)]
    removed = Removed()
    for run_id in run_ids:
        removed.add(remove_run(client, run_id))
    return removed
