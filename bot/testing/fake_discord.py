"""A fake Discord for tests and rehearsals: dpytest 0.7.0 made honest for discord.py 2.7.1.

It ships inside the package beside the fake X server, as errbot ships its test backend
(tests/platforms/test_discord_harness.py proves the harness is honest). It needs the test
extra (dpytest).

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
- files: dpytest drops uploads; `send_message` keeps each file as an attachment and its
  bytes in `DiscordWorld.uploads`.
- slash commands: dpytest has no application id and no command routes; the bot gets an
  id and `bulk_upsert_guild_commands` answers like Discord, recording what was published.
- scheduled events: dpytest has none; `FakeEventRoutes` (fixture `routes`) keeps them as
  Discord's JSON payloads and enforces Discord's rules.

`interaction()` builds a discord.Interaction mock with `spec_set` from the real classes
(response, followup), so a command that misuses the API fails the test.

Scheduled events are in fake_discord_events.py. The pytest fixtures `world` and `routes`
(tests/platforms/conftest.py) build these for every Discord test.
"""

from __future__ import annotations

import asyncio
import json
import re
import types
from datetime import UTC, datetime
from typing import Any, cast

import discord
import discord.ext.test as dpytest
from discord.ext import commands
from discord.ext.test import backend as dback
from discord.ext.test import callbacks as dcallbacks
from discord.ext.test import factories as facts


def fake_response(status: int, reason: str) -> Any:
    """What discord.py's HTTP errors are built from (dpytest's stand-in for a response)."""
    return dback.FakeRequest(status, reason)


BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    manage_messages=True,
    moderate_members=True,
    manage_events=True,
    create_events=True,  # creating an event needs this; manage_events only edits (issue 16)
    mention_everyone=True,  # so a reminder role's ping reaches people even if unmentionable
    create_public_threads=True,
    send_messages_in_threads=True,
    attach_files=True,
)


def dict_from_overwrite(
    target: discord.Member | discord.Role, overwrite: discord.PermissionOverwrite
) -> dict[str, Any]:
    """A permission overwrite as Discord's API JSON (replaces dpytest's)."""
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
            if int(str(data["id"])) == message_id:
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
        self.chat = cast(discord.TextChannel, cfg.channels[0])
        self.mod_log = cast(discord.TextChannel, cfg.channels[1])
        self.elsewhere = cast(discord.TextChannel, cfg.channels[2])
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
        self.uploads: dict[int, dict[str, bytes]] = {}  # message id -> filename -> bytes
        self.http.uploads = self.uploads  # type: ignore[attr-defined]
        self.pinged: dict[int, list[int]] = {}  # message id -> roles actually notified
        self.http.pinged = self.pinged  # type: ignore[attr-defined]
        self.sent_payloads: dict[int, dict[str, Any]] = {}  # message id -> JSON as sent
        self.http.sent_payloads = self.sent_payloads  # type: ignore[attr-defined]
        self.published_commands: dict[int, list[dict[str, Any]]] = {}
        self.http.published_commands = self.published_commands  # type: ignore[attr-defined]
        self.state.application_id = facts.make_id()
        self.http.bulk_upsert_guild_commands = types.MethodType(  # type: ignore[method-assign]
            _bulk_upsert_guild_commands, self.http
        )
        # The command tree kept the HTTP client the bot was built with, before dpytest
        # swapped in its fake; point it at the fake so nothing can reach the network.
        bot.tree._http = self.http

    @property
    def bot_user_id(self) -> int:
        """The bot's own user id (it is logged in from the start)."""
        user = self.state.user
        assert user is not None
        return user.id

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The chat's Discord settings for this fake guild, plus `extra`."""
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
        offline: bool = False,
    ) -> discord.Message | None:
        """A person posts (optionally replying): Discord's MESSAGE_CREATE through the parser.

        `offline`: while the bot is disconnected; only history will ever show it.
        """
        channel = channel or self.chat
        data = _message_data(channel, member or self.ann, content, reply_to=reply_to)
        _store(int(data["channel_id"])).append(data)
        if offline:
            return None
        self.state.parse_message_create(cast(Any, data))
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
        self.state.parse_message_update(cast(Any, data))
        await dpytest.run_all_events()

    async def drop(self) -> None:
        """The gateway connection drops (discord.py dispatches 'disconnect')."""
        self.bot.dispatch("disconnect")
        await _settle()

    async def reconnect(self, *, resumed: bool) -> None:
        """Back online: RESUMED, or READY (a new session).

        What Discord replays on RESUMED is not modelled (nothing is); on READY Discord
        replays nothing at all.
        """
        self.bot.dispatch("resumed" if resumed else "ready")
        await _settle()

    def forget(self, message: discord.Message) -> None:
        """Drop a message from discord.py's cache, as after a restart or cache eviction."""
        assert self.state._messages is not None
        cached = self.state._get_message(message.id)
        assert cached is not None
        self.state._messages.remove(cached)


async def _settle() -> None:
    await dpytest.run_all_events()
    for _ in range(50):
        await asyncio.sleep(0)


def _message_data(
    channel: Any,
    author: discord.abc.User,
    content: str,
    *,
    reply_to: discord.Message | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = facts.make_message_dict(channel, cast(Any, author), content=content)
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
        raise discord.NotFound(fake_response(404, "Not Found"), "Unknown Member")
    data = {**facts.dict_from_member(member), "guild_id": guild.id, **fields}
    self.state.parse_guild_member_update(data)
    return data


async def _get_member(self: Any, guild_id: int, member_id: int) -> dict[str, Any]:
    member = self.state._get_guild(int(guild_id)).get_member(int(member_id))
    if member is None:
        raise discord.NotFound(fake_response(404, "Not Found"), "Unknown Member")
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
    if isinstance(channel, discord.DMChannel):
        allowed = True  # a direct message: no guild permissions apply
    else:
        perms = channel.permissions_for(channel.guild.me)
        allowed = (
            perms.send_messages_in_threads
            if isinstance(channel, discord.Thread)
            else perms.send_messages
        )
    if not allowed:
        raise discord.Forbidden(fake_response(403, "Forbidden"), "Missing Permissions")
    payload = params.payload
    if payload is None and params.multipart:
        # With files discord.py sends multipart/form-data; the JSON rides in "payload_json".
        part = next(p for p in params.multipart if p["name"] == "payload_json")
        payload = json.loads(part["value"])
    payload = payload or {}
    data = _message_data(channel, state.user, payload.get("content") or "")
    guild = getattr(channel, "guild", None)  # None in a direct message
    if guild is not None:
        if params.files and sum(_file_size(f) for f in params.files) > guild.filesize_limit:
            raise discord.HTTPException(fake_response(413, "Payload Too Large"),
                                        {"code": 40005, "message": "Request entity too large"})
        self.pinged[int(data["id"])] = _pinged_roles(channel, guild.me, payload)
    if params.files:
        stored: dict[str, bytes] = {}
        data["attachments"] = []
        for file in params.files:
            file.reset()
            stored[file.filename] = file.fp.read()
            attachment_id = facts.make_id()
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{file.filename}"
            data["attachments"].append({
                "id": str(attachment_id), "filename": file.filename,
                "size": len(stored[file.filename]), "url": url, "proxy_url": url,
            })
        self.uploads[int(data["id"])] = stored
    ref = payload.get("message_reference")
    if ref:
        data["type"] = discord.MessageType.reply.value
        data["message_reference"] = dict(ref)
    self.sent_payloads[int(data["id"])] = payload  # e.g. to check allowed_mentions
    state.parse_message_create(cast(Any, data))
    _store(int(channel_id)).append(data)
    sent = state._get_message(int(data["id"]))
    await dcallbacks.dispatch_event("send_message", sent)
    return data


def _file_size(file: discord.File) -> int:
    file.reset()
    size = len(file.fp.read())
    file.reset()
    return size


def _pinged_roles(channel: Any, me: discord.Member, payload: dict[str, Any]) -> list[int]:
    """The roles Discord actually notifies.

    Mentioned, allowed, and mentionable or the sender holds Mention Everyone (otherwise
    the ping shows but notifies no one).
    """
    allowed = payload.get("allowed_mentions") or {}
    may = {int(r) for r in allowed.get("roles", [])} | (
        {r.id for r in channel.guild.roles} if "roles" in allowed.get("parse", []) else set())
    everyone = channel.permissions_for(me).mention_everyone
    found = [int(m) for m in re.findall(r"<@&(\d+)>", payload.get("content") or "")]
    roles = {r.id: r for r in channel.guild.roles}
    return [r for r in found if r in may and r in roles and (roles[r].mentionable or everyone)]


async def _bulk_upsert_guild_commands(
    self: Any, application_id: int, guild_id: int, payload: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    published = [
        {**command, "id": str(facts.make_id()), "application_id": str(application_id),
         "guild_id": str(guild_id), "version": "1", "default_member_permissions": None}
        for command in payload
    ]
    self.published_commands[int(guild_id)] = published
    return published


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
        raise discord.Forbidden(fake_response(403, "Forbidden"), "Missing Permissions")
    if len(name) > 100:
        raise discord.HTTPException(fake_response(400, "Bad Request"), "name too long")
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


async def open_world() -> DiscordWorld:
    """A fresh fake guild on a new bot.

    Patch `facts.dict_from_overwrite` with `dict_from_overwrite` first; the `world`
    fixture does.
    """
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents)
    await bot._async_setup_hook()  # what login() would do: creates the loop-bound ready event
    return DiscordWorld(bot)
