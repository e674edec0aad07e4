"""The room's rules, shared by the WebSocket and the plain JSON endpoint.

What a joining client is shown, and what a participant may send, edit or delete.

The archive is read for every join, so a client's view is always rebuilt from the single
source of truth: after a reconnect it gets the messages after the last id it saw (once),
plus the ids that were hidden or deleted and the texts that were edited meanwhile.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.archive.records import SessionRow
from bot.platforms.web.guard import RateLimiter, Refused, check_all, clean_name, clean_text
from bot.platforms.web.hub import Hub
from bot.platforms.web.origin import AddressTagger
from bot.platforms.web.room import WebRoomPlatform, stored_json
from bot.schedule import occurrences

if TYPE_CHECKING:
    from bot.platforms.base import BotControl

log = logging.getLogger(__name__)

RECENT_HOURS = 12  # an ended session stays on the room page this long (with its transcript)


class RoomService:
    """The rules of every web room, for the WebSocket and the JSON endpoint alike."""
    def __init__(self, bot: BotControl) -> None:
        self.bot = bot
        self.hub = Hub(bot)
        web = bot.settings.web
        self.limiter = RateLimiter(web.messages_per_minute, bot.clock)
        # Keys are made up by the client, addresses are not: a new key per message still
        # counts against the address (generous, for a hospital's staff behind one NAT).
        self.address_limiter = RateLimiter(web.messages_per_minute_per_address, bot.clock,
                                           who="Your network is")
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

    def state(self, chat_id: str, *, author_id: str | None, since: str | None = None,
              known_session: int | None = None) -> dict[str, Any]:
        """What a joining (or reconnecting) client is shown, rebuilt from the archive."""
        runtime = self.bot.chats[chat_id]
        script = runtime.script
        now = self.bot.clock.now()
        session = self.room_session(chat_id)
        upcoming = [o for o in occurrences(script, now, 2) if o.start > now]
        state: dict[str, Any] = {
            "type": "state", "chat": chat_id, "title": script.title, "hashtag": script.hashtag,
            "answer_letter": "T" if script.model.tag_style == "T" else "A",
            "me": author_id, "max_chars": self.max_chars,
            "role": self.bot.archive.roles(chat_id).get(("web", author_id or ""), ""),
            "edit_seconds": int(self.edit_window.total_seconds()),
            "now": now.isoformat(), "session": None, "question": None, "messages": [],
            "hidden": [], "edited": [], "reset": True,
            "next": ({"start": upcoming[0].start.isoformat(),
                      "local": upcoming[0].local_start.strftime("%A %d %B %Y, %H:%M"),
                      "zone": script.model.timezone} if upcoming else None),
        }
        if session is None:
            return state
        items = self.bot.archive.items(session.id)
        numbers = {i.text: i.number for i in items if i.status == "sent"}
        sent_questions = [i for i in items if i.status == "sent" and i.number is not None]
        closed = any(i.key == "close" and i.status == "sent" for i in items)
        state["session"] = {
            "id": session.id, "status": session.status, "rehearsal": session.rehearsal,
            "pace": session.pace, "start": session.scheduled_start.isoformat(),
            "closed": closed or session.status == "ended",
            "transcript": f"/archive/{session.id}" if session.status == "ended" else None,
        }
        if sent_questions and not closed:
            q = sent_questions[-1]
            state["question"] = {"number": q.number, "text": q.text}
        incremental = since is not None and known_session == session.id
        roles = self.bot.archive.roles(chat_id)
        state["reset"] = not incremental
        for m in self.bot.archive.messages(session.id):
            if m.platform != "web":
                continue
            visible = m.public and not m.deleted
            if incremental and m.id <= since:  # type: ignore[operator]
                if not visible:
                    state["hidden"].append(m.id)
                elif m.edited is not None:
                    state["edited"].append({"id": m.id, "text": m.public_text,
                                            "edited": m.edited.isoformat()})
                continue
            if visible:
                row = stored_json(m)
                row["role"] = roles.get(("web", m.author_id), "")
                if m.is_host:
                    row["question"] = numbers.get(m.text)
                state["messages"].append(row)
        state["messages"].sort(key=lambda r: r["id"])
        return state

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
        parent = None
        if reply_to not in (None, ""):
            parent = self.bot.archive.message("web", str(reply_to))
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
        stored = self.bot.archive.message("web", str(message_id or ""))
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
