"""What the web room reads when someone joins: a page of recent messages, off the event loop.

A join used to load every message of the session on the event loop's connection (5,000
messages: 200 joins at once stalled the bot for 21 s). Here the room reads through a
connection of its own, opened read-only for a worker thread, and only ever a page: the
newest `limit` visible messages before a point, found through the (session_id, created)
index, so a read costs the page, not the session.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from bot.archive.records import StoredMessage
from bot.archive.rows import COLUMNS, message_from_values
from bot.archive.store import BUSY_TIMEOUT_MS

# Shown in a room: not deleted, not hidden by a moderator, not held for review.
_VISIBLE = "coalesce(deleted, 0) = 0 and coalesce(hidden, 0) = 0 and coalesce(held, 0) = 0"


class RoomReader:
    """A read-only connection to archive.db for the web room, safe to use from a thread.

    Calls are serialised by a lock (one SQLite connection is not for two threads at
    once); WAL lets it read while the event loop's connection keeps writing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                     check_same_thread=False,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def page(self, session_id: int, platform: str, limit: int,
             before: str | None = None) -> tuple[list[StoredMessage], bool]:
        """The newest `limit` visible messages (oldest first), and whether older ones exist.

        `before` is a message id of this platform: only messages older than it are read.
        """
        where, args = f"session_id = ? and platform = ? and {_VISIBLE}", [session_id, platform]
        with self._lock:
            if before is not None:
                row = self._conn.execute(
                    "select created from messages where platform = ? and id = ? "
                    "and session_id = ?", [platform, before, session_id]).fetchone()
                if row is None:
                    return [], False
                # `created <= ?` bounds the index range; the rest breaks ties by id.
                where += " and created <= ? and (created < ? or id < ?)"
                args += [row[0], row[0], before]
            rows = self._conn.execute(
                f"select {COLUMNS} from messages where {where} "
                "order by created desc, id desc limit ?", [*args, limit + 1]).fetchall()
        more = len(rows) > limit
        return [message_from_values(r) for r in reversed(rows[:limit])], more

    def roles(self, chat_id: str, platform: str, author_ids: Iterable[str]) -> dict[str, str]:
        """The roles these participants declared in the chat (those who declared one)."""
        ids = sorted(set(author_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            return dict(self._conn.execute(
                f"select author_id, role from participant_roles where chat_id = ? and "
                f"platform = ? and author_id in ({marks})", [chat_id, platform, *ids]))

    def question_numbers(self, session_id: int) -> dict[str, int]:
        """Text -> question number of the session's questions that have gone out."""
        with self._lock:
            return dict(self._conn.execute(
                "select text, number from items where session_id = ? and status = 'sent' "
                "and number is not null", [session_id]))


__all__ = ["RoomReader"]
