"""Tweet ids are snowflakes: the creation time is in the id.

X's 7-day search window is checked against it. Both the adapter (to keep a cursor
inside the window) and the fake server (to refuse one that is not) read ids through
these two functions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Twitter's snowflake epoch (2010-11-04T01:42:54.657Z), in milliseconds.
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=SNOWFLAKE_EPOCH_MS)
_MS = timedelta(milliseconds=1)
# How far back recent search reaches; a since_id or start_time before this edge is a 400.
SEARCH_WINDOW = timedelta(days=7)


def snowflake_at(when: datetime, sequence: int = 0) -> int:
    """The smallest id X could give a tweet created at `when` (plus a sequence number)."""
    # Integer arithmetic on timedeltas: a float timestamp times 1000 can land a hair
    # below a whole millisecond and truncate to the one before it.
    ms = (when.astimezone(UTC) - _EPOCH) // _MS
    return (max(0, ms) << 22) + (sequence & 0x3FFFFF)


def snowflake_time(tweet_id: int | str) -> datetime:
    """When the tweet with this id was created (to the millisecond)."""
    return _EPOCH + (int(tweet_id) >> 22) * _MS


def window_edge(now: datetime, margin: timedelta = timedelta(minutes=5)) -> datetime:
    """The oldest moment recent search still accepts, with a margin for clock skew."""
    return now - SEARCH_WINDOW + margin
