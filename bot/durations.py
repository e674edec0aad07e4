"""Durations as moderators write them: `5m`, `1h`, `90s`, `1h30m`, `2d`.

Every duration is finite and bounded: `999999999999999999999d` or `nan` would otherwise
reach `timedelta` and SQLite and break the bot long after the script was accepted.
"""

from __future__ import annotations

import math
import re
from datetime import date

_PART = re.compile(r"(\d{1,12}(?:\.\d{1,9})?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Nothing in a chat is planned further ahead than a year (reminders are days at most).
MAX_SECONDS = 366 * 86400
# Bounds on what a chat can mean; anything outside is a typo or an attack, not a plan.
MAX_CHAT_SECONDS = 24 * 3600
MAX_REMINDER_SECONDS = 30 * 86400
FIRST_YEAR, LAST_YEAR = 2000, 2100


def in_years(value: date | None) -> date | None:
    """`value` if its year is in FIRST_YEAR..LAST_YEAR (or it is None), else ValueError."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year {value.year} is outside {FIRST_YEAR}-{LAST_YEAR}; "
                         "check the date")
    return value


def parse_duration(text: str | int | float, *, maximum: float = MAX_SECONDS) -> float:
    """Seconds in `text`. A bare number means minutes (the unit chats are planned in).

    Raises ValueError (with a how-to-fix message) for anything that is not a finite,
    non-negative duration of at most `maximum` seconds.
    """
    if isinstance(text, bool):
        raise ValueError(f"'{text}' is not a duration; write it like 5m, 90s, 1h or 1h30m")
    if isinstance(text, int | float):
        seconds = float(text) * 60
    else:
        raw = str(text).strip().replace(" ", "")
        if len(raw) > 40:
            raise ValueError(f"'{raw[:20]}...' is not a duration; write it like 5m or 1h30m")
        if re.fullmatch(r"\d{1,12}(?:\.\d{1,9})?", raw):
            seconds = float(raw) * 60
        elif not raw or _PART.sub("", raw):
            raise ValueError(f"'{text}' is not a duration; write it like 5m, 90s, 1h or 1h30m")
        else:
            seconds = float(sum(float(n) * _UNIT[u.lower()] for n, u in _PART.findall(raw)))
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"'{text}' is not a duration; write it like 5m, 90s, 1h or 1h30m")
    if seconds > maximum:
        limit = format_duration(maximum)
        raise ValueError(f"'{text}' is longer than {limit}, the most allowed here")
    return seconds


def format_duration(seconds: float) -> str:
    """Seconds as the shortest duration text that reads back the same: `1h`, `5m`, `90s`."""
    seconds = int(round(seconds))
    if seconds % 86400 == 0 and seconds >= 86400 * 2:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
