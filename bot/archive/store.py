"""The archive: the single source of truth. Only this package writes SQL.

Writes are batched inside one transaction (`db.atomic()`) and messages are upserted on
(platform, platform id), so a replayed or backfilled event is harmless. The payload as
received is kept beside the flattened row (twarc's rule: always keep the original).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlite_utils import Database

from bot.archive.records import ItemRow, SessionRow, StoredMessage
from bot.archive.schema import migrate
from bot.records import Event, Message, PostRef

log = logging.getLogger(__name__)


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


class Archive:
    """A handle on archive.db. Cheap to open; one per process is enough."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL: a crash loses nothing that was committed.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")  # the CLI may read while the bot writes
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    # -- chats -----------------------------------------------------------------------------

    def upsert_chat(
        self, *, chat_id: str, title: str, hashtag: str, timezone: str, path: str, digest: str,
        now: datetime,
    ) -> None:
        existing = self.db.table("chats").rows_where("id = ?", [chat_id])
        first_seen = next((r["first_seen"] for r in existing), None) or iso(now)
        with self.db.atomic():
            self.db.table("chats").upsert(
                {
                    "id": chat_id, "title": title, "hashtag": hashtag, "timezone": timezone,
                    "script_path": path, "script_hash": digest, "first_seen": first_seen,
                    "updated": iso(now),
                },
                pk="id",
            )

    def chat_first_seen(self, chat_id: str) -> datetime | None:
        row = next(self.db.table("chats").rows_where("id = ?", [chat_id]), None)
        return from_iso(row["first_seen"]) if row else None

    # -- sessions --------------------------------------------------------------------------

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
        """Create a session with its items and outbox rows. Idempotent for scheduled sessions:
        the same chat and start returns the existing session instead of a second one."""
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
        row = next(self.db.table("sessions").rows_where("occurrence = ?", [occurrence]), None)
        return _session(row) if row else None

    def session(self, session_id: int) -> SessionRow:
        row = next(self.db.table("sessions").rows_where("id = ?", [session_id]), None)
        if row is None:
            raise KeyError(f"no session {session_id}")
        return _session(row)

    def session_origin(self, session_id: int) -> datetime | None:
        row = self.db.execute("select origin from sessions where id = ?", [session_id]).fetchone()
        return from_iso(row[0]) if row else None

    def sessions(
        self, *, chat_id: str | None = None, statuses: Iterable[str] | None = None
    ) -> list[SessionRow]:
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
        return [_session(r) for r in rows]

    def update_session(self, session_id: int, **fields: Any) -> None:
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        with self.db.atomic():
            self.db.table("sessions").update(session_id, values)

    def log_session(self, session_id: int, kind: str, detail: str, at: datetime) -> None:
        with self.db.atomic():
            self.db.table("session_log").insert(
                {"session_id": session_id, "at": iso(at), "kind": kind, "detail": detail}
            )

    def session_log(self, session_id: int) -> list[dict[str, Any]]:
        rows = self.db.table("session_log").rows_where(
            "session_id = ?", [session_id], order_by="id")
        return list(rows)

    def session_stats(self) -> dict[int, tuple[int, int]]:
        """session id -> (public messages from participants, distinct participants)."""
        rows = self.db.execute(
            "select session_id, count(*), count(distinct platform || ':' || author_id) "
            "from messages where is_host = 0 and deleted = 0 and hidden = 0 "
            "and session_id is not null group by session_id"
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- items and the outbox ----------------------------------------------------------------

    def items(self, session_id: int) -> list[ItemRow]:
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
        return list(
            self.db.table("posts").rows_where(
                "session_id = ? and item_key = ?", [session_id, item_key], order_by="platform"
            )
        )

    def shift_pending(self, session_id: int, seconds: float) -> None:
        """Move every item not yet out by `seconds` of script time (pause, extend)."""
        with self.db.atomic():
            self.db.execute(
                "update items set due_offset = due_offset + ? "
                "where session_id = ? and status in ('pending', 'failed')",
                [seconds, session_id],
            )

    def set_item_due(self, session_id: int, key: str, due_offset: float) -> None:
        with self.db.atomic():
            self.db.table("items").update((session_id, key), {"due_offset": due_offset})

    def set_item_status(
        self, session_id: int, key: str, status: str, posted_at: datetime | None = None
    ) -> None:
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
                self._apply_events(
                    [Event("created", message.platform, message.id, at, message)],
                    session_id=session_id, host=True,
                )

    def host_echo(self, platform: str, text: str, since: datetime
                  ) -> tuple[str, str | None] | None:
        """The host's post of `text` on a platform since a time, if it reached the archive
        (id, thread): how a restart tells a post that went out from one that did not."""
        row = self.db.execute(
            "select id, thread_id from messages where platform = ? and text = ? "
            "and created >= ? and author_id = 'host' limit 1",
            [platform, text, iso(since)],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def moderation_counts(self, session_id: int) -> dict[str, int]:
        """How many of a session's messages were held, hidden, redacted or deleted."""
        row = self.db.execute(
            "select sum(held), sum(hidden), sum(redacted_text is not null), sum(deleted) "
            "from messages where session_id = ?", [session_id],
        ).fetchone()
        return {"held": row[0] or 0, "hidden": row[1] or 0, "redacted": row[2] or 0,
                "deleted": row[3] or 0}

    def mark_failed(self, session_id: int, key: str, platform: str, error: str) -> None:
        with self.db.atomic():
            self.db.table("posts").update(
                (session_id, key, platform), {"status": "failed", "last_error": error[:500]}
            )

    # -- messages --------------------------------------------------------------------------

    def record_events(
        self, events: Sequence[Event], *, session_id: int | None = None,
        chat_id: str | None = None, host: bool = False,
    ) -> int:
        """Store a batch of events in one transaction. Returns how many changed the archive.
        `host` marks them as the host's own posts (never screened, never a participant)."""
        if not events:
            return 0
        with self.db.atomic():
            return self._apply_events(events, session_id=session_id, chat_id=chat_id, host=host)

    def _apply_events(
        self,
        events: Sequence[Event],
        *,
        session_id: int | None,
        chat_id: str | None = None,
        host: bool = False,
    ) -> int:
        keys = {(e.platform, e.message_id) for e in events}
        existing = self._rows_by_key(keys)
        changed = 0
        upserts: dict[tuple[str, str], dict[str, Any]] = {}
        participants: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:
            key = (event.platform, event.message_id)
            row = upserts.get(key) or existing.get(key)
            new = _merge(row, event, session_id=session_id, chat_id=chat_id, host=host)
            if new is None:
                continue
            if row is not None and event.kind == "edited" and row.get("text") != new["text"]:
                self.db.table("message_edits").insert(
                    {"platform": key[0], "id": key[1], "at": iso(event.at),
                     "old_text": row.get("text"), "new_text": new["text"]}
                )
            upserts[key] = new
            changed += 1
            msg = event.message
            if msg is not None and not new["is_host"]:
                participants[(msg.platform, msg.author.id)] = {
                    "platform": msg.platform, "id": msg.author.id, "name": msg.author.name,
                    "handle": msg.author.handle, "last_seen": iso(msg.created),
                }
        if upserts:
            raws = [(k[0], k[1], row.pop("raw", None)) for k, row in upserts.items()]
            self.db.table("messages").upsert_all(upserts.values(), pk=("platform", "id"))
            self.db.conn.executemany(
                "insert into message_raw (platform, id, raw) values (?, ?, ?) "
                "on conflict(platform, id) do update set raw = excluded.raw", raws
            )
        if participants:
            self._upsert_participants(participants.values())
        return changed

    def _upsert_participants(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.db.execute(
                "insert into participants (platform, id, name, handle, first_seen, last_seen) "
                "values (:platform, :id, :name, :handle, :last_seen, :last_seen) "
                "on conflict(platform, id) do update set name = excluded.name, "
                "handle = excluded.handle, last_seen = max(last_seen, excluded.last_seen)",
                row,
            )

    def _rows_by_key(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        by_platform: dict[str, list[str]] = {}
        for platform, mid in keys:
            by_platform.setdefault(platform, []).append(mid)
        for platform, ids in by_platform.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                sql = (
                    f"select *, {RAW_COLUMN} from messages m where platform = ? and id in "
                    f"({','.join('?' * len(chunk))})"
                )
                for row in self.db.query(sql, [platform, *chunk]):
                    found[(row["platform"], row["id"])] = row
        return found

    def assign_session(self, session_id: int, chat_id: str, start: datetime, end: datetime,
                       platforms: Sequence[str]) -> int:
        """Claim unassigned messages of this chat's platforms posted inside the session window
        (what a backfill brought in after a gap)."""
        marks = ",".join("?" * len(platforms))
        with self.db.atomic():
            cur = self.db.execute(
                f"update messages set session_id = ? where session_id is null and chat_id = ? "
                f"and platform in ({marks}) and created >= ? and created <= ?",
                [session_id, chat_id, *platforms, iso(start), iso(end)],
            )
            return cur.rowcount

    def messages(self, session_id: int, *, include_raw: bool = False) -> list[StoredMessage]:
        cols = f"{MESSAGE_COLUMNS}, {RAW_COLUMN}" if include_raw else MESSAGE_COLUMNS
        rows = self.db.query(
            f"select {cols} from messages m where session_id = ? "
            "order by created, platform, id",
            [session_id],
        )
        return [stored_message(r) for r in rows]

    def participants_by_session(self, chat_id: str) -> dict[int, set[tuple[str, str]]]:
        """Who said anything (host aside) in each session of a chat, in one query."""
        out: dict[int, set[tuple[str, str]]] = {}
        for session_id, platform, author_id in self.db.execute(
            "select distinct m.session_id, m.platform, m.author_id from messages m "
            "join sessions s on s.id = m.session_id where s.chat_id = ? and m.is_host = 0",
            [chat_id],
        ):
            out.setdefault(session_id, set()).add((platform, author_id))
        return out

    def message(self, platform: str, message_id: str) -> StoredMessage | None:
        row = next(
            self.db.query(
                f"select {MESSAGE_COLUMNS}, {RAW_COLUMN} from messages m "
                "where platform = ? and id = ?", [platform, message_id]
            ),
            None,
        )
        return stored_message(row) if row else None

    def message_count(self, session_id: int) -> int:
        return self.db.execute(
            "select count(*) from messages where session_id = ?", [session_id]
        ).fetchone()[0]

    def save_attribution(self, session_id: int,
                         attributions: Mapping[tuple[str, str], Any]) -> None:
        """Store attribution results (objects with question/section/method/confidence)."""
        with self.db.atomic():
            self.db.conn.executemany(
                "update messages set question = ?, section = ?, method = ?, confidence = ?, "
                "extra_questions = ? where platform = ? and id = ?",
                [
                    (a.question, a.section, a.method, a.confidence,
                     dumps(list(a.extra_questions)), platform, mid)
                    for (platform, mid), a in attributions.items()
                ],
            )

    def set_moderation_state(
        self, platform: str, message_id: str, *, hidden: bool | None = None,
        held: bool | None = None, redacted_text: str | None = None, clear_redaction: bool = False,
    ) -> None:
        """Change what the public may see of a message; unnamed flags keep their stored value."""
        row = next(self.db.query(
            "select text, deleted, hidden, held, redacted_text from messages "
            "where platform = ? and id = ?", [platform, message_id]), None)
        if row is None:
            raise KeyError(f"no message {platform}:{message_id}")
        merged = dict(row)
        if hidden is not None:
            merged["hidden"] = int(hidden)
        if held is not None:
            merged["held"] = int(held)
        if redacted_text is not None:
            merged["redacted_text"] = redacted_text
        if clear_redaction:
            merged["redacted_text"] = None
        values = {k: merged[k] for k in ("hidden", "held", "redacted_text")}
        values["public_text"] = _public_text(merged)
        with self.db.atomic():
            self.db.table("messages").update((platform, message_id), values)

    def participants_before(self, chat_id: str, before: datetime) -> set[tuple[str, str]]:
        """Who took part in earlier sessions of this chat: for new vs returning."""
        rows = self.db.execute(
            "select distinct m.platform, m.author_id from messages m join sessions s "
            "on m.session_id = s.id where s.chat_id = ? and s.scheduled_start < ? "
            "and s.rehearsal = 0 and m.is_host = 0",
            [chat_id, iso(before)],
        )
        return {(r[0], r[1]) for r in rows}

    # -- cursors (backfill positions) ------------------------------------------------------

    def cursor(self, chat_id: str, platform: str) -> dict[str, str]:
        return {
            r["key"]: r["value"]
            for r in self.db.table("cursors").rows_where(
                "chat_id = ? and platform = ?", [chat_id, platform]
            )
        }

    def save_cursor(self, chat_id: str, platform: str, cursor: Mapping[str, str],
                    now: datetime) -> None:
        with self.db.atomic():
            self.db.table("cursors").upsert_all(
                (
                    {"chat_id": chat_id, "platform": platform, "key": k, "value": v,
                     "updated": iso(now)}
                    for k, v in cursor.items()
                ),
                pk=("chat_id", "platform", "key"),
            )

    # -- audit -----------------------------------------------------------------------------

    def audit(self, *, actor: str, action: str, target: str, detail: str, at: datetime) -> None:
        with self.db.atomic():
            self.db.table("audit_log").insert(
                {"at": iso(at), "actor": actor, "action": action, "target": target,
                 "detail": detail}
            )


MESSAGE_COLUMNS = (
    "platform, id, session_id, author_id, author_name, author_handle, text, created, reply_to, "
    "thread_id, edited, deleted, hidden, held, redacted_text, reactions, is_host, url, kind, "
    "question, section, method, confidence, extra_questions"
)
# A message's payload lives in message_raw (migration m003); select it as a column with
# the messages table aliased `m`.
RAW_COLUMN = (
    "(select r.raw from message_raw r where r.platform = m.platform and r.id = m.id) as raw"
)


def _public_text(row: Mapping[str, Any]) -> str:
    if row.get("deleted") or row.get("hidden") or row.get("held"):
        return ""
    redacted = row.get("redacted_text")
    return redacted if redacted is not None else (row.get("text") or "")


def _merge(
    row: dict[str, Any] | None,
    event: Event,
    *,
    session_id: int | None,
    chat_id: str | None,
    host: bool,
) -> dict[str, Any] | None:
    """Fold one event into the stored row. Never loses information: a replayed "created"
    does not undo a later edit, delete or moderation decision."""
    msg = event.message
    if row is None:
        if msg is None:
            # A delete or reaction for a message we never saw: nothing to attach it to.
            return None
        row = _row_from_message(msg, session_id=session_id, chat_id=chat_id, host=host)
        if event.kind == "deleted":
            row["deleted"], row["deleted_at"] = 1, iso(event.at)
        row["public_text"] = _public_text(row)
        return row
    row = dict(row)
    if session_id is not None and row.get("session_id") is None:
        row["session_id"] = session_id
    if chat_id is not None and row.get("chat_id") is None:
        row["chat_id"] = chat_id
    if host:
        row["is_host"] = 1
    if event.kind == "deleted":
        if row.get("deleted"):
            return None
        row["deleted"], row["deleted_at"] = 1, iso(event.at)
    elif event.kind == "reaction":
        if event.reactions is None or event.reactions == row.get("reactions"):
            return None
        row["reactions"] = event.reactions
    elif msg is not None:
        stored_edit = from_iso(row.get("edited"))
        incoming_edit = msg.edited or (event.at if event.kind == "edited" else None)
        newer = incoming_edit is not None and (stored_edit is None or incoming_edit > stored_edit)
        if event.kind == "created" and not newer:
            if msg.reactions and msg.reactions != row.get("reactions"):
                row["reactions"] = msg.reactions
            elif row.get("raw") and not host:
                return None  # a replay of what we have: harmless, nothing to write
        else:
            if row.get("text") == msg.text and not newer:
                return None
            row["text"] = msg.text
            row["edited"] = iso(incoming_edit)
            row["raw"] = dumps(msg.raw)
            if msg.reactions:
                row["reactions"] = msg.reactions
    row["public_text"] = _public_text(row)
    return row


def _row_from_message(
    msg: Message, *, session_id: int | None, chat_id: str | None, host: bool
) -> dict[str, Any]:
    return {
        "platform": msg.platform, "id": msg.id, "session_id": session_id, "chat_id": chat_id,
        "author_id": msg.author.id, "author_name": msg.author.name,
        "author_handle": msg.author.handle, "text": msg.text, "created": iso(msg.created),
        "reply_to": msg.reply_to, "thread_id": msg.thread_id, "channel_id": msg.channel_id,
        "edited": iso(msg.edited), "deleted": 0, "deleted_at": None, "hidden": 0, "held": 0,
        "redacted_text": None, "reactions": msg.reactions, "is_host": int(host),
        "url": msg.url, "kind": msg.kind, "question": None, "section": "unplaced",
        "method": "none", "confidence": 0.0, "extra_questions": "[]",
        "raw": dumps(msg.raw), "received_at": iso(datetime.now(tz=msg.created.tzinfo)),
    }


def _session(row: Mapping[str, Any]) -> SessionRow:
    return SessionRow(
        id=row["id"], chat_id=row["chat_id"], title=row["title"], hashtag=row["hashtag"],
        timezone=row["timezone"], scheduled_start=from_iso(row["scheduled_start"]),  # type: ignore[arg-type]
        duration_minutes=row["duration_minutes"], status=row["status"],
        rehearsal=bool(row["rehearsal"]), pace=row["pace"] or 1.0,
        platforms=tuple(orjson.loads(row["platforms"] or "[]")),
        started_at=from_iso(row["started_at"]), ended_at=from_iso(row["ended_at"]),
        host_name=row["host_name"] or "", tag_style=row["tag_style"] or "Q",
        joined_late=bool(row["joined_late"]), notes=row["notes"] or "",
    )


def stored_message(row: Mapping[str, Any]) -> StoredMessage:
    raw = row.get("raw")
    extra = row["extra_questions"]
    return StoredMessage(
        platform=row["platform"], id=row["id"], session_id=row["session_id"],
        author_id=row["author_id"], author_name=row["author_name"] or "",
        author_handle=row["author_handle"], text=row["text"] or "",
        created=datetime.fromisoformat(row["created"]), reply_to=row["reply_to"],
        thread_id=row["thread_id"], edited=from_iso(row["edited"]),
        deleted=bool(row["deleted"]), hidden=bool(row["hidden"] or row["held"]),
        redacted_text=row["redacted_text"], reactions=row["reactions"] or 0,
        is_host=bool(row["is_host"]), url=row["url"], kind=row["kind"] or "message",
        question=row["question"], section=row["section"] or "unplaced",
        method=row["method"] or "none", confidence=row["confidence"] or 0.0,
        extra_questions=(() if extra in (None, "", "[]") else tuple(orjson.loads(extra))),
        raw=orjson.loads(raw) if raw else None,
    )
