"""Keeping X's search cursors inside recent search's 7-day window.

Recent search answers a `since_id` older than 7 days with a 400, so a cursor saved before
a quiet week, or a conversation watched since last month, would end collection for good.
Conversation cursors whose conversation began before the window are retired (nothing in
them can be searched any more; `tweetchat import x` covers older history), and any other
stale cursor is moved to the window's edge, with the gap it leaves reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.platforms.x.ids import snowflake_at, snowflake_time, window_edge

CONVERSATION_PREFIX = "conv:"


@dataclass(frozen=True)
class Clamped:
    """The cursors to search with, what was retired, and the gaps left behind."""

    cursors: dict[str, str]
    retired: tuple[str, ...]
    gaps: tuple[str, ...]  # one plain line each, for the moderators


def conversation_too_old(conversation_id: str, now: datetime) -> bool:
    """Whether a conversation began before recent search's window (it cannot be searched)."""
    try:
        return snowflake_time(conversation_id) < window_edge(now)
    except ValueError:
        return True


def clamp(cursors: Mapping[str, str], now: datetime) -> Clamped:
    """Retire conversations older than the window; move stale cursors to its edge."""
    edge = window_edge(now)
    edge_id = str(snowflake_at(edge))
    kept: dict[str, str] = {}
    retired: list[str] = []
    gaps: list[str] = []
    for key, since in cursors.items():
        if key.startswith(CONVERSATION_PREFIX):
            if conversation_too_old(key.removeprefix(CONVERSATION_PREFIX), now):
                retired.append(key)
                continue
        try:
            when = snowflake_time(since)
        except ValueError:
            kept[key] = edge_id
            gaps.append(f"the saved position for {key} was unreadable; searching from "
                        f"{edge:%d %b %H:%M} UTC")
            continue
        if when < edge:
            kept[key] = edge_id
            gaps.append(
                f"replies to {key} between {when:%d %b %H:%M} and {edge:%d %b %H:%M} UTC are "
                "older than X's 7-day search window and were not collected; import them "
                "with `tweetchat import x` if they matter"
            )
        else:
            kept[key] = since
    return Clamped(kept, tuple(retired), tuple(gaps))
