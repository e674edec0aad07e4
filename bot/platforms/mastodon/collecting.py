"""How the Mastodon adapter collects: the hashtag stream where the instance allows, polling else.

Streaming: the `hashtag` stream (bot.platforms.mastodon.streaming) brings `update`,
`status.update` and `delete` as they happen. Each time it opens, the hashtag timeline is
read from the last id seen (the gap since the last read); while it is open the watched
threads are still polled for replies that drop the tag. A stream that drops, breaks its
bounds or goes quiet past its heartbeat is closed: polling takes over, backfilling from the
last id seen, and the stream is tried again later. An instance that refuses to stream
(401/403/404) is polled for the rest of the run.

Polling: the hashtag timeline from the last id seen upwards (min_id pages, followed
through the Link header's rel="prev"), the newest page once more (a status edited after
it was collected is found again there), and each host post's context, at an interval
stretched to fit the X-RateLimit window. Wherever a status is found again with a changed
`edited_at` it is an edit; a watched thread's status that vanished (and answers 404) is a
delete. Boosts are never answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from bot.clock import Clock
from bot.platforms.base import ChatContext
from bot.platforms.mastodon.client import InstanceLimits, MastodonClient
from bot.platforms.mastodon.statuses import PLATFORM, BadStatus, status_message, with_warning
from bot.platforms.mastodon.streaming import (
    HashtagStream,
    StreamBroken,
    StreamEvent,
    StreamRefused,
    streaming_base,
)
from bot.platforms.mastodon.text import with_hashtag
from bot.platforms.polling import Poller, Stopped, next_interval
from bot.platforms.recent import RecentMap, RecentSet
from bot.records import Backfill, Event, Message, PostRef

log = logging.getLogger(__name__)
MAX_PAGES = 50  # a cycle reads at most this many timeline pages (40 statuses each)
FIND_PAGES = 3  # pages of the account's own statuses read when looking for a post


class TagCollecting:
    """The collecting half of MastodonPlatform (a mixin: the adapter owns the state)."""

    context: ChatContext
    client: MastodonClient
    limits: InstanceLimits
    me_id: str
    _clock: Clock
    _poll: Poller
    _poll_interval: float
    _page_size: int
    _watch_seconds: float
    _warning: str
    _tag: str
    _min_id: str | None
    _acked: dict[str, str]
    _watched: dict[str, str]
    _members: dict[str, set[str]]
    _roots: RecentMap[str, str]
    _authors: RecentMap[str, str]
    _accts: RecentMap[str, str]
    _seen: RecentSet[str]
    _edits: RecentMap[str, str]  # status id -> the edited_at last handed over ("" never edited)
    _welcome: str | None
    _streaming: bool
    _stream_retry: float
    _stream_retry_at: float
    _stream_quiet: float

    def _cursor(self) -> dict[str, str]:
        cursor = {f"thread:{sid}": since for sid, since in self._watched.items()}
        if self._min_id:
            cursor["min_id"] = self._min_id
        return cursor

    @property
    def account_id(self) -> str | None:
        """The numeric account id the bot's statuses carry (verify_credentials), once started."""
        return self.me_id or None

    def as_sent(self, text: str) -> str:
        """`text` as collected back: the hashtag added, behind the chat's content warning."""
        return with_warning(with_hashtag(text.strip(), self.context.hashtag), self._warning)

    # ----------------------------------------------------------------- statuses -> events

    async def _messages(self, statuses: Any, source: str,
                        root: str | None = None) -> list[Message]:
        """The statuses as Messages (boosts and unreadable ones left out), in order.

        Flattening HTML is slow on big content, so it runs in a worker thread: the event
        loop only waits for it.
        """
        converted = await asyncio.to_thread(
            _convert, statuses if isinstance(statuses, list) else [], source, self.me_id, root)
        return [self._noted(m) for m in converted if m is not None]

    def _noted(self, message: Message) -> Message:
        """Remember who wrote `message` and which thread it is in; its thread filled in."""
        self._authors[message.id] = message.author.id
        if message.author.handle:
            self._accts[message.id] = message.author.handle
        if message.thread_id is None and message.reply_to:
            message = replace(message, thread_id=self._roots.get(message.reply_to,
                                                                 message.reply_to))
        self._roots[message.id] = message.thread_id or message.id
        return message

    def _news(self, messages: list[Message]) -> list[Event]:
        """What is new in `messages`: unseen statuses, and seen ones whose edited_at moved."""
        events = []
        for m in messages:
            edited = m.edited.isoformat() if m.edited else ""
            if m.id not in self._seen:
                self._seen.add(m.id)
                events.append(Event("created", PLATFORM, m.id, m.created, message=m))
            elif edited and self._edits.get(m.id, "") != edited:
                events.append(Event("edited", PLATFORM, m.id, m.edited or m.created, message=m))
            self._edits[m.id] = edited
        return events

    # ----------------------------------------------------------------- polling

    async def _timeline(self, *, persistent: bool) -> list[Event]:
        if not self._tag:
            return []
        found: list[Message] = []
        min_id = self._min_id
        for _ in range(MAX_PAGES):
            statuses, after = await self._poll.retrying(
                lambda m=min_id: self.client.tag_page(  # type: ignore[misc]
                    self._tag, m, self._page_size),
                persistent=persistent)
            if not statuses:
                break
            found += await self._messages(statuses, "timelines/tag")
            ids = [int(s["id"]) for s in statuses if isinstance(s, dict)
                   and str(s.get("id", "")).isdigit()]
            if not ids:
                break
            fresh_start = min_id is None
            # The Link header's rel="prev" names the next page up; the page's newest id
            # is the same place when an instance sends no header.
            min_id = after if after and int(after) >= max(ids) else str(max(ids))
            if fresh_start or len(statuses) < self._page_size:
                break  # a fresh start reads only the newest page; a short page is the top
        self._min_id = min_id  # moved only once every page is in
        return self._news(sorted(found, key=lambda m: int(m.id)))

    async def _rescan(self, *, persistent: bool) -> list[Event]:
        """The newest page of the hashtag once more: statuses edited since they were read."""
        if not self._tag:
            return []
        statuses, _ = await self._poll.retrying(
            lambda: self.client.tag_page(self._tag, None, self._page_size),
            persistent=persistent)
        found = await self._messages(statuses, "timelines/tag")
        return self._news(sorted(found, key=lambda m: int(m.id)))

    def _live_roots(self) -> list[str]:
        horizon = (self._clock.now() - timedelta(seconds=self._watch_seconds)).isoformat()
        return [sid for sid, since in self._watched.items() if since >= horizon]

    async def _threads(self, *, persistent: bool) -> list[Event]:
        events: list[Event] = []
        for root in self._live_roots():
            body = await self._poll.retrying(
                lambda r=root: self.client.context(r),  # type: ignore[misc]
                persistent=persistent)
            if body is None:
                continue
            descendants = body.get("descendants")
            messages = await self._messages(descendants, "statuses/context", root)
            events += self._news(messages)
            known = self._members.setdefault(root, set())
            present = {m.id for m in messages}
            known |= present
            for sid in sorted(known - present, key=int):
                if await self._poll.retrying(
                        lambda s=sid: self.client.status(s),  # type: ignore[misc]
                        persistent=persistent) is None:
                    events += self._gone(sid)
        return events

    def _gone(self, status_id: str) -> list[Event]:
        """A deletion, told once however it was learnt (the stream or a thread)."""
        for members in self._members.values():
            members.discard(status_id)
        if self._edits.pop(status_id, None) is None:
            return []
        return [Event("deleted", PLATFORM, status_id, self._clock.now())]

    async def _cycle(self, *, persistent: bool) -> list[Event]:
        resumed = self._min_id is not None  # else the timeline just read the newest page
        events = await self._timeline(persistent=persistent)
        if resumed:
            events += await self._rescan(persistent=persistent)
        return events + await self._threads(persistent=persistent)

    def _interval(self) -> float:
        """The pause between polling cycles, stretched to fit the rate-limit window."""
        return next_interval(self._poll_interval, self.client.remaining, self.client.reset,
                             self._clock.now().timestamp(), 2 + len(self._live_roots()))

    # ----------------------------------------------------------------- streaming

    async def _open_stream(self) -> HashtagStream | None:
        """The hashtag stream, or None: not allowed, not wanted, or waiting to retry."""
        if not self._streaming or not self._tag or \
                self._clock.monotonic() < self._stream_retry_at:
            return None
        stream = HashtagStream(self._clock)
        try:
            await stream.open(streaming_base(self.client.base_url, self.limits.streaming),
                              self.client.credentials.access_token or "", self._tag,
                              timeout=self.client.timeout)
        except StreamRefused as e:
            log.info("Mastodon: %s; polling the hashtag timeline instead", e)
            self._streaming = False
            return None
        except StreamBroken as e:
            self._stream_down(str(e))
            return None
        log.info("Mastodon: streaming #%s", self._tag)
        return stream

    def _stream_down(self, why: str) -> None:
        log.warning("Mastodon: %s; polling until the stream is tried again in %g s",
                    why, self._stream_retry)
        self._stream_retry_at = self._clock.monotonic() + self._stream_retry

    async def _streamed_events(self, item: StreamEvent) -> list[Event]:
        if item.name == "delete":  # the data is the bare id
            sid = item.data.strip().strip('"')
            return self._gone(sid) if sid.isdigit() and len(sid) <= 30 else []
        try:
            status = orjson.loads(item.data)
        except orjson.JSONDecodeError:
            log.info("Mastodon: skipped a streamed %s that is not JSON", item.name)
            return []
        messages = await self._messages([status], f"streaming/{item.name}")
        if not messages:
            return []
        message = messages[0]
        if item.name == "update" and (self._min_id is None or int(message.id) > int(self._min_id)):
            self._min_id = message.id  # the stream is continuous since the timeline was read
        return self._news([message])

    async def _streamed(self, stream: HashtagStream) -> AsyncIterator[Event]:
        """Events from an open stream, the watched threads polled between them."""
        while True:
            handed_over = self._cursor()
            deadline = self._clock.monotonic() + self._poll_interval
            while (left := deadline - self._clock.monotonic()) > 0:
                item = await self._poll.next_from(stream.queue, stream.ended, left)
                if item is None:
                    break
                for event in await self._streamed_events(item):
                    yield event
            self._acked.update(handed_over)
            if stream.ended.is_set() and stream.queue.empty():
                raise StreamBroken(stream.error or "the stream ended")
            if self._clock.monotonic() - stream.last_seen > self._stream_quiet:
                raise StreamBroken(f"nothing from the stream, not even a heartbeat, for "
                                   f"{self._stream_quiet:g} s")
            if self._poll.stopping.is_set():
                raise Stopped
            for event in await self._threads(persistent=True):
                yield event

    # ----------------------------------------------------------------- the contract

    async def events(self) -> AsyncIterator[Event]:
        """Stream (or poll) the hashtag and poll the watched threads until stopped."""
        self.client.api  # noqa: B018 - the plain "not started" error first
        with self._poll.until_stopped():
            while not self._poll.stopping.is_set():
                stream = await self._open_stream()
                if stream is not None:
                    try:
                        for event in await self._timeline(persistent=True):  # the gap
                            yield event
                        async for event in self._streamed(stream):
                            yield event
                    except StreamBroken as e:
                        self._stream_down(str(e))
                    finally:
                        await stream.close()
                    continue
                async for event in self._poll.one_cycle(
                        lambda: self._cycle(persistent=True), self._cursor, self._acked,
                        self._interval):
                    yield event

    async def backfill(self, since: Mapping[str, str]) -> Backfill:
        """What was posted after the saved positions (hashtag timeline and watched threads)."""
        self.client.api  # noqa: B018
        for key, value in since.items():
            if key == "min_id" and value.isdigit() and \
                    (self._min_id is None or int(value) > int(self._min_id)):
                self._min_id = value
            elif key.startswith("thread:"):
                self._watched.setdefault(key.removeprefix("thread:"), value)
        if self._welcome is None and self._watched:
            self._welcome = min(self._watched, key=int)
        events = await self._cycle(persistent=False)
        return Backfill(events=tuple(events), cursor=self._cursor())

    async def find_post(self, text: str, since: datetime) -> PostRef | None:
        """The bot's own status of `text` since `since`, read from its account's statuses."""
        if not self.me_id:
            return None
        wanted = self.as_sent(text)
        max_id: str | None = None
        for _ in range(FIND_PAGES):
            statuses = await self.client.account_statuses(self.me_id, max_id)
            for message in await self._messages(statuses, "accounts/statuses"):
                if message.created < since:
                    continue
                if message.text == wanted:
                    return PostRef(PLATFORM, message.id, thread_id=message.id,
                                   url=message.url)
            ids = [int(s["id"]) for s in statuses if isinstance(s, dict)
                   and str(s.get("id", "")).isdigit()]
            if not ids or len(statuses) < self._page_size:
                return None
            max_id = str(min(ids))
        return None


def _convert(statuses: list[Any], source: str, me: str,
             root: str | None) -> list[Message | None]:
    """Each status as a Message, None for a boost or one that cannot be read (logged).

    Pure (no adapter state), so it can run in a worker thread.
    """
    out: list[Message | None] = []
    for status in statuses:
        try:
            out.append(status_message(status, {"status": status, "source": source}, me=me,
                                      thread_id=root))
        except BadStatus as e:
            log.info("Mastodon: skipped a status (%s)", e)
            out.append(None)
        except Exception:  # a converter bug met by one hostile status must cost only that one
            log.warning("Mastodon: skipped a status that could not be read", exc_info=True)
            out.append(None)
    return out
