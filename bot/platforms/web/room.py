"""The web room as a platform: the bot's own chat room, where the archive *is* the store.

Every message is written to the archive before it is acknowledged or broadcast, so
nothing a participant saw can be lost; live listeners (the WebSocket hub) are fed after.
Message ids sort in the order they were stored, so a reconnecting client asks for
"everything after the last id I saw" and gets each message once.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.archive.records import StoredMessage
from bot.platforms.base import (
    Capabilities,
    ChatContext,
    Platform,
    PlatformServices,
    PlatformSetupError,
)
from bot.records import Action, ActionResult, Author, Event, Message, PostRef

if TYPE_CHECKING:
    from bot.archive import Archive

Broadcast = Callable[[str, dict], Awaitable[None]]

_id_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A message id, sortable and unique across restarts.

    Milliseconds, a counter within the millisecond (so ids from one process always
    increase), then randomness.
    """
    global _last_ms, _counter
    with _id_lock:
        ms = int(time.time() * 1000)
        if ms > _last_ms:
            _last_ms, _counter = ms, 0
        else:  # same millisecond (or the wall clock stepped back): keep increasing
            _counter += 1
            if _counter > 0xFFF:
                _last_ms, _counter = _last_ms + 1, 0
        return f"{_last_ms:012x}{_counter:03x}{secrets.token_hex(2)}"


def build(context: ChatContext, services: PlatformServices) -> WebRoomPlatform:
    """The registry's factory: the web room keeps its messages in the bot's archive."""
    return WebRoomPlatform(context, services)


class WebRoomPlatform(Platform):
    """One chat's room: the archive is its store; listeners (the hub) get what it shows."""

    name = "web"
    capabilities = Capabilities(
        threads=False, edits=True, deletes=True, hiding=True, holding=True, max_length=2000,
        actions=frozenset({"hold", "approve", "hide", "restore", "redact", "delete",
                           "signpost"}),
    )

    def __init__(self, context: ChatContext, services: PlatformServices) -> None:
        super().__init__(context)
        if services.archive is None:
            raise PlatformSetupError("the web room needs the archive (it is the room's store)")
        self.archive: Archive = services.archive
        self.clock = services.clock
        self.services = services
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.listeners: list[Broadcast] = []  # the WebSocket hub subscribes here

    async def stop(self) -> None:
        """End the event stream (the room's messages stay in the archive)."""
        self._queue.put_nowait(None)

    async def post(self, text: str, *, reply_to: str | None = None,
                   new_thread: str | None = None) -> PostRef:
        """The host's post: stored first, then shown in every open room."""
        host = Author(self.name, "host", self.context.host_name, is_bot=True)
        message = Message(self.name, new_id(), host, text, self.clock.now(),
                          reply_to=reply_to, raw={"source": "host"})
        session_id = self.services.live_session(self.context.chat_id)
        # Stored as the host's own post before anyone sees it (the outbox reconciles on it).
        self.archive.record_events(
            [Event("created", self.name, message.id, message.created, message)],
            session_id=session_id, chat_id=self.context.chat_id, host=True)
        payload = message_json(message)
        payload["item"], payload["question"] = self._item_for(session_id, text)
        await self._send({"type": "message", "session": session_id, "message": payload})
        return PostRef(self.name, message.id)

    def _item_for(self, session_id: int | None, text: str) -> tuple[str | None, int | None]:
        """Which scripted item this host post is, so rooms can pin the current question."""
        if session_id is None:
            return None, None
        for item in self.archive.items(session_id):
            if item.text == text and item.status != "sent":
                return item.key, item.number
        return None, None

    async def receive(self, *, author_id: str, name: str, text: str,
                      reply_to: str | None = None, raw: dict | None = None) -> Message:
        """A participant's message: store it, then broadcast, then hand it to the collector."""
        message = Message(self.name, new_id(), Author(self.name, author_id, name), text,
                          self.clock.now(), reply_to=reply_to, raw=raw or {})
        event = Event("created", self.name, message.id, message.created, message)
        session_id = self.services.live_session(self.context.chat_id)
        self.archive.record_events([event], session_id=session_id,
                                       chat_id=self.context.chat_id)
        # Confidentiality first: screened before anyone sees it, so a held message is never
        # shown and a redacted one is only ever shown masked.
        shown = await self._screened(event, session_id)
        if shown is not None:
            # The role they declared in this chat, for the badge beside their name.
            role = self.archive.role(self.context.chat_id, self.name, author_id)
            await self._send({"type": "message", "session": session_id,
                              "message": {**message_json(message), "text": shown,
                                          "role": role}})
        self._queue.put_nowait(event)
        return message

    async def _screened(self, event: Event, session_id: int | None) -> str | None:
        """Run moderation on one event now; the text the public may see, or None if none."""
        await self.services.screen(self, [event], session_id)
        stored = self.archive.message(self.name, event.message_id)
        if stored is None or not stored.public:
            return None
        return stored.public_text

    def held(self, message_id: str) -> bool:
        """Whether moderation holds the message back from the room."""
        stored = self.archive.message(self.name, message_id)
        return stored is not None and not stored.public and not stored.deleted

    async def edit(self, message_id: str, text: str) -> Message:
        """A participant's edit: stored, screened again, then shown (or hidden)."""
        stored = self.archive.message(self.name, message_id)
        if stored is None:
            raise KeyError(f"no web message {message_id}")
        now = self.clock.now()
        message = Message(self.name, message_id, Author(self.name, stored.author_id,
                          stored.author_name), text, stored.created, reply_to=stored.reply_to,
                          edited=now)
        event = Event("edited", self.name, message_id, now, message)
        self.archive.record_events([event], chat_id=self.context.chat_id)
        shown = await self._screened(event, stored.session_id)
        if shown is not None:
            await self._send({"type": "edited", "session": stored.session_id,
                              "message": {**message_json(message), "text": shown}})
        else:
            await self._send({"type": "hidden", "id": message_id})
        self._queue.put_nowait(event)
        return message

    async def delete(self, message_id: str) -> None:
        """A participant's delete: stored, then gone from every open room."""
        now = self.clock.now()
        event = Event("deleted", self.name, message_id, now)
        self.archive.record_events([event], chat_id=self.context.chat_id)
        await self._send({"type": "deleted", "id": message_id})
        self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:  # type: ignore[override]
        """What participants do, as it happens, until stop()."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def act(self, action: Action) -> ActionResult:
        """Moderation reaches every open room at once.

        The archive state is set by the caller (the moderation engine or the console)
        before this is called.
        """
        if action.kind == "signpost" and action.author_id and action.text:
            # To that participant's open pages only ("to" is read by the hub, never sent).
            await self._send({"type": "private_notice", "to": action.author_id,
                              "text": action.text})
            return ActionResult(True, "private notice")
        if action.kind not in self.capabilities.actions or not action.message_id:
            return ActionResult(False, f"the web room cannot {action.kind}")
        kind = {"hold": "hidden", "hide": "hidden", "delete": "hidden", "approve": "restored",
                "restore": "restored", "redact": "redacted"}[action.kind]
        payload: dict[str, Any] = {"type": kind, "id": action.message_id}
        if kind == "redacted":
            payload["text"] = action.text or ""
        elif kind == "restored":
            stored = self.archive.message(self.name, action.message_id)
            if stored is None or not stored.public or stored.deleted:
                return ActionResult(True, "still not public")
            payload["message"] = stored_json(stored)
        await self._send(payload)
        return ActionResult(True, kind)

    async def _send(self, payload: dict) -> None:
        for listener in list(self.listeners):
            await listener(self.context.chat_id, payload)


def message_json(message: Message) -> dict[str, Any]:
    """A message as rooms show it, straight from the platform (before any redaction)."""
    return {
        "id": message.id, "author": message.author.name, "author_id": message.author.id,
        "host": message.author.is_bot, "text": message.text,
        "created": message.created.isoformat(), "reply_to": message.reply_to,
        "edited": message.edited.isoformat() if message.edited else None,
    }


def stored_json(m: StoredMessage) -> dict[str, Any]:
    """An archived message as rooms show it: public text only (redactions applied)."""
    return {
        "id": m.id, "author": m.author_name, "author_id": m.author_id, "host": m.is_host,
        "text": m.public_text, "created": m.created.isoformat(), "reply_to": m.reply_to,
        "edited": m.edited.isoformat() if m.edited else None,
        "question": m.question if m.is_host else None,
    }


__all__ = ["WebRoomPlatform", "message_json", "new_id", "stored_json"]
