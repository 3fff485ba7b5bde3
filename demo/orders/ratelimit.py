"""Order creations allowed per user in a sliding window (``ORDERS_RATE_LIMIT="5/10"``).

    >>> limit = RateLimit.parse("2/10")
    >>> limit.record("alice", 0.0); limit.record("alice", 1.0)
    >>> limit.retry_after("alice", 2.0)
    8
    >>> limit.retry_after("alice", 10.5) is None
    True
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateLimit:
    """At most ``limit`` creations per ``window`` seconds per user, in this process."""

    limit: int
    window: float
    hits: dict[str, deque[float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"<count>/<seconds>"``; ValueError says what is wrong."""
        count, _, seconds = text.partition("/")
        try:
            limit, window = int(count), float(seconds)
        except ValueError:
            raise ValueError(f"expected <count>/<seconds> such as 5/10, not {text!r}") from None
        if limit < 1 or window <= 0:
            raise ValueError(f"count and seconds must be positive, not {text!r}")
        return cls(limit, window)

    def _recent(self, user: str, now: float) -> deque[float]:
        times = self.hits.setdefault(user, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, user: str, now: float) -> int | None:
        """None when ``user`` may create now, else whole seconds until they may."""
        times = self._recent(user, now)
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - now))

    def record(self, user: str, now: float) -> None:
        self._recent(user, now).append(now)
