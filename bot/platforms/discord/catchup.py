"""Which Discord channels and threads a backfill reads, so catching up stays bounded.

A backfill asks for each source's history after its saved position: the chat channel and
every question thread. Threads accumulate week after week; reading each one ever saved
on every restart would cost one request per thread, forever. A thread whose last known
activity is older than THREAD_DAYS is retired (its chat is long over and transcribed),
and at most MAX_THREADS threads are read, the most recently active first.

After a reconnect that could not resume (READY again: Discord replays nothing), or a
RESUMED one, the adapter reads what was said meanwhile from the positions it knew before
the gap. Threads the bot opened are in its saved cursor from the start, so replies there
while it was down are backfilled even if it never saw a message in them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.clock import Clock
from bot.platforms.base import PlatformError
from bot.platforms.discord.messages import CONTENT_TYPES, PLATFORM, to_message
from bot.platforms.recent import RecentMap
from bot.records import Backfill, Event, PostRef

log = logging.getLogger(__name__)

THREAD_PREFIX = "thread:"
MAX_THREADS = 25
THREAD_DAYS = 14
FIND_LIMIT = 200  # messages read when looking for the bot's own post after a crash


@dataclass(frozen=True)
class Source:
    """One history to read: its cursor key, its channel id and its thread id (if any)."""

    key: str
    channel_id: int
    thread_id: int | None


def plan(
    cursor: Mapping[str, str],
    threads: Iterable[int],
    channel_id: int,
    now: datetime,
    *,
    max_threads: int = MAX_THREADS,
    days: int = THREAD_DAYS,
) -> tuple[list[Source], list[str]]:
    """The sources to read (the channel first) and the thread keys retired from the cursor.

    `threads` are those the bot knows of (ones it opened, or saw a message in); each one's
    activity is its saved position, or its own id (its creation) when none was saved.
    """
    horizon = discord.utils.time_snowflake(now - timedelta(days=days))
    known = {int(k.removeprefix(THREAD_PREFIX)) for k in cursor if k.startswith(THREAD_PREFIX)}
    known.update(threads)
    activity = {t: int(cursor.get(f"{THREAD_PREFIX}{t}", t)) for t in known}
    live = sorted((t for t in known if activity[t] >= horizon),
                  key=lambda t: activity[t], reverse=True)
    retired = [f"{THREAD_PREFIX}{t}" for t in sorted(known) if activity[t] < horizon]
    sources = [Source("channel", channel_id, None)]
    sources += [Source(f"{THREAD_PREFIX}{t}", t, t) for t in live[:max_threads]]
    return sources, retired


class HistoryCatchUp:
    """The catching-up half of DiscordPlatform (a mixin: the adapter owns the state).

    Backfill from saved positions, again after a reconnect that could not resume, and
    finding the bot's own post after a crash.
    """

    channel_id: int
    clock: Clock
    client: discord.Client
    _threads: set[int]
    _where: RecentMap[int, int]
    _seen: dict[str, int]
    _known: dict[str, str]  # the newest positions from the last backfill
    _gone_at: datetime | None  # when the gateway dropped, if it did

    if TYPE_CHECKING:  # provided by DiscordPlatform; never shadow them at run time
        def _channel(self) -> discord.TextChannel: ...
        def _messageable(self, channel_id: int) -> discord.abc.Messageable: ...
        def _is_self(self, author: discord.abc.User) -> bool: ...
        def _emit(self, event: Event) -> None: ...
        def live_cursor(self) -> Mapping[str, str] | None:
            """The adapter's positions of what it has handed over."""

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """What was said after the saved positions: the channel and the recent threads.

        The bot's own threads are included, at most MAX_THREADS of them, old ones retired.
        """
        cursor = dict(since)
        sources, retired = plan(cursor, self._threads, self.channel_id, self.clock.now())
        for key in retired:
            cursor.pop(key, None)
            self._threads.discard(int(key.removeprefix(THREAD_PREFIX)))
        found: list[Event] = []
        for source in sources:
            after = cursor.get(source.key)
            if after is None and source.thread_id is None:
                # A fresh start: nothing is owed from before now. Remember where "now" is.
                last = self._channel().last_message_id
                if last is None:
                    last = discord.utils.time_snowflake(self.clock.now())
                cursor[source.key] = str(last)
                continue
            # A thread's id is its starter message's id, so "after the thread id" is all of it.
            start = int(after) if after is not None else source.channel_id
            newest = await self._read(source, start, found)
            if newest is None:
                cursor.pop(source.key, None)
            else:
                cursor[source.key] = str(newest)
        found.sort(key=lambda e: int(e.message_id))
        self._known = dict(cursor)
        return Backfill(events=tuple(found), cursor=cursor)

    async def _read(self, source: Source, start: int, found: list[Event]) -> int | None:
        """One history after `start`; its newest id, or None when it no longer exists."""
        newest = start
        try:
            async for msg in self._messageable(source.channel_id).history(
                limit=None, after=discord.Object(id=start), oldest_first=True
            ):
                newest = max(newest, msg.id)
                if msg.type not in CONTENT_TYPES or self._is_self(msg.author):
                    continue
                self._where[msg.id] = source.channel_id
                neutral = to_message(msg, channel_id=self.channel_id, thread_id=source.thread_id)
                found.append(Event("created", PLATFORM, neutral.id, neutral.created,
                                   message=neutral))
        except discord.Forbidden as e:
            raise PlatformError(
                f"Discord: cannot read history of {source.key}: {e.text}", retryable=False
            ) from e
        except discord.NotFound:
            log.warning("discord: %s no longer exists; dropping it from backfill", source.key)
            self._threads.discard(source.channel_id)
            return None
        except discord.HTTPException as e:
            raise PlatformError(f"Discord: backfill of {source.key} failed: {e}") from e
        return newest

    async def _on_disconnect(self) -> None:
        if self._gone_at is None:
            self._gone_at = self.clock.now()

    async def _on_reconnect(self) -> None:
        """After READY following a gap, or RESUMED: read what was said meanwhile.

        Reading starts from the positions known before the gap (a new session replays
        nothing missed).
        """
        gone, self._gone_at = self._gone_at, None
        since = {**self._known, **(self.live_cursor() or {})}
        if "channel" not in since:
            if gone is None:
                return  # the first READY of a fresh start: nothing is owed
            since["channel"] = str(discord.utils.time_snowflake(gone))
        try:
            result = await self.backfill(since)
        except PlatformError as e:
            log.warning("discord: catching up after a reconnect failed: %s", e)
            return
        for event in result.events:
            self._emit(event)
        for key, value in result.cursor.items():
            self._seen[key] = max(self._seen.get(key, 0), int(value))
        if result.events:
            log.info("discord: %d messages caught up after a reconnect", len(result.events))

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The bot's own message with exactly `text` in the channel since `since`."""
        after = discord.Object(id=discord.utils.time_snowflake(since))
        try:
            # Newest first: an identical older post (another week's) is not the one we want.
            async for msg in self._channel().history(limit=FIND_LIMIT, after=after,
                                                     oldest_first=False):
                if self._is_self(msg.author) and msg.content == text:
                    thread = msg.channel.get_thread(msg.id) if isinstance(
                        msg.channel, discord.TextChannel) else None
                    return PostRef(PLATFORM, str(msg.id),
                                   thread_id=str(thread.id) if thread else None,
                                   url=msg.jump_url)
        except discord.HTTPException as e:
            log.warning("discord: could not look for an earlier post: %s", e)
        return None
