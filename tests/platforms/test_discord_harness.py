"""dpytest 0.7.0 harness for discord.py 2.7.1, plus the tests that prove the harness is honest.

dpytest drives discord.py's real ConnectionState (parse_message_create/update/delete,
reactions, guilds, roles, permission overwrites), which is what the adapter listens to.
Where dpytest 0.7.0 falls short against discord.py 2.7.1, `DiscordWorld` patches the fake
HTTP client with functions that return Discord's real payload shapes:

- `logs_from` (history): dpytest crashes (StopIteration) on `after=` ids that are not
  message ids, which `history(oldest_first=True)` always sends, and returns pages in the
  wrong order; replaced with Discord's semantics (exclusive bounds, newest first).
- `send_message`: dpytest drops `message_reference` (replies) and cannot send into threads.
- `start_thread_with_message`: missing (NotImplementedError); added, followed by the
  THREAD_CREATE gateway event as Discord sends it.
- permission overwrites: dpytest writes the overwrite `type` as "role"/"member" (API v6);
  discord.py 2.x reads 0/1, so every role overwrite silently applied to nobody.
- reactions: dpytest's MESSAGE_REACTION_ADD/REMOVE payloads lack `type` (normal/burst),
  which discord.py 2.4+ requires (KeyError); the parser is wrapped to default it to 0.
- `edit_member` (timeouts): dpytest drops `communication_disabled_until` and its
  frame-peeking fake breaks when wrapped; replaced by one that returns the member payload
  and sends GUILD_MEMBER_UPDATE like Discord; `get_member` of a stranger crashes in
  dpytest instead of answering 404 Unknown Member.
- user edits and replies: dpytest has no helper; `user_edit` / `user_message` feed
  MESSAGE_UPDATE / MESSAGE_CREATE payloads through discord.py's own parser.

Other test modules import `world` and `DiscordWorld` from here.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext import commands
from discord.ext.test import backend as dback
from discord.ext.test import callbacks as dcallbacks
from discord.ext.test import factories as facts

BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    manage_messages=True,
    moderate_members=True,
    manage_events=True,
    create_public_threads=True,
    send_messages_in_threads=True,
)


def _dict_from_overwrite(
    target: discord.Member | discord.Role, overwrite: discord.PermissionOverwrite
) -> dict[str, Any]:
    allow, deny = overwrite.pair()
    kind = 0 if isinstance(target, discord.Role) else 1  # Discord API v10: 0 role, 1 member
    return {"id": target.id, "type": kind, "allow": str(allow.value), "deny": str(deny.value)}


def _store(channel_id: int) -> list[dict[str, Any]]:
    assert dback._cur_config is not None
    return dback._cur_config.messages.setdefault(channel_id, [])


def _find(message_id: int) -> dict[str, Any]:
    assert dback._cur_config is not None
    for stored in dback._cur_config.messages.values():
        for data in stored:
            if int(data["id"]) == message_id:
                return data
    raise KeyError(message_id)


class DiscordWorld:
    """One fake guild: a #chat channel, a #mod-log channel, two members, a bot with a role."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        dpytest.configure(
            bot, text_channels=["chat", "mod-log", "elsewhere"], members=["ann", "ben"]
        )
        cfg = dpytest.get_config()
        self.guild: discord.Guild = cfg.guilds[0]
        self.chat: discord.TextChannel = cfg.channels[0]
        self.mod_log: discord.TextChannel = cfg.channels[1]
        self.elsewhere: discord.TextChannel = cfg.channels[2]
        self.ann, self.ben = cfg.members[0], cfg.members[1]
        self.state = dback.get_state()
        self.http = self.bot.http
        self.bot_role = dback.make_role("tweetchat", self.guild, permissions=BOT_PERMISSIONS.value)
        dback.update_member(self.guild.me, roles=[self.bot_role])
        self.http.logs_from = types.MethodType(_logs_from, self.http)  # type: ignore[method-assign]
        self.http.send_message = types.MethodType(_send_message, self.http)  # type: ignore[method-assign]
        self.http.start_thread_with_message = types.MethodType(  # type: ignore[method-assign]
            _start_thread_with_message, self.http
        )
        self.http.edit_member = types.MethodType(_edit_member, self.http)  # type: ignore[method-assign]
        self.http.get_member = types.MethodType(_get_member, self.http)  # type: ignore[method-assign]
        for name in ("parse_message_reaction_add", "parse_message_reaction_remove"):
            setattr(self.state, name, _with_reaction_type(getattr(self.state, name)))

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "guild_id": str(self.guild.id),
            "channel_id": str(self.chat.id),
            "mod_log_channel_id": str(self.mod_log.id),
            **extra,
        }

    async def user_message(
        self,
        content: str,
        *,
        member: discord.Member | None = None,
        channel: discord.abc.Messageable | None = None,
        reply_to: discord.Message | None = None,
    ) -> discord.Message:
        """A person posts (optionally replying): Discord's MESSAGE_CREATE through the parser."""
        channel = channel or self.chat
        data = _message_data(channel, member or self.ann, content, reply_to=reply_to)
        self.state.parse_message_create(data)
        _store(int(data["channel_id"])).append(data)
        await dpytest.run_all_events()
        found = self.state._get_message(int(data["id"]))
        assert found is not None
        return found

    async def user_edit(self, message: discord.Message, content: str) -> None:
        """A person edits: MESSAGE_UPDATE carries the whole message with edited_timestamp."""
        data = dict(_find(message.id))
        data["content"] = content
        data["edited_timestamp"] = datetime.now(UTC).isoformat()
        _find(message.id).update(data)
        self.state.parse_message_update(data)
        await dpytest.run_all_events()

    def forget(self, message: discord.Message) -> None:
        """Drop a message from discord.py's cache, as after a restart or cache eviction."""
        assert self.state._messages is not None
        self.state._messages.remove(self.state._get_message(message.id))


def _message_data(
    channel: Any,
    author: discord.abc.User,
    content: str,
    *,
    reply_to: discord.Message | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = facts.make_message_dict(channel, author, content=content)
    guild = getattr(channel, "guild", None)
    if guild is not None:
        data["guild_id"] = guild.id  # dpytest only sets it for GuildChannel, not threads
    if isinstance(author, discord.Member):
        data["member"] = facts.dict_from_member(author)
    if reply_to is not None:
        data["type"] = discord.MessageType.reply.value
        data["message_reference"] = {
            "message_id": reply_to.id,
            "channel_id": reply_to.channel.id,
            "guild_id": guild.id if guild else None,
        }
    return data


def _with_reaction_type(parse: Any) -> Any:
    def parse_with_type(data: dict[str, Any]) -> None:
        parse({"type": 0, "burst": False, **data})

    return parse_with_type


async def _edit_member(
    self: Any, guild_id: int, user_id: int, *, reason: str | None = None, **fields: Any
) -> dict[str, Any]:
    guild = self.state._get_guild(int(guild_id))
    member = guild.get_member(int(user_id))
    if member is None:
        raise discord.NotFound(dback.FakeRequest(404, "Not Found"), "Unknown Member")
    data = {**facts.dict_from_member(member), "guild_id": guild.id, **fields}
    self.state.parse_guild_member_update(data)
    return data


async def _get_member(self: Any, guild_id: int, member_id: int) -> dict[str, Any]:
    member = self.state._get_guild(int(guild_id)).get_member(int(member_id))
    if member is None:
        raise discord.NotFound(dback.FakeRequest(404, "Not Found"), "Unknown Member")
    return facts.dict_from_member(member)


async def _logs_from(
    self: Any,
    channel_id: int,
    limit: int,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
) -> list[dict[str, Any]]:
    # Discord: bounds are exclusive snowflakes (need not be message ids); newest first.
    stored = sorted(_store(int(channel_id)), key=lambda d: int(d["id"]))
    if after is not None:
        page = [d for d in stored if int(d["id"]) > int(after)][:limit]
    else:
        if before is not None:
            stored = [d for d in stored if int(d["id"]) < int(before)]
        page = stored[-limit:]
    return list(reversed(page))


async def _send_message(self: Any, channel_id: int, *, params: Any) -> dict[str, Any]:
    state = self.state
    channel = state.get_channel(int(channel_id)) or state._get_guild(
        dpytest.get_config().guilds[0].id
    ).get_thread(int(channel_id))
    me = channel.guild.me
    perms = channel.permissions_for(me)
    allowed = (
        perms.send_messages_in_threads
        if isinstance(channel, discord.Thread)
        else perms.send_messages
    )
    if not allowed:
        raise discord.Forbidden(dback.FakeRequest(403, "Forbidden"), "Missing Permissions")
    payload = params.payload or {}
    data = _message_data(channel, state.user, payload.get("content") or "")
    ref = payload.get("message_reference")
    if ref:
        data["type"] = discord.MessageType.reply.value
        data["message_reference"] = dict(ref)
    state.parse_message_create(data)
    _store(int(channel_id)).append(data)
    sent = state._get_message(int(data["id"]))
    await dcallbacks.dispatch_event("send_message", sent)
    return data


async def _start_thread_with_message(
    self: Any,
    channel_id: int,
    message_id: int,
    *,
    name: str,
    auto_archive_duration: int,
    rate_limit_per_user: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    state = self.state
    parent = state.get_channel(int(channel_id))
    if not parent.permissions_for(parent.guild.me).create_public_threads:
        raise discord.Forbidden(dback.FakeRequest(403, "Forbidden"), "Missing Permissions")
    if len(name) > 100:
        raise discord.HTTPException(dback.FakeRequest(400, "Bad Request"), "name too long")
    data = {
        "id": str(message_id),  # Discord: a thread opened from a message shares its id
        "guild_id": str(parent.guild.id),
        "parent_id": str(channel_id),
        "owner_id": str(state.user.id),
        "name": name,
        "type": discord.ChannelType.public_thread.value,
        "last_message_id": None,
        "rate_limit_per_user": rate_limit_per_user or 0,
        "message_count": 0,
        "member_count": 1,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": datetime.now(UTC).isoformat(),
            "locked": False,
        },
    }
    state.parse_thread_create({**data, "newly_created": True})
    return data


@pytest.fixture
async def world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordWorld]:
    monkeypatch.setattr(facts, "dict_from_overwrite", _dict_from_overwrite)
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents)
    await bot._async_setup_hook()  # what login() would do: creates the loop-bound ready event
    yield DiscordWorld(bot)
    await dpytest.empty_queue()


# --- the harness itself ---------------------------------------------------------------


async def test_history_after_is_exclusive_and_oldest_first(world: DiscordWorld) -> None:
    first = await world.user_message("one")
    second = await world.user_message("two")
    third = await world.user_message("three")
    everything = [m.id async for m in world.chat.history(limit=None, oldest_first=True)]
    assert everything == [first.id, second.id, third.id]
    after_first = [
        m.id async for m in world.chat.history(limit=None, after=first, oldest_first=True)
    ]
    assert after_first == [second.id, third.id]


async def test_reply_reference_survives_send(world: DiscordWorld) -> None:
    question = await world.chat.send("Q1 what is social media for?")
    reply = await world.chat.send("A1", reference=question)
    assert reply.reference is not None and reply.reference.message_id == question.id
    assert dpytest.get_message().content == "Q1 what is social media for?"


async def test_role_overwrites_apply_to_the_role(world: DiscordWorld) -> None:
    assert world.chat.permissions_for(world.guild.me).create_public_threads
    await dpytest.set_permission_overrides(world.bot_role, world.chat, create_public_threads=False)
    assert not world.chat.permissions_for(world.guild.me).create_public_threads
    assert world.elsewhere.permissions_for(world.guild.me).create_public_threads


async def test_thread_from_message_is_cached_like_discord(world: DiscordWorld) -> None:
    question = await world.chat.send("Q1")
    thread = await question.create_thread(name="Q1")
    assert thread.id == question.id and thread.parent_id == world.chat.id
    cached = world.guild.get_thread(thread.id)
    assert cached is not None and cached.name == "Q1"
    answer = await world.user_message("A1 in thread", channel=cached)
    assert isinstance(answer.channel, discord.Thread)
