"""Discord scheduled events for chat occurrences, and the reminders that go with them.

People join a chat from a Discord event: they click "Interested", and the reminder
mentions exactly those people (or a reminder role, if the server prefers opt-in roles).
Functions take a `discord.Guild` plus neutral data and return neutral data (ids, Authors),
so the scheduler never handles a discord.py object beyond the guild it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord

from bot.platforms.base import Author, PlatformError
from bot.platforms.discord_platform import MAX_LENGTH, PLATFORM, discord_time

log = logging.getLogger(__name__)

# Discord's limits for scheduled events.
NAME_MAX = 100
DESCRIPTION_MAX = 1000
LOCATION_MAX = 100


@dataclass(frozen=True)
class EventSpec:
    """One occurrence of a chat, as a Discord scheduled event should show it."""

    name: str
    start: datetime  # timezone-aware
    end: datetime
    description: str = ""
    # A voice/stage channel hosts the event itself; a text channel (the chat's own) is linked
    # as the event's location, since Discord only lets voice and stage channels host events.
    channel_id: int | None = None
    location: str | None = None  # an external place, e.g. the web room's URL

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("EventSpec times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("EventSpec end must be after start")
        if self.channel_id is None and not self.location:
            raise ValueError("EventSpec needs a channel_id or a location")


def _placement(guild: discord.Guild, spec: EventSpec) -> dict[str, Any]:
    """Keyword arguments saying where the event happens (channel entity or external)."""
    channel = guild.get_channel(spec.channel_id) if spec.channel_id is not None else None
    if spec.channel_id is not None and channel is None:
        raise PlatformError(
            f"Discord: channel {spec.channel_id} for the event is not in server '{guild.name}'",
            retryable=False,
        )
    if isinstance(channel, discord.VoiceChannel):
        return {"entity_type": discord.EntityType.voice, "channel": channel}
    if isinstance(channel, discord.StageChannel):
        return {"entity_type": discord.EntityType.stage_instance, "channel": channel}
    location = spec.location or (channel.jump_url if channel is not None else "")
    return {"entity_type": discord.EntityType.external, "location": location[:LOCATION_MAX]}


def _fields(guild: discord.Guild, spec: EventSpec) -> dict[str, Any]:
    return {
        "name": spec.name[:NAME_MAX],
        "start_time": spec.start,
        "end_time": spec.end,
        "description": spec.description[:DESCRIPTION_MAX],
        "privacy_level": discord.PrivacyLevel.guild_only,
        **_placement(guild, spec),
    }


def _failure(what: str, guild: discord.Guild, e: discord.HTTPException) -> PlatformError:
    if isinstance(e, discord.Forbidden):
        return PlatformError(
            f"Discord: cannot {what} in '{guild.name}': the bot lacks 'Manage Events'; "
            "grant it in Server Settings > Roles",
            retryable=False,
        )
    return PlatformError(f"Discord: could not {what}: {e}", retryable=e.status >= 500)


async def _get(guild: discord.Guild, event_id: str) -> discord.ScheduledEvent | None:
    cached = guild.get_scheduled_event(int(event_id))
    if cached is not None:
        return cached
    try:
        return await guild.fetch_scheduled_event(int(event_id))
    except discord.NotFound:
        return None


async def create_event(guild: discord.Guild, spec: EventSpec, *, reason: str | None = None) -> str:
    """Create the scheduled event; returns its id (keep it to update or cancel later)."""
    try:
        event = await guild.create_scheduled_event(**_fields(guild, spec), reason=reason)
    except discord.HTTPException as e:
        raise _failure("create the event", guild, e) from e
    log.info("discord: scheduled event %s for %s", event.id, spec.start.isoformat())
    return str(event.id)


async def update_event(
    guild: discord.Guild, event_id: str, spec: EventSpec, *, reason: str | None = None
) -> str:
    """Bring the event in line with `spec`; recreates it if someone deleted it by hand."""
    event = await _get(guild, event_id)
    if event is None:
        log.warning("discord: event %s is gone; creating a new one", event_id)
        return await create_event(guild, spec, reason=reason)
    try:
        await event.edit(**_fields(guild, spec), reason=reason)
    except discord.HTTPException as e:
        raise _failure("update the event", guild, e) from e
    return str(event.id)


async def cancel_event(guild: discord.Guild, event_id: str, *, reason: str | None = None) -> bool:
    """Cancel a scheduled event (or end a running one). False if there was nothing to cancel."""
    event = await _get(guild, event_id)
    if event is None:
        return False
    try:
        if event.status is discord.EventStatus.scheduled:
            await event.cancel(reason=reason)
        elif event.status is discord.EventStatus.active:
            await event.end(reason=reason)
        else:
            return False  # already completed or cancelled
    except discord.HTTPException as e:
        raise _failure("cancel the event", guild, e) from e
    return True


async def interested_users(guild: discord.Guild, event_id: str) -> list[Author]:
    """Everyone who clicked "Interested" (bots left out), in Discord's order."""
    event = await _get(guild, event_id)
    if event is None:
        return []
    people: list[Author] = []
    try:
        async for user in event.users():
            if user.bot:
                continue
            people.append(
                Author(platform=PLATFORM, id=str(user.id), name=user.display_name, handle=user.name)
            )
    except discord.HTTPException as e:
        raise _failure("list interested users", guild, e) from e
    return people


def reminder_text(
    title: str,
    start: datetime,
    *,
    hashtag: str = "",
    role_id: int | None = None,
    users: Sequence[Author] = (),
    url: str | None = None,
) -> str:
    """The reminder post: who is pinged, what, when (in each reader's own time zone).

    A reminder role wins over individual mentions (one ping, opt-in by role). Mentions that
    would push the post past Discord's 2000 characters are dropped, with a count.
    """
    when = f"{discord_time(start, 'F')} ({discord_time(start, 'R')})"
    body = f"Reminder: **{title}**{f' {hashtag}' if hashtag else ''} starts {when}."
    if url:
        body += f"\n{url}"
    if role_id is not None:
        return f"<@&{role_id}> {body}"
    if not users:
        return body
    mentions: list[str] = []
    room = MAX_LENGTH - len(body) - len("\n… and 9999 more")
    for user in users:
        tag = f"<@{user.id}>"
        if sum(len(m) + 1 for m in mentions) + len(tag) + 1 > room:
            break
        mentions.append(tag)
    extra = len(users) - len(mentions)
    text = " ".join(mentions) + "\n" + body
    if extra:
        text += f"\n… and {extra} more"
    return text


async def send_reminder(
    channel: discord.abc.Messageable,
    text: str,
    *,
    role_id: int | None = None,
    users: Sequence[Author] = (),
) -> str:
    """Send a reminder that pings only the reminder role or the listed users, nothing else."""
    allowed = discord.AllowedMentions(
        everyone=False,
        roles=[discord.Object(id=role_id)] if role_id is not None else False,
        users=[discord.Object(id=int(u.id)) for u in users] if users else False,
        replied_user=False,
    )
    try:
        sent = await channel.send(text[:MAX_LENGTH], allowed_mentions=allowed)
    except discord.HTTPException as e:
        raise PlatformError(f"Discord: reminder not sent: {e}", retryable=e.status >= 500) from e
    return str(sent.id)
