"""What the bot tells the platforms ahead of a session.

Reminder posts (when the next session starts, in the chat's own time zone) and the
mirrored schedule (Discord's scheduled events).

Every platform gets its turn: one that fails is logged and the others still hear.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from bot.platforms.base import Platform
from bot.records import Upcoming
from bot.schedule import occurrences
from bot.script import ChatScript

log = logging.getLogger(__name__)
MIRRORED = 4  # how many upcoming sessions a platform that mirrors the schedule sees


def humanise(seconds: float) -> str:
    """How far off a start is, in words: "in 1 hour", "tomorrow", "in 3 days"."""
    minutes = round(seconds / 60)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    return f"in {minutes} minutes"


def reminder_text(script: ChatScript, start: datetime, before_seconds: float,
                  public_url: str = "") -> str:
    """The reminder post for a session starting at `start`, `before_seconds` ahead."""
    local = start.astimezone(script.zone)
    place = script.model.timezone.split("/")[-1].replace("_", " ")
    # The date makes each week's reminder unique: X refuses the same text twice.
    when = f"{local:%A} {local.day} {local:%B %H:%M} {place} time"
    text = f"Reminder: {script.title} starts {humanise(before_seconds)} ({when})."
    if public_url:
        text += f" Join at {public_url.rstrip('/')}/chats/{script.id}"
    if script.hashtag.lower() not in text.lower():
        text += f" {script.hashtag}"
    return text


async def remind(script: ChatScript, platforms: Mapping[str, Platform], start: datetime,
                 before_seconds: float, public_url: str = "") -> None:
    """Post the reminder of the session starting at `start` on each of the chat's platforms."""
    text = reminder_text(script, start, before_seconds, public_url)
    for name, platform in platforms.items():
        try:
            await platform.remind(text, start)
        except Exception as exc:
            log.warning("reminder for %s on %s failed: %s", script.id, name, exc)


async def mirror_schedule(script: ChatScript, platforms: Mapping[str, Platform], now: datetime,
                          public_url: str = "") -> None:
    """Show the next few sessions to the platforms that mirror the schedule."""
    base = public_url.rstrip("/")
    upcoming = [
        Upcoming(occ.key, occ.start, occ.end, script.title,
                 script.model.description or script.model.welcome,
                 f"{base}/chats/{script.id}" if base else None)
        for occ in occurrences(script, now, MIRRORED)
    ]
    for name, platform in platforms.items():
        try:
            await platform.sync_schedule(upcoming)
        except Exception as exc:
            log.warning("%s: could not mirror the schedule: %s", name, exc)
