"""Re-checking until an expectation holds: the engine of the ``within <n> seconds,`` prefix.

A check is any function that returns when the expectation holds and raises ``Failure`` when
it does not. ``eventually`` calls it again, with a growing pause, until it passes or the time
is up; then the last failure is raised with the number of attempts in its title. A mistake in
the suite (``InterlockError``) is never retried: waiting would not fix it.

Example:
    >>> answers = iter([{"status": "pending"}, {"status": "completed"}])
    >>> def status_is_completed():
    ...     document = next(answers)
    ...     if document["status"] != "completed":
    ...         raise Failure(f'status is "{document["status"]}", expected "completed"')
    ...     return document
    >>> eventually(status_is_completed, timeout=5, interval=0.001)
    {'status': 'completed'}
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from interlock._core.errors import Failure

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    timeout: float,
    *,
    before_retry: Callable[[], None] | None = None,
    interval: float = 0.05,
    max_interval: float = 0.5,
    retitle: bool = True,
) -> T:
    """Call ``check`` until it stops raising ``Failure`` or ``timeout`` seconds have passed.

    ``before_retry`` runs before every attempt but the first (re-send the last request,
    re-run the query). Pauses start at ``interval`` and grow by half up to ``max_interval``,
    never past the deadline. The check always runs at least once, and once more at the
    deadline if the last pause ended there, so a condition that becomes true "just in time"
    is seen. The last failure is retitled with how long it was tried; ``retitle=False``
    raises it as the check did (a settling wait the step's own words do not mention).

    Example:
        >>> eventually(lambda: 42, timeout=1)
        42
        >>> def never(): raise Failure("status is 500")
        >>> eventually(never, timeout=0.01, interval=0.005)
        Traceback (most recent call last):
        interlock._core.errors.Failure: still failing after 0.01 seconds (...): status is 500
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    # A private Event: nothing ever sets it, so wait() is a sleep that cannot busy-loop and
    # that, unlike time.sleep, a future cancel() hook could interrupt.
    pause = threading.Event()
    attempts = 0
    delay = max(interval, 0.001)
    while True:
        attempts += 1
        try:
            # Inside the try: a re-send that fails (a restarting service) is a failed attempt.
            if attempts > 1 and before_retry is not None:
                before_retry()
            return check()
        except Failure as failure:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if not retitle:
                    raise
                raise _gave_up(failure, timeout, attempts) from failure
            pause.wait(min(delay, remaining))
            delay = min(delay * 1.5, max(max_interval, interval))


def _gave_up(last: Failure, timeout: float, attempts: int) -> Failure:
    """The last failure, retitled with how long and how often it was tried."""
    seconds = f"{timeout:g} second" + ("" if timeout == 1 else "s")
    tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
    return Failure(
        f"still failing after {seconds} ({tries}): {last.title}",
        last.details,
        where=last.where,
        hint=last.hint,
    )
