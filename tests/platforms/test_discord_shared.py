"""Several chats on Discord in one App: one client, one gateway login, one /chat cog.

Two chats run in two channels of the fake guild. Whether the client is handed in (dpytest's)
or made and logged in by the App, both chats must share it, the /chat commands must be added
once and act on the chat of the channel they are used in, and each channel's messages must
be stored under its own chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest
from discord.ext.test import backend as dback

from bot.app import App, BotError
from bot.clock import FakeClock
from bot.platforms.base import ChatContext
from bot.platforms.discord import client as discord_client
from bot.platforms.discord.adapter import DiscordPlatform
from bot.platforms.discord.client import SharedClient
from bot.platforms.discord.commands import ChatCommands
from bot.script import load_script
from bot.testing.fake_discord import DiscordWorld
from bot.testing.fake_discord_events import interaction, replies
from tests.conftest import make_settings
from tests.platforms.conftest import discord_script_text


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the bot's tasks run until `condition` holds (bounded; never a timing assertion)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def chat_cogs(world: DiscordWorld) -> list[ChatCommands]:
    return [c for c in world.bot.cogs.values() if isinstance(c, ChatCommands)]


def stored_chat(app: App, message: discord.Message) -> tuple[str, int | None] | None:
    rows = list(app.archive.db.execute(
        "select chat_id, session_id from messages where platform = 'discord' and id = ?",
        [str(message.id)]).fetchall())
    return (rows[0][0], rows[0][1]) if rows else None


def our_listeners(world: DiscordWorld, app: App) -> list[Any]:
    handlers = [fn for fns in world.bot.extra_events.values() for fn in fns]
    return [fn for fn in handlers if isinstance(getattr(fn, "__self__", None), DiscordPlatform)]


@pytest.fixture
def two_chats(world: DiscordWorld, tmp_path: Path) -> Callable[..., App]:
    """An App (not started) with chat `a` in #chat and chat `b` in #elsewhere."""
    moderator = dback.make_role("Moderator", world.guild)
    dback.update_member(world.ben, roles=[moderator])

    def make(*, b_channel: Any = None, **env: str) -> App:
        chats = tmp_path / "chats"
        chats.mkdir(exist_ok=True)
        scripts = []
        for chat_id, channel in (("a", world.chat), ("b", b_channel or world.elsewhere)):
            path = chats / f"{chat_id}.yaml"
            path.write_text(discord_script_text(world, chat_id, channel), encoding="utf-8")
            scripts.append(load_script(path))
        return App(make_settings(tmp_path, **env), clock=FakeClock(), scripts=scripts,
                   platform_override=["discord"], with_scheduler=False, with_web=False)

    return make


@pytest.fixture
def gateway(world: DiscordWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The App makes its own client (it has a token): that client is dpytest's bot, with the
    gateway calls (login, connect, close) recorded instead of made."""
    monkeypatch.setattr(discord_client, "make_client", lambda: world.bot)
    bot = world.bot

    async def connect(*, reconnect: bool = True) -> None:
        bot._ready.set()  # READY: the guild is already in dpytest's state
        await asyncio.Event().wait()

    calls = mock.Mock()
    calls.login = mock.AsyncMock()
    calls.connect = mock.AsyncMock(side_effect=connect)
    calls.close = mock.AsyncMock()
    for name in ("login", "connect", "close"):
        monkeypatch.setattr(bot, name, getattr(calls, name))
    return calls


@pytest.fixture
async def stop_after() -> AsyncIterator[list[App]]:
    apps: list[App] = []
    yield apps
    for app in apps:
        await app.stop()


async def test_two_chats_share_the_client_and_one_cog_serves_both(
    world: DiscordWorld, two_chats: Callable[..., App], stop_after: list[App]
) -> None:
    app = two_chats()
    discord_client.lend(world.bot)
    stop_after.append(app)
    await app.start()
    a = app.chats["a"].platforms["discord"]
    b = app.chats["b"].platforms["discord"]
    assert isinstance(a, DiscordPlatform) and isinstance(b, DiscordPlatform)
    assert a.share is b.share and a.client is b.client is world.bot
    assert (a.channel, b.channel) == (world.chat, world.elsewhere)
    (cog,) = chat_cogs(world)
    assert cog.bot is app
    assert [c.name for c in world.bot.tree.get_commands(guild=world.guild)] == ["chat"]
    assert [c["name"] for c in world.published_commands[world.guild.id]] == ["chat"]

    start = interaction(world, world.ben, channel=world.chat)
    await cog.start.callback(cog, start, chat=None, pace=None)
    assert [text for text, _ in replies(start)] == ["Started session 1 of `a`, live."]
    assert app.archive.session(1).chat_id == "a"
    assert (app.live_session("a"), app.live_session("b")) == (1, None)

    when = interaction(world, world.ann, channel=world.elsewhere)
    await cog.next_.callback(cog, when, chat=None)
    ((text, _),) = replies(when)
    assert "(`b`)" in text and "(`a`)" not in text

    in_a = await world.user_message("hello from the first channel", member=world.ann)
    in_b = await world.user_message("hello from the second channel", member=world.ann,
                                    channel=world.elsewhere)
    elsewhere = await world.user_message("not a chat channel", channel=world.mod_log)
    await until(lambda: stored_chat(app, in_a) is not None and stored_chat(app, in_b)
                is not None, "both messages are in the archive")
    assert stored_chat(app, in_a) == ("a", 1)
    assert stored_chat(app, in_b) == ("b", None)
    assert stored_chat(app, elsewhere) is None

    await app.stop()
    stop_after.clear()
    assert chat_cogs(world) == [] and world.bot.tree.get_commands(guild=None) == []
    assert world.bot.tree.get_commands(guild=world.guild) == []
    assert our_listeners(world, app) == []


async def test_a_client_the_app_makes_logs_in_once_and_closes_after_the_last_chat(
    world: DiscordWorld, two_chats: Callable[..., App], gateway: Any, stop_after: list[App]
) -> None:
    app = two_chats(DISCORD_TOKEN="t0ken")
    stop_after.append(app)
    await app.start()
    gateway.login.assert_awaited_once_with("t0ken")
    gateway.connect.assert_awaited_once()
    assert discord_client.current() is world.bot
    assert len(chat_cogs(world)) == 1
    assert app.chats["a"].platforms["discord"].share is app.chats["b"].platforms["discord"].share

    await app.chats["b"].platforms["discord"].stop()  # one chat leaves; the other carries on
    gateway.close.assert_not_awaited()
    assert len(chat_cogs(world)) == 1

    await app.stop()
    stop_after.clear()
    gateway.close.assert_awaited_once()
    assert discord_client.current() is None  # a closed client is not reused: the next makes one
    assert chat_cogs(world) == []


async def test_one_chats_setup_mistake_is_its_own_line_and_leaves_the_other_connected(
    world: DiscordWorld, two_chats: Callable[..., App], gateway: Any, stop_after: list[App]
) -> None:
    app = two_chats(b_channel=discord.Object(id=42), DISCORD_TOKEN="t0ken")
    stop_after.append(app)
    with pytest.raises(BotError) as err:
        await app.start()
    assert str(err.value).startswith(
        "chat 'b': Discord: channel 42 was not found in server 'Test Guild 0'")
    assert "\n" not in str(err.value)
    gateway.login.assert_awaited_once()
    gateway.close.assert_not_awaited()  # chat a still uses the connection
    a = app.chats["a"].platforms["discord"]
    assert isinstance(a, DiscordPlatform) and a.share.users == {a}
    assert {fn.__self__ for fn in our_listeners(world, app)} == {a}

    await app.stop()
    stop_after.clear()
    gateway.close.assert_awaited_once()


async def test_chats_starting_together_wait_for_one_login(
    world: DiscordWorld, gateway: Any
) -> None:
    share = SharedClient(world.bot, token="t0ken")
    platforms = [
        DiscordPlatform(ChatContext(cid, "t", "#t", settings=world.settings(channel_id=str(ch.id))),
                        share=share)
        for cid, ch in (("a", world.chat), ("b", world.elsewhere))
    ]
    await asyncio.gather(*(p.start() for p in platforms))
    gateway.login.assert_awaited_once_with("t0ken")
    assert [p.channel for p in platforms] == [world.chat, world.elsewhere]
    for p in platforms:
        await p.stop()
    gateway.close.assert_awaited_once()
    assert share.closed and share.connect_task is None


async def test_on_a_plain_client_each_chat_removes_only_its_own_handlers() -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    earlier = mock.AsyncMock()  # a handler someone set before the chats
    client.on_message = earlier  # type: ignore[attr-defined]
    a, b = (DiscordPlatform(ChatContext(cid, "t", "#t", settings={"guild_id": "1",
                                                                  "channel_id": ch}),
                            client=client) for cid, ch in (("a", "2"), ("b", "3")))
    a._listen()
    b._listen()
    a._unlisten()
    fanout = client.on_message  # type: ignore[attr-defined]
    assert fanout.handlers == [earlier, b._on_message]
    message = mock.Mock(spec_set=["id", "channel"])
    message.channel.id = 99  # neither chat's channel: b ignores it
    await fanout(message)
    earlier.assert_awaited_once_with(message)
    assert b.live_cursor() is None
