"""Message rows -> `StoredMessage` records, fast: the reads that load whole sessions.

A transcript or an import's attribution loads every message of a session (100,000 in a
big one). Going through sqlite-utils' dict rows and the frozen dataclass constructor costs
about 50 µs a message, more than reading the row itself; here each row is read as a plain
tuple and the record filled in one step (about 10 µs). The records are ordinary
`StoredMessage` instances, equal to what `stored_message` builds from the same row.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from bot.archive.records import StoredMessage

# The columns `message_from_values` expects, in its order.
COLUMNS = (
    "platform, id, session_id, author_id, author_name, author_handle, text, created, reply_to, "
    "thread_id, edited, deleted, hidden, held, redacted_text, reactions, is_host, url, kind, "
    "question, section, method, confidence, extra_questions"
)

_new = object.__new__
_from_iso = datetime.fromisoformat
_loads = orjson.loads
_intern = sys.intern


def message_from_values(values: tuple[Any, ...]) -> StoredMessage:
    """A StoredMessage from one row of `COLUMNS` (no raw payload)."""
    (platform, id_, session_id, author_id, author_name, author_handle, text, created,
     reply_to, thread_id, edited, deleted, hidden, held, redacted_text, reactions, is_host,
     url, kind, question, section, method, confidence, extra) = values
    # Names, sections and methods repeat on every row of an author or a session: one
    # string object each instead of one per row (about a tenth of a big session's memory).
    section, method = _intern(section or "unplaced"), _intern(method or "none")
    kind = _intern(kind or "message")
    author_name = _intern(author_name) if author_name else ""
    if author_id:
        author_id = _intern(author_id)
    if author_handle:
        author_handle = _intern(author_handle)
    msg = _new(StoredMessage)
    # The dataclass is frozen against changes after it is built, not against being built:
    # filling its __dict__ in one call is what its generated __init__ does field by field.
    msg.__dict__.update(
        platform=platform, id=id_, session_id=session_id, author_id=author_id,
        author_name=author_name, author_handle=author_handle, text=text or "",
        created=_from_iso(created), reply_to=reply_to, thread_id=thread_id,
        edited=_from_iso(edited) if edited else None, deleted=bool(deleted),
        hidden=bool(hidden or held), redacted_text=redacted_text, reactions=reactions or 0,
        is_host=bool(is_host), url=url, kind=kind, question=question, section=section,
        method=method, confidence=confidence or 0.0,
        extra_questions=() if extra in (None, "", "[]") else tuple(_loads(extra)), raw=None,
        # `key` is a cached_property: filled here, its (locking, on 3.11) first call is skipped.
        key=(platform, id_),
    )
    return msg


class Placing(NamedTuple):
    """What attribution reads of a stored message, and where the archive places it now.

    An import attributes every message of every session it rebuilds: this compact tuple
    (a third of a `StoredMessage`'s fields, built without a frozen dataclass) is all that
    needs, plus the stored placement to skip rows whose attribution does not change.
    """

    platform: str
    id: str
    key: tuple[str, str]
    text: str
    created: datetime
    reply_to: str | None
    thread_id: str | None
    is_host: bool
    question: int | None
    section: str
    method: str
    confidence: float
    extra_questions: tuple[int, ...]


# The columns `placing_from_values` expects, in its order (SQL does the defaults).
PLACING_COLUMNS = (
    "platform, id, coalesce(text, ''), created, reply_to, thread_id, is_host, question, "
    "coalesce(section, 'unplaced'), coalesce(method, 'none'), coalesce(confidence, 0.0), "
    "extra_questions"
)
_placing = Placing._make


def placing_from_values(values: tuple[Any, ...]) -> Placing:
    """A Placing from one row of `PLACING_COLUMNS`."""
    (platform, id_, text, created, reply_to, thread_id, is_host, question, section, method,
     confidence, extra) = values
    return _placing((
        platform, id_, (platform, id_), text, _from_iso(created), reply_to, thread_id,
        bool(is_host), question, section, method, confidence,
        () if extra in (None, "", "[]") else tuple(_loads(extra)),
    ))


def session_messages(conn: sqlite3.Connection, session_id: int) -> Iterator[StoredMessage]:
    """A session's messages in time order (created, platform, id), one row at a time."""
    cursor = conn.execute(
        f"select {COLUMNS} from messages where session_id = ? order by created, platform, id",
        [session_id],
    )
    return map(message_from_values, cursor)


def with_attribution(msg: StoredMessage, question: int | None, section: str, method: str,
                     confidence: float, extra_questions: tuple[int, ...]) -> StoredMessage:
    """A copy of `msg` placed as attribution says (what reading it back after saving gives)."""
    copy = _new(StoredMessage)
    copy.__dict__.update(msg.__dict__, question=question, section=section, method=method,
                         confidence=confidence, extra_questions=tuple(extra_questions))
    return copy


def placement(record: Any) -> tuple[Any, ...]:
    """Where a message (or an Attribution) places it: compare two to skip needless writes."""
    return (record.question, record.section, record.method, record.confidence,
            tuple(record.extra_questions))
