"""Fixtures for the platform tests: the fake Discord guild (bot/testing/fake_discord.py),
its scheduled-event routes, a started App on it, and the X adapter's clock and fake server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as dback
from discord.ext.test import factories as facts

from bot.clock import JumpClock
from bot.platforms.discord import client as shared
from bot.testing.fake_discord import DiscordWorld, dict_from_overwrite, open_world
from bot.testing.fake_discord_events import FakeEventRoutes
from bot.testing.fake_x import FakeXServer
from tests.conftest import chat_script


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordWorld]:
    """The fake guild (dpytest's overwrite bug patched for the test's duration)."""
    monkeypatch.setattr(facts, "dict_from_overwrite", dict_from_overwrite)
    yield await open_world()
    await dpytest.empty_queue()
    shared.lend(None)  # the Discord package's shared client is process state: leave none


@pytest.fixture
def routes(world: DiscordWorld) -> FakeEventRoutes:
    return FakeEventRoutes(world)


# --- the real App on the fake guild ---------------------------------------------------------

DISCORD_SCRIPT = chat_script(
    "[discord]",
    'platform_settings:\n  discord:\n    guild_id: "{guild}"\n    channel_id: "{channel}"\n'
    "    moderator_role: Moderator\n",
)


def discord_script_text(world: DiscordWorld, chat_id: str = "test",
                        channel: discord.abc.Snowflake | None = None) -> str:
    """A chat script on the fake guild, in `channel` (default: #chat)."""
    channel_id = (channel or world.chat).id
    return (DISCORD_SCRIPT.replace("{id}", chat_id).replace("{guild}", str(world.guild.id))
            .replace("{channel}", str(channel_id)))


@pytest.fixture
async def discord_app(
    world: DiscordWorld, tmp_path: Any
) -> AsyncIterator[Any]:
    """`await discord_app(clock=...)`: a started App whose chat runs on the fake guild.

    dpytest's client is lent to the Discord package (`client.lend`): every chat's adapter
    borrows it (one shared client) instead of logging in.
    """
    from bot.app import App
    from bot.script import load_script
    from tests.conftest import make_settings

    moderator = dback.make_role("Moderator", world.guild)
    dback.update_member(world.ben, roles=[moderator])
    apps: list[Any] = []

    async def make(*, clock: Any = None, from_dir: bool = False) -> Any:
        settings = make_settings(tmp_path)
        chats = tmp_path / "chats"
        chats.mkdir(exist_ok=True)
        path = chats / "test.yaml"
        path.write_text(discord_script_text(world), encoding="utf-8")
        scripts = None if from_dir else [load_script(path)]
        app = App(settings, clock=clock, scripts=scripts, with_scheduler=False, with_web=False)
        shared.lend(world.bot)
        await app.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.stop()


# --- the X adapter's defaults (a module may define its own) --------------------------------


@pytest.fixture
def clock() -> JumpClock:
    return JumpClock()


@pytest.fixture
async def server(clock: JumpClock) -> AsyncIterator[FakeXServer]:
    async with FakeXServer(clock=clock) as s:
        yield s
