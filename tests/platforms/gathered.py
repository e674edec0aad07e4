"""A started adapter whose live events are gathered in the background, for the stream tests."""

from __future__ import annotations

import asyncio

from bot.platforms.base import Platform
from bot.records import Event


class Gathered:
    """`async with Gathered(bot) as run`: started, its events() read into `run.events`."""

    def __init__(self, bot: Platform) -> None:
        self.bot = bot
        self.events: list[Event] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Gathered:
        await self.bot.start()
        self._task = asyncio.create_task(self._consume())
        return self

    async def _consume(self) -> None:
        async for event in self.bot.events():
            self.events.append(event)

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.stop()
        assert self._task is not None
        await asyncio.wait_for(self._task, 10)

    def kinds(self, message_id: str) -> list[str]:
        """What happened to one message, in order."""
        return [e.kind for e in self.events if e.message_id == message_id]
