"""Scheduled events and reminders, against a fake of Discord's scheduled-event routes.

dpytest has no scheduled events, so `FakeEventRoutes` (bot/testing/fake_discord.py)
replaces those HTTPClient methods with functions that keep events as Discord's JSON
payloads and enforce the rules Discord does (Create/Manage Events, no event in the past,
no edit of an active one, external events need a location and an end, status
transitions). discord.py builds its real ScheduledEvent objects from them, so a
misuse of its API fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as dback

from bot.archive import Archive
from bot.clock import FakeClock
from bot.platforms.base import ChatContext, PlatformError
from bot.platforms.discord.adapter import DiscordPlatform
from bot.platforms.discord.scheduled_events import (
    EventSpec,
    cancel_event,
    create_event,
    interested_users,
    reminder_text,
    send_reminder,
    update_event,
)
from bot.records import Author, Upcoming
from bot.testing.fake_discord import BOT_PERMISSIONS, DiscordWorld
from bot.testing.fake_discord_events import FakeEventRoutes

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


async def test_manage_events_alone_cannot_create_and_the_line_says_create_events(
    world: DiscordWorld, routes: FakeEventRoutes
) -> None:
    # The invite docs/discord.md used to give: MANAGE_EVENTS without CREATE_EVENTS.
    without = discord.Permissions(BOT_PERMISSIONS.value)
    without.create_events = False
    dback.update_role(world.bot_role, permissions=without.value)
    with pytest.raises(PlatformError) as err:
        await create_event(world.guild, spec(world))
    assert str(err.value) == (
        "Discord: cannot create the event in 'Test Guild 0': the bot lacks 'Create Events'; "
        "grant it in Server Settings > Roles (see docs/discord.md, step 2)"
    )
    assert not err.value.retryable and routes.events == {}


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


# --- the adapter keeps events in step with the schedule ---------------------------------------


def upcoming(*starts: datetime, title: str = "#NHSSM chat") -> list[Upcoming]:
    return [
        Upcoming(f"nhssm:{s.isoformat()}", s, s + timedelta(hours=1), title,
                 "Weekly chat.", "https://chat.example/chats/nhssm")
        for s in starts
    ]


async def started_platform(world: DiscordWorld, archive: Archive, *,
                           clock: FakeClock | None = None, **settings: Any) -> DiscordPlatform:
    """A started platform on the fake guild, by default a day before START."""
    ctx = ChatContext("nhssm", "#NHSSM chat", "#NHSSM", settings=world.settings(**settings))
    platform = DiscordPlatform(ctx, client=world.bot,
                               clock=clock or FakeClock(START - timedelta(days=1)))
    await platform.start()
    assert platform.mirror is not None
    platform.mirror.store = archive  # the archive keeps the occurrence -> event map
    return platform


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive.db")


async def test_sync_creates_then_leaves_unchanged_events_alone(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive)
    week = timedelta(days=7)
    await platform.sync_schedule(upcoming(START, START + week))
    assert len(routes.events) == 2
    stored = sorted(routes.events.values(), key=lambda d: d["scheduled_start_time"])
    assert [d["scheduled_start_time"] for d in stored] == [START.isoformat(),
                                                          (START + week).isoformat()]
    assert "https://chat.example/chats/nhssm" in stored[0]["description"]
    edits = len(routes.reasons)
    # A replan with nothing changed costs no API call, even after a restart (map in archive).
    again = await started_platform(world, archive)
    await again.sync_schedule(upcoming(START, START + week))
    assert len(routes.reasons) == edits and len(routes.events) == 2


async def test_sync_updates_a_changed_title_and_cancels_a_dropped_occurrence(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive)
    week = timedelta(days=7)
    await platform.sync_schedule(upcoming(START, START + week))
    first, second = (platform.mirror.event_id(u.key) for u in upcoming(START, START + week))
    # The script changed: the title is new and the second week is no longer planned.
    await platform.sync_schedule(upcoming(START, title="#NHSSM special"))
    assert routes.events[int(first)]["name"] == "#NHSSM special"
    assert routes.events[int(first)]["status"] == discord.EventStatus.scheduled.value
    assert routes.events[int(second)]["status"] == discord.EventStatus.cancelled.value
    assert platform.mirror.event_id(upcoming(START + week)[0].key) is None
    assert routes.reasons[-2:] == ["chat changed", "chat no longer scheduled"]


async def test_a_past_occurrence_is_ended_not_cancelled(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive)
    await platform.sync_schedule(upcoming(START))
    event_id = platform.mirror.event_id(upcoming(START)[0].key)
    routes.events[int(event_id)]["status"] = discord.EventStatus.active.value  # it ran
    platform.clock.advance(2 * 86400)  # type: ignore[attr-defined]
    await platform.sync_schedule([])
    assert routes.events[int(event_id)]["status"] == discord.EventStatus.completed.value


async def test_reminder_mentions_the_interested_and_the_opted_in(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive)
    await platform.sync_schedule(upcoming(START))
    event_id = platform.mirror.event_id(upcoming(START)[0].key)
    routes.interested[int(event_id)] = [world.ann, world.guild.me]
    platform.mirror.set_opt_in(str(world.ben.id), True, START)
    platform.mirror.set_opt_in(str(world.ann.id), True, START)  # interested too: pinged once
    ref = await platform.remind("Reminder: #NHSSM chat starts in 1 hour.", START)
    sent = dpytest.get_message()
    assert ref is not None and ref.id == str(sent.id)
    assert sent.content.splitlines()[0] == f"<@{world.ann.id}> <@{world.ben.id}>"
    assert f"<t:{int(START.timestamp())}:F>" in sent.content
    allowed = world.sent_payloads[sent.id]["allowed_mentions"]
    assert sorted(allowed["users"]) == sorted([world.ann.id, world.ben.id])
    assert allowed["parse"] == []  # no @everyone, no roles


async def test_reminder_with_a_reminder_role_pings_only_the_role(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    role = dback.make_role("chat-reminders", world.guild)
    platform = await started_platform(world, archive, reminder_role="chat-reminders")
    platform.mirror.set_opt_in(str(world.ben.id), True, START)
    await platform.remind("Reminder: #NHSSM chat starts in 1 hour.", START)
    sent = dpytest.get_message()
    assert sent.content.startswith(f"<@&{role.id}> Reminder:")
    assert f"<@{world.ben.id}>" not in sent.content
    assert world.sent_payloads[sent.id]["allowed_mentions"]["roles"] == [role.id]


async def test_transcript_files_are_posted_in_the_channel(
    world: DiscordWorld, archive: Archive, tmp_path: Path
) -> None:
    platform = await started_platform(world, archive)
    html, md, csv = tmp_path / "transcript.html", tmp_path / "transcript.md", tmp_path / "t.csv"
    html.write_text("<h1>Q1</h1>")
    md.write_text("# Q1")
    csv.write_text("id\n")
    await platform.publish_transcript([html, md, csv], "https://chat.example/archive/3")
    sent = dpytest.get_message()
    assert sent.channel == world.chat
    assert "https://chat.example/archive/3" in sent.content
    assert [a.filename for a in sent.attachments] == ["transcript.html", "transcript.md"]
    assert world.uploads[sent.id] == {"transcript.html": b"<h1>Q1</h1>", "transcript.md": b"# Q1"}


async def test_without_attach_files_only_the_link_is_shared(
    world: DiscordWorld, archive: Archive, tmp_path: Path
) -> None:
    platform = await started_platform(world, archive)
    await dpytest.set_permission_overrides(world.bot_role, world.chat, attach_files=False)
    html = tmp_path / "transcript.html"
    html.write_text("<h1>Q1</h1>")
    await platform.publish_transcript([html], "https://chat.example/archive/3")
    sent = dpytest.get_message()
    assert sent.attachments == [] and sent.content.endswith("https://chat.example/archive/3")
    await platform.publish_transcript([html], None)  # nothing to share: nothing is posted
    assert dpytest.verify().message().nothing()
