"""Messages in the archive: recording platform events and reading messages back.

Writes are batched inside one transaction (`db.atomic()`) and messages are upserted on
(platform, platform id), so a replayed or backfilled event is harmless. The payload as
received is kept beside the flattened row (twarc's rule: always keep the original).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.archive.records import StoredMessage, dumps, from_iso, iso, stored_message
from bot.archive.rows import COLUMNS, session_messages
from bot.records import Event, Message

# A participant row: (platform, id, name, handle, first_seen, last_seen). Their name and
# handle are those of their newest message, and first and last seen span all of them,
# whatever order messages come in: a twarc2 search is newest first, an import's batches
# end anywhere, an edit or a backfill arrives after newer messages.
PARTICIPANT_SEEN = (
    "insert into participants (platform, id, name, handle, first_seen, last_seen) "
    "values (?, ?, ?, ?, ?, ?) "
    "on conflict(platform, id) do update set "
    "name = case when excluded.last_seen > last_seen then excluded.name else name end, "
    "handle = case when excluded.last_seen > last_seen then excluded.handle else handle end, "
    "first_seen = min(coalesce(first_seen, excluded.first_seen), excluded.first_seen), "
    "last_seen = max(last_seen, excluded.last_seen)"
)

MESSAGE_COLUMNS = COLUMNS
# A message's payload lives in message_raw (migration m003); select it as a column with
# the messages table aliased `m`.
RAW_COLUMN = (
    "(select r.raw from message_raw r where r.platform = m.platform and r.id = m.id) as raw"
)


class MessageStore:
    """The archive's message methods; `Archive` mixes them in."""

    db: Database

    def record_events(
        self, events: Sequence[Event], *, session_id: int | None = None,
        chat_id: str | None = None, host: bool = False,
    ) -> int:
        """Store a batch of events in one transaction; returns how many changed the archive.

        `host` marks them as the host's own posts (never screened, never a participant).
        """
        if not events:
            return 0
        with self.db.atomic():
            return apply_events(
                self.db, events, session_id=session_id, chat_id=chat_id, host=host
            )

    def assign_session(self, session_id: int, chat_id: str, start: datetime, end: datetime,
                       platforms: Sequence[str]) -> int:
        """Claim unassigned messages of this chat's platforms posted in the session window.

        That is what a backfill brought in after a gap.
        """
        marks = ",".join("?" * len(platforms))
        with self.db.atomic():
            cur = self.db.execute(
                f"update messages set session_id = ? where session_id is null and chat_id = ? "
                f"and platform in ({marks}) and created >= ? and created <= ?",
                [session_id, chat_id, *platforms, iso(start), iso(end)],
            )
            return cur.rowcount

    def messages(self, session_id: int, *, include_raw: bool = False) -> list[StoredMessage]:
        """A session's messages in time order; with payloads only when asked (they are big)."""
        if not include_raw:  # the common, big read: plain tuples, no dict per row
            return list(session_messages(self.db.conn, session_id))
        cols = f"{MESSAGE_COLUMNS}, {RAW_COLUMN}"
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
        """One message with its payload, or None if the archive lacks it."""
        row = next(
            self.db.query(
                f"select {MESSAGE_COLUMNS}, {RAW_COLUMN} from messages m "
                "where platform = ? and id = ?", [platform, message_id]
            ),
            None,
        )
        return stored_message(row) if row else None

    def message_count(self, session_id: int) -> int:
        """How many messages (host posts and hidden ones included) a session holds."""
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
        values["public_text"] = public_text(merged)
        with self.db.atomic():
            self.db.table("messages").update((platform, message_id), values)

    def set_role(self, chat_id: str, platform: str, author_id: str, role: str,
                 at: datetime) -> None:
        """Record the role someone declares in a chat; "" takes it back."""
        with self.db.atomic():
            if role:
                self.db.execute(
                    "insert into participant_roles (chat_id, platform, author_id, role, "
                    "declared_at) values (?, ?, ?, ?, ?) on conflict (chat_id, platform, "
                    "author_id) do update set role = excluded.role, "
                    "declared_at = excluded.declared_at",
                    [chat_id, platform, author_id, role, iso(at)])
            else:
                self.db.execute("delete from participant_roles where chat_id = ? and "
                                "platform = ? and author_id = ?", [chat_id, platform, author_id])

    def roles(self, chat_id: str) -> dict[tuple[str, str], str]:
        """(platform, author id) -> the role they declared in this chat."""
        return {(r[0], r[1]): r[2] for r in self.db.execute(
            "select platform, author_id, role from participant_roles where chat_id = ?",
            [chat_id])}

    def role(self, chat_id: str, platform: str, author_id: str) -> str:
        """The role one participant declared in this chat, or "" (one indexed row)."""
        row = self.db.execute(
            "select role from participant_roles where chat_id = ? and platform = ? and "
            "author_id = ?", [chat_id, platform, author_id]).fetchone()
        return row[0] if row else ""

    def participants_before(self, chat_id: str, before: datetime) -> set[tuple[str, str]]:
        """Who took part in earlier sessions of this chat: for new vs returning."""
        rows = self.db.execute(
            "select distinct m.platform, m.author_id from messages m join sessions s "
            "on m.session_id = s.id where s.chat_id = ? and s.scheduled_start < ? "
            "and s.rehearsal = 0 and m.is_host = 0",
            [chat_id, iso(before)],
        )
        return {(r[0], r[1]) for r in rows}

    def host_echo(self, platform: str, texts: Sequence[str], since: datetime,
                  account_id: str | None = None) -> tuple[str, str | None] | None:
        """The bot's own post of one of `texts` on a platform since a time, as (id, thread).

        How a restart tells a post that went out from one that did not. The evidence is the
        platform's: a row marked as the host's, or one collected from the bot's own account
        (`account_id`) carrying the text as it was sent.
        """
        marks = ", ".join("?" for _ in texts) or "null"
        row = self.db.execute(
            f"select id, thread_id from messages where platform = ? and text in ({marks}) "
            "and created >= ? and (is_host = 1 or author_id = 'host' or author_id = ?) "
            "order by created limit 1",
            [platform, *texts, iso(since), account_id or "host"],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def reach(self, session_id: int) -> dict[tuple[str, str], tuple[int | None, int]]:
        """(platform, message id) -> (author's followers or None, media) for a session."""
        rows = self.db.execute(
            "select r.platform, r.id, r.followers, r.media from message_reach r join messages m "
            "on m.platform = r.platform and m.id = r.id where m.session_id = ?", [session_id])
        return {(p, i): (f, m or 0) for p, i, f, m in rows}

    def moderation_counts(self, session_id: int) -> dict[str, int]:
        """How many of a session's messages were held, hidden, redacted or deleted."""
        row = self.db.execute(
            "select sum(held), sum(hidden), sum(redacted_text is not null), sum(deleted) "
            "from messages where session_id = ?", [session_id],
        ).fetchone()
        return {"held": row[0] or 0, "hidden": row[1] or 0, "redacted": row[2] or 0,
                "deleted": row[3] or 0}


def apply_events(
    db: Database,
    events: Sequence[Event],
    *,
    session_id: int | None,
    chat_id: str | None = None,
    host: bool = False,
) -> int:
    """Fold events into the archive inside the caller's transaction; returns rows changed."""
    keys = {(e.platform, e.message_id) for e in events}
    existing = _rows_by_key(db, keys)
    # Erased for good (schema m007): the archive's guard would drop the rows anyway; left
    # out here, they are not counted as stored and their author is not recorded again.
    erased = _erased(db, keys)
    changed = 0
    upserts: dict[tuple[str, str], dict[str, Any]] = {}
    participants: list[tuple[Any, ...]] = []  # PARTICIPANT_SEEN rows
    reach: dict[tuple[str, str], tuple[str, str, int | None, int]] = {}
    for event in events:
        key = (event.platform, event.message_id)
        if key in erased:
            continue
        row = upserts.get(key) or existing.get(key)
        new = _merge(row, event, session_id=session_id, chat_id=chat_id, host=host)
        if new is None:
            continue
        if row is not None and event.kind == "edited" and row.get("text") != new["text"]:
            db.table("message_edits").insert(
                {"platform": key[0], "id": key[1], "at": iso(event.at),
                 "old_text": row.get("text"), "new_text": new["text"]}
            )
        upserts[key] = new
        changed += 1
        msg = event.message
        if msg is not None and (msg.author.followers is not None or msg.media):
            reach[key] = (key[0], key[1], msg.author.followers, msg.media)
        if msg is not None and not new["is_host"]:
            seen = iso(msg.created)
            participants.append((msg.platform, msg.author.id, msg.author.name,
                                 msg.author.handle, seen, seen))
    if upserts:
        raws = [(k[0], k[1], row.pop("raw", None)) for k, row in upserts.items()]
        db.table("messages").upsert_all(upserts.values(), pk=("platform", "id"))
        db.conn.executemany(
            "insert into message_raw (platform, id, raw) values (?, ?, ?) "
            "on conflict(platform, id) do update set raw = excluded.raw", raws
        )
    if participants:
        # Each applied in turn: the rule keeps the newest name and the span, in any order.
        db.conn.executemany(PARTICIPANT_SEEN, participants)
    if reach:
        # A later report keeps a known follower count when it has none of its own.
        db.conn.executemany(
            "insert into message_reach (platform, id, followers, media) values (?, ?, ?, ?) "
            "on conflict(platform, id) do update set followers = "
            "coalesce(excluded.followers, message_reach.followers), media = excluded.media",
            list(reach.values()),
        )
    return changed

def _erased(db: Database, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these keys `forget` erased for good (none, in almost every archive)."""
    if db.execute("select 1 from erased_messages limit 1").fetchone() is None:
        return set()
    found: set[tuple[str, str]] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 250):
        chunk = ordered[start:start + 250]
        found.update(db.execute(
            "select platform, id from erased_messages where " + " or ".join(
                ["(platform = ? and id = ?)"] * len(chunk)),
            [part for key in chunk for part in key]).fetchall())
    return found


def _rows_by_key(db: Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
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
            for row in db.query(sql, [platform, *chunk]):
                found[(row["platform"], row["id"])] = row
    return found

def public_text(row: Mapping[str, Any]) -> str:
    """What search and transcripts may show of a row: blank when deleted, hidden or held."""
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
    """Fold one event into the stored row; None when nothing changes.

    Never loses information: a replayed "created" does not undo a later edit, delete or
    moderation decision.
    """
    msg = event.message
    if row is None:
        if msg is None:
            # A delete or reaction for a message we never saw: nothing to attach it to.
            return None
        row = _row_from_message(msg, session_id=session_id, chat_id=chat_id, host=host)
        if event.kind == "deleted":
            row["deleted"], row["deleted_at"] = 1, iso(event.at)
        row["public_text"] = public_text(row)
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
    row["public_text"] = public_text(row)
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
