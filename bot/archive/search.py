"""Full-text search across every session's public messages.

People type hashtags and @names as they see them ("#NHSSM", "@jo"); both `#` and `@` mean
something to FTS5's query syntax, so each word is quoted as a phrase before it reaches
SQLite. The index holds only what the public may see (hidden, held and deleted messages
are blank in it, redactions are indexed redacted).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from bot.archive.store import Archive


@dataclass(frozen=True)
class SearchHit:
    """One matching public message, with the session it belongs to and a snippet."""

    session_id: int
    chat_id: str
    session_start: datetime
    rehearsal: bool
    platform: str
    message_id: str
    author_name: str
    created: datetime
    snippet: str  # public text around the matches, unmarked (masks such as "[... removed]" kept)
    question: int | None
    author_id: str = ""  # what `forget` and `certificate` take as PLATFORM:USER
    matches: tuple[tuple[int, int], ...] = ()  # [start, end) of each matched word in snippet


# SQLite marks the matched words with these: control characters nobody types, so a marker
# can never be confused with text such as a redaction mask "[phone number removed]".
_OPEN, _CLOSE = "\x02", "\x03"


def unmark(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet without its match markers, and where the matches are in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    start: int | None = None
    length = 0
    for ch in marked:
        if ch == _OPEN:
            start = length
        elif ch == _CLOSE:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            out.append(ch)
            length += 1
    return "".join(out), tuple(spans)


def query_words(text: str) -> list[str]:
    """The distinct words of a query, as FTS5 will look for them (case-folded, no # @ ")."""
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    seen: dict[str, str] = {}
    for word in text.split():
        bare = word.strip("#@\"'")
        if bare:
            seen.setdefault(bare.casefold(), bare)
    return list(seen.values())


def fts_query(text: str) -> str:
    """Quote each word so FTS5 treats it literally: `#NHSSM @jo` -> `"NHSSM" "jo"`.

    Control and format characters go first: a NUL ends FTS5's string early (a 500 once).
    A word typed twice is looked for once: FTS5 works through every phrase, so "nhssm"
    33 times took 2.5 s for what "nhssm" finds in 0.6 s.
    """
    return " ".join('"' + w.replace('"', '""') + '"' for w in query_words(text))


def search(archive: Archive | sqlite3.Connection, query: str, *, chat_id: str | None = None,
           limit: int = 50, newest_first: bool = False) -> list[SearchHit]:
    """Public messages of sessions matching the words of `query`, best match first.

    `archive` may be a connection of its own (the public pages read on a worker thread's).
    `newest_first` skips ranking: FTS5 then walks its index newest first and stops at
    `limit`, so the cost no longer grows with how many messages match.
    """
    match = fts_query(query)
    if not match:
        return []
    sql = (
        "select m.session_id, s.chat_id, s.scheduled_start, s.rehearsal, m.platform, m.id, "
        "m.author_name, m.created, m.question, "
        "snippet(messages_fts, 0, char(2), char(3), '…', 16) as snip, m.author_id "
        "from messages_fts join messages m on m.rowid = messages_fts.rowid "
        "join sessions s on s.id = m.session_id "
        "where messages_fts match ? and m.public_text != '' "
    )
    args: list[object] = [match]
    if chat_id:
        sql += "and s.chat_id = ? "
        args.append(chat_id)
    sql += "order by messages_fts.rowid desc limit ?" if newest_first else "order by rank limit ?"
    args.append(limit)
    conn = archive.db.conn if isinstance(archive, Archive) else archive
    hits = []
    for r in conn.execute(sql, args):
        snippet, spans = unmark(r[9] or "")
        hits.append(SearchHit(
            session_id=r[0], chat_id=r[1], session_start=datetime.fromisoformat(r[2]),
            rehearsal=bool(r[3]), platform=r[4], message_id=r[5], author_name=r[6] or "",
            created=datetime.fromisoformat(r[7]), question=r[8], snippet=snippet,
            matches=spans, author_id=r[10] or "",
        ))
    return hits
