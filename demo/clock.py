"""Timestamps as the services store and show them.

    >>> from datetime import datetime, UTC
    >>> rfc3339(datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=UTC))
    '2025-01-31T09:30:00.123Z'
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, cut to milliseconds so the database and the JSON agree."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def rfc3339(moment: datetime | None) -> str | None:
    """``2025-01-31T09:30:00.123Z`` (or None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: object) -> datetime | None:
    """A timestamp from an event, or None when it is not one (with a zone)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
