"""The fake Discord's scheduled events, and slash-command interactions built with `spec_set`
from discord.py's real classes (so a command that misuses the API fails its test).

dpytest has no scheduled events: `FakeEventRoutes` keeps them as Discord's JSON payloads
and enforces Discord's rules (start in the future, name and description lengths, status
transitions).
"""

from __future__ import annotations

import types
from typing import Any, cast
from unittest import mock

import discord
from discord.ext.test import factories as facts

from bot.testing.fake_discord import DiscordWorld, fake_response


def _bad_request(message: str) -> discord.HTTPException:
    return discord.HTTPException(fake_response(400, "Bad Request"), message)


class FakeEventRoutes:
    def __init__(self, world: DiscordWorld) -> None:
        self.world = world
        self.events: dict[int, dict[str, Any]] = {}
        self.interested: dict[int, list[discord.abc.User]] = {}
        self.reasons: list[str | None] = []
        http = world.http
        for name in (
            "create_guild_scheduled_event",
            "get_scheduled_event",
            "edit_scheduled_event",
            "get_scheduled_event_users",
        ):
            setattr(http, name, types.MethodType(getattr(type(self), name), self))

    def _check_permission(self) -> None:
        if not self.world.guild.me.guild_permissions.manage_events:
            raise discord.Forbidden(fake_response(403, "Forbidden"), "Missing Permissions")

    def _validate(self, data: dict[str, Any]) -> None:
        if data["entity_type"] == discord.EntityType.external.value:
            if not (data.get("entity_metadata") or {}).get("location"):
                raise _bad_request("entity_metadata.location is required for external events")
            if not data.get("scheduled_end_time"):
                raise _bad_request("scheduled_end_time is required for external events")
            if data.get("channel_id") is not None:
                raise _bad_request("external events have no channel")
        elif data.get("channel_id") is None:
            raise _bad_request("channel_id is required")

    async def create_guild_scheduled_event(
        self, guild_id: int, *, reason: str | None = None, **payload: Any
    ) -> dict[str, Any]:
        self._check_permission()
        self.reasons.append(reason)
        event_id = facts.make_id()
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
        if int(event_id) not in self.events:
            raise discord.NotFound(
                fake_response(404, "Not Found"), "Unknown Guild Scheduled Event"
            )
        data = dict(self.events[int(event_id)])
        if with_user_count:
            data["user_count"] = len(self.interested.get(int(event_id), []))
        return data

    async def edit_scheduled_event(
        self, guild_id: int, event_id: int, *, reason: str | None = None, **payload: Any
    ) -> dict[str, Any]:
        self._check_permission()
        self.reasons.append(reason)
        data = self.events[int(event_id)]
        status = payload.get("status")
        allowed = {
            discord.EventStatus.scheduled.value: {
                discord.EventStatus.active.value,
                discord.EventStatus.cancelled.value,
            },
            discord.EventStatus.active.value: {discord.EventStatus.completed.value},
        }
        if status is not None and status not in allowed.get(data["status"], set()):
            raise _bad_request(f"cannot move event from status {data['status']} to {status}")
        updated = {**data, **payload}
        if updated.get("channel_id") is not None:
            updated["channel_id"] = str(updated["channel_id"])
        self._validate(updated)
        self.events[int(event_id)] = updated
        return dict(updated)

    async def get_scheduled_event_users(
        self,
        guild_id: int,
        event_id: int,
        limit: int,
        with_member: bool,
        before: int | None = None,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        users = sorted(self.interested.get(int(event_id), []), key=lambda u: u.id, reverse=True)
        if before is not None:
            users = [u for u in users if u.id < int(before)]
        return [
            {"guild_scheduled_event_id": str(event_id), "user": facts.dict_from_user(cast(Any, u))}
            for u in users[:limit]
        ]


def interaction(
    world: DiscordWorld,
    member: discord.Member,
    *,
    channel: discord.abc.GuildChannel | discord.Thread | None = None,
) -> Any:
    """A slash-command interaction from `member` in `channel`, as a spec_set mock.

    The user, guild and channel are dpytest's real objects, so permissions are computed by
    discord.py itself; `response` and `followup` record what the command answered.
    """
    channel = channel or world.chat
    inter = mock.Mock(spec_set=discord.Interaction)
    inter.user = member
    inter.guild = world.guild
    inter.guild_id = world.guild.id
    inter.channel = channel
    inter.channel_id = channel.id
    inter.client = world.bot
    inter.permissions = channel.permissions_for(member)
    response = mock.Mock(spec_set=discord.InteractionResponse)
    done = {"value": False}

    async def answered(*args: Any, **kwargs: Any) -> None:
        done["value"] = True

    response.is_done.side_effect = lambda: done["value"]
    response.send_message.side_effect = answered
    response.defer.side_effect = answered
    inter.response = response
    inter.followup = mock.Mock(spec_set=discord.Webhook)
    return inter


def replies(inter: Any) -> list[tuple[str, dict[str, Any]]]:
    """Everything the command said back, in order: (text, keyword arguments)."""
    said: list[tuple[str, dict[str, Any]]] = []
    for call in inter.response.send_message.call_args_list + inter.followup.send.call_args_list:
        text = call.args[0] if call.args else call.kwargs.get("content", "")
        said.append((text, {k: v for k, v in call.kwargs.items() if k != "content"}))
    return said
