"""Event sync against Discord's production rules (issue 16, finding 4): the occurrence
list includes the running session, Discord refuses events in the past and edits of an
active event, and one refusal must not stop the others."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import discord
import pytest

from bot.archive import Archive
from bot.clock import FakeClock
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import FakeEventRoutes, http_error
from tests.platforms.test_discord_events import START, started_platform, upcoming

WEEK = timedelta(days=7)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive.db")


def _clock(routes: FakeEventRoutes) -> FakeClock:
    assert isinstance(routes.clock, FakeClock)
    return routes.clock


async def test_a_restart_mid_session_skips_the_running_occurrence_and_creates_the_next(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    _clock(routes).advance(86400 + 600)  # ten minutes into the chat at START
    platform = await started_platform(world, archive, clock=_clock(routes))
    await platform.sync_schedule(upcoming(START, START + WEEK))
    starts = [d["scheduled_start_time"] for d in routes.events.values()]
    assert starts == [(START + WEEK).isoformat()]
    assert routes.refused == []  # nothing was even tried in the past
    assert platform.mirror is not None
    assert platform.mirror.event_id(upcoming(START)[0].key) is None


async def test_a_change_mid_session_leaves_the_active_event_and_updates_the_rest(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive, clock=_clock(routes))
    await platform.sync_schedule(upcoming(START, START + WEEK))
    assert platform.mirror is not None
    first, second = (platform.mirror.event_id(u.key) for u in upcoming(START, START + WEEK))
    _clock(routes).advance(86400 + 600)  # Discord starts the external event itself
    await platform.sync_schedule(upcoming(START, START + WEEK, title="#NHSSM special"))
    assert routes.events[int(first)]["status"] == discord.EventStatus.active.value
    assert routes.events[int(first)]["name"] == "#NHSSM chat"  # never edited while running
    assert routes.events[int(second)]["name"] == "#NHSSM special"
    assert routes.refused == []


async def test_one_refused_occurrence_does_not_stop_the_others(
    world: DiscordWorld, routes: FakeEventRoutes, archive: Archive
) -> None:
    platform = await started_platform(world, archive, clock=_clock(routes))
    real_create = world.http.create_guild_scheduled_event
    calls = {"n": 0}

    async def first_refused(guild_id: int, **payload: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise http_error(500, 0, "Internal Server Error")
        return await real_create(guild_id, **payload)

    world.http.create_guild_scheduled_event = first_refused  # type: ignore[method-assign]
    await platform.sync_schedule(upcoming(START, START + WEEK, START + 2 * WEEK))
    assert sorted(d["scheduled_start_time"] for d in routes.events.values()) == [
        (START + WEEK).isoformat(), (START + 2 * WEEK).isoformat()]
    # The refused one is tried again at the next sync.
    await platform.sync_schedule(upcoming(START, START + WEEK, START + 2 * WEEK))
    assert len(routes.events) == 3
