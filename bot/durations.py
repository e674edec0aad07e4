"""Durations as moderators write them: `5m`, `1h`, `90s`, `1h30m`, `2d`."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`. A bare number means minutes (the unit chats are planned in)."""
    if isinstance(text, int | float):
        return float(text) * 60
    raw = str(text).strip().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw) * 60
    if not raw or _PART.sub("", raw):
        raise ValueError(f"'{text}' is not a duration; write it like 5m, 90s, 1h or 1h30m")
    return float(sum(float(n) * _UNIT[u.lower()] for n, u in _PART.findall(raw)))


def format_duration(seconds: float) -> str:
    """Seconds as the shortest duration text that reads back the same: `1h`, `5m`, `90s`."""
    seconds = int(round(seconds))
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
