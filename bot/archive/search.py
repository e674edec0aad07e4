"""Full-text search across every session's public messages.

People type hashtags and @names as they see them ("#NHSSM", "@jo"); both `#` and `@` mean
something to FTS5's query syntax, so each word is quoted as a phrase before it reaches
SQLite. The index holds only what the public may see (hidden, held and deleted messages
are blank in it, redactions are indexed redacted).
"""

from __future__ import annotations

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
    snippet: str  # public text, with [matches] marked by brackets
    question: int | None
    author_id: str = ""  # what `forget` and `certificate` take as PLATFORM:USER


def fts_query(text: str) -> str:
    """Quote each word so FTS5 treats it literally: `#NHSSM @jo` -> `"NHSSM" "jo"`."""
    words = []
    for word in text.split():
        bare = word.strip("#@\"'")
        if bare:
            words.append('"' + bare.replace('"', '""') + '"')
    return " ".join(words)


def search(archive: Archive, query: str, *, chat_id: str | None = None,
           limit: int = 50) -> list[SearchHit]:
    """Public messages of sessions matching the words of `query`, best match first."""
    match = fts_query(query)
    if not match:
        return []
    sql = (
        "select m.session_id, s.chat_id, s.scheduled_start, s.rehearsal, m.platform, m.id, "
        "m.author_name, m.created, m.question, "
        "snippet(messages_fts, 0, '[', ']', '…', 16) as snip, m.author_id "
        "from messages_fts join messages m on m.rowid = messages_fts.rowid "
        "join sessions s on s.id = m.session_id "
        "where messages_fts match ? and m.public_text != '' "
    )
    args: list[object] = [match]
    if chat_id:
        sql += "and s.chat_id = ? "
        args.append(chat_id)
    sql += "order by rank limit ?"
    args.append(limit)
    return [
        SearchHit(
            session_id=r[0], chat_id=r[1], session_start=datetime.fromisoformat(r[2]),
            rehearsal=bool(r[3]), platform=r[4], message_id=r[5], author_name=r[6] or "",
            created=datetime.fromisoformat(r[7]), question=r[8], snippet=r[9] or "",
            author_id=r[10] or "",
        )
        for r in archive.db.execute(sql, args)
    ]
