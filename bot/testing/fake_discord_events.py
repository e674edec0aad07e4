"""The fake Discord's scheduled events, and slash-command interactions.

The interactions are built with `spec_set` from discord.py's real classes (so a
command that misuses the API fails its test).

dpytest has no scheduled events: `FakeEventRoutes` keeps them as Discord's JSON payloads.
Both are as strict as Discord is in production (issue 16):

- scheduled events: creating one needs CREATE_EVENTS (MANAGE_EVENTS only edits and
  deletes events others made); no event may start in the past; an ACTIVE event can only
  be ended; Discord itself starts external events at their start time and
  completes them at their end;
- interactions: the first answer (a message or a defer) must come within 3 seconds of
  the command, or the interaction is gone (404 Unknown interaction, code 10062);
  follow-ups have 15 minutes; an upload larger than the server's limit is a 413
  (code 40005) and nothing is sent.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from unittest import mock

import discord
from discord.ext.test import factories as facts

from bot.clock import Clock, FakeClock
from bot.testing.fake_discord import DiscordWorld, fake_response

INTERACTION_DEADLINE = 3.0  # seconds to answer or defer
FOLLOWUP_WINDOW = 15 * 60.0  # seconds an interaction token stays valid after that
# A day before the chat the event tests schedule (2026-01-07 20:00 UTC).
EVENTS_EPOCH = datetime(2026, 1, 6, 20, 0, tzinfo=UTC)


def http_error(status: int, code: int, message: str) -> discord.HTTPException:
    """The exception discord.py raises for this status, carrying Discord's JSON error."""
    reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found",
               413: "Payload Too Large"}
    response = fake_response(status, reasons.get(status, "Error"))
    body = {"code": code, "message": message}
    kind = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.HTTPException)
    return kind(response, body)


def form_error(field: str, message: str) -> discord.HTTPException:
    """Discord's 400 Invalid Form Body (code 50035) naming one field."""
    return http_error(400, 50035, f"Invalid Form Body\nIn {field}: {message}")


class FakeEventRoutes:
    """Discord's scheduled-event routes, patched onto discord.py's HTTP client.

    `world` needs `http`, `guild` and `state` (dpytest's world does). `clock` says when
    "now" is: events start and complete by it, and none may be created before it.
    """

    def __init__(self, world: DiscordWorld, clock: Clock | None = None) -> None:
        self.world = world
        self.clock = clock or FakeClock(EVENTS_EPOCH)
        self.events: dict[int, dict[str, Any]] = {}
        self.interested: dict[int, list[discord.abc.User]] = {}
        self.reasons: list[str | None] = []
        self.refused: list[str] = []  # each refusal's message, in order
        self._ids = iter(range(1_300_000_000_000_000_000, 2**62))
        for name in ("create_guild_scheduled_event", "get_scheduled_event",
                     "edit_scheduled_event", "get_scheduled_event_users"):
            setattr(world.http, name, types.MethodType(getattr(type(self), name), self))

    def _refuse(self, error: discord.HTTPException) -> discord.HTTPException:
        self.refused.append(error.text)
        return error

    def _tick(self) -> None:
        """Discord starts external events at their start and ends them at their end."""
        now = self.clock.now()
        for data in self.events.values():
            start = datetime.fromisoformat(data["scheduled_start_time"])
            end = data.get("scheduled_end_time")
            if data["status"] == discord.EventStatus.scheduled.value and start <= now:
                data["status"] = discord.EventStatus.active.value
            if (data["status"] == discord.EventStatus.active.value and end
                    and datetime.fromisoformat(end) <= now):
                data["status"] = discord.EventStatus.completed.value

    def _perms(self) -> discord.Permissions:
        return self.world.guild.me.guild_permissions

    def _validate(self, data: dict[str, Any]) -> None:
        if data["entity_type"] == discord.EntityType.external.value:
            if not (data.get("entity_metadata") or {}).get("location"):
                raise self._refuse(form_error("entity_metadata.location", "required"))
            if not data.get("scheduled_end_time"):
                raise self._refuse(form_error("scheduled_end_time", "required"))
            if data.get("channel_id") is not None:
                raise self._refuse(form_error("channel_id", "external events have none"))
        elif data.get("channel_id") is None:
            raise self._refuse(form_error("channel_id", "required"))

    async def create_guild_scheduled_event(
        self, guild_id: int, *, reason: str | None = None, **payload: Any
    ) -> dict[str, Any]:
        """Create a scheduled event as Discord does, refusing without Create Events."""
        self._tick()
        if not self._perms().create_events:
            raise self._refuse(http_error(403, 50013, "Missing Permissions"))
        start = datetime.fromisoformat(payload["scheduled_start_time"])
        if start <= self.clock.now():
            raise self._refuse(
                form_error("scheduled_start_time", "Cannot schedule event in the past.")
            )
        self.reasons.append(reason)
        event_id = next(self._ids)
        data = {
            "id": str(event_id),
            "guild_id": str(guild_id),
            "channel_id": str(payload["channel_id"]) if payload.get("channel_id") else None,
            "creator_id": str(self.world.bot_user_id),
            "name": payload["name"],
            "description": payload.get("description"),
            "scheduled_start_time": payload["scheduled_start_time"],
            "scheduled_end_time": payload.get("scheduled_end_time"),
            "privacy_level": payload.get("privacy_level", 2),
            "status": discord.EventStatus.scheduled.value,
            "entity_type": payload.get("entity_type", discord.EntityType.external.value),
            "entity_id": None,
            "entity_metadata": payload.get("entity_metadata"),
            "user_count": 0,
        }
        self._validate(data)
        self.events[event_id] = data
        return dict(data)

    async def get_scheduled_event(
        self, guild_id: int, event_id: int, with_user_count: bool
    ) -> dict[str, Any]:
        """One scheduled event's JSON; 404 when there is none."""
        self._tick()
        if int(event_id) not in self.events:
            raise http_error(404, 10070, "Unknown Guild Scheduled Event")
        data = dict(self.events[int(event_id)])
        if with_user_count:
            data["user_count"] = len(self.interested.get(int(event_id), []))
        return data

    async def edit_scheduled_event(
        self, guild_id: int, event_id: int, *, reason: str | None = None, **payload: Any
    ) -> dict[str, Any]:
        """Edit a scheduled event as Discord does, checking permissions and status changes."""
        self._tick()
        data = self.events[int(event_id)]
        perms = self._perms()
        own = data["creator_id"] == str(self.world.bot_user_id)
        if not (perms.manage_events or (own and perms.create_events)):
            raise self._refuse(http_error(403, 50013, "Missing Permissions"))
        status = payload.get("status")
        allowed = {
            discord.EventStatus.scheduled.value: {
                discord.EventStatus.active.value,
                discord.EventStatus.cancelled.value,
            },
            discord.EventStatus.active.value: {discord.EventStatus.completed.value},
        }
        if status is not None and status not in allowed.get(data["status"], set()):
            raise self._refuse(
                form_error("status", f"cannot move event from {data['status']} to {status}")
            )
        if data["status"] == discord.EventStatus.active.value:
            edits = sorted(set(payload) - {"status"})
            if edits:  # a running event can only be ended
                raise self._refuse(form_error(edits[0], "Cannot modify an active event."))
        self.reasons.append(reason)
        updated = {**data, **payload}
        if updated.get("channel_id") is not None:
            updated["channel_id"] = str(updated["channel_id"])
        self._validate(updated)
        self.events[int(event_id)] = updated
        return dict(updated)

    async def get_scheduled_event_users(
        self, guild_id: int, event_id: int, limit: int, with_member: bool,
        before: int | None = None, after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The users interested in an event, newest first, paged like Discord."""
        users = sorted(self.interested.get(int(event_id), []), key=lambda u: u.id, reverse=True)
        if before is not None:
            users = [u for u in users if u.id < int(before)]
        return [
            {"guild_scheduled_event_id": str(event_id),
             "user": facts.dict_from_user(cast(discord.User, u))}
            for u in users[:limit]
        ]


def interaction(
    world: DiscordWorld,
    member: discord.Member,
    *,
    channel: discord.abc.GuildChannel | discord.Thread | None = None,
    clock: Clock | None = None,
) -> Any:
    """A slash-command interaction as a spec_set mock that keeps Discord's deadlines.

    The user, guild and channel are real discord.py objects, so permissions are computed
    by discord.py itself. `clock` says how much time the command took: the first answer
    after INTERACTION_DEADLINE seconds raises 404 Unknown interaction, like Discord, and
    a follow-up file over the server's upload limit raises 413 with nothing sent.
    """
    clock = clock or FakeClock()
    opened = clock.now()
    client, guild, channel = world.bot, world.guild, channel or world.chat
    inter = mock.Mock(spec_set=discord.Interaction)
    inter.user = member
    inter.guild = guild
    inter.guild_id = guild.id
    inter.channel = channel
    inter.channel_id = channel.id
    inter.client = client
    inter.permissions = channel.permissions_for(member)
    response = mock.Mock(spec_set=discord.InteractionResponse)
    done = {"value": False}

    def elapsed() -> float:
        return (clock.now() - opened).total_seconds()

    async def answered(*args: Any, **kwargs: Any) -> None:
        if done["value"]:
            raise http_error(400, 40060, "Interaction has already been acknowledged.")
        if elapsed() > INTERACTION_DEADLINE:
            raise http_error(404, 10062, "Unknown interaction")
        _check_files(guild, kwargs)
        done["value"] = True

    async def followed(*args: Any, **kwargs: Any) -> None:
        if not done["value"] or elapsed() > INTERACTION_DEADLINE + FOLLOWUP_WINDOW:
            raise http_error(404, 10015, "Unknown Webhook")
        _check_files(guild, kwargs)

    response.is_done.side_effect = lambda: done["value"]
    response.send_message.side_effect = answered
    response.defer.side_effect = answered
    inter.response = response
    inter.followup = mock.Mock(spec_set=discord.Webhook)
    inter.followup.send.side_effect = followed
    return inter


def _check_files(guild: discord.Guild, kwargs: dict[str, Any]) -> None:
    files = list(kwargs.get("files") or ()) + ([kwargs["file"]] if kwargs.get("file") else [])
    total = sum(_size(f) for f in files)
    if total > guild.filesize_limit:
        raise http_error(413, 40005, "Request entity too large")


def _size(file: discord.File) -> int:
    fp = file.fp
    here = fp.tell()
    fp.seek(0, 2)
    size = fp.tell()
    fp.seek(here)
    return int(size)


def advance_on(clock: FakeClock, seconds: float) -> Callable[..., Any]:
    """A coroutine function that takes `seconds` of fake time: slow work, deterministic."""

    async def slow(*args: Any, **kwargs: Any) -> None:
        clock.advance(seconds)

    return slow


def replies(inter: Any) -> list[tuple[str, dict[str, Any]]]:
    """Everything the command said back, in order: (text, keyword arguments)."""
    said: list[tuple[str, dict[str, Any]]] = []
    for call in inter.response.send_message.call_args_list + inter.followup.send.call_args_list:
        text = call.args[0] if call.args else call.kwargs.get("content", "")
        said.append((text, {k: v for k, v in call.kwargs.items() if k != "content"}))
    return said
