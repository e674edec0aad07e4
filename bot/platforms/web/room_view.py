"""What a newcomer to a web room is shown, kept in memory and updated as the room changes.

A join used to rebuild every message of the session from the archive, on the event loop
(5,000 messages, 200 joins at once: the bot stalled for 21 s). Now each room keeps one
view: the newest RECENT visible messages as the room shows them, read once from the
archive (off the event loop, through the room's own read connection) and then kept
current from the very broadcasts the clients receive. A join copies at most RECENT rows;
older pages are read on request, a page at a time.

A reconnecting client gets only what it missed, when the view can say what that was: the
messages after the last one it saw, plus the changes (hidden, edited, redacted, restored)
remembered since the view was loaded. The view names itself with a token that changes on
every load, so a client that saw another load (or another process) starts afresh.
"""

from __future__ import annotations

import asyncio
import bisect
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

RECENT = 100  # messages a newcomer is sent; older pages on request
CHANGES_LIMIT = 2000  # changes remembered for reconnecting clients before they start afresh

Row = dict[str, Any]
Loader = Callable[[], Awaitable[tuple[list[Row], bool]]]


class RoomView:
    """One chat's room as a newcomer sees it: recent messages, kept current in memory."""

    def __init__(self) -> None:
        self.session_id: int | None = None
        self.version: int | None = None  # the archive's data_version when loaded
        self.token = ""  # names this load: a reconnect with another token starts afresh
        self.more = False  # older visible messages exist before the window
        self._ids: list[str] = []  # the window's message ids, in order
        self._rows: dict[str, Row] = {}
        # id -> ("removed", None), ("edited", row) or ("shown", row): restored, or
        # broadcast after a newer one (screening took longer), so "after since" misses it.
        self._changes: dict[str, tuple[str, Row | None]] = {}
        # The newest id this load has held, kept after it is hidden: a message older than
        # it may lie at or before a client's "since" even when the window is now empty.
        self._newest: str | None = None
        self._pending: list[dict[str, Any]] | None = None  # broadcasts during a load
        self._loading: asyncio.Future[None] | None = None
        self.loads = 0

    # -- loading ---------------------------------------------------------------------------

    def fresh(self, session_id: int, version: int) -> bool:
        """Whether the view holds `session_id` as the archive last stood."""
        return self.session_id == session_id and self.version == version

    async def ensure(self, session_id: int, version: int, load: Loader) -> None:
        """Load the window unless it is fresh; joins arriving meanwhile share one load."""
        if self.fresh(session_id, version):
            return
        if self._loading is not None:  # a load under way: share it
            await asyncio.shield(self._loading)
            if self.session_id == session_id:
                return
        if self._loading is None:  # (another waiter may have started the next one)
            self._loading = asyncio.ensure_future(self._load(session_id, version, load))
        await asyncio.shield(self._loading)

    async def _load(self, session_id: int, version: int, load: Loader) -> None:
        self._pending = []
        try:
            rows, more = await load()
        except BaseException:
            self._pending = None
            raise
        finally:
            self._loading = None
        pending, self._pending = self._pending, None
        self.session_id, self.version, self.more = session_id, version, more
        self.token = secrets.token_hex(6)
        self._ids = [r["id"] for r in rows]
        self._rows = {r["id"]: r for r in rows}
        self._changes = {}
        self._newest = self._ids[-1] if self._ids else None
        self.loads += 1
        for payload in pending:  # what was broadcast while the page was being read
            self.apply(payload)

    def forget(self) -> None:
        """Drop the window: the next join loads it again."""
        self.session_id = self.version = None
        self._ids, self._rows, self._changes = [], {}, {}
        self._newest = None

    # -- kept current from the room's broadcasts -------------------------------------------

    def apply(self, payload: dict[str, Any]) -> None:
        """Follow one broadcast of the room (the same payload every client receives)."""
        if self._pending is not None:
            self._pending.append(payload)
            return
        if self.session_id is None:
            return
        kind = payload.get("type")
        if kind in ("message", "edited") and payload.get("session") != self.session_id:
            self.forget()  # another session began: read it afresh on the next join
            return
        if kind == "message":
            self._insert(payload["message"])
        elif kind == "restored" and payload.get("message"):
            row = payload["message"]
            self._insert(row)
            self._change(row["id"], "shown", self._rows.get(row["id"], row))
        elif kind == "edited":
            self._retext(payload["message"]["id"], payload["message"]["text"],
                         payload["message"].get("edited"))
        elif kind == "redacted":
            self._retext(payload["id"], payload.get("text", ""), None)
        elif kind in ("hidden", "deleted"):
            self._remove(payload["id"])

    def _insert(self, row: Row) -> None:
        message_id = row["id"]
        if message_id in self._rows:
            self._rows[message_id] = row
            return
        if (self.more or len(self._ids) >= RECENT) and self._ids and message_id < self._ids[0]:
            self.more = True  # older than the window: a page read shows it
            return
        if self._newest is not None and message_id < self._newest:
            self._change(message_id, "shown", row)
        if self._newest is None or message_id > self._newest:
            self._newest = message_id
        bisect.insort(self._ids, message_id)
        self._rows[message_id] = row
        if len(self._ids) > RECENT:
            del self._rows[self._ids.pop(0)]
            self.more = True

    def _retext(self, message_id: str, text: str, edited: str | None) -> None:
        row = self._rows.get(message_id)
        if row is not None:
            row = self._rows[message_id] = {**row, "text": text,
                                            "edited": edited or row.get("edited")}
        self._change(message_id, "edited",
                     row or {"id": message_id, "text": text, "edited": edited})

    def _remove(self, message_id: str) -> None:
        if self._rows.pop(message_id, None) is not None:
            self._ids.remove(message_id)
            if self.more and len(self._ids) < RECENT // 2:
                self.forget()  # mostly removed: read a full window again
                return
        self._change(message_id, "removed", None)

    def _change(self, message_id: str, kind: str, row: Row | None) -> None:
        previous = self._changes.pop(message_id, None)  # keep the latest change last
        if kind == "edited" and row is not None and previous is not None and \
                previous[0] == "shown" and previous[1] is not None:
            kind, row = "shown", {**previous[1], **row}  # shown again, with its new text
        self._changes[message_id] = (kind, row)
        if len(self._changes) > CHANGES_LIMIT:
            # Too much to replay: reconnecting clients start afresh from here on.
            self._changes = {}
            self.token = secrets.token_hex(6)

    # -- what a client is sent -------------------------------------------------------------

    def snapshot(self, since: str | None, token: str | None) -> dict[str, Any]:
        """The window for a newcomer, or what a reconnecting client missed.

        Returns the state's "messages", "hidden", "edited", "reset" and "more" fields.
        """
        oldest = self._ids[0] if self._ids else None
        if since is None or token != self.token or \
                (self.more and (oldest is None or since < oldest)):
            return {"messages": [self._rows[i] for i in self._ids], "hidden": [],
                    "edited": [], "reset": True, "more": self.more}
        start = bisect.bisect_right(self._ids, since)
        messages = [self._rows[i] for i in self._ids[start:]]
        hidden: list[str] = []
        edited: list[Row] = []
        for message_id, (kind, row) in self._changes.items():
            if message_id > since:
                continue  # sent whole (or not at all) among the messages
            if row is None:
                hidden.append(message_id)
            elif kind == "shown":
                messages.append(self._rows.get(message_id, row))  # shown again while away
            else:
                edited.append({"id": message_id, "text": row["text"],
                               "edited": row.get("edited")})
        messages.sort(key=lambda r: r["id"])
        return {"messages": messages, "hidden": hidden, "edited": edited, "reset": False,
                "more": self.more}


class RoomViews:
    """Every room's view, by chat id."""

    def __init__(self) -> None:
        self.views: dict[str, RoomView] = {}

    def get(self, chat_id: str) -> RoomView:
        """The chat's view (empty until its first join loads it)."""
        view = self.views.get(chat_id)
        if view is None:
            view = self.views[chat_id] = RoomView()
        return view

    async def listener(self, chat_id: str, payload: dict[str, Any]) -> None:
        """Subscribed to each room platform beside the hub: follows every broadcast."""
        self.get(chat_id).apply(payload)


__all__ = ["CHANGES_LIMIT", "RECENT", "RoomView", "RoomViews"]
