"""Scheduled events and reminders, against a fake of Discord's scheduled-event routes.

dpytest has no scheduled events, so `FakeEventRoutes` replaces those HTTPClient methods
with functions that keep events as Discord's JSON payloads and enforce the rules Discord
does (Manage Events, external events need a location and an end, status transitions).
discord.py builds its real ScheduledEvent objects from them, so a misuse of its API fails.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from discord.ext.test import backend as dback
from discord.ext.test import factories as facts

from bot.platforms.base import Author, PlatformError
from bot.platforms.discord_events import (
    EventSpec,
    cancel_event,
    create_event,
    interested_users,
    reminder_text,
    send_reminder,
    update_event,
)
from tests.platforms import test_discord_harness as harness
from tests.platforms.test_discord_harness import BOT_PERMISSIONS, DiscordWorld

world = harness.world  # the shared dpytest fixture

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def _bad_request(message: str) -> discord.HTTPException:
    return discord.HTTPException(dback.FakeRequest(400, "Bad Request"), message)


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
            raise discord.Forbidden(dback.FakeRequest(403, "Forbidden"), "Missing Permissions")

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
            "creator_id": str(self.world.state.user.id),
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
                dback.FakeRequest(404, "Not Found"), "Unknown Guild Scheduled Event"
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
            {"guild_scheduled_event_id": str(event_id), "user": facts.dict_from_user(u)}
            for u in users[:limit]
        ]


@pytest.fixture
def routes(world: DiscordWorld) -> FakeEventRoutes:
    return FakeEventRoutes(world)


def spec(world: DiscordWorld, **changes: Any) -> EventSpec:
    fields: dict[str, Any] = {
        "name": "#NHSSM: social media in the NHS",
        "start": START,
        "end": END,
        "description": "Weekly chat. Q1 at 20:05.",
        "channel_id": world.chat.id,
    }
    return EventSpec(**{**fields, **changes})


async def test_event_in_a_text_channel_links_the_channel_as_location(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(world.guild, spec(world), reason="chat scheduled")
    stored = routes.events[int(event_id)]
    assert stored["entity_type"] == discord.EntityType.external.value
    assert stored["entity_metadata"] == {"location": world.chat.jump_url}
    assert stored["channel_id"] is None
    assert stored["scheduled_start_time"] == START.isoformat()
    assert stored["scheduled_end_time"] == END.isoformat()
    assert stored["privacy_level"] == discord.PrivacyLevel.guild_only.value
    assert routes.reasons == ["chat scheduled"]


async def test_event_in_a_voice_channel_is_hosted_there(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    voice = world.guild.voice_channels[0]
    event_id = await create_event(world.guild, spec(world, channel_id=voice.id))
    stored = routes.events[int(event_id)]
    assert stored["entity_type"] == discord.EntityType.voice.value
    assert stored["channel_id"] == str(voice.id)


async def test_external_location_and_long_names_are_cut_to_discords_limits(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(
        world.guild,
        spec(
            world,
            channel_id=None,
            location="https://chat.example.org/room/" + "r" * 200,
            name="N" * 150,
            description="d" * 1500,
        ),
    )
    stored = routes.events[int(event_id)]
    assert len(stored["name"]) == 100 and len(stored["description"]) == 1000
    assert len(stored["entity_metadata"]["location"]) == 100


async def test_update_moves_the_event(world: DiscordWorld, routes: FakeEventRoutes) -> None:
    event_id = await create_event(world.guild, spec(world))
    later = START + timedelta(days=7)
    same = await update_event(
        world.guild, event_id, spec(world, start=later, end=later + timedelta(hours=1))
    )
    assert same == event_id
    assert routes.events[int(event_id)]["scheduled_start_time"] == later.isoformat()


async def test_update_recreates_an_event_deleted_by_hand(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(world.guild, spec(world))
    del routes.events[int(event_id)]
    new_id = await update_event(world.guild, event_id, spec(world))
    assert new_id != event_id and int(new_id) in routes.events


async def test_cancel_scheduled_then_again_is_harmless(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(world.guild, spec(world))
    assert await cancel_event(world.guild, event_id, reason="chat cancelled") is True
    assert routes.events[int(event_id)]["status"] == discord.EventStatus.cancelled.value
    assert await cancel_event(world.guild, event_id) is False
    assert await cancel_event(world.guild, "123456789012345678") is False


async def test_cancel_of_a_running_event_ends_it(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(world.guild, spec(world))
    routes.events[int(event_id)]["status"] = discord.EventStatus.active.value
    assert await cancel_event(world.guild, event_id) is True
    assert routes.events[int(event_id)]["status"] == discord.EventStatus.completed.value


async def test_missing_manage_events_is_one_plain_line(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    without = discord.Permissions(BOT_PERMISSIONS.value)
    without.manage_events = False
    dback.update_role(world.bot_role, permissions=without.value)
    with pytest.raises(PlatformError) as err:
        await create_event(world.guild, spec(world))
    assert str(err.value) == (
        "Discord: cannot create the event in 'Test Guild 0': the bot lacks 'Manage Events'; "
        "grant it in Server Settings > Roles"
    )
    assert not err.value.retryable


def test_spec_rejects_naive_times_and_backwards_slots() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EventSpec("x", START.replace(tzinfo=None), END, location="here")
    with pytest.raises(ValueError, match="after start"):
        EventSpec("x", END, START, location="here")
    with pytest.raises(ValueError, match="channel_id or a location"):
        EventSpec("x", START, END)


async def test_interested_users_leave_out_bots(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    event_id = await create_event(world.guild, spec(world))
    routes.interested[int(event_id)] = [world.ann, world.ben, world.guild.me]
    people = await interested_users(world.guild, event_id)
    assert sorted(p.handle for p in people) == ["ann", "ben"]
    assert {p.id for p in people} == {str(world.ann.id), str(world.ben.id)}
    assert all(p.platform == "discord" for p in people)


# --- reminders ------------------------------------------------------------------------------

ANN = Author("discord", "111111111111111111", "Ann", "ann")
BEN = Author("discord", "222222222222222222", "Ben", "ben")


def test_reminder_with_a_role_pings_the_role_only() -> None:
    text = reminder_text(
        "Social media in the NHS",
        START,
        hashtag="#NHSSM",
        role_id=42,
        users=[ANN],
        url="https://discord.com/events/1/2",
    )
    assert text == (
        "<@&42> Reminder: **Social media in the NHS** #NHSSM starts "
        "<t:1767816000:F> (<t:1767816000:R>).\nhttps://discord.com/events/1/2"
    )


def test_reminder_mentions_interested_people() -> None:
    text = reminder_text("Chat", START, users=[ANN, BEN])
    assert text.splitlines()[0] == "<@111111111111111111> <@222222222222222222>"


def test_reminder_with_a_crowd_stays_under_2000_characters() -> None:
    crowd = [Author("discord", str(10**17 + i), f"p{i}") for i in range(300)]
    text = reminder_text("Chat", START, users=crowd)
    assert len(text) <= 2000
    shown = text.splitlines()[0].count("<@")
    assert text.endswith(f"… and {300 - shown} more") and shown > 50


async def test_send_reminder_allows_only_the_intended_pings(world: DiscordWorld) -> None:
    payloads: list[dict[str, Any]] = []
    real = world.http.send_message

    async def send_message(channel_id: int, *, params: Any) -> Any:
        payloads.append(params.payload)
        return await real(channel_id, params=params)

    world.http.send_message = send_message
    await send_reminder(world.chat, "hi", users=[ANN])
    await send_reminder(world.chat, "hi", role_id=42)
    assert payloads[0]["allowed_mentions"] == {"parse": [], "users": [int(ANN.id)]}
    assert payloads[1]["allowed_mentions"] == {"parse": [], "roles": [42]}
