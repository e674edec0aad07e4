"""The room's rules, shared by the WebSocket and the plain JSON endpoint.

What a joining client is shown, and what a participant may send, edit or delete.

A join is served from the room's view (room_view.py): the recent messages, read once from
the archive off the event loop and kept current from the room's own broadcasts. After a
reconnect a client gets the messages after the last id it saw (once), plus the ids that
were hidden or deleted and the texts that were edited or redacted meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.archive.records import SessionRow
from bot.archive.room_reads import RoomReader
from bot.platforms.web.guard import (
    MESSAGE_ID_MAX,
    RateLimiter,
    Refused,
    check_all,
    clean_name,
    clean_text,
    message_ref,
)
from bot.platforms.web.hub import Hub
from bot.platforms.web.origin import AddressTagger
from bot.platforms.web.room import WebRoomPlatform, stored_json
from bot.platforms.web.room_view import RECENT, RoomViews
from bot.schedule import occurrences

if TYPE_CHECKING:
    from bot.platforms.base import BotControl

log = logging.getLogger(__name__)

RECENT_HOURS = 12  # an ended session stays on the room page this long (with its transcript)
JOINS_PER_TURN = 8  # joins served per pass of the event loop when a crowd arrives at once


class RoomService:
    """The rules of every web room, for the WebSocket and the JSON endpoint alike."""
    def __init__(self, bot: BotControl) -> None:
        self.bot = bot
        self.hub = Hub(bot)
        self.views = RoomViews()
        self.reader: RoomReader | None = None  # opened on the first join, used off the loop
        self._reader_lock = threading.Lock()
        self._headers: dict[str, tuple[tuple[Any, ...], int | None, dict[str, Any]]] = {}
        self._join_gate: asyncio.Semaphore | None = None  # made on the loop, at first use
        web = bot.settings.web
        self.limiter = RateLimiter(web.messages_per_minute, bot.clock)
        # Keys are made up by the client, addresses are not: a new key per message still
        # counts against the address (generous, for a hospital's staff behind one NAT).
        self.address_limiter = RateLimiter(web.messages_per_minute_per_address, bot.clock,
                                           who="Your network is")
        # The JSON state endpoint reads the archive for whoever asks: bounded per address.
        self.read_limiter = RateLimiter(web.state_requests_per_minute_per_address, bot.clock,
                                        who="Your network is", doing="asking for the room")
        self.tagger = AddressTagger()
        self.connections: dict[str, int] = {}  # open room WebSockets per client address
        self.max_chars = min(web.max_message_chars, WebRoomPlatform.capabilities.max_length or
                             web.max_message_chars)
        self.edit_window = timedelta(minutes=web.edit_window_minutes)

    # -- lookup ----------------------------------------------------------------------------

    def platform(self, chat_id: str) -> WebRoomPlatform:
        """The chat's web room, subscribed to the hub; Refused (404) if there is none."""
        runtime = self.bot.chats.get(chat_id)
        platform = runtime.platforms.get("web") if runtime else None
        if not isinstance(platform, WebRoomPlatform):
            raise Refused(f"There is no chat room called '{chat_id}'.", code="unknown_chat",
                          status=404)
        self.hub.ensure_subscribed(chat_id)
        if self.views.listener not in platform.listeners:  # a reload makes a new platform
            platform.listeners.append(self.views.listener)
            self.views.get(chat_id).forget()
        return platform

    def display_name(self, chat_id: str, value: object) -> str:
        """A participant's chosen name, screened (guard.clean_name).

        Nobody may pose as the chat's host or co-hosts (the script's `host` and `hosts`).
        """
        runtime = self.bot.chats.get(chat_id)
        model = runtime.script.model if runtime else None
        protected = [model.host, *model.hosts] if model else []
        return clean_name(value, [p for p in protected if p])

    def room_session(self, chat_id: str) -> SessionRow | None:
        """The live session, else one that ended in the last few hours."""
        live = self.bot.live_session(chat_id)
        if live is not None:
            return self.bot.archive.session(live)
        now = self.bot.clock.now()
        for session in reversed(self.bot.archive.sessions(chat_id=chat_id)):
            if session.status == "ended" and session.ended_at and \
                    now - session.ended_at < timedelta(hours=RECENT_HOURS):
                return session
            if session.status in ("ended", "missed", "cancelled"):
                break
        return None

    # -- state for a joining client ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def join_turn(self) -> AsyncIterator[None]:
        """A turn to join: at most JOINS_PER_TURN joins are served per pass of the event loop.

        200 people joining at once would otherwise all be served in one pass, and every
        other request (a status probe, a due post) would wait for the whole crowd. Each
        join waits for a turn, then yields once, so the loop looks at its other sockets
        between every few joins.
        """
        if self._join_gate is None:
            self._join_gate = asyncio.Semaphore(JOINS_PER_TURN)
        async with self._join_gate:
            await asyncio.sleep(0)
            yield

    async def state(self, chat_id: str, *, author_id: str | None, since: str | None = None,
                    known_session: int | None = None, view: str | None = None
                    ) -> dict[str, Any]:
        """What a joining (or reconnecting) client is shown: the room's cached view.

        Costs what the newcomer sees, never the whole session: the session row, its
        scripted items (for the pinned question) and at most RECENT messages, copied from
        the view the room keeps current (loaded off the event loop when it must be).
        Returns with no await after the copy, so the caller can register the client before
        any broadcast slips between.
        """
        session_id, header = self._header(chat_id)
        room = self.views.get(chat_id)
        if session_id is not None and not room.fresh(session_id, self.bot.archive.data_version()):
            await room.ensure(session_id, self.bot.archive.data_version(),
                              partial(self._read_page, chat_id, session_id, None))
            session_id, header = self._header(chat_id)  # it may have ended meanwhile
        state: dict[str, Any] = {
            **header, "me": author_id, "now": self.bot.clock.now().isoformat(),
            "role": self.bot.archive.role(chat_id, "web", author_id) if author_id else "",
            "messages": [], "hidden": [], "edited": [], "reset": True, "more": False,
            "view": None,
        }
        if session_id is None or room.session_id != session_id:
            state["session"] = state["question"] = None
            return state
        state.update(room.snapshot(since if known_session == session_id else None, view))
        state["view"] = room.token
        return state

    def _header(self, chat_id: str) -> tuple[int | None, dict[str, Any]]:
        """The part of the state every client of the room shares, and its session's id.

        Cached until the archive changes (any write of the bot's, any commit of another
        process) or the minute turns (the next occurrence, a session's 12 hours), so a
        crowd joining at once pays for it once.
        """
        now = self.bot.clock.now()
        key = (self.bot.archive.change_stamp(), now.replace(second=0, microsecond=0),
               self.bot.live_session(chat_id))
        cached = self._headers.get(chat_id)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        script = self.bot.chats[chat_id].script
        upcoming = [o for o in occurrences(script, now, 2) if o.start > now]
        header: dict[str, Any] = {
            "type": "state", "chat": chat_id, "title": script.title, "hashtag": script.hashtag,
            "answer_letter": "T" if script.model.tag_style == "T" else "A",
            "max_chars": self.max_chars, "edit_seconds": int(self.edit_window.total_seconds()),
            "session": None, "question": None,
            "next": ({"start": upcoming[0].start.isoformat(),
                      "local": upcoming[0].local_start.strftime("%A %d %B %Y, %H:%M"),
                      "zone": script.model.timezone} if upcoming else None),
        }
        session = self.room_session(chat_id)
        if session is not None:
            items = self.bot.archive.items(session.id)
            sent_questions = [i for i in items if i.status == "sent" and i.number is not None]
            closed = any(i.key == "close" and i.status == "sent" for i in items)
            header["session"] = {
                "id": session.id, "status": session.status, "rehearsal": session.rehearsal,
                "pace": session.pace, "start": session.scheduled_start.isoformat(),
                "closed": closed or session.status == "ended",
                "transcript": f"/archive/{session.id}" if session.status == "ended" else None,
            }
            if sent_questions and not closed:
                q = sent_questions[-1]
                header["question"] = {"number": q.number, "text": q.text}
        self._headers[chat_id] = (key, session.id if session else None, header)
        return (session.id if session else None), header

    async def older(self, chat_id: str, before: object) -> dict[str, Any]:
        """A page of the messages before `before` (a message id), read off the event loop."""
        self.platform(chat_id)
        session = self.room_session(chat_id)
        if not isinstance(before, str) or not 0 < len(before) <= MESSAGE_ID_MAX \
                or session is None:
            raise Refused("There are no earlier messages to show.", code="no_older")
        rows, more = await self._read_page(chat_id, session.id, before)
        return {"type": "older", "session": session.id, "messages": rows, "more": more}

    async def _read_page(self, chat_id: str, session_id: int, before: str | None
                         ) -> tuple[list[dict[str, Any]], bool]:
        """RECENT visible messages of the session before `before`, as rooms show them."""
        return await asyncio.to_thread(self._page_rows, chat_id, session_id, before)

    def _page_rows(self, chat_id: str, session_id: int, before: str | None
                   ) -> tuple[list[dict[str, Any]], bool]:
        # In a worker thread, on the room's own read connection: never the event loop's.
        reader = self._reader()
        messages, more = reader.page(session_id, "web", RECENT, before)
        roles = reader.roles(chat_id, "web", (m.author_id for m in messages if not m.is_host))
        numbers = reader.question_numbers(session_id) if any(
            m.is_host for m in messages) else {}
        rows = []
        for m in messages:
            row = stored_json(m)
            row["role"] = roles.get(m.author_id, "") if not m.is_host else ""
            if m.is_host:
                row["question"] = numbers.get(m.text)
            rows.append(row)
        return rows, more

    def _reader(self) -> RoomReader:
        with self._reader_lock:
            if self.reader is None:
                self.reader = RoomReader(self.bot.archive.path)
            return self.reader

    def close(self) -> None:
        """Close the room's read connection (the server is stopping)."""
        with self._reader_lock:
            if self.reader is not None:
                self.reader.close()
                self.reader = None

    # -- what participants do ----------------------------------------------------------------

    def set_role(self, chat_id: str, author_id: str, role: object) -> str:
        """Record the role a participant declares (optional; one of the chat's roles)."""
        roles = self.bot.chats[chat_id].script.model.roles
        if not isinstance(role, str) or (role and role not in roles):
            raise Refused("Choose a role from the list, or none.", code="bad_role")
        self.bot.archive.set_role(chat_id, "web", author_id, role, self.bot.clock.now())
        return role

    async def send(self, chat_id: str, *, author_id: str, name: str, text: object,
                   address: str, reply_to: object = None) -> dict[str, Any]:
        """A participant's message, checked and rate-limited, then handed to the room.

        Limited per author (so per connection: a WebSocket joins once, with one key) and
        per client `address`; the address's pseudonymous tag goes with the message, so
        moderation's flood and repeat checks see one sender behind many made-up keys.
        """
        platform = self.platform(chat_id)
        session_id = self.bot.live_session(chat_id)
        if session_id is None:
            raise Refused(self._closed_reason(chat_id), code="closed", status=409)
        body = clean_text(text, self.max_chars)
        parent, parent_id = None, message_ref(reply_to, "reply_to")
        if parent_id is not None:
            parent = self.bot.archive.message("web", parent_id)
            if parent is None or parent.session_id != session_id or not parent.public \
                    or parent.deleted:
                raise Refused("The message you are replying to is no longer in this chat.",
                              code="bad_reply")
        # Counted only once the message is otherwise acceptable.
        check_all([(self.limiter, author_id), (self.address_limiter, address)])
        raw = {"source": "web", "sender": self.tagger.tag(address)}
        message = await platform.receive(author_id=author_id, name=name, text=body,
                                         reply_to=parent.id if parent else None, raw=raw)
        result: dict[str, Any] = {"id": message.id, "session": session_id}
        if platform.held(message.id):
            result["held"] = ("Your message is waiting for a moderator: it may identify someone "
                              "or break the chat's rules.")
        return result

    def _own(self, chat_id: str, author_id: str, message_id: object, verb: str):  # type: ignore[no-untyped-def]
        wanted = message_ref(message_id, "id")
        stored = self.bot.archive.message("web", wanted) if wanted is not None else None
        runtime = self.bot.chats.get(chat_id)
        if stored is None or stored.deleted or runtime is None:
            raise Refused("That message is no longer in the chat.", code="not_found", status=404)
        if stored.author_id != author_id or stored.is_host:
            raise Refused(f"You can only {verb} your own messages.", code="not_yours",
                          status=403)
        if self.bot.clock.now() - stored.created > self.edit_window:
            minutes = int(self.edit_window.total_seconds() // 60)
            raise Refused(f"Messages can be changed for {minutes} minutes after sending; "
                          "this one can no longer be.", code="too_late", status=409)
        if not stored.public:
            raise Refused("A moderator has hidden that message.", code="hidden", status=409)
        return stored

    async def edit(self, chat_id: str, *, author_id: str, message_id: object,
                   text: object, address: str) -> dict[str, Any]:
        """A participant edits their own message, within the edit window.

        Each edit is broadcast to everyone, so it counts against the same per-minute
        limits as a message (per author and per address).
        """
        platform = self.platform(chat_id)
        stored = self._own(chat_id, author_id, message_id, "edit")
        body = clean_text(text, self.max_chars)
        if body != stored.text:
            check_all([(self.limiter, author_id), (self.address_limiter, address)])
            await platform.edit(stored.id, body)
        return {"id": stored.id}

    async def delete(self, chat_id: str, *, author_id: str, message_id: object,
                     address: str) -> dict[str, Any]:
        """A participant deletes their own message, within the edit window (rate-limited)."""
        platform = self.platform(chat_id)
        stored = self._own(chat_id, author_id, message_id, "delete")
        check_all([(self.limiter, author_id), (self.address_limiter, address)])
        await platform.delete(stored.id)
        return {"id": stored.id}

    def _closed_reason(self, chat_id: str) -> str:
        script = self.bot.chats[chat_id].script
        nxt = occurrences(script, self.bot.clock.now(), 1)
        if nxt:
            when = nxt[0].local_start.strftime("%A %d %B at %H:%M")
            return (f"The chat is not live right now; it opens {when} "
                    f"({script.model.timezone}).")
        return "The chat is not live right now, and no further sessions are planned."


__all__ = ["RoomService"]
