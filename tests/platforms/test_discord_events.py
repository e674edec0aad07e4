"""Scheduled events and reminders, against a fake of Discord's scheduled-event routes.

dpytest has no scheduled events, so `FakeEventRoutes` (tests/platforms/conftest.py)
replaces those HTTPClient methods with functions that keep events as Discord's JSON payloads
and enforce the rules Discord does (Manage Events, external events need a location and an
end, status transitions). discord.py builds its real ScheduledEvent objects from them, so a
misuse of its API fails.
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
from tests.platforms.conftest import BOT_PERMISSIONS, DiscordWorld, FakeEventRoutes

START = datetime(2026, 1, 7, 20, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


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
