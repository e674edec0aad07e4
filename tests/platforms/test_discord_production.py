"""Discord as it behaves in production (issue 16, findings 3, 5, 6 and 9), against the
stricter fakes: event permissions named at start-up, role pings that would reach no one,
the 3-second interaction deadline and the upload limit, and messages sent while the
gateway was down (a reconnect that could not resume) or in the bot's own threads."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
from discord.ext.test import backend as dback

from bot.clock import FakeClock
from bot.platforms.base import PlatformSetupError
from bot.testing.fake_discord import BOT_PERMISSIONS, DiscordWorld
from bot.testing.fake_discord_events import interaction, replies
from tests.platforms.conftest import discord_script_text
from tests.platforms.test_discord_cog import attachment, cog_of
from tests.platforms.test_discord_platform import Collector, started


def _without(world: DiscordWorld, **off: bool) -> None:
    """The bot's role with these permissions off; @everyone without them too."""
    perms = discord.Permissions(BOT_PERMISSIONS.value)
    everyone = discord.Permissions(world.guild.default_role.permissions.value)
    for name, value in off.items():
        setattr(perms, name, value)
        setattr(everyone, name, value)
    dback.update_role(world.bot_role, permissions=perms.value)
    dback.update_role(world.guild.default_role, permissions=everyone.value)


async def test_start_up_names_create_events(world: DiscordWorld) -> None:
    _without(world, create_events=False)  # the invite docs/discord.md used to give
    with pytest.raises(PlatformSetupError) as err:
        await started(world)
    assert "'Create Events'" in str(err.value)


async def test_an_unmentionable_reminder_role_is_named_at_start_up(
    world: DiscordWorld, caplog: pytest.LogCaptureFixture
) -> None:
    role = dback.make_role("chat-reminders", world.guild)  # not mentionable by default
    _without(world, mention_everyone=False)
    with caplog.at_level(logging.WARNING):
        platform = await started(world, reminder_role="chat-reminders")
    assert any("'chat-reminders' is not mentionable" in r.getMessage() for r in caplog.records)
    sent = await platform._channel().send(f"<@&{role.id}> starts soon",
                                          allowed_mentions=discord.AllowedMentions(roles=[role]))
    assert world.pinged[sent.id] == []  # the ping shows, and notifies no one
    _without(world)  # with Mention Everyone, as the invite now asks
    sent = await platform._channel().send(f"<@&{role.id}> starts soon",
                                          allowed_mentions=discord.AllowedMentions(roles=[role]))
    assert world.pinged[sent.id] == [role.id]


async def test_load_answers_within_the_deadline_though_reload_is_slow(
    world: DiscordWorld, discord_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    app = await discord_app(clock=clock, from_dir=True)
    real_reload = app.reload

    async def slow_reload() -> dict[str, int]:
        clock.advance(5)  # starting a platform can take seconds
        result: dict[str, int] = await real_reload()
        return result

    monkeypatch.setattr(app, "reload", slow_reload)
    cog = cog_of(world)
    inter = interaction(world, world.ben, clock=clock)
    text = discord_script_text(world, chat_id="second").replace("Test chat", "Second chat")
    await cog.load.callback(cog, inter, script=attachment("second.yml", text))
    said = replies(inter)
    assert len(said) == 1 and said[0][0].startswith("Loaded `second.yaml`.")
    assert "second" in app.chats


async def test_a_transcript_over_the_upload_limit_is_told_not_left_thinking(
    world: DiscordWorld, discord_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await discord_app(clock=FakeClock())
    script = app.chats["test"].script
    session_id = app.archive.create_session(
        chat_id="test", title=script.title, hashtag=script.hashtag, timezone="Europe/London",
        scheduled_start=app.clock.now(), duration_minutes=5, platforms=["discord"],
        items=script.timeline(), host_name="Host")
    app.archive.update_session(session_id, status="ended", ended_at=app.clock.now())
    # A server whose limit the files exceed (as a big chat's HTML can exceed 10 MB).
    monkeypatch.setattr(type(world.guild), "filesize_limit", property(lambda self: 1024))
    cog = cog_of(world)
    inter = interaction(world, world.ben)
    await cog.transcript.callback(cog, inter, chat=None, session=None)
    (text, options), = replies(inter)
    assert "over this server's upload limit" in text
    assert "files" not in options


async def test_a_reconnect_that_cannot_resume_catches_up_the_channel_and_own_threads(
    world: DiscordWorld,
) -> None:
    platform = await started(world)
    seen = Collector(platform)
    question = await platform.post("Q1 What helps?", new_thread="Q1 What helps?")
    assert question.thread_id is not None
    thread = world.guild.get_thread(int(question.thread_id))
    assert thread is not None
    await world.user_message("A1 before the gap")
    await world.drop()
    await world.user_message("A1 said while the bot was away", offline=True)
    await world.user_message("A1 in the thread, unseen", channel=thread, offline=True)
    await world.reconnect(resumed=False)  # READY: Discord replays nothing
    texts = [e.message.text for e in await seen.settle() if e.message is not None]
    assert texts.count("A1 before the gap") == 1
    assert "A1 said while the bot was away" in texts
    assert "A1 in the thread, unseen" in texts


async def test_after_a_restart_the_bots_own_threads_are_backfilled(world: DiscordWorld) -> None:
    platform = await started(world)
    question = await platform.post("Q2 And what hinders?", new_thread="Q2 And what hinders?")
    saved = dict(platform.live_cursor() or {})
    assert f"thread:{question.thread_id}" in saved  # no message seen there, still saved
    await platform.stop()
    thread = world.guild.get_thread(int(question.thread_id or 0))
    assert thread is not None
    await world.user_message("A2 while the bot was down", channel=thread, offline=True)
    again = await started(world)
    result = await again.backfill(saved)
    assert [e.message.text for e in result.events if e.message] == ["A2 while the bot was down"]
