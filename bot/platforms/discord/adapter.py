"""Discord adapter: one chat in one guild text channel, with a thread per question.

Live capture listens to discord.py's *raw* events, so edits, deletes and reactions on
messages that are not in discord.py's message cache still reach the archive. Everything
handed to the core is a neutral `Message`/`Event`; no discord.py object leaves this module.

Every chat of one App shares one discord.py client (`SharedClient`): one gateway
connection per token, logged in by the first chat that starts and closed when the last one
stops. Each adapter adds and removes only its own listeners and filters by its channel.

The /chat commands live in discord_cog.py and are added to the shared client once, when the
first adapter starts with an App; scheduled events and reminders are in discord_events.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord.ext import commands

from bot.clock import Clock
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    Platform,
    PlatformError,
    PlatformSetupError,
)
from bot.platforms.discord.client import (
    Fanout,
    Handler,
    SharedClient,
    make_client,
    shared_client,
)
from bot.records import Action, ActionResult, Author, Backfill, Event, Message, PostRef, Upcoming

if TYPE_CHECKING:
    from bot.app import App
    from bot.platforms.discord.scheduled_events import ScheduleMirror
    from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
MAX_LENGTH = 2000
THREAD_NAME_MAX = 100

# Permission attribute -> the label Discord's UI shows, so the setup error names the exact
# toggle a server admin has to switch on.
REQUIRED_PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "read_message_history": "Read Message History",
    "manage_messages": "Manage Messages",
    "moderate_members": "Timeout Members",
    "manage_events": "Manage Events",
}
THREAD_PERMISSIONS: dict[str, str] = {
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}
# Message types that carry something a person said; joins, pins, "started a thread" don't.
CONTENT_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})

TimestampStyle = Literal["t", "T", "d", "D", "f", "F", "R"]


def discord_time(dt: datetime, style: TimestampStyle = "F") -> str:
    """A Discord timestamp tag: every reader sees `dt` in their own time zone."""
    if dt.tzinfo is None:
        raise ValueError("discord_time needs a timezone-aware datetime")
    return f"<t:{int(dt.timestamp())}:{style}>"


def message_payload(msg: discord.Message) -> dict[str, Any]:
    """A JSON-able record of a message as Discord described it (kept verbatim in the archive)."""
    ref = msg.reference
    return {
        "id": str(msg.id),
        "type": msg.type.value,
        "channel_id": str(msg.channel.id),
        "guild_id": str(msg.guild.id) if msg.guild else None,
        "author": {
            "id": str(msg.author.id),
            "username": msg.author.name,
            "global_name": getattr(msg.author, "global_name", None),
            "nick": getattr(msg.author, "nick", None),
            "bot": msg.author.bot,
        },
        "content": msg.content,
        "timestamp": msg.created_at.isoformat(),
        "edited_timestamp": msg.edited_at.isoformat() if msg.edited_at else None,
        "message_reference": (
            {
                "message_id": str(ref.message_id) if ref.message_id else None,
                "channel_id": str(ref.channel_id),
            }
            if ref
            else None
        ),
        "reactions": [{"emoji": str(r.emoji), "count": r.count} for r in msg.reactions],
        "attachments": [
            {"id": str(a.id), "filename": a.filename, "url": a.url} for a in msg.attachments
        ],
    }


def to_message(msg: discord.Message, *, channel_id: int, thread_id: int | None) -> Message:
    """Flatten a discord.py message into the neutral shape (thread/channel decided by caller)."""
    text = msg.content
    if msg.attachments:
        # An image answer is still an answer: keep its link in the text the transcript shows.
        text = "\n".join([text, *(a.url for a in msg.attachments)]).strip()
    author = msg.author
    return Message(
        platform=PLATFORM,
        id=str(msg.id),
        author=Author(
            platform=PLATFORM,
            id=str(author.id),
            name=author.display_name,
            handle=author.name,
            is_bot=author.bot,
        ),
        text=text,
        created=msg.created_at.astimezone(UTC),
        reply_to=str(msg.reference.message_id)
        if msg.reference and msg.reference.message_id
        else None,
        thread_id=str(thread_id) if thread_id else None,
        channel_id=str(channel_id),
        edited=msg.edited_at.astimezone(UTC) if msg.edited_at else None,
        reactions=sum(r.count for r in msg.reactions),
        url=msg.jump_url,
        raw=message_payload(msg),
    )


def _snowflake(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlatformSetupError(
            f"Discord: {what} must be a numeric id, got {value!r}; "
            "copy it with Developer Mode on (right-click > Copy ID)"
        ) from None


def settings_defaults(settings: Settings) -> dict[str, Any]:
    """config/settings.toml [discord] values, which a script's platform_settings override."""
    d = settings.discord
    return {
        "guild_id": d.guild_id,
        "channel_id": d.channel_id,
        "moderator_role": d.moderator_role,
        "mod_log_channel_id": d.mod_log_channel_id,
    }


class DiscordPlatform(Platform):
    name = PLATFORM
    capabilities = Capabilities(
        threads=True,
        edits=True,
        deletes=True,
        hiding=False,  # Discord cannot hide a message from others: moderation deletes instead
        max_length=MAX_LENGTH,
        actions=frozenset({"delete", "timeout", "modlog"}),
    )

    def __init__(
        self,
        context: ChatContext,
        *,
        token: str | None = None,
        client: discord.Client | None = None,
        clock: Clock | None = None,
        app: App | None = None,
        share: SharedClient | None = None,
    ) -> None:
        super().__init__(context)
        s = context.settings
        if "guild_id" not in s or "channel_id" not in s:
            raise PlatformSetupError(
                f"Discord: chat {context.chat_id!r} needs guild_id and channel_id "
                "in its discord settings"
            )
        self.guild_id = _snowflake(s["guild_id"], "guild_id")
        self.channel_id = _snowflake(s["channel_id"], "channel_id")
        self.use_threads = bool(s.get("threads", True))
        self.moderator_role_setting = s.get("moderator_role")
        self.reminder_role_setting = s.get("reminder_role")
        mod_log = s.get("mod_log_channel_id")
        self.mod_log_channel_id = _snowflake(mod_log, "mod_log_channel_id") if mod_log else None
        if share is None:
            if client is None and not token:
                raise PlatformSetupError(
                    "Discord: no bot token; set DISCORD_TOKEN "
                    "(Developer Portal > Bot > Reset Token)"
                )
            # Built on its own (not by an App): a client of its own, or the one handed in.
            share = SharedClient(client or make_client(), token=None if client else token)
        self.share = share
        self.client: discord.Client = share.client
        self.clock = clock or Clock()
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._threads: set[int] = set()
        self._reactions: dict[int, int] = {}
        # message id -> channel/thread id, for replies and deletes of messages we have seen
        self._where: dict[int, int] = {}
        self._listening = False
        self._stopped = False
        self.guild: discord.Guild | None = None
        self.channel: discord.TextChannel | None = None
        self.mod_log: discord.TextChannel | None = None
        self.moderator_role: discord.Role | None = None
        self.reminder_role: discord.Role | None = None
        self.app = app  # set when the bot runs: the /chat commands drive it
        self.mirror: ScheduleMirror | None = None
        # source ("channel" / "thread:<id>") -> newest message id seen live, for live_cursor()
        self._seen: dict[str, int] = {}

    @classmethod
    def from_app(cls, context: ChatContext, app: App) -> DiscordPlatform:
        """The adapter as the running bot builds it: every chat of the App shares one client
        (`app.discord_client`; tests hand in dpytest's, else the first chat logs one in)."""
        return cls(context, clock=app.clock, app=app, share=shared_client(app))

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if not self.client.intents.message_content:
            raise PlatformSetupError(
                "Discord: the message_content intent is off; enable it on the client "
                "and in Developer Portal > Bot > Privileged Gateway Intents"
            )
        self._listen()
        try:
            await self.share.acquire(self)
            self._check_setup()
            await self._install_commands()
        except PlatformSetupError:
            # Leave nothing behind: our listeners go, and if no other chat uses the client,
            # its gateway connection is closed.
            self._unlisten()
            await self.share.release(self)
            raise
        log.info(
            "discord: serving #%s (channel %s) in %s for %s",
            self.channel.name if self.channel else "?",
            self.channel_id,
            self.guild.name if self.guild else "?",
            self.context.chat_id,
        )

    async def _install_commands(self) -> None:
        from bot.platforms.discord.scheduled_events import MemoryStore, ScheduleMirror

        assert self.guild is not None
        store = self.app.archive if self.app is not None else MemoryStore()
        self.mirror = ScheduleMirror(self.guild, self.context.chat_id, self.channel_id, store)
        if self.app is None:
            return
        from bot.platforms.discord.commands import install

        await install(self.client, self.app, self.guild)  # once per App and server

    def _check_setup(self) -> None:
        guild = self.client.get_guild(self.guild_id)
        if guild is None:
            raise PlatformSetupError(
                f"Discord: the bot is not in server {self.guild_id}; invite it with the "
                "OAuth2 URL (scopes: bot, applications.commands) or fix guild_id"
            )
        channel = guild.get_channel(self.channel_id)
        if not isinstance(channel, discord.TextChannel):
            what = "is not a text channel" if channel is not None else "was not found"
            raise PlatformSetupError(
                f"Discord: channel {self.channel_id} {what} in server '{guild.name}'; "
                "set channel_id to a text channel's id"
            )
        me = guild.me
        needed = dict(REQUIRED_PERMISSIONS)
        if self.use_threads:
            needed.update(THREAD_PERMISSIONS)
        perms = channel.permissions_for(me)
        missing = [label for attr, label in needed.items() if not getattr(perms, attr)]
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            raise PlatformSetupError(
                f"Discord: the bot lacks {names} in #{channel.name} (channel {channel.id}); "
                "grant it in Server Settings > Roles"
            )
        if self.mod_log_channel_id is not None:
            mod_log = guild.get_channel(self.mod_log_channel_id)
            if not isinstance(mod_log, discord.TextChannel):
                raise PlatformSetupError(
                    f"Discord: mod_log_channel_id {self.mod_log_channel_id} is not a text "
                    f"channel in server '{guild.name}'; fix it or remove it"
                )
            lp = mod_log.permissions_for(me)
            if not (lp.view_channel and lp.send_messages):
                raise PlatformSetupError(
                    f"Discord: the bot lacks 'Send Messages' in #{mod_log.name} "
                    f"(channel {mod_log.id}); grant it in Server Settings > Roles"
                )
            self.mod_log = mod_log
        self.moderator_role = self._role(guild, self.moderator_role_setting, "moderator_role")
        self.reminder_role = self._role(guild, self.reminder_role_setting, "reminder_role")
        self.guild, self.channel = guild, channel

    @staticmethod
    def _role(guild: discord.Guild, setting: Any, what: str) -> discord.Role | None:
        if setting in (None, ""):
            return None
        text = str(setting)
        role = (
            guild.get_role(int(text))
            if text.isdigit()
            else discord.utils.get(guild.roles, name=text)
        )
        if role is None:
            raise PlatformSetupError(
                f"Discord: {what} {text!r} is not a role in server '{guild.name}'; "
                "use the role's exact name or id"
            )
        return role

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._queue.put_nowait(None)
        # The client keeps running for the other chats: only our own listeners go.
        self._unlisten()
        await self.share.release(self)

    def is_moderator(self, member: discord.Member) -> bool:
        """Moderators: the configured role, or anyone who can manage messages here."""
        if self.moderator_role is not None and self.moderator_role in member.roles:
            return True
        if self.channel is not None:
            return self.channel.permissions_for(member).manage_messages
        return False

    @property
    def threads(self) -> frozenset[str]:
        return frozenset(str(t) for t in self._threads)

    # ---------------------------------------------------------------- posting

    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        if len(text) > MAX_LENGTH:
            raise PlatformError(
                f"Discord: post is {len(text)} characters, the limit is {MAX_LENGTH}",
                retryable=False,
            )
        target: discord.abc.Messageable = self._channel()
        reference = None
        if reply_to is not None:
            # A reply must go to wherever the original lives; the caller only knows its id.
            where = self._where.get(int(reply_to), self.channel_id)
            target = self._messageable(where)
            reference = discord.MessageReference(
                message_id=int(reply_to),
                channel_id=where,
                guild_id=self.guild_id,
                fail_if_not_exists=False,
            )
        try:
            sent = await target.send(text, reference=reference)  # type: ignore[arg-type]
        except discord.Forbidden as e:
            raise PlatformError(f"Discord refused the post: {e.text}", retryable=False) from e
        except discord.HTTPException as e:
            raise PlatformError(f"Discord post failed: {e}", retryable=e.status >= 500) from e
        self._where[sent.id] = sent.channel.id
        thread_id: str | None = None
        if new_thread and self.use_threads and sent.channel.id == self.channel_id:
            try:
                thread = await sent.create_thread(name=new_thread[:THREAD_NAME_MAX])
            except discord.HTTPException as e:
                # The post is out; failing here would make the host post it twice.
                log.warning("discord: could not open thread %r: %s", new_thread, e)
            else:
                self._threads.add(thread.id)
                thread_id = str(thread.id)
        return PostRef(platform=PLATFORM, id=str(sent.id), thread_id=thread_id, url=sent.jump_url)

    def _channel(self) -> discord.TextChannel:
        if self.channel is None:
            raise PlatformError("Discord: start() has not run", retryable=False)
        return self.channel

    def _messageable(self, channel_id: int) -> discord.abc.Messageable:
        found = self.client.get_channel(channel_id)
        if isinstance(found, discord.abc.Messageable):
            return found
        return self.client.get_partial_messageable(channel_id, guild_id=self.guild_id)

    # ---------------------------------------------------------------- live events

    def _handlers(self) -> dict[str, Handler]:
        return {
            "on_message": self._on_message,
            "on_raw_message_edit": self._on_raw_edit,
            "on_raw_message_delete": self._on_raw_delete,
            "on_raw_bulk_message_delete": self._on_raw_bulk_delete,
            "on_raw_reaction_add": self._on_reaction_add,
            "on_raw_reaction_remove": self._on_reaction_remove,
            "on_thread_create": self._on_thread_create,
        }

    def _listen(self) -> None:
        if self._listening or self._stopped:
            return
        self._listening = True
        client = self.client
        for event, handler in self._handlers().items():
            if isinstance(client, commands.Bot):
                client.add_listener(handler, event)
                continue
            # A plain Client dispatches to one attribute per event: share it through a fan-out.
            fanout = getattr(client, event, None)
            if not isinstance(fanout, Fanout):
                fanout = Fanout(fanout)
                setattr(client, event, fanout)
            fanout.handlers.append(handler)

    def _unlisten(self) -> None:
        if not self._listening:
            return
        self._listening = False
        client = self.client
        for event, handler in self._handlers().items():
            if isinstance(client, commands.Bot):
                client.remove_listener(handler, event)
                continue
            fanout = getattr(client, event, None)
            if isinstance(fanout, Fanout) and handler in fanout.handlers:
                fanout.handlers.remove(handler)

    def _placement(self, channel_id: int, channel: Any = None) -> tuple[int, int | None] | None:
        """(channel id, thread id) if this channel belongs to the chat, else None."""
        if channel_id == self.channel_id:
            return self.channel_id, None
        if channel_id in self._threads:
            return self.channel_id, channel_id
        if isinstance(channel, discord.Thread) and channel.parent_id == self.channel_id:
            # A thread someone opened from a chat message: its answers count too.
            self._threads.add(channel_id)
            return self.channel_id, channel_id
        return None

    def _convert(self, msg: discord.Message) -> Message | None:
        place = self._placement(msg.channel.id, msg.channel)
        if place is None:
            return None
        self._where[msg.id] = msg.channel.id
        if msg.type not in CONTENT_TYPES or self._is_self(msg.author):
            return None
        return to_message(msg, channel_id=place[0], thread_id=place[1])

    def _is_self(self, author: discord.abc.User) -> bool:
        # The host stores its own posts when it sends them; reminders, transcripts and
        # mod-log lines are not chat content. So the bot's own messages are never collected.
        me = self.client.user
        return me is not None and author.id == me.id

    def _mark_seen(self, msg: discord.Message) -> None:
        place = self._placement(msg.channel.id, msg.channel)
        if place is None:
            return
        source = "channel" if place[1] is None else f"thread:{place[1]}"
        if msg.id > self._seen.get(source, 0):
            self._seen[source] = msg.id

    def live_cursor(self) -> Mapping[str, str] | None:
        """Newest message seen live in the channel and each thread (backfill resumes there)."""
        return {source: str(mid) for source, mid in self._seen.items()} or None

    def _emit(self, event: Event) -> None:
        if not self._stopped:
            self._queue.put_nowait(event)

    async def _on_message(self, msg: discord.Message) -> None:
        self._mark_seen(msg)
        neutral = self._convert(msg)
        if neutral is None:
            return
        self._reactions[msg.id] = neutral.reactions
        self._emit(Event("created", PLATFORM, neutral.id, neutral.created, message=neutral))

    async def _on_raw_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        neutral = self._convert(payload.message)
        if neutral is None:
            return
        if neutral.edited is None:
            return  # an embed unfurling or a pin: Discord stamps only a person's edits
        self._emit(Event("edited", PLATFORM, neutral.id, neutral.edited, message=neutral))

    async def _on_raw_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if self._placement(payload.channel_id) is None:
            return
        self._where.pop(payload.message_id, None)
        self._emit(Event("deleted", PLATFORM, str(payload.message_id), self.clock.now()))

    async def _on_raw_bulk_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if self._placement(payload.channel_id) is None:
            return
        now = self.clock.now()
        for message_id in sorted(payload.message_ids):
            self._emit(Event("deleted", PLATFORM, str(message_id), now))

    async def _on_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, +1)

    async def _on_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, -1)

    def _reaction(self, payload: discord.RawReactionActionEvent, delta: int) -> None:
        if self._placement(payload.channel_id) is None:
            return
        cached = self._cached(payload.message_id)
        if payload.message_id not in self._reactions:
            # discord.py dispatches the raw event before it updates its cache, so a cached
            # message still shows the count from before this reaction.
            self._reactions[payload.message_id] = (
                sum(r.count for r in cached.reactions) if cached else 0
            )
        count = max(0, self._reactions[payload.message_id] + delta)
        self._reactions[payload.message_id] = count
        neutral = self._convert(cached) if cached else None
        self._emit(
            Event(
                "reaction",
                PLATFORM,
                str(payload.message_id),
                self.clock.now(),
                message=neutral,
                reactions=count,
            )
        )

    async def _on_thread_create(self, thread: discord.Thread) -> None:
        if thread.parent_id == self.channel_id:
            self._threads.add(thread.id)

    def _cached(self, message_id: int) -> discord.Message | None:
        return discord.utils.get(self.client.cached_messages, id=message_id)

    async def events(self) -> AsyncIterator[Event]:
        self._listen()
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    # ---------------------------------------------------------------- backfill

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        cursor = dict(since)
        for key in cursor:
            if key.startswith("thread:"):
                self._threads.add(int(key.removeprefix("thread:")))
        found: list[Event] = []
        sources: list[tuple[str, int, int | None]] = [("channel", self.channel_id, None)]
        sources += [(f"thread:{t}", t, t) for t in sorted(self._threads)]
        for key, source_id, thread_id in sources:
            after = cursor.get(key)
            if after is None and thread_id is None:
                # A fresh start: nothing is owed from before now. Remember where "now" is.
                last = self._channel().last_message_id
                if last is None:
                    last = discord.utils.time_snowflake(self.clock.now())
                cursor[key] = str(last)
                continue
            # A thread's id is its starter message's id, so "after the thread id" is all of it.
            start = int(after) if after is not None else source_id
            newest = start
            try:
                async for msg in self._messageable(source_id).history(
                    limit=None, after=discord.Object(id=start), oldest_first=True
                ):
                    newest = max(newest, msg.id)
                    if msg.type not in CONTENT_TYPES or self._is_self(msg.author):
                        continue
                    self._where[msg.id] = source_id
                    neutral = to_message(msg, channel_id=self.channel_id, thread_id=thread_id)
                    found.append(
                        Event("created", PLATFORM, neutral.id, neutral.created, message=neutral)
                    )
            except discord.Forbidden as e:
                raise PlatformError(
                    f"Discord: cannot read history of {key}: {e.text}", retryable=False
                ) from e
            except discord.NotFound:
                log.warning("discord: %s no longer exists; dropping it from backfill", key)
                self._threads.discard(source_id)
                cursor.pop(key, None)
                continue
            except discord.HTTPException as e:
                raise PlatformError(f"Discord: backfill of {key} failed: {e}") from e
            cursor[key] = str(newest)
        found.sort(key=lambda e: int(e.message_id))
        return Backfill(events=tuple(found), cursor=cursor)

    # ---------------------------------------------------------------- schedule, reminders

    def _mirror(self) -> ScheduleMirror:
        if self.mirror is None:
            raise PlatformError("Discord: start() has not run", retryable=False)
        return self.mirror

    async def sync_schedule(self, upcoming: Sequence[Upcoming]) -> None:
        result = await self._mirror().sync(upcoming, self.clock.now())
        if result.created or result.updated or result.cancelled:
            log.info(
                "discord events for %s: %d created, %d updated, %d cancelled",
                self.context.chat_id,
                len(result.created),
                len(result.updated),
                len(result.cancelled),
            )

    async def remind(self, text: str, start: datetime) -> PostRef | None:
        """The reminder, with each reader's own local time, pinging the reminder role if one
        is set, else everyone interested in the event or opted in with /chat join."""
        from bot.platforms.discord.scheduled_events import send_reminder, with_mentions

        text = f"{text}\nYour time: {discord_time(start, 'F')} ({discord_time(start, 'R')})"
        role_id = self.reminder_role.id if self.reminder_role is not None else None
        users = [] if role_id is not None else (await self._mirror().audience(start))[:100]
        body = with_mentions(text, role_id=role_id, users=users)
        sent = await send_reminder(self._channel(), body, role_id=role_id, users=users)
        return PostRef(platform=PLATFORM, id=sent)

    async def publish_transcript(self, files: Sequence[Path], link: str | None) -> None:
        """Post the HTML and Markdown transcript where the chat happened (and the link)."""
        channel = self._channel()
        limit = channel.guild.filesize_limit
        wanted = [Path(f) for f in files if Path(f).suffix in (".html", ".md")]
        fits = [f for f in wanted if f.is_file() and f.stat().st_size <= limit]
        text = f"The transcript of **{self.context.title}** is ready."
        if link:
            text += f" Read it online: {link}"
        if not channel.permissions_for(channel.guild.me).attach_files:
            log.warning("discord: no 'Attach Files' in #%s; sharing the link only", channel.name)
            fits = []
            if not link:
                return
        elif len(fits) < len(wanted):
            text += f" ({len(wanted) - len(fits)} file(s) too large to attach here.)"
        try:
            await channel.send(
                text[:MAX_LENGTH],
                files=[discord.File(f, filename=f.name) for f in fits],
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as e:
            raise PlatformError(
                f"Discord: transcript not shared: {e}", retryable=e.status >= 500
            ) from e

    # ---------------------------------------------------------------- moderation

    async def act(self, action: Action) -> ActionResult:
        try:
            if action.kind == "delete":
                return await self._delete(action)
            if action.kind == "timeout":
                return await self._timeout(action)
            if action.kind == "modlog":
                return await self._modlog(action)
        except discord.Forbidden as e:
            return ActionResult(False, f"Discord refused {action.kind}: {e.text}")
        except discord.HTTPException as e:
            return ActionResult(False, f"Discord {action.kind} failed: {e}")
        return ActionResult(False, f"discord cannot {action.kind}; flagged only")

    async def _delete(self, action: Action) -> ActionResult:
        if not action.message_id:
            return ActionResult(False, "delete needs a message id")
        where = self._where.get(int(action.message_id), self.channel_id)
        channel = self._messageable(where)
        try:
            await channel.get_partial_message(int(action.message_id)).delete()  # type: ignore[attr-defined]
        except discord.NotFound:
            return ActionResult(True, "already deleted")
        return ActionResult(True, "deleted")

    async def _timeout(self, action: Action) -> ActionResult:
        if not action.author_id:
            return ActionResult(False, "timeout needs an author id")
        guild = self.guild
        if guild is None:
            return ActionResult(False, "Discord: start() has not run")
        member = guild.get_member(int(action.author_id))
        if member is None:
            try:
                member = await guild.fetch_member(int(action.author_id))
            except discord.NotFound:
                return ActionResult(False, f"member {action.author_id} is not in the server")
        minutes = action.minutes or 10
        await member.timeout(timedelta(minutes=minutes), reason=action.reason or None)
        return ActionResult(True, f"timed out for {minutes} min")

    async def _modlog(self, action: Action) -> ActionResult:
        if self.mod_log is None:
            return ActionResult(False, "no mod_log_channel_id set; flagged only")
        line = action.text or action.reason or "(no detail)"
        await self.mod_log.send(line[:MAX_LENGTH], allowed_mentions=discord.AllowedMentions.none())
        return ActionResult(True, "logged")
