"""Discord adapter: one chat in one guild text channel, with a thread per question.

Live capture listens to discord.py's *raw* events, so edits, deletes and reactions on
messages that are not in discord.py's message cache still reach the archive. Everything
handed to the core is a neutral `Message`/`Event`; no discord.py object leaves this package.

Every chat of the bot shares one discord.py client (`SharedClient`, owned by client.py):
one gateway connection per token, logged in by the first chat that starts and closed when
the last one stops. Each adapter adds and removes only its own listeners and filters by
its channel. Conversion is in messages.py, set-up checks in setup.py, moderation in
actions.py, the /chat commands in commands.py, scheduled events in scheduled_events.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from bot.clock import Clock
from bot.platforms.base import (
    BotControl,
    Capabilities,
    ChatContext,
    Platform,
    PlatformError,
    PlatformServices,
    PlatformSetupError,
)
from bot.platforms.discord import actions
from bot.platforms.discord.catchup import HistoryCatchUp
from bot.platforms.discord.client import (
    Handler,
    SharedClient,
    add_listeners,
    make_client,
    remove_listeners,
    shared_client,
)
from bot.platforms.discord.commands import install, uninstall
from bot.platforms.discord.messages import (
    CONTENT_TYPES,
    MAX_LENGTH,
    PLATFORM,
    send_transcript,
    to_message,
)
from bot.platforms.discord.setup import check_setup, settings_defaults, snowflake
from bot.platforms.recent import RecentMap
from bot.records import Action, ActionResult, Event, Message, PostRef, Upcoming

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.platforms.discord.scheduled_events import ScheduleMirror

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100


def build(context: ChatContext, services: PlatformServices) -> DiscordPlatform:
    """The registry's factory: [discord] settings under the script's, on the shared client."""
    merged = {**settings_defaults(services.settings), **context.settings}
    chat = ChatContext(context.chat_id, context.title, context.hashtag, merged,
                       context.host_name)
    return DiscordPlatform(chat, clock=services.clock, control=services.control,
                           store=services.archive, share=shared_client(services.settings))


class DiscordPlatform(HistoryCatchUp, Platform):
    """One chat in one Discord text channel, on the client every chat shares."""

    name = PLATFORM
    capabilities = Capabilities(
        threads=True,
        edits=True,
        deletes=True,
        hiding=False,  # Discord cannot hide a message from others: moderation deletes instead
        max_length=MAX_LENGTH,
        actions=frozenset({"delete", "timeout", "modlog", "signpost"}),
    )

    def __init__(
        self,
        context: ChatContext,
        *,
        token: str | None = None,
        client: discord.Client | None = None,
        clock: Clock | None = None,
        control: BotControl | None = None,
        store: Archive | None = None,
        share: SharedClient | None = None,
    ) -> None:
        super().__init__(context)
        s = context.settings
        if "guild_id" not in s or "channel_id" not in s:
            raise PlatformSetupError(
                f"Discord: chat {context.chat_id!r} needs guild_id and channel_id "
                "in its discord settings"
            )
        self.guild_id = snowflake(s["guild_id"], "guild_id")
        self.channel_id = snowflake(s["channel_id"], "channel_id")
        self.use_threads = bool(s.get("threads", True))
        self.moderator_role_setting = s.get("moderator_role")
        self.reminder_role_setting = s.get("reminder_role")
        mod_log = s.get("mod_log_channel_id")
        self.mod_log_channel_id = snowflake(mod_log, "mod_log_channel_id") if mod_log else None
        if share is None:
            if client is None and not token:
                raise PlatformSetupError(
                    "Discord: no bot token; set DISCORD_TOKEN "
                    "(Developer Portal > Bot > Reset Token)"
                )
            # Built on its own (not by the bot): a client of its own, or the one handed in.
            share = SharedClient(client or make_client(), token=None if client else token)
        self.share = share
        self.client: discord.Client = share.client
        self.clock = clock or Clock()
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._threads: set[int] = set()
        self._reactions: RecentMap[int, int] = RecentMap()
        # message id -> channel/thread id, for replies and deletes of messages we have seen
        self._where: RecentMap[int, int] = RecentMap()
        self._listening = False
        self._stopped = False
        self.guild: discord.Guild | None = None
        self.channel: discord.TextChannel | None = None
        self.mod_log: discord.TextChannel | None = None
        self.moderator_role: discord.Role | None = None
        self.reminder_role: discord.Role | None = None
        self.control = control  # set when the bot runs: the /chat commands drive it
        self.store = store  # where scheduled events and opt-ins are remembered
        self.mirror: ScheduleMirror | None = None
        # source ("channel" / "thread:<id>") -> newest message id seen live, for live_cursor()
        self._seen: dict[str, int] = {}
        self._known: dict[str, str] = {}  # positions from the last backfill (see catchup.py)
        self._gone_at: datetime | None = None


    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Check the intents, start listening and catch up on what was missed."""
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
            await self._leave()
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
        store = self.store if self.store is not None else MemoryStore()
        self.mirror = ScheduleMirror(self.guild, self.context.chat_id, self.channel_id, store)
        if self.control is None:
            return
        await install(self.client, self.control, self.guild)  # once per bot and server

    def _check_setup(self) -> None:
        placed = check_setup(
            self.client, guild_id=self.guild_id, channel_id=self.channel_id,
            threads=self.use_threads, mod_log_channel_id=self.mod_log_channel_id,
            moderator_role=self.moderator_role_setting, reminder_role=self.reminder_role_setting,
        )
        self.guild, self.channel, self.mod_log = placed.guild, placed.channel, placed.mod_log
        self.moderator_role, self.reminder_role = placed.moderator_role, placed.reminder_role
        for warning in placed.warnings:
            log.warning("%s", warning)

    async def stop(self) -> None:
        """Stop listening (the shared client keeps running) and end the event stream."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put_nowait(None)
        # The client keeps running for the other chats: only our own listeners go.
        self._unlisten()
        await self._leave()

    async def _leave(self) -> None:
        """Off the shared client; the last chat takes the /chat commands away with it."""
        if self.control is not None and self.share.is_last(self):
            await uninstall(self.client, self.control)
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
        """The ids of the threads the bot opened or follows."""
        return frozenset(str(t) for t in self._threads)

    # ---------------------------------------------------------------- posting

    async def post(
        self, text: str, *, reply_to: str | None = None, new_thread: str | None = None
    ) -> PostRef:
        """Post `text` in the channel, as a reply, or as the start of a new thread."""
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
            "on_disconnect": self._on_disconnect,
            "on_ready": self._on_reconnect,
            "on_resumed": self._on_reconnect,
        }

    def _listen(self) -> None:
        if self._listening or self._stopped:
            return
        self._listening = True
        add_listeners(self.client, self._handlers())

    def _unlisten(self) -> None:
        if not self._listening:
            return
        self._listening = False
        remove_listeners(self.client, self._handlers())

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
        """Newest message seen live in the channel and each thread (backfill resumes there).

        A thread the bot opened counts from its start until a message is seen in it.
        """
        cursor = {f"thread:{t}": str(t) for t in self._threads}
        cursor.update({source: str(mid) for source, mid in self._seen.items()})
        return cursor or None

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
        """Messages, edits and deletions as they arrive, until stopped."""
        self._listen()
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    # ---------------------------------------------------------------- schedule, reminders

    def _mirror(self) -> ScheduleMirror:
        if self.mirror is None:
            raise PlatformError("Discord: start() has not run", retryable=False)
        return self.mirror

    async def sync_schedule(self, upcoming: Sequence[Upcoming]) -> None:
        """Mirror the next sessions as the server's scheduled events."""
        r = await self._mirror().sync(upcoming, self.clock.now())
        if r.created or r.updated or r.cancelled:
            log.info("discord events for %s: %d created, %d updated, %d cancelled",
                     self.context.chat_id, len(r.created), len(r.updated), len(r.cancelled))

    async def remind(self, text: str, start: datetime) -> PostRef | None:
        """The reminder, pinging the reminder role or the event's interested members."""
        role_id = self.reminder_role.id if self.reminder_role is not None else None
        sent = await self._mirror().remind(self._channel(), text, start, role_id)
        return PostRef(platform=PLATFORM, id=sent)

    async def publish_transcript(self, files: Sequence[Path], link: str | None) -> None:
        """Post the HTML and Markdown transcript where the chat happened (and the link)."""
        await send_transcript(self._channel(), self.context.title, files, link)

    # ---------------------------------------------------------------- moderation

    async def act(self, action: Action) -> ActionResult:
        """Carry out a moderation action in the channel or thread the message is in."""
        def channel_of(message_id: int) -> discord.abc.Messageable:
            return self._messageable(self._where.get(message_id, self.channel_id))

        return await actions.act(action, channel_of=channel_of, guild=self.guild,
                                 mod_log=self.mod_log)
