"""The reads a streamed transcript makes: a session's skeleton, then rows in batches.

A transcript of a million messages cannot hold a million `StoredMessage`s. It reads the
session once as small columns in time order (`skeleton_rows`: each public message's
position, its parent's position resolved here in SQL, who wrote it, where attribution
placed it), keeps those in arrays, and reads full rows back by rowid only for the batch a
renderer is walking (`messages_by_rowid`, without the parent's row: the skeleton already
says who wrote the parent). No SQL outside bot/archive/, as everywhere.

"Public" is what `bot.transcript.build` shows: not deleted, hidden or held, not a
retweet, not one of the host's scripted item posts (`post_keys`; those are headings).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from bot.archive.records import StoredMessage
from bot.archive.rows import (
    COLUMNS,
    PLACING_COLUMNS,
    Placing,
    message_from_values,
    placing_from_values,
)

_from_iso = datetime.fromisoformat

_REMOVED = "(coalesce({t}.deleted, 0) or coalesce({t}.hidden, 0) or coalesce({t}.held, 0))"
_POSTS = ("(select json_extract(value, '$[0]'), json_extract(value, '$[1]') "
          "from json_each(:posts))")
# Each public message of the session gets its position in session time order (the order
# `Archive.messages` reads) as the rowid of a temporary table, indexed by key, so that its
# parent's position is one index lookup. (A join on a CTE would scan it once per row.)
_PUB_TABLE = """
create temp table if not exists transcript_pub (
  i integer primary key, r integer not null, platform text not null, id text not null)
"""
_PUB_INDEX = "create index if not exists temp.transcript_pub_key on transcript_pub (platform, id)"
_PUB_FILL = f"""
insert into temp.transcript_pub (i, r, platform, id)
select row_number() over (order by m.created, m.platform, m.id) - 1, m.rowid, m.platform, m.id
from messages m
where m.session_id = :session and not {_REMOVED.format(t="m")}
  and coalesce(m.kind, 'message') != 'retweet'
  and (m.platform, m.id) not in {_POSTS}
"""
_SKELETON = f"""
select p.r, m.created, m.platform, m.author_id, coalesce(m.author_name, ''), m.author_handle,
       coalesce(m.is_host, 0), coalesce(m.section, 'unplaced'), m.question, m.extra_questions,
       coalesce(m.reactions, 0), m.redacted_text is not null,
       coalesce(m.redacted_text, m.text, ''),
       coalesce(q.i, -1),
       q.i is null and m.reply_to is not null and exists (
         select 1 from messages x where x.platform = m.platform and x.id = m.reply_to
         and x.session_id = :session and {_REMOVED.format(t="x")}),
       m.reply_to is not null and (m.platform, m.reply_to) not in {_POSTS},
       rr.followers, coalesce(rr.media, 0)
from temp.transcript_pub p join messages m on m.rowid = p.r
left join temp.transcript_pub q on q.platform = m.platform and q.id = m.reply_to
left join message_reach rr on rr.platform = m.platform and rr.id = m.id
order by p.i
"""


class Bone(NamedTuple):
    """One public message as the transcript's skeleton reads it (no whole record)."""

    ref: int  # where to read the full message back: a rowid, or a list position
    created: datetime
    platform: str
    author_id: str
    author_name: str
    author_handle: str | None
    is_host: bool
    section: str
    question: int | None
    extra_questions: tuple[int, ...]
    reactions: int
    redacted: bool
    text: str  # the public text: the redaction when there is one
    parent: int  # position of the public message it replies to, -1 for none
    parent_removed: bool  # it replies to a deleted or hidden message of the session
    replies_to_person: bool  # a reply to something other than a scripted item post
    followers: int | None
    media: int


def _extra(value: Any) -> tuple[int, ...]:
    return () if value in (None, "", "[]") else tuple(orjson.loads(value))


def _posts_param(post_keys: Collection[tuple[str, str]]) -> str:
    return orjson.dumps([list(k) for k in post_keys]).decode()


def _refill(conn: sqlite3.Connection, schema: tuple[str, ...], table: str, fill: str,
            params: Any) -> None:
    """Empty and fill one of the connection's temporary tables, committed at once.

    Python's sqlite3 opens a transaction by itself before a DELETE or INSERT, even into a
    temporary table, and leaves it open. The archive's later writes on this connection
    (attribution saved while a big session is published) would then be savepoints inside
    it, never committed and rolled back at close, and it would hold the write lock for the
    whole render. So the fill commits, unless the caller's own transaction was open.
    """
    ours = not conn.in_transaction
    for statement in schema:
        conn.execute(statement)
    conn.execute(f"delete from temp.{table}")
    conn.execute(fill, params)
    if ours:
        conn.commit()


def skeleton_rows(conn: sqlite3.Connection, session_id: int,
                  post_keys: Collection[tuple[str, str]]) -> Iterator[Bone]:
    """The session's public messages in time order (created, platform, id), as `Bone`s."""
    params = {"session": session_id, "posts": _posts_param(post_keys)}
    # Only the connection's own temporary database is written: no lock on the archive.
    _refill(conn, (_PUB_TABLE, _PUB_INDEX), "transcript_pub", _PUB_FILL, params)
    cursor = conn.execute(_SKELETON, params)
    make = Bone._make
    for row in cursor:
        (r, created, platform, author_id, name, handle, is_host, section, question, extra,
         reactions, redacted, text, parent, removed, to_person, followers, media) = row
        yield make((r, _from_iso(created), platform, author_id, name, handle, bool(is_host),
                    section, question, _extra(extra), reactions, bool(redacted), text, parent,
                    bool(removed), bool(to_person), followers, media))


def item_posts(conn: sqlite3.Connection, session_id: int,
               post_keys: Collection[tuple[str, str]]) -> list[StoredMessage]:
    """The public messages of the session that are the host's scripted item posts."""
    if not post_keys:
        return []
    cursor = conn.execute(
        f"select {COLUMNS} from messages m where m.session_id = :session "
        f"and not {_REMOVED.format(t='m')} and (m.platform, m.id) in {_POSTS} "
        "order by m.created, m.platform, m.id",
        {"session": session_id, "posts": _posts_param(post_keys)})
    return [message_from_values(v) for v in cursor]


def repost_count(conn: sqlite3.Connection, session_id: int,
                 post_keys: Collection[tuple[str, str]]) -> int:
    """Public retweets/reposts in the session (counted, never shown in the thread)."""
    row = conn.execute(
        f"select count(*) from messages m where m.session_id = :session "
        f"and not {_REMOVED.format(t='m')} and m.kind = 'retweet' "
        f"and (m.platform, m.id) not in {_POSTS}",
        {"session": session_id, "posts": _posts_param(post_keys)}).fetchone()
    return int(row[0])


def _in_given_order(conn: sqlite3.Connection, columns: str, rowids: Sequence[int],
                    make: Callable[[tuple[Any, ...]], Any]) -> list[Any]:
    """`make` of each (rowid, *columns) row of the messages with these rowids, in their order.

    SQLite returns them in rowid order (the cheapest read); the walk wants its own order.
    """
    wanted = orjson.dumps(list(rowids)).decode()
    found = {v[0]: v for v in conn.execute(
        f"select rowid, {columns} from messages "
        "where rowid in (select value from json_each(?))", [wanted])}
    return [make(found[r]) for r in rowids]


def messages_by_rowid(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[StoredMessage]:
    """The messages with these rowids, in that order (no join: the caller knows parents)."""
    return _in_given_order(conn, COLUMNS, rowids, lambda v: message_from_values(v[1:]))


def texts_by_rowid(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[str]:
    """The public text (the redaction when there is one) of each message, in that order."""
    return _in_given_order(conn, "coalesce(redacted_text, text, '')", rowids, itemgetter(1))


def ids_by_rowid(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[str]:
    """The platform id of each message with these rowids, in that order."""
    return _in_given_order(conn, "id", rowids, itemgetter(1))


def session_placings(conn: sqlite3.Connection, session_id: int) -> list[Placing]:
    """A session's messages as compact `Placing`s (what attribution reads), time order."""
    cursor = conn.execute(
        f"select {PLACING_COLUMNS} from messages where session_id = ? "
        "order by created, platform, id", [session_id])
    return [placing_from_values(v) for v in cursor]


# Every message of the session numbered in time order, for attribution in one pass.
_ALL_TABLE = """
create temp table if not exists session_order (
  i integer primary key, r integer not null, platform text not null, id text not null)
"""
_ALL_INDEX = "create index if not exists temp.session_order_key on session_order (platform, id)"
_ALL_FILL = """
insert into temp.session_order (i, r, platform, id)
select row_number() over (order by created, platform, id) - 1, rowid, platform, id
from messages where session_id = ?
"""
_IN_ORDER = """
select coalesce(q.i, -1), m.platform, m.id, coalesce(m.text, ''), m.created, m.reply_to,
       m.thread_id, m.is_host, m.question, coalesce(m.section, 'unplaced'),
       coalesce(m.method, 'none'), coalesce(m.confidence, 0.0), m.extra_questions
from temp.session_order p join messages m on m.rowid = p.r
left join temp.session_order q on q.platform = m.platform and q.id = m.reply_to
order by p.i
"""  # the columns of PLACING_COLUMNS, after the parent's position


def placings_in_order(conn: sqlite3.Connection, session_id: int
                      ) -> Generator[tuple[Placing, int], None, None]:
    """The session's messages in time order as `Placing`s, each with its parent's position.

    The position is the parent's place in this same order, -1 when the message replies to
    nothing of the session. Positions stay readable with `keys_at` until the next call.
    """
    _refill(conn, (_ALL_TABLE, _ALL_INDEX), "session_order", _ALL_FILL, [session_id])
    for values in conn.execute(_IN_ORDER):
        yield placing_from_values(values[1:]), values[0]


def keys_at(conn: sqlite3.Connection, positions: Iterable[int]) -> list[tuple[str, str]]:
    """(platform, id) of the messages at these positions of the last `placings_in_order`."""
    wanted = orjson.dumps(list(positions)).decode()
    return [(p, i) for p, i in conn.execute(
        "select platform, id from temp.session_order "
        "where i in (select value from json_each(?)) order by i", [wanted])]
