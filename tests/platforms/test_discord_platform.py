"""DiscordPlatform against dpytest's fake Discord (discord.py's real state and parser)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as dback

from bot.platforms.base import ChatContext, PlatformError, PlatformSetupError
from bot.platforms.discord.adapter import DiscordPlatform
from bot.platforms.discord.messages import discord_time
from bot.records import Action, ActionResult, Event
from bot.testing.fake_discord import DiscordWorld


def make(world: DiscordWorld, **settings: Any) -> DiscordPlatform:
    ctx = ChatContext("nhssm", "NHS social media", "#NHSSM", settings=world.settings(**settings))
    return DiscordPlatform(ctx, client=world.bot)


async def started(world: DiscordWorld, **settings: Any) -> DiscordPlatform:
    platform = make(world, **settings)
    await platform.start()
    return platform


class Collector:
    """Reads events() in the background, as the host does."""

    def __init__(self, platform: DiscordPlatform) -> None:
        self.events: list[Event] = []
        self.task = asyncio.create_task(self._run(platform.events()))

    async def _run(self, stream: Any) -> None:
        async for event in stream:
            self.events.append(event)

    async def settle(self) -> list[Event]:
        await dpytest.run_all_events()
        for _ in range(5):
            await asyncio.sleep(0)
        return self.events


# --- start() and set-up errors ----------------------------------------------------------


async def test_start_accepts_a_correct_setup(world: DiscordWorld) -> None:
    platform = await started(world, moderator_role="tweetchat")
    assert platform.channel is world.chat
    assert platform.mod_log is world.mod_log
    assert platform.moderator_role is world.bot_role
    assert platform.capabilities.max_length == 2000
    assert platform.capabilities.actions == {"delete", "timeout", "modlog", "signpost"}
    assert not platform.capabilities.hiding


async def test_missing_permission_is_named_in_one_line(world: DiscordWorld) -> None:
    await dpytest.set_permission_overrides(world.bot_role, world.chat, create_public_threads=False)
    with pytest.raises(PlatformSetupError) as err:
        await started(world)
    assert str(err.value) == (
        f"Discord: the bot lacks 'Create Public Threads' in #chat (channel {world.chat.id}); "
        "grant it in Server Settings > Roles"
    )


async def test_thread_permissions_are_not_needed_when_threads_are_off(world: DiscordWorld) -> None:
    await dpytest.set_permission_overrides(world.bot_role, world.chat, create_public_threads=False)
    platform = await started(world, threads=False)
    ref = await platform.post("Q1", new_thread="Q1")
    assert ref.thread_id is None


async def test_several_missing_permissions_listed_together(world: DiscordWorld) -> None:
    await dpytest.set_permission_overrides(
        world.bot_role, world.chat, manage_messages=False, moderate_members=False
    )
    with pytest.raises(
        PlatformSetupError, match="lacks 'Manage Messages', 'Timeout Members' in #chat"
    ):
        await started(world)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"guild_id": "42"}, "Discord: the bot is not in server 42; invite it"),
        ({"channel_id": "42"}, "Discord: channel 42 was not found in server 'Test Guild 0'"),
        ({"channel_id": "nope"}, "Discord: channel_id must be a numeric id, got 'nope'"),
        ({"mod_log_channel_id": "42"}, "Discord: mod_log_channel_id 42 is not a text channel"),
        ({"moderator_role": "Hosts"}, "Discord: moderator_role 'Hosts' is not a role"),
        ({"reminder_role": "77"}, "Discord: reminder_role '77' is not a role"),
    ],
)
async def test_setup_mistakes_produce_one_plain_line(
    world: DiscordWorld, settings: dict[str, str], expected: str
) -> None:
    with pytest.raises(PlatformSetupError) as err:
        await started(world, **settings)
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


async def test_voice_channel_is_not_a_chat_channel(world: DiscordWorld) -> None:
    voice = world.guild.voice_channels[0]
    with pytest.raises(PlatformSetupError, match=f"channel {voice.id} is not a text channel"):
        await started(world, channel_id=str(voice.id))


async def test_message_content_intent_must_be_on() -> None:
    bot = discord.Client(intents=discord.Intents.default())  # message_content is off by default
    ctx = ChatContext("c", "t", "#t", settings={"guild_id": "1", "channel_id": "2"})
    with pytest.raises(PlatformSetupError, match="message_content intent is off"):
        await DiscordPlatform(ctx, client=bot).start()


def test_no_token_and_no_client_is_a_setup_error() -> None:
    ctx = ChatContext("c", "t", "#t", settings={"guild_id": "1", "channel_id": "2"})
    with pytest.raises(PlatformSetupError, match="set DISCORD_TOKEN"):
        DiscordPlatform(ctx, token=None)


def test_missing_ids_are_a_setup_error() -> None:
    with pytest.raises(PlatformSetupError, match="needs guild_id and channel_id"):
        DiscordPlatform(ChatContext("c", "t", "#t", settings={}), token="x")


async def test_rejected_token_is_a_setup_error_and_is_not_echoed() -> None:
    ctx = ChatContext("c", "t", "#t", settings={"guild_id": "1", "channel_id": "2"})
    platform = DiscordPlatform(ctx, token="secret-token-value")
    failure = discord.LoginFailure("Improper token has been passed.")
    with mock.patch.object(platform.client, "login", autospec=True, side_effect=failure) as login:
        with pytest.raises(PlatformSetupError, match="token was rejected") as err:
            await platform.start()
    login.assert_awaited_once_with("secret-token-value")
    assert "secret-token-value" not in str(err.value)
    await platform.client.close()


async def test_privileged_intent_refused_at_connect_is_a_setup_error() -> None:
    ctx = ChatContext("c", "t", "#t", settings={"guild_id": "1", "channel_id": "2"})
    platform = DiscordPlatform(ctx, token="t0ken")
    client = platform.client

    async def login(token: str) -> None:
        await client._async_setup_hook()  # what the real login does before any HTTP

    refused = discord.PrivilegedIntentsRequired(shard_id=None)
    with (
        mock.patch.object(client, "login", autospec=True, side_effect=login),
        mock.patch.object(client, "connect", autospec=True, side_effect=refused),
    ):
        with pytest.raises(PlatformSetupError, match="Message Content intent is not enabled"):
            await platform.start()
    assert client.is_closed()


async def test_logged_in_bot_not_in_the_guild_is_told_to_invite_it() -> None:
    ctx = ChatContext("c", "t", "#t", settings={"guild_id": "1", "channel_id": "2"})
    platform = DiscordPlatform(ctx, token="t0ken")
    client = platform.client

    async def login(token: str) -> None:
        await client._async_setup_hook()

    async def connect(*, reconnect: bool = True) -> None:
        client._ready.set()  # READY arrived with no guilds
        await asyncio.Event().wait()

    with (
        mock.patch.object(client, "login", autospec=True, side_effect=login),
        mock.patch.object(client, "connect", autospec=True, side_effect=connect),
    ):
        with pytest.raises(PlatformSetupError, match="the bot is not in server 1; invite it"):
            await platform.start()
    assert client.is_closed() and platform.share.connect_task is None


# --- post() -------------------------------------------------------------------------------


async def test_post_sends_to_the_channel(world: DiscordWorld) -> None:
    platform = await started(world)
    ref = await platform.post(
        f"Welcome to #NHSSM, ends {discord_time(datetime(2026, 1, 7, 21, tzinfo=UTC))}"
    )
    sent = dpytest.get_message()
    assert sent.channel == world.chat
    assert sent.content == "Welcome to #NHSSM, ends <t:1767819600:F>"
    assert ref.id == str(sent.id) and ref.platform == "discord" and ref.thread_id is None
    assert ref.url == sent.jump_url


async def test_post_with_new_thread_opens_one_named_and_truncated(world: DiscordWorld) -> None:
    platform = await started(world)
    long_name = "Q1 " + "x" * 200
    ref = await platform.post("Q1 what do you use social media for?", new_thread=long_name)
    assert ref.thread_id == ref.id  # a thread opened from a message takes the message's id
    thread = world.guild.get_thread(int(ref.thread_id))
    assert (
        thread is not None and thread.name == long_name[:100] and thread.parent_id == world.chat.id
    )
    assert ref.thread_id in platform.threads


async def test_reply_goes_to_the_thread_the_original_lives_in(world: DiscordWorld) -> None:
    platform = await started(world)
    ref = await platform.post("Q1", new_thread="Q1")
    thread = world.guild.get_thread(int(ref.thread_id))
    answer = await world.user_message("A1 comms", channel=thread)
    await dpytest.empty_queue()
    reply = await platform.post("Thanks!", reply_to=str(answer.id))
    sent = dpytest.get_message()
    assert sent.channel.id == thread.id
    assert sent.reference is not None and sent.reference.message_id == answer.id
    assert reply.id == str(sent.id)


async def test_thread_failure_keeps_the_post(world: DiscordWorld) -> None:
    platform = await started(world)
    # Permission removed after start: the message goes out, the thread cannot be opened.
    await dpytest.set_permission_overrides(world.bot_role, world.chat, create_public_threads=False)
    ref = await platform.post("Q2", new_thread="Q2")
    assert ref.thread_id is None and dpytest.get_message().content == "Q2"


async def test_too_long_post_is_refused_before_sending(world: DiscordWorld) -> None:
    platform = await started(world)
    with pytest.raises(PlatformError, match="2001 characters") as err:
        await platform.post("x" * 2001)
    assert not err.value.retryable
    assert dpytest.verify().message().nothing()


async def test_forbidden_post_is_not_retryable(world: DiscordWorld) -> None:
    platform = await started(world)
    await dpytest.set_permission_overrides(world.bot_role, world.chat, send_messages=False)
    with pytest.raises(PlatformError, match="refused") as err:
        await platform.post("hello")
    assert not err.value.retryable


# --- events() -----------------------------------------------------------------------------


async def test_created_events_are_neutral_messages(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    question = await world.user_message("Q1 test", member=world.ben)
    answer = await world.user_message("A1 #NHSSM comms", reply_to=question)
    await world.user_message("not ours", channel=world.elsewhere)
    events = await seen.settle()
    assert [e.kind for e in events] == ["created", "created"]
    msg = events[1].message
    assert msg is not None
    assert (msg.platform, msg.id, msg.text) == ("discord", str(answer.id), "A1 #NHSSM comms")
    assert msg.reply_to == str(question.id)
    assert msg.channel_id == str(world.chat.id) and msg.thread_id is None
    assert msg.author.id == str(world.ann.id) and msg.author.name == world.ann.display_name
    assert msg.author.handle == "ann" and not msg.author.is_bot
    assert msg.created == answer.created_at and msg.created.tzinfo is not None
    assert msg.raw["message_reference"]["message_id"] == str(question.id)
    assert events[1].at == msg.created


async def test_messages_in_question_threads_carry_the_thread_id(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    ref = await platform.post("Q1", new_thread="Q1")
    thread = world.guild.get_thread(int(ref.thread_id))
    await world.user_message("A1 in the thread", channel=thread)
    events = await seen.settle()
    # The bot's own post is not collected: the host stores it when it sends it.
    (answer,) = (e.message for e in events)
    assert answer is not None and answer.thread_id == ref.thread_id
    assert answer.channel_id == str(world.chat.id)
    assert platform.live_cursor() == {"channel": ref.id, f"thread:{ref.thread_id}": str(
        events[0].message_id)}


async def test_edits_and_deletes_count_even_for_uncached_messages(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    cached = await world.user_message("A1 typo")
    evicted = await world.user_message("A2 old words")
    world.forget(evicted)
    await world.user_edit(cached, "A1 fixed")
    await world.user_edit(evicted, "A2 new words")
    await evicted.delete()
    events = await seen.settle()
    assert [(e.kind, e.message_id) for e in events] == [
        ("created", str(cached.id)),
        ("created", str(evicted.id)),
        ("edited", str(cached.id)),
        ("edited", str(evicted.id)),
        ("deleted", str(evicted.id)),
    ]
    edited = events[3].message
    assert edited is not None and edited.text == "A2 new words" and edited.edited is not None
    assert events[3].at == edited.edited
    assert events[4].message is None


async def test_reactions_are_counted(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    answer = await world.user_message("A1 brilliant answer")
    await dpytest.add_reaction(world.ben, answer, "👍")
    await dpytest.add_reaction(world.ann, answer, "🎉")
    await dpytest.remove_reaction(world.ben, answer, "👍")
    events = await seen.settle()
    assert [(e.kind, e.reactions) for e in events] == [
        ("created", None),
        ("reaction", 1),
        ("reaction", 2),
        ("reaction", 1),
    ]


async def test_events_end_after_stop(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    await platform.stop()
    await platform.stop()  # twice is safe
    await asyncio.wait_for(seen.task, 5)
    await world.user_message("after the end")
    assert await seen.settle() == []
    assert all(platform._on_message not in fns for fns in world.bot.extra_events.values())


# --- backfill() -----------------------------------------------------------------------------


async def test_backfill_fresh_start_marks_now_then_returns_what_came_after(
    world: DiscordWorld,
) -> None:
    before = await world.user_message("said before the bot came")
    platform = await started(world)
    first = await platform.backfill({})
    assert first.events == () and first.cursor == {"channel": str(before.id)}

    ref = await platform.post("Q1", new_thread="Q1")
    thread = world.guild.get_thread(int(ref.thread_id))
    a1 = await world.user_message("A1 in channel")
    a1t = await world.user_message("A1 in thread", channel=thread, member=world.ben)
    await world.user_edit(a1, "A1 in channel (edited)")
    await world.user_message("elsewhere", channel=world.elsewhere)

    # A restarted adapter knows nothing but the cursor it was handed.
    restarted = await started(world)
    gap = await restarted.backfill({**first.cursor, f"thread:{ref.thread_id}": ref.thread_id})
    # The bot's own Q1 is passed over (the host stored it); people's messages are not.
    assert [e.message_id for e in gap.events] == [str(a1.id), str(a1t.id)]
    assert all(e.kind == "created" for e in gap.events)
    by_id = {e.message_id: e.message for e in gap.events}
    assert by_id[str(a1t.id)].thread_id == ref.thread_id
    assert by_id[str(a1.id)].text == "A1 in channel (edited)"
    assert by_id[str(a1.id)].edited is not None
    assert gap.cursor == {"channel": str(a1.id), f"thread:{ref.thread_id}": str(a1t.id)}

    again = await restarted.backfill(gap.cursor)
    assert again.events == () and again.cursor == gap.cursor


async def test_backfill_reads_a_new_question_thread_from_its_start(world: DiscordWorld) -> None:
    platform = await started(world)
    cursor = (await platform.backfill({})).cursor
    ref = await platform.post("Q1", new_thread="Q1")
    thread = world.guild.get_thread(int(ref.thread_id))
    answer = await world.user_message("A1 early", channel=thread)
    result = await platform.backfill(cursor)
    assert [e.message_id for e in result.events] == [str(answer.id)]
    assert result.cursor[f"thread:{ref.thread_id}"] == str(answer.id)


# --- act() ------------------------------------------------------------------------------------


async def test_delete_removes_the_message(world: DiscordWorld) -> None:
    platform = await started(world)
    seen = Collector(platform)
    bad = await world.user_message("patient in bed 4 is ...")
    result = await platform.act(Action("delete", message_id=str(bad.id), reason="confidentiality"))
    assert result.done
    events = await seen.settle()
    assert [e.kind for e in events] == ["created", "deleted"]
    assert [m.id async for m in world.chat.history(limit=None)] == []


async def test_delete_refused_is_reported_not_raised(world: DiscordWorld) -> None:
    platform = await started(world)
    bad = await world.user_message("rude")
    forbidden = discord.Forbidden(dback.FakeRequest(403, "Forbidden"), "Missing Permissions")
    with mock.patch.object(world.http, "delete_message", autospec=True, side_effect=forbidden):
        result = await platform.act(Action("delete", message_id=str(bad.id)))
    assert not result.done and "Missing Permissions" in result.detail


async def test_timeout_sets_communication_disabled_until(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = await started(world)
    now = datetime(2026, 1, 7, 20, 30, tzinfo=UTC)
    monkeypatch.setattr(discord.utils, "utcnow", lambda: now)
    calls: list[dict[str, Any]] = []
    real = world.http.edit_member

    async def edit_member(guild_id: int, user_id: int, **fields: Any) -> Any:
        calls.append({"guild_id": guild_id, "user_id": user_id, **fields})
        return await real(guild_id, user_id, **fields)

    monkeypatch.setattr(world.http, "edit_member", edit_member)
    result = await platform.act(
        Action("timeout", author_id=str(world.ann.id), minutes=15, reason="repeated abuse")
    )
    assert result == ActionResult(True, "timed out for 15 min")
    until = now + timedelta(minutes=15)
    assert calls == [
        {
            "guild_id": world.guild.id,
            "user_id": world.ann.id,
            "reason": "repeated abuse",
            "communication_disabled_until": until.isoformat(),
        }
    ]
    assert world.guild.get_member(world.ann.id).timed_out_until == until


async def test_timeout_of_someone_who_left_is_reported(world: DiscordWorld) -> None:
    platform = await started(world)
    result = await platform.act(Action("timeout", author_id="123456789012345678", minutes=5))
    assert not result.done and "not in the server" in result.detail


async def test_modlog_posts_to_the_mod_log_channel(world: DiscordWorld) -> None:
    platform = await started(world)
    result = await platform.act(Action("modlog", text="Deleted a message from ann: NHS number"))
    assert result.done
    sent = dpytest.get_message()
    assert (
        sent.channel == world.mod_log and sent.content == "Deleted a message from ann: NHS number"
    )


async def test_modlog_without_channel_and_unsupported_actions_are_flagged_only(
    world: DiscordWorld,
) -> None:
    platform = await started(world, mod_log_channel_id=None)
    assert not (await platform.act(Action("modlog", text="x"))).done
    hidden = await platform.act(Action("hide", message_id="1"))
    assert not hidden.done and hidden.detail == "discord cannot hide; flagged only"


def test_discord_time_needs_an_aware_datetime() -> None:
    assert discord_time(datetime(2026, 1, 7, 20, tzinfo=UTC), "R") == "<t:1767816000:R>"
    with pytest.raises(ValueError):
        discord_time(datetime(2026, 1, 7, 20))


async def test_signpost_goes_by_direct_message_and_closed_dms_are_reported(
    world: DiscordWorld,
) -> None:
    platform = await started(world)
    text = "It sounds hard right now. Samaritans: 116 123."
    result = await platform.act(Action("signpost", message_id="1", author_id=str(world.ann.id),
                                       text=text))
    assert result == ActionResult(True, "sent by direct message")
    sent = dpytest.get_message()
    assert isinstance(sent.channel, discord.DMChannel) and sent.content == text
    assert world.ann.dm_channel is not None and sent.channel.id == world.ann.dm_channel.id
    forbidden = discord.Forbidden(mock.Mock(status=403, reason="Forbidden"),
                                  {"code": 50007, "message": "Cannot send messages to this user"})
    with mock.patch.object(discord.Member, "send", autospec=True, side_effect=forbidden):
        closed = await platform.act(Action("signpost", author_id=str(world.ann.id), text=text))
    assert not closed.done and closed.detail == "their direct messages are closed"
    gone = await platform.act(Action("signpost", author_id="123456789012345678", text=text))
    assert not gone.done and "not in the server" in gone.detail
