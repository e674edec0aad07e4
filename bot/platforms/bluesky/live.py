"""Live collection for the Bluesky adapter from Jetstream, where a Jetstream URL is configured.

Each time the connection opens, one polling cycle (hashtag search and the watched threads)
reads the gap since the last one. While it is open, every post commit that tags the
hashtag or replies into a thread the bot follows is read whole with getPosts (author,
handle, counts: Jetstream gives only the record) and handed over once; a delete of a post
the bot collected is a delete. The watched threads are still polled every poll interval
(a reply may name a root the bot has not seen yet). A connection that fails or drops is
closed: polling takes over, and Jetstream is tried again after `jetstream_retry_seconds`,
from a few seconds before the last commit read.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.clock import Clock
from bot.platforms.bluesky.client import BlueskyClient
from bot.platforms.bluesky.jetstream import (
    Commit,
    JetstreamDown,
    JetstreamReader,
    replied_to,
    tags_of,
)
from bot.platforms.bluesky.posts import PLATFORM, feed_views
from bot.platforms.polling import Poller, Stopped
from bot.platforms.recent import RecentSet
from bot.records import Event, Message

log = logging.getLogger(__name__)
REPLAY_US = 5_000_000  # reconnect a little before the last commit read: no gap at the seam
HYDRATE = 25  # getPosts takes at most 25 uris


class JetstreamCollecting:
    """The Jetstream half of BlueskyPlatform's collecting (a mixin: the adapter owns state)."""

    client: BlueskyClient
    _clock: Clock
    _poll: Poller
    _poll_interval: float
    _tag: str
    _since: str | None
    _seen: RecentSet[str]
    _watched: dict[str, str]
    _members: dict[str, set[str]]
    _acked: dict[str, str]
    _jetstream: str
    _jetstream_retry: float
    _jetstream_retry_at: float
    _jetstream_us: int | None
    _cursor: Callable[[], dict[str, str]]
    _cycle: Callable[..., Awaitable[list[Event]]]
    _threads: Callable[..., Awaitable[list[Event]]]
    _message: Callable[[Any, str], Message | None]
    _fresh: Callable[[list[Message]], list[Event]]

    async def _open_jetstream(self) -> JetstreamReader | None:
        """A Jetstream connection, or None: not configured, or waiting to try again."""
        if not self._jetstream or self._clock.monotonic() < self._jetstream_retry_at:
            return None
        reader = JetstreamReader(self._clock)
        cursor = None if self._jetstream_us is None else max(0, self._jetstream_us - REPLAY_US)
        try:
            await reader.open(self._jetstream, cursor, timeout=self.client.timeout)
        except JetstreamDown as e:
            self._jetstream_down(str(e))
            return None
        log.info("Bluesky: reading #%s live from Jetstream", self._tag)
        return reader

    def _jetstream_down(self, why: str) -> None:
        log.warning("Bluesky: %s; polling until Jetstream is tried again in %g s", why,
                    self._jetstream_retry)
        self._jetstream_retry_at = self._clock.monotonic() + self._jetstream_retry

    def _wanted(self, commit: Commit) -> bool:
        """Whether a created or edited post belongs to the chat: its tag, or a followed thread."""
        record = commit.record or {}
        if self._tag and self._tag.casefold() in tags_of(record):
            return True
        # Membership tests, never a union: this runs for every reply on the whole network.
        return any(uri in self._seen or uri in self._watched for uri in replied_to(record))

    async def _hydrate(self, uris: list[str]) -> list[Event]:
        """Posts Jetstream named, read whole and handed over once each."""
        messages: list[Message] = []
        for i in range(0, len(uris), HYDRATE):
            batch = uris[i:i + HYDRATE]
            body = await self._poll.retrying(lambda b=batch: self.client.posts(b),  # type: ignore[misc]
                                        persistent=True)
            for view in feed_views(body):
                indexed = view.get("indexedAt")
                if isinstance(indexed, str) and (self._since is None or indexed > self._since):
                    self._since = indexed  # continuous since the gap was read
                message = self._message(view, "jetstream")
                if message is not None:
                    messages.append(message)
        return self._fresh(messages)

    def _deleted(self, uri: str) -> list[Event]:
        for members in self._members.values():
            members.discard(uri)
        return [Event("deleted", PLATFORM, uri, self._clock.now())]

    async def _jetstreamed(self, reader: JetstreamReader) -> AsyncIterator[Event]:
        """Events while Jetstream is open; on a drop, back to polling (the caller's loop)."""
        try:
            for event in await self._cycle(persistent=True):  # the gap before it opened
                yield event
            while True:
                handed_over = self._cursor()
                deadline = self._clock.monotonic() + self._poll_interval
                wanted: list[str] = []
                while (left := deadline - self._clock.monotonic()) > 0:
                    commit = await self._poll.next_from(reader.queue, reader.ended, left)
                    if commit is None:
                        break
                    self._jetstream_us = commit.time_us
                    if commit.operation == "delete":
                        if commit.uri in self._seen:
                            for event in self._deleted(commit.uri):
                                yield event
                    elif commit.uri not in self._seen and self._wanted(commit):
                        wanted.append(commit.uri)
                    if wanted and reader.queue.empty():  # a lull: read what was named now
                        for event in await self._hydrate(list(dict.fromkeys(wanted))):
                            yield event
                        wanted = []
                for event in await self._hydrate(list(dict.fromkeys(wanted))):
                    yield event
                self._acked.update(handed_over)
                if reader.ended.is_set() and reader.queue.empty():
                    raise JetstreamDown(reader.error or "the Jetstream connection ended")
                if self._poll.stopping.is_set():
                    raise Stopped
                for event in await self._threads(persistent=True):
                    yield event
        except JetstreamDown as e:
            self._jetstream_down(str(e))
        finally:
            await reader.close()
