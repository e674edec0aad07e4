"""Reading what a platform sent: each field type-checked and bounded where it enters.

Shared by the polling adapters and their importers (Bluesky, Mastodon): a wrong type is
None, never an exception, and no string is longer than its caller allows.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def obj(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


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
        # A valid time near year 1 or 9999 with an offset leaves datetime's range in UTC.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def depth(value: Any, limit: int) -> int:
    """How deeply `value` nests lists and dicts, counted without recursion up to `limit` + 1.

    A payload deeper than its caller allows is refused whole where it enters: the archive's
    JSON writer (orjson) stops at 254 levels, and no real post nests past a few dozen.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest
