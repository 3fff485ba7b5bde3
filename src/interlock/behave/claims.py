"""The features of ``interlock run -j``, taken by its workers one at a time.

Every worker is given the same features, heaviest first (by the durations runs record; the
features that mostly wait head the odd workers' queues and end the even ones',
``parallel.take_order``); each takes the next feature nobody has taken yet when it is free,
so the workers end together however long the features turn out to take (a static split is
only as good as the last run's durations). A feature is taken by creating its file in a
folder the run shares (``O_EXCL``: exactly one worker succeeds). Worker 1, which started the
shared stack, has features of its own too (those that run alone on it): it runs them once
the queue of shared features is empty, before the ``@isolated`` ones, which start stacks of
their own and so are what the other workers do meanwhile.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> one = Claims(folder, ["a.feature", "i.feature"], isolated={"i.feature"})
    >>> two = Claims(folder, ["a.feature", "i.feature", "x.feature"], isolated={"i.feature"},
    ...              own={"x.feature"})
    >>> two.next(), one.next(), one.next(), two.next(), two.next()
    ('a.feature', 'i.feature', None, 'x.feature', None)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Iterable
from pathlib import Path

CLAIMS_ENV = "INTERLOCK_CLAIMS"  # the folder the workers of one run take features in
# "<fd>:<worker number>": where a worker says, as it happens, which feature it takes (the
# terminal of ``interlock run``, which shows each worker's own output only when it ends).
PROGRESS_ENV = "INTERLOCK_PROGRESS"


def tell_run(what: str) -> None:
    """Tell ``interlock run``'s terminal, now, what this worker does ("runs features/a.feature"):
    nothing when it is not a worker of one, or that terminal is gone."""
    fd, _, number = os.environ.get(PROGRESS_ENV, "").partition(":")
    if not fd.isdigit():
        return
    try:
        os.write(int(fd), f"interlock: worker {number} {what}\n".encode())
    except OSError:
        pass


class Claims:
    """One worker's view of the queue (feature paths, in the order given)."""

    def __init__(self, folder: Path, queue: Iterable[str], isolated: Collection[str] = (),
                 own: Collection[str] = ()) -> None:
        self.folder = folder
        ordered = list(queue)
        self.shared = [p for p in ordered if p not in isolated and p not in own]
        self.own = [p for p in ordered if p in own]
        self.isolated = [p for p in ordered if p in isolated and p not in own]

    def next(self) -> str | None:
        """The next feature this worker runs, or None when there is none left."""
        taken = self._take(self.shared)
        if taken is not None:
            return taken
        if self.own:
            return self.own.pop(0)
        return self._take(self.isolated)

    def _take(self, queue: list[str]) -> str | None:
        while queue:
            path = queue.pop(0)
            key = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:24]
            try:
                os.close(os.open(self.folder / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                 0o600))
            except FileExistsError:
                continue  # another worker took it
            return path
        return None
