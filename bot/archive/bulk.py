"""The fast write path for imports: many new messages at once, near bare-INSERT speed.

It has the same meaning as `Archive.record_events` for "created" events.

`record_events` reads every row back before writing it (so a replay cannot undo a later
edit or moderation decision) and writes through sqlite-utils' generic upsert: right for the
live collector's batches of a few hundred, slow for a million archived tweets. Here the same
rules are expressed as one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` run by executemany:

- a message the archive lacks is inserted whole (its raw payload into message_raw);
- a message it has keeps everything (text, edits, moderation, attribution); only a missing
  chat id is filled in and a changed like count is taken, as `record_events` does;
- so importing the same file twice changes nothing, and the returned count is exactly the
  rows inserted or changed.

An import holds new rows until their session is known (bot/importers/held_rows.py) and
writes each once with its session and attribution (`attributed_row`, `insert_rows`); rows
of messages the archive already has, and rows past the holding bound, are written as read
and their sessions update them (`claim_and_read`, `attribute_into`).

Full-text search: the schema's update trigger re-indexes a row only when an indexed
column changes (migration m002), so the session and attribution columns an import sets on
every message afterwards cost no index work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson

from bot.archive.messages import PARTICIPANT_SEEN, apply_events
from bot.archive.records import iso
from bot.archive.rows import PLACING_COLUMNS, Placing, placing_from_values
from bot.archive.screened import flagged, record_screened
from bot.archive.store import Archive, checkpoint_every
from bot.records import Event, Message, PostRef

log = logging.getLogger(__name__)

_COLUMNS = (
    "platform", "id", "session_id", "chat_id", "author_id", "author_name", "author_handle",
    "text", "public_text", "created", "reply_to", "thread_id", "channel_id", "edited",
    "deleted", "deleted_at", "hidden", "held", "redacted_text", "reactions", "is_host", "url",
    "kind", "question", "section", "method", "confidence", "extra_questions", "received_at",
)
# What every `Batch` row holds in these columns, whoever made it: a new message is visible,
# not deleted, not held, not redacted, and not the host's; and its public text is its text.
# They are written as constants, and the text bound once for both columns, rather than
# bound row by row: binding is most of what a row costs Python on its way into SQLite
# (measured: 22 values a row instead of 29, the sessions' inserts a fifth faster).
_NEW_ROW = {"deleted": "0", "deleted_at": "NULL", "hidden": "0", "held": "0",
            "redacted_text": "NULL", "is_host": "0"}
_SAME_AS = {"public_text": "text"}
# The columns bound, by their place in a `Batch` row; numbered in this order (?1, ?2, ...).
_BOUND = tuple(i for i, column in enumerate(_COLUMNS)
               if column not in _NEW_ROW and column not in _SAME_AS)
_bound = itemgetter(*_BOUND)


def _value(column: str) -> str:
    """What the insert's VALUES say for `column`: a constant, or its bound parameter."""
    if column in _NEW_ROW:
        return _NEW_ROW[column]
    return f"?{_BOUND.index(_COLUMNS.index(_SAME_AS.get(column, column))) + 1}"


_INSERT = (
    f"insert into messages ({', '.join(_COLUMNS)}) "
    f"values ({', '.join(map(_value, _COLUMNS))}) "
    "on conflict(platform, id) do update set "
    "chat_id = coalesce(messages.chat_id, excluded.chat_id), "
    "reactions = case when excluded.reactions > 0 then excluded.reactions "
    "else messages.reactions end "
    "where (messages.chat_id is null and excluded.chat_id is not null) "
    "or (excluded.reactions > 0 and excluded.reactions != messages.reactions)"
)
# The payload goes beside the message (schema m003). A message the archive already has keeps
# its payload, or its lack of one after an erasure: never restored by a re-import.
_INSERT_RAW = (
    "insert into message_raw (platform, id, raw) values (?, ?, ?) "
    "on conflict(platform, id) do nothing"
)
# Reach (schema m006): like the payload, a message the archive has keeps what it has.
_INSERT_REACH = (
    "insert into message_reach (platform, id, followers, media) values (?, ?, ?, ?) "
    "on conflict(platform, id) do nothing"
)
# New rows (rowids above the batch's starting maximum) into the full-text index.
_INDEX_NEW = (
    'insert into "messages_fts" (rowid, "public_text", "author_name", "author_handle") '
    'select rowid, "public_text", "author_name", "author_handle" from messages where rowid > ?'
)


_dumps = orjson.dumps


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


class Batch:
    """New messages as the rows they become, built as the messages stream in.

    Each message is turned into its message row, payload row and participant row when it
    is added, so a batch holds compact tuples and one JSON string each, not the messages
    and their parsed payloads (a quarter of the memory, and the payload's objects are freed
    while the file is still being read). A message row is a new, visible, unattributed
    message in `_COLUMNS` order; each author is one participant row (first and last seen);
    a message with a follower count or media gets a message_reach row.
    """

    __slots__ = ("chat_id", "received_at", "rows", "raws", "participants", "reach")

    def __init__(self, chat_id: str | None, received_at: str | None = None) -> None:
        self.chat_id = chat_id
        self.received_at = received_at or datetime.now(UTC).isoformat()
        self.rows: list[tuple[Any, ...]] = []
        self.raws: list[tuple[str, str, str]] = []
        self.participants: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.reach: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, msg: Message, name: str | None = None, screened: Any = None) -> None:
        """One message's rows (the message itself is not kept).

        `name` is the author's name to show (default: as the platform sent it); `screened`
        the message's screening (bot/archive/screened.py), None when clean, kept at the
        row's end (`SCREENED`), past the columns.
        """
        author = msg.author
        name = author.name if name is None else name
        # The payload first: one nested too deep for JSON raises here, before this batch
        # holds any row of the message (the reader counts it as a bad line).
        raw = _dumps(msg.raw, default=str).decode()
        if author.followers is not None or msg.media:
            self.reach.append((msg.platform, msg.id, author.followers, msg.media))
        platform, seen = msg.platform, msg.created.isoformat()
        edited = msg.edited
        self.rows.append((
            platform, msg.id, None, self.chat_id, author.id, name, author.handle,
            msg.text, msg.text, seen, msg.reply_to, msg.thread_id, msg.channel_id,
            edited.isoformat() if edited is not None else None, 0, None, 0, 0, None,
            msg.reactions, 0, msg.url, msg.kind, None, "unplaced", "none", 0.0, "[]",
            self.received_at, screened,
        ))
        self.raws.append((platform, msg.id, raw))
        _seen(self.participants, platform, author.id, name, author.handle, seen)

    def without(self, keys: set[tuple[str, str]]) -> Batch:
        """This batch without the messages `keys` (platform, id), and authors left with none."""
        kept = Batch(self.chat_id, self.received_at)
        kept.rows = [row for row in self.rows if (row[0], row[1]) not in keys]
        kept.raws = [raw for raw in self.raws if (raw[0], raw[1]) not in keys]
        kept.reach = [reach for reach in self.reach if (reach[0], reach[1]) not in keys]
        for row in kept.rows:
            _seen(kept.participants, row[0], row[4], row[5], row[6], row[9])
        return kept


def _seen(participants: dict[tuple[str, str], tuple[Any, ...]], platform: str, author_id: str,
          name: str, handle: str | None, seen: str) -> None:
    """Note an author seen at `seen`: one participant row each, newest name, first and last.

    In any order: a file newest first lowers `first_seen` as it goes (see PARTICIPANT_SEEN).
    """
    key = (platform, author_id)
    old = participants.get(key)
    if old is None:
        participants[key] = (platform, author_id, name, handle, seen, seen)
    elif seen > old[5]:
        participants[key] = (platform, author_id, name, handle, old[4], seen)
    elif seen < old[4]:
        participants[key] = (*old[:4], seen, old[5])


def store_messages(archive: Archive, messages: Sequence[Message], *, chat_id: str | None) -> int:
    """Store participants' messages in one transaction; returns rows inserted or changed.

    Host posts do not come here: they go through `mark_sent` so the outbox knows them.
    """
    batch = Batch(chat_id)
    for msg in messages:
        batch.add(msg)
    return store_batch(archive, batch)


def store_batch(archive: Archive, batch: Batch, *,
                hold: list[tuple[Any, ...]] | None = None) -> int:
    """Write one batch in one transaction; returns rows inserted or changed.

    With `hold`, the message rows are appended to it instead of written: the importer
    writes them once their session and attribution are known (`insert_rows` with
    `attributed_row`), so each is written once, not inserted and then updated. Payloads,
    reach and participants do not depend on the session and are written now.
    """
    if not batch.rows:
        return 0
    conn = archive.db.conn
    with archive.db.atomic():
        erased = _erased(archive, batch.rows)
        if erased:
            # Messages someone asked to be forgotten (schema m007): the archive's guard
            # drops their rows, and their author must not come back as a participant.
            batch = batch.without(erased)
        changed = 0
        if hold is None:
            changed = insert_rows(archive, batch.rows)
        else:
            hold.extend(batch.rows)
        conn.executemany(_INSERT_RAW, batch.raws)
        conn.executemany(_INSERT_REACH, batch.reach)
        conn.executemany(PARTICIPANT_SEEN, batch.participants.values())
    return changed


def _erased(archive: Archive, rows: Sequence[tuple[Any, ...]]) -> set[tuple[str, str]]:
    """Keys of these `Batch` rows' messages that an erasure removed (usually none at all)."""
    conn = archive.db.conn
    platforms = {row[0] for row in rows}
    found: set[tuple[str, str]] = set()
    for platform in platforms:
        if conn.execute("select 1 from erased_messages where platform = ? limit 1",
                        [platform]).fetchone() is None:
            continue  # the usual case: one look-up per batch
        ids = [row[1] for row in rows if row[0] == platform]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update((platform, r[0]) for r in conn.execute(
                f"select id from erased_messages where platform = ? and id in "
                f"({','.join('?' * len(chunk))})", [platform, *chunk]))
    return found


def insert_rows(archive: Archive, rows: Sequence[tuple[Any, ...]]) -> int:
    """Message rows (`Batch` rows, attributed or not) in one transaction; rows inserted or changed.

    Written with `_NEW_ROW`'s constants: a `Batch` row holds them (a test keeps it so).
    """
    if not rows:
        return 0
    conn = archive.db.conn
    with archive.db.atomic():
        # Index the new rows in one statement instead of row by row through the insert
        # trigger: about 20 times less work for FTS5. The trigger is put back inside the
        # same transaction, so no other connection ever sees the table without it.
        trigger = conn.execute(
            "select sql from sqlite_master where type = 'trigger' and name = 'messages_ai'"
        ).fetchone()
        before = conn.execute("select coalesce(max(rowid), 0) from messages").fetchone()[0]
        if trigger is not None:
            conn.execute('DROP TRIGGER "messages_ai"')
        changed = conn.executemany(_INSERT, map(_bound, rows)).rowcount
        if trigger is not None:
            conn.execute(_INDEX_NEW, [before])
            conn.execute(trigger[0])
        # Screened in the same transaction: never visible unscreened (see screened.py).
        screened = flagged(rows)
        if screened:
            record_screened(archive, screened)
    return max(changed, 0)


def split_stored(archive: Archive, rows: Sequence[tuple[Any, ...]]
                 ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(rows of messages the archive has, rows of messages it lacks), each in input order."""
    platforms = {row[0] for row in rows}
    have: set[tuple[str, str]] = set()
    conn = archive.db.conn
    for platform in platforms:
        # An archive without this platform's messages (a first import) needs no look-up.
        if conn.execute("select 1 from messages where platform = ? limit 1",
                        [platform]).fetchone() is None:
            continue
        ids = sorted({row[1] for row in rows if row[0] == platform})
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            have.update(conn.execute(
                f"select platform, id from messages where platform = ? and id in "
                f"({','.join('?' * len(chunk))})", [platform, *chunk]).fetchall())
    if not have:
        return [], list(rows)
    return ([row for row in rows if (row[0], row[1]) in have],
            [row for row in rows if (row[0], row[1]) not in have])


def held_placing(row: tuple[Any, ...]) -> Placing:
    """What attribution reads of a message row not yet written (a `Batch` row)."""
    return placing_from_values((row[0], row[1], row[7] or "", row[9], row[10], row[11],
                                row[20], row[23], row[24], row[25], row[26], row[27]))


def attribution_values(a: Any) -> tuple[Any, ...]:
    """An attribution's stored columns: question, section, method, confidence, extras (JSON).

    `a` is any object with those attributes (an `Attribution`). The extra questions are
    stored as JSON text, "[]" when there are none.
    """
    extra = orjson.dumps(list(a.extra_questions)).decode() if a.extra_questions else "[]"
    return (a.question, a.section, a.method, a.confidence, extra)


def attributed_row(row: tuple[Any, ...], session_id: int, values: tuple[Any, ...]
                   ) -> tuple[Any, ...]:
    """A `Batch` row given its session and `attribution_values` (what `attribute_into` writes)."""
    return row[:2] + (session_id,) + row[3:23] + values + row[28:]


def record_host_posts(archive: Archive, session_id: int, chat_id: str,
                      sent: Sequence[tuple[str, PostRef, Message]], extra: Sequence[Message]
                      ) -> None:
    """An imported session's host posts: what `mark_sent` and `set_item_status` do per item.

    `sent` holds (item key, post, message) for each scripted item the host posted; `extra`
    the host's other posts (thanks, follow-ups). The same rows as those calls write, in
    three statements instead of a dozen per item (sqlite-utils looks the table up on every
    call): the outbox rows marked sent, the items marked sent when posted, and the posts
    stored as the host's messages, the scripted ones without a chat id as `mark_sent` stores
    them, the others with it. Runs inside the caller's transaction.
    """
    conn = archive.db.conn
    with archive.db.atomic():
        conn.executemany(
            "update posts set status = 'sent', platform_id = ?, thread_id = ?, url = ?, "
            "sent_at = ?, last_error = null where session_id = ? and item_key = ? "
            "and platform = ?",
            [(ref.id, ref.thread_id, ref.url, iso(msg.created), session_id, key, ref.platform)
             for key, ref, msg in sent])
        conn.executemany(
            "update items set status = 'sent', posted_at = ? where session_id = ? and key = ?",
            [(iso(msg.created), session_id, key) for key, _, msg in sent])
        for posts, chat in (([m for _, _, m in sent], None), (extra, chat_id)):
            if posts:
                apply_events(archive.db, [Event("created", m.platform, m.id, m.created, m)
                                          for m in posts],
                             session_id=session_id, chat_id=chat, host=True)


def claim_and_read(
    archive: Archive, session_id: int, chat_id: str, platforms: Sequence[str],
    start: datetime, end: datetime,
) -> tuple[list[Placing], dict[tuple[str, str], int], set[tuple[str, str]]]:
    """The session's messages plus the chat's unassigned ones inside [start, end], by rowid.

    What `publish.claim_window` followed by `Archive.messages` returns, as the session's,
    without writing anything yet, each message's rowid, and the keys of those claimed (not
    yet the session's). `attribute_into` then writes session and attribution together, so
    each row is rewritten once instead of twice.

    Rows are read as compact `Placing` tuples, only the columns attribution reads: a
    session of an import holds thousands of messages and this runs once per session.
    """
    marks = ",".join("?" * len(platforms))
    cols = f"rowid, session_id is null, {PLACING_COLUMNS}"
    cursor = archive.db.conn.execute(
        f"select {cols} from messages where session_id = ? "
        f"union all select {cols} from messages where session_id is null "
        f"and created >= ? and created <= ? and chat_id = ? and platform in ({marks}) "
        "order by created, platform, id",
        [session_id, _iso(start), _iso(end), chat_id, *platforms],
    )
    messages: list[Placing] = []
    rowids: dict[tuple[str, str], int] = {}
    claimed: set[tuple[str, str]] = set()
    for values in cursor:
        msg = placing_from_values(values[2:])
        messages.append(msg)
        rowids[msg.key] = values[0]
        if values[1]:
            claimed.add(msg.key)
    return messages, rowids, claimed


def attribute_into(
    archive: Archive, session_id: int, attributions: Mapping[Any, Any],
    rowids: Mapping[tuple[str, str], int],
) -> None:
    """Give each message its session and its attribution, found by rowid.

    Attributions are objects with question, section, method, confidence and
    extra_questions; one statement per message, found by rowid (from `claim_and_read`)
    rather than through the primary-key index. A row that is no longer that message (removed
    by another process since it was read, its rowid given to a new row) or that another
    session has taken since is left alone.
    """
    sql = (
        "update messages set session_id = ?, question = ?, section = ?, method = ?, "
        "confidence = ?, extra_questions = ? where rowid = ? and platform = ? and id = ? "
        "and (session_id is null or session_id = ?)"
    )
    with archive.db.atomic():
        archive.db.conn.executemany(sql, (
            (session_id, *attribution_values(a), rowids[key], *key, session_id)
            for key, a in attributions.items() if key in rowids
        ))


@contextmanager
def import_mode(archive: Archive, *, checkpoint_bytes: int = 64 << 20,
                cache_kib: int = 65536) -> Iterator[None]:
    """Bulk-load settings for the length of an import, restored afterwards.

    WAL checkpoints every 64 MB of log instead of every 1,000 pages, and a 64 MB page cache
    instead of 2 MB. With SQLite's default an import's big batches each end in a checkpoint
    that copies the log into the database and syncs both files; measured, a quarter of the
    import's time. Not checkpointing at all is worse for big files: the log then grows to
    several times the database and every page read searches its index (with 16 KiB pages,
    a log of 256 MB between checkpoints made the sessions' writing a fifth slower than
    64 MB; 16 to 64 MB measure alike). The threshold is in bytes because the archive's page
    size depends on when it was made (store.PAGE_SIZE). The bigger cache
    keeps the indexes' pages (authors, sessions, the full-text index) in memory while rows
    arrive in no useful order for them. Durability is unchanged (WAL, synchronous=NORMAL):
    a crash loses at most the batch being written, and importing again repairs that. Other
    connections (a running bot) keep their own settings.
    """
    db = archive.db
    checkpoint = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    checkpoint_every(db, checkpoint_bytes)
    db.execute(f"PRAGMA cache_size={-int(cache_kib)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")
        db.execute(f"PRAGMA cache_size={int(cache)}")
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def transaction(archive: Archive) -> Iterator[None]:
    """Many small archive writes as one commit (the archive's own calls nest inside)."""
    with archive.db.atomic():
        yield
