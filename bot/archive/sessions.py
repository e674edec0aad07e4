"""Sessions in the archive: a chat's scheduled runs, their scripted items and the outbox.

The outbox has one row per (item, platform), written before the send and marked after, so
a restarted bot knows which posts went out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.archive.messages import apply_events
from bot.archive.records import ItemRow, SessionRow, dumps, from_iso, iso, session_row
from bot.records import Event, Message, PostRef

# Session id -> public messages from participants and distinct participants: a pass over
# every message, so the public archive page keeps its answer for a while (webapp).
SESSION_STATS_SQL = (
    "select session_id, count(*), count(distinct platform || ':' || author_id) "
    "from messages where is_host = 0 and deleted = 0 and hidden = 0 "
    "and session_id is not null group by session_id")


class SessionStore:
    """The archive's session, item and outbox methods; `Archive` mixes them in."""

    db: Database

    def create_session(
        self,
        *,
        chat_id: str,
        title: str,
        hashtag: str,
        timezone: str,
        scheduled_start: datetime,
        duration_minutes: int,
        platforms: Sequence[str],
        items: Sequence[ItemRow],
        rehearsal: bool = False,
        pace: float = 1.0,
        host_name: str = "",
        tag_style: str = "Q",
        status: str = "scheduled",
    ) -> int:
        """Create a session with its items and outbox rows; returns its id.

        Idempotent for scheduled sessions: the same chat and start returns the existing
        session instead of a second one.
        """
        occurrence = f"{chat_id}:{iso(scheduled_start)}"
        if rehearsal:
            occurrence += f":rehearsal:{secrets.token_hex(4)}"
        existing = self.session_by_occurrence(occurrence)
        if existing is not None:
            return existing.id
        with self.db.atomic():
            table = self.db.table("sessions")
            table.insert(
                {
                    "chat_id": chat_id, "occurrence": occurrence, "title": title,
                    "hashtag": hashtag, "timezone": timezone,
                    "scheduled_start": iso(scheduled_start),
                    "duration_minutes": duration_minutes, "status": status,
                    "rehearsal": int(rehearsal), "pace": pace, "origin": None,
                    "platforms": dumps(list(platforms)), "host_name": host_name,
                    "tag_style": tag_style, "joined_late": 0, "notes": "",
                }
            )
            session_id = int(table.last_pk)  # type: ignore[arg-type]
            self.db.table("items").insert_all(
                {
                    "session_id": session_id, "key": item.key, "position": position,
                    "number": item.number, "text": item.text, "due_offset": item.due_offset,
                    "status": "pending", "posted_at": None,
                }
                for position, item in enumerate(items)
            )
            self.db.table("posts").insert_all(
                {
                    "session_id": session_id, "item_key": item.key, "platform": platform,
                    "status": "pending", "attempts": 0,
                }
                for item in items
                for platform in platforms
            )
        return session_id

    def session_by_occurrence(self, occurrence: str) -> SessionRow | None:
        """The session of an occurrence key ("chat:UTC start"), or None."""
        row = next(self.db.table("sessions").rows_where("occurrence = ?", [occurrence]), None)
        return session_row(row) if row else None

    def session(self, session_id: int) -> SessionRow:
        """One session by id; KeyError if there is none (or the id is out of SQLite's range)."""
        if not isinstance(session_id, int) or not 0 < session_id < 2**63:
            raise KeyError(f"no session {str(session_id)[:30]}")
        row = next(self.db.table("sessions").rows_where("id = ?", [session_id]), None)
        if row is None:
            raise KeyError(f"no session {session_id}")
        return session_row(row)

    def session_origin(self, session_id: int) -> datetime | None:
        """The wall time of the session's script second 0 (moves with pause/resume), if set."""
        row = self.db.execute("select origin from sessions where id = ?", [session_id]).fetchone()
        return from_iso(row[0]) if row else None

    def chat_ids(self) -> list[str]:
        """Every chat the archive holds a session of, sorted."""
        return [r[0] for r in self.db.execute(
            "select distinct chat_id from sessions order by chat_id").fetchall()]

    def sessions(
        self, *, chat_id: str | None = None, statuses: Iterable[str] | None = None
    ) -> list[SessionRow]:
        """Sessions, optionally of one chat and in some statuses, in start order."""
        where, args = [], []
        if chat_id:
            where.append("chat_id = ?")
            args.append(chat_id)
        if statuses:
            st = list(statuses)
            where.append(f"status in ({','.join('?' * len(st))})")
            args.extend(st)
        rows = self.db.table("sessions").rows_where(
            " and ".join(where) or None, args, order_by="scheduled_start, id"
        )
        return [session_row(r) for r in rows]

    def update_session(self, session_id: int, **fields: Any) -> None:
        """Set columns of a session (datetimes are stored as ISO text)."""
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        with self.db.atomic():
            self.db.table("sessions").update(session_id, values)

    def log_session(self, session_id: int, kind: str, detail: str, at: datetime) -> None:
        """Append a line to the session's log (what happened, when)."""
        with self.db.atomic():
            self.db.table("session_log").insert(
                {"session_id": session_id, "at": iso(at), "kind": kind, "detail": detail}
            )

    def session_log(self, session_id: int) -> list[dict[str, Any]]:
        """The session's log lines, oldest first."""
        rows = self.db.table("session_log").rows_where(
            "session_id = ?", [session_id], order_by="id")
        return list(rows)

    def session_stats(self) -> dict[int, tuple[int, int]]:
        """Session id -> (public messages from participants, distinct participants)."""
        rows = self.db.execute(SESSION_STATS_SQL).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- items and the outbox ----------------------------------------------------------------

    def items(self, session_id: int) -> list[ItemRow]:
        """A session's scripted items in order, with where each went out."""
        posts: dict[str, list[dict[str, Any]]] = {}
        for p in self.db.table("posts").rows_where("session_id = ?", [session_id]):
            posts.setdefault(p["item_key"], []).append(p)
        out = []
        rows = self.db.table("items").rows_where(
            "session_id = ?", [session_id], order_by="position")
        for r in rows:
            sent = [p for p in posts.get(r["key"], []) if p["status"] == "sent"]
            out.append(
                ItemRow(
                    key=r["key"], number=r["number"], text=r["text"],
                    due_offset=r["due_offset"], status=r["status"],
                    posted_at=from_iso(r["posted_at"]),
                    refs={p["platform"]: p["platform_id"] for p in sent},
                    threads={p["platform"]: p["thread_id"] for p in sent if p["thread_id"]},
                )
            )
        return out

    def outbox(self, session_id: int, item_key: str) -> list[dict[str, Any]]:
        """The outbox rows (one per platform) of one item."""
        return list(
            self.db.table("posts").rows_where(
                "session_id = ? and item_key = ?", [session_id, item_key], order_by="platform"
            )
        )

    def post_owner(self, platform: str, platform_id: str) -> tuple[int, str] | None:
        """The (session, item) a platform's post was recorded as, if any.

        A post found on the platform after a crash must not be one already accounted for
        (last week's identical question, say).
        """
        row = self.db.execute(
            "select session_id, item_key from posts where platform = ? and platform_id = ? "
            "and status = 'sent' limit 1", [platform, platform_id],
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def shift_pending(self, session_id: int, seconds: float) -> None:
        """Move every item not yet out by `seconds` of script time (pause, extend)."""
        with self.db.atomic():
            self.db.execute(
                "update items set due_offset = due_offset + ? "
                "where session_id = ? and status in ('pending', 'failed')",
                [seconds, session_id],
            )

    def set_item_due(self, session_id: int, key: str, due_offset: float) -> None:
        """Move one item to a new script time."""
        with self.db.atomic():
            self.db.table("items").update((session_id, key), {"due_offset": due_offset})

    def set_item_status(
        self, session_id: int, key: str, status: str, posted_at: datetime | None = None
    ) -> None:
        """Set an item's status; skipping it also skips its unsent posts."""
        values: dict[str, Any] = {"status": status}
        if posted_at is not None:
            values["posted_at"] = iso(posted_at)
        with self.db.atomic():
            self.db.table("items").update((session_id, key), values)
            if status == "skipped":
                self.db.execute(
                    "update posts set status = 'skipped' where session_id = ? and item_key = ? "
                    "and status in ('pending', 'failed')",
                    [session_id, key],
                )

    def mark_sending(self, session_id: int, key: str, platform: str) -> None:
        """Recorded *before* the send: a crash after this point is reconciled on restart."""
        with self.db.atomic():
            self.db.execute(
                "update posts set status = 'sending', attempts = attempts + 1 "
                "where session_id = ? and item_key = ? and platform = ?",
                [session_id, key, platform],
            )

    def mark_sent(
        self, session_id: int, key: str, ref: PostRef, at: datetime, message: Message | None = None
    ) -> None:
        """Mark the outbox row sent and store the host's post as a message, atomically."""
        with self.db.atomic():
            self.db.table("posts").update(
                (session_id, key, ref.platform),
                {
                    "status": "sent", "platform_id": ref.id, "thread_id": ref.thread_id,
                    "url": ref.url, "sent_at": iso(at), "last_error": None,
                },
            )
            if message is not None:
                apply_events(
                    self.db, [Event("created", message.platform, message.id, at, message)],
                    session_id=session_id, host=True,
                )

    def mark_owed(self, session_id: int, key: str, platform: str, error: str) -> None:
        """Record that a post is held back by the platform (credits spent) and still owed."""
        with self.db.atomic():
            self.db.table("posts").update(
                (session_id, key, platform), {"status": "owed", "last_error": error[:500]}
            )

    def mark_failed(self, session_id: int, key: str, platform: str, error: str) -> None:
        """Record that a post failed on a platform (the error, cut to 500 characters)."""
        with self.db.atomic():
            self.db.table("posts").update(
                (session_id, key, platform), {"status": "failed", "last_error": error[:500]}
            )
