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


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 / ISO 8601 time as aware UTC, or None when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
