"""One live connection (an SSE stream, a WebSocket) read by a task of its own into a queue.

Shared by the Mastodon hashtag stream and Bluesky's Jetstream: the bounded queue the
adapter takes from (a full queue pauses reading, so a flood cannot grow memory), the
`ended` event and the reason in `error`, and a close that is safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Generic, TypeVar

import aiohttp

from bot.clock import Clock

T = TypeVar("T")
QUEUE_SIZE = 1_000  # items read but not yet handed over


class LiveFeed(Generic[T]):
    """A connection's reader: subclasses open it and start `_task`; `close()` ends it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.queue: asyncio.Queue[T] = asyncio.Queue(QUEUE_SIZE)
        self.ended = asyncio.Event()
        self.error = ""
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        """Stop reading and close the connection; safe to call twice."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.ended.set()
