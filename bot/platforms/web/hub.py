"""The WebSocket hub: who is in which room, and fan-out of what the room platform stores.

Each client gets its own bounded queue and writer task, so one slow phone never holds up
a broadcast to everyone else. A client that falls too far behind is disconnected; its page
reconnects and asks for what it missed (by last message id), so it still sees every
message, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

if TYPE_CHECKING:
    from bot.platforms.base import BotControl

log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000  # frames a client may fall behind before it is told to reconnect


@dataclass(eq=False)
class Client:
    """One open WebSocket: its room, who it is, and its own bounded outbox."""
    chat_id: str
    ws: web.WebSocketResponse
    author_id: str = ""
    name: str = ""
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    writer: asyncio.Task[None] | None = None

    def send(self, frame: str) -> bool:
        """Queue a frame; False when the client has fallen too far behind."""
        try:
            self.queue.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            return False


class Hub:
    """Who is in which room; fans out what the room platforms show."""
    def __init__(self, bot: BotControl) -> None:
        self.bot = bot
        self.rooms: dict[str, set[Client]] = {}
        self._subscribed: dict[str, object] = {}  # chat -> the platform object we listen to
        bot.session_listeners.append(self.on_session_event)

    # -- subscriptions ---------------------------------------------------------------------

    def ensure_subscribed(self, chat_id: str) -> None:
        """Listen to the chat's web platform (again after a reload replaced it)."""
        runtime = self.bot.chats.get(chat_id)
        platform = runtime.platforms.get("web") if runtime else None
        if platform is None or self._subscribed.get(chat_id) is platform:
            return
        platform.listeners.append(self.broadcast)  # type: ignore[attr-defined]
        self._subscribed[chat_id] = platform

    def add(self, client: Client, first_frame: str) -> None:
        """Register a client with its first frame queued, in one step with no await.

        So the state it was sent and the broadcasts it receives meet without a gap or
        overlap.
        """
        client.send(first_frame)
        self.rooms.setdefault(client.chat_id, set()).add(client)
        client.writer = asyncio.create_task(self._write(client))

    async def remove(self, client: Client) -> None:
        """Take a client out of its room and stop its writer."""
        room = self.rooms.get(client.chat_id)
        if room is not None:
            room.discard(client)
        if client.writer is not None:
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await client.writer

    def count(self, chat_id: str) -> int:
        """How many clients are in the room."""
        return len(self.rooms.get(chat_id, ()))

    # -- fan-out ---------------------------------------------------------------------------

    async def broadcast(self, chat_id: str, payload: dict[str, Any]) -> None:
        """Show `payload` to everyone in the room, or to one participant's pages.

        When the payload names "to" (a private notice such as a safety signpost), only that
        participant's open pages get it, without the "to".
        """
        to = payload.get("to")
        if to is None:
            self.send_all(chat_id, payload)
            return
        private = {k: v for k, v in payload.items() if k != "to"}
        self.send_all(chat_id, private, only=lambda client: client.author_id == to)

    def send_all(self, chat_id: str, payload: dict[str, Any],
                 only: Callable[[Client], bool] | None = None) -> int:
        """Send to every client in the room (or those `only` picks); how many got it."""
        frame = orjson.dumps(payload).decode()  # serialised once for every client
        sent = 0
        for client in list(self.rooms.get(chat_id, ())):
            if only is not None and not only(client):
                continue
            if client.send(frame):
                sent += 1
            else:
                log.info("a client in %s fell behind; asking it to reconnect", chat_id)
                self.rooms[chat_id].discard(client)
                asyncio.ensure_future(client.ws.close(code=4000, message=b"fell behind"))
        return sent

    async def _write(self, client: Client) -> None:
        try:
            while True:
                frame = await client.queue.get()
                if frame is None:
                    return
                await client.ws.send_str(frame)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("client gone while writing: %s", exc)
        except asyncio.CancelledError:
            raise

    async def on_session_event(self, session_id: int | None, event: dict[str, Any]) -> None:
        """App-level events: a transcript published, an alert raised."""
        if session_id is None:
            return
        try:
            session = self.bot.archive.session(session_id)
        except KeyError:
            return
        if event.get("type") == "published":
            self.send_all(session.chat_id, {"type": "published", "session": session_id,
                                            "url": f"/archive/{session_id}"})

    async def close_all(self) -> None:
        """Close every client's socket (the server is stopping)."""
        for room in list(self.rooms.values()):
            for client in list(room):
                with contextlib.suppress(Exception):
                    await client.ws.close(code=1001, message=b"server stopping")
                await self.remove(client)


__all__ = ["Client", "Hub"]
