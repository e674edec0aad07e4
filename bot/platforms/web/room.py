"""The web room as a platform: the bot's own chat room, where the archive *is* the store.

Every message is written to the archive before it is acknowledged or broadcast, so
nothing a participant saw can be lost; live listeners (WebSocket clients) are fed after.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..base import (
    Action,
    ActionResult,
    Author,
    Capabilities,
    ChatContext,
    Event,
    Message,
    Platform,
    PostRef,
)

if TYPE_CHECKING:
    from ...app import App

Broadcast = Callable[[str, dict], Awaitable[None]]


def new_id() -> str:
    """Sortable, unique across restarts: milliseconds then randomness."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(3)}"


class WebRoomPlatform(Platform):
    name = "web"
    capabilities = Capabilities(
        threads=False, edits=True, deletes=True, hiding=True, holding=True, max_length=2000,
        actions=frozenset({"hold", "approve", "hide", "restore", "redact", "delete"}),
    )

    def __init__(self, context: ChatContext, *, app: App) -> None:
        super().__init__(context)
        self.app = app
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.listeners: list[Broadcast] = []  # the WebSocket hub subscribes here

    async def stop(self) -> None:
        self._queue.put_nowait(None)

    async def post(self, text: str, *, reply_to: str | None = None,
                   new_thread: str | None = None) -> PostRef:
        host = Author(self.name, "host", self.app.chats[self.context.chat_id].script.model.host
                      or "Host", is_bot=True)
        message = Message(self.name, new_id(), host, text, self.app.clock.now(),
                          reply_to=reply_to, raw={"source": "host"})
        session_id = self.app.live_session(self.context.chat_id)
        # Stored as the host's own post before anyone sees it (the outbox reconciles on it).
        self.app.archive.record_events(
            [Event("created", self.name, message.id, message.created, message)],
            session_id=session_id, chat_id=self.context.chat_id)
        self.app.archive.db.execute(
            "update messages set is_host = 1 where platform = ? and id = ?", [self.name, message.id])
        await self._broadcast("message", message, session_id)
        return PostRef(self.name, message.id)

    async def receive(self, *, author_id: str, name: str, text: str,
                      reply_to: str | None = None, raw: dict | None = None) -> Message:
        """A participant's message: store it, then broadcast, then hand it to the collector."""
        message = Message(self.name, new_id(), Author(self.name, author_id, name), text,
                          self.app.clock.now(), reply_to=reply_to, raw=raw or {})
        event = Event("created", self.name, message.id, message.created, message)
        session_id = self.app.live_session(self.context.chat_id)
        self.app.archive.record_events([event], session_id=session_id,
                                       chat_id=self.context.chat_id)
        await self._broadcast("message", message, session_id)
        self._queue.put_nowait(event)
        return message

    async def edit(self, message_id: str, text: str) -> Message:
        stored = self.app.archive.message(self.name, message_id)
        assert stored is not None
        now = self.app.clock.now()
        message = Message(self.name, message_id, Author(self.name, stored.author_id,
                          stored.author_name), text, stored.created, reply_to=stored.reply_to,
                          edited=now)
        event = Event("edited", self.name, message_id, now, message)
        self.app.archive.record_events([event], chat_id=self.context.chat_id)
        await self._broadcast("edited", message, stored.session_id)
        self._queue.put_nowait(event)
        return message

    async def delete(self, message_id: str) -> None:
        now = self.app.clock.now()
        event = Event("deleted", self.name, message_id, now)
        self.app.archive.record_events([event], chat_id=self.context.chat_id)
        for listener in self.listeners:
            await listener(self.context.chat_id, {"type": "deleted", "id": message_id})
        self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:  # type: ignore[override]
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def act(self, action: Action) -> ActionResult:
        if action.kind not in self.capabilities.actions or not action.message_id:
            return ActionResult(False, f"the web room cannot {action.kind}")
        kind = {"hold": "hidden", "hide": "hidden", "delete": "hidden", "approve": "restored",
                "restore": "restored", "redact": "redacted"}[action.kind]
        for listener in self.listeners:
            await listener(self.context.chat_id, {"type": kind, "id": action.message_id,
                                                  "text": action.text})
        return ActionResult(True, kind)

    async def _broadcast(self, kind: str, message: Message, session_id: int | None) -> None:
        payload = {"type": kind, "session": session_id, "message": message_json(message)}
        for listener in self.listeners:
            await listener(self.context.chat_id, payload)


def message_json(message: Message) -> dict:
    return {
        "id": message.id, "author": message.author.name, "author_id": message.author.id,
        "host": message.author.is_bot, "text": message.text,
        "created": message.created.isoformat(), "reply_to": message.reply_to,
        "edited": message.edited.isoformat() if message.edited else None,
    }


__all__ = ["WebRoomPlatform", "message_json", "new_id", "replace"]
