"""Discord scheduled events for chat occurrences, and the reminders that go with them.

People join a chat from a Discord event: they click "Interested", and the reminder
mentions exactly those people (or a reminder role, if the server prefers opt-in roles).
Functions take a `discord.Guild` plus neutral data and return neutral data (ids, Authors),
so the scheduler never handles a discord.py object beyond the guild it was given.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import discord

from bot.platforms.base import PlatformError
from bot.platforms.discord.messages import MAX_LENGTH, PLATFORM, discord_time
from bot.records import Author, Upcoming

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
        # Discord split the permission: CREATE_EVENTS creates (and edits the bot's own
        # events); MANAGE_EVENTS edits and deletes but cannot create.
        needed = "Create Events" if what.startswith("create") else "Manage Events"
        return PlatformError(
            f"Discord: cannot {what} in '{guild.name}': the bot lacks '{needed}'; "
            "grant it in Server Settings > Roles (see docs/discord.md, step 2)",
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
    return with_mentions(body, role_id=role_id, users=users)


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


# ------------------------------------------------------------------ keeping events in step

EVENTS_CURSOR = "discord-events"  # archive cursor "platform" holding occurrence -> event
OPTINS_CURSOR = "discord-optins"  # archive cursor "platform" holding user id -> "1"/"0"


class CursorStore(Protocol):
    """The two archive methods the mirror needs (only archive/ writes SQL)."""

    def cursor(self, chat_id: str, platform: str) -> dict[str, str]:
        """The saved cursor of `platform` for `chat_id`."""

    def save_cursor(
        self, chat_id: str, platform: str, cursor: Mapping[str, str], now: datetime
    ) -> None:
        """Merge `cursor` into the saved one."""


class MemoryStore:
    """A CursorStore for a platform running without an archive (scripts, tests)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], dict[str, str]] = {}

    def cursor(self, chat_id: str, platform: str) -> dict[str, str]:
        """The saved cursor of `platform` for `chat_id` (a copy)."""
        return dict(self.data.get((chat_id, platform), {}))

    def save_cursor(
        self, chat_id: str, platform: str, cursor: Mapping[str, str], now: datetime
    ) -> None:
        """Merge `cursor` into the saved one."""
        self.data.setdefault((chat_id, platform), {}).update(cursor)


@dataclass(frozen=True)
class SyncResult:
    """What one sync did, by occurrence key."""
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # started or over: Discord refuses events in the past
    failed: tuple[str, ...] = ()  # refused this time; tried again at the next sync


def occurrence_start(key: str) -> datetime | None:
    """The UTC start inside an occurrence key "<chat>:<UTC start ISO>" (chat ids hold no ':')."""
    try:
        return datetime.fromisoformat(key.split(":", 1)[1])
    except (IndexError, ValueError):
        return None


def spec_for(upcoming: Upcoming, channel_id: int) -> EventSpec:
    """The scheduled event for one upcoming session, in `channel_id`."""
    description = upcoming.description.strip()
    if upcoming.url:
        description = f"{description}\n\n{upcoming.url}".strip()
    return EventSpec(
        name=upcoming.title,
        start=upcoming.start,
        end=upcoming.end,
        description=description,
        channel_id=channel_id,
    )


def _signature(spec: EventSpec) -> str:
    # Stored beside the event id so an unchanged occurrence costs no API call on each replan.
    parts = (spec.name, spec.start.isoformat(), spec.end.isoformat(), spec.description)
    text = "\x1f".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ScheduleMirror:
    """One chat's upcoming occurrences as Discord scheduled events, keyed by occurrence key.

    The key -> event id map lives in the archive (cursors table), so a restarted bot
    updates the events it made instead of creating them again.
    """

    def __init__(
        self, guild: discord.Guild, chat_id: str, channel_id: int, store: CursorStore
    ) -> None:
        self.guild = guild
        self.chat_id = chat_id
        self.channel_id = channel_id
        self.store = store

    def mapping(self) -> dict[str, tuple[str, str]]:
        """Occurrence key -> (event id, signature), for events the bot still looks after."""
        found: dict[str, tuple[str, str]] = {}
        for key, value in self.store.cursor(self.chat_id, EVENTS_CURSOR).items():
            if not value:
                continue  # forgotten (cancelled or over); the cursor table only upserts
            try:
                record = json.loads(value)
                found[key] = (str(record["id"]), str(record.get("sig", "")))
            except (ValueError, KeyError, TypeError):
                log.warning("discord: unreadable event record for %s; ignoring it", key)
        return found

    def event_id(self, key: str) -> str | None:
        """The Discord event id kept for an occurrence key, or None."""
        entry = self.mapping().get(key)
        return entry[0] if entry else None

    def _save(self, key: str, event_id: str | None, sig: str, now: datetime) -> None:
        value = json.dumps({"id": event_id, "sig": sig}) if event_id else ""
        self.store.save_cursor(self.chat_id, EVENTS_CURSOR, {key: value}, now)

    async def sync(self, upcoming: Sequence[Upcoming], now: datetime) -> SyncResult:
        """Create, update and cancel events to match `upcoming`.

        An occurrence that has started is left alone: Discord refuses an event in the
        past and starts external events itself, after which their start cannot change.
        One refusal is logged and the rest of the occurrences still go through.
        """
        known = self.mapping()
        done: dict[str, list[str]] = {k: [] for k in
                                      ("created", "updated", "cancelled", "unchanged",
                                       "skipped", "failed")}
        wanted = {u.key: u for u in upcoming}
        for key, item in wanted.items():
            try:
                done[await self._sync_one(key, item, known.get(key), now)].append(key)
            except PlatformError as e:
                log.warning("discord: event for %s not synced: %s", key, e)
                done["failed"].append(key)
        for key, (event_id, _sig) in known.items():
            if key in wanted:
                continue
            try:
                if await self._retire(key, event_id, now):
                    done["cancelled"].append(key)
            except PlatformError as e:
                log.warning("discord: event for %s not retired: %s", key, e)
                done["failed"].append(key)
                continue
            self._save(key, None, "", now)
        return SyncResult(**{k: tuple(v) for k, v in done.items()})

    async def _sync_one(
        self, key: str, item: Upcoming, entry: tuple[str, str] | None, now: datetime
    ) -> str:
        if item.start <= now:
            return "skipped"  # running or over: never create in the past, never edit it
        spec = spec_for(item, self.channel_id)
        sig = _signature(spec)
        if entry is None:
            event_id = await create_event(self.guild, spec, reason="chat scheduled")
            outcome = "created"
        elif entry[1] == sig:
            return "unchanged"
        else:
            event_id = await update_event(self.guild, entry[0], spec, reason="chat changed")
            outcome = "updated"
        self._save(key, event_id, sig, now)
        return outcome

    async def _retire(self, key: str, event_id: str, now: datetime) -> bool:
        """An event no longer planned; True when a future one was cancelled."""
        start = occurrence_start(key)
        if start is not None and start <= now:
            # The hour has passed: end it if it is still shown as running, never mark a
            # chat that took place as cancelled.
            event = await _get(self.guild, event_id)
            if event is not None and event.status is discord.EventStatus.active:
                await cancel_event(self.guild, event_id, reason="chat over")
            return False
        # Still in the future but no longer planned: the script or session changed.
        return await cancel_event(self.guild, event_id, reason="chat no longer scheduled")

    # -- reminder opt-ins ----------------------------------------------------------------

    def opted_in(self) -> list[str]:
        """The user ids opted in to reminders with /chat join."""
        return [
            uid for uid, on in self.store.cursor(self.chat_id, OPTINS_CURSOR).items() if on == "1"
        ]

    def set_opt_in(self, user_id: str, on: bool, now: datetime) -> bool:
        """Record (or withdraw) a reminder opt-in; returns False if nothing changed."""
        before = user_id in self.opted_in()
        self.store.save_cursor(self.chat_id, OPTINS_CURSOR, {user_id: "1" if on else "0"}, now)
        return before != on

    async def remind(self, channel: discord.abc.Messageable, text: str, start: datetime,
                     role_id: int | None) -> str:
        """Post a reminder with each reader's own local time; its message id.

        It pings the reminder role if one is set, else everyone interested in the event or
        opted in with /chat join (the first 100).
        """
        text = f"{text}\nYour time: {discord_time(start, 'F')} ({discord_time(start, 'R')})"
        users = [] if role_id is not None else (await self.audience(start))[:100]
        body = with_mentions(text, role_id=role_id, users=users)
        return await send_reminder(channel, body, role_id=role_id, users=users)

    async def audience(self, start: datetime) -> list[Author]:
        """Who a reminder for the session starting at `start` mentions.

        Everyone interested in its event, then everyone who opted in with /chat join, each
        once.
        """
        people: list[Author] = []
        key = f"{self.chat_id}:{start.astimezone(UTC).isoformat()}"
        event_id = self.event_id(key)
        if event_id is not None:
            people.extend(await interested_users(self.guild, event_id))
        seen = {p.id for p in people}
        for uid in self.opted_in():
            if uid not in seen:
                people.append(Author(platform=PLATFORM, id=uid, name=""))
                seen.add(uid)
        return people


def with_mentions(
    text: str, *, role_id: int | None = None, users: Sequence[Author] = ()
) -> str:
    """Put the pings in front of `text`, within Discord's 2000 characters."""
    if role_id is not None:
        return f"<@&{role_id}> {text}"[:MAX_LENGTH]
    if not users:
        return text[:MAX_LENGTH]
    mentions: list[str] = []
    room = MAX_LENGTH - len(text) - len("\n… and 9999 more") - 1
    for user in users:
        tag = f"<@{user.id}>"
        if sum(len(m) + 1 for m in mentions) + len(tag) + 1 > room:
            break
        mentions.append(tag)
    extra = len(users) - len(mentions)
    out = " ".join(mentions) + "\n" + text if mentions else text
    if extra:
        out += f"\n… and {extra} more"
    return out[:MAX_LENGTH]
