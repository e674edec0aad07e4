"""Reading what a platform sent: each field type-checked and bounded where it enters.

Shared by the polling adapters and their importers (Bluesky, Mastodon): a wrong type is
None, never an exception, and no string is longer than its caller allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def bounded(value: Any, limit: int = 2_000) -> str | None:
    """`value` when it is a string (cut to `limit` characters), else None."""
    return value[:limit] if isinstance(value, str) else None


def dig(value: Any, *keys: str) -> Any:
    """value[k1][k2]... when every level is a dict holding the key, else None."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def count(value: Any, limit: int = 10_000_000_000) -> int | None:
    """A non-negative whole number no larger than `limit` (a follower count), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        return None
    return value


def length(value: Any, limit: int = 100) -> int:
    """How many items a list holds (attachments, media keys), at most `limit`; 0 if no list."""
    return min(len(value), limit) if isinstance(value, list) else 0


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 / ISO 8601 time as aware UTC, or None when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
