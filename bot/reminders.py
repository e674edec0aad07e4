"""Reminder posts: when the next session starts, in the chat's own time zone."""

from __future__ import annotations

from datetime import datetime

from bot.script import ChatScript


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
    when = local.strftime("%A %H:%M") + f" {place} time"
    text = f"Reminder: {script.title} starts {humanise(before_seconds)} ({when})."
    if public_url:
        text += f" Join at {public_url.rstrip('/')}/chats/{script.id}"
    if script.hashtag.lower() not in text.lower():
        text += f" {script.hashtag}"
    return text
