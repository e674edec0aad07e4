"""What the public archive pages read: sessions, their counts and search, off the event loop.

`GET /archive` counted every message of the archive and `GET /archive/search` ranked every
match on the event loop's connection: one anonymous search for a word every message holds
stalled the live rooms 1.3 s on 92,000 messages (15.7 s on 920,000). Here each worker
thread of the pages reads through a read-only connection of its own (WAL lets it read
while the loop's connection writes), and a search is bounded by SQLite's own count of
the work it does (VM steps through the progress handler, no clock): past the budget,
ranking every match is given up for the newest matches, which FTS5 finds by walking its
index from the end and stopping at the limit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.archive.records import SessionRow, session_row
from bot.archive.search import SearchHit, search
from bot.archive.sessions import SESSION_STATS_SQL
from bot.archive.store import BUSY_TIMEOUT_MS

# Progress-handler calls (each every STEP_EVERY VM instructions) a search may make before
# it is stopped. Ranking costs about 15 instructions per matching message, so about
# 20,000 matches are ranked ("staff training" on the 92,000-message bench archive: 186
# calls, 0.05 s; all 920,000, what "nhssm" matches on the large one: 13,535 calls, 6 s);
# more are shown newest first, which takes a few calls however many match.
STEP_EVERY = 1000
SEARCH_BUDGET = 300


class SearchTooBroad(Exception):
    """Even the newest-first search ran out of budget: the person is asked for more words.

    That happens for a word in nearly every message, searched in a chat with few of them.
    """


@dataclass(frozen=True)
class Found:
    """A search's hits, and whether they are ranked by relevance or the newest matches."""

    hits: list[SearchHit]
    ranked: bool


class ArchiveReads:
    """A read-only connection for one worker thread of the public pages (not shared)."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True,
                                     check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def ended_sessions(self, chat_id: str | None) -> list[SessionRow]:
        """Sessions that have ended (of one chat, or all), in start order."""
        sql, args = "select * from sessions where status = 'ended'", []
        if chat_id:
            sql += " and chat_id = ?"
            args.append(chat_id)
        cur = self._conn.execute(sql + " order by scheduled_start, id", args)
        names = [d[0] for d in cur.description]
        return [session_row(dict(zip(names, row, strict=True))) for row in cur]

    def has_sessions(self, chat_id: str) -> bool:
        """Whether the archive holds any session of `chat_id` (a chat no longer loaded)."""
        return self._conn.execute("select exists(select 1 from sessions where chat_id = ?)",
                                  [chat_id]).fetchone()[0] == 1

    def session_stats(self) -> dict[int, tuple[int, int]]:
        """Session id -> (public messages from participants, distinct participants)."""
        return {r[0]: (r[1], r[2]) for r in self._conn.execute(SESSION_STATS_SQL)}

    def search(self, query: str, chat_id: str | None, limit: int = 50,
               budget: int | None = None) -> Found:
        """Ranked hits if ranking fits the budget, else the newest `limit` matches.

        `budget`: progress-handler calls allowed (SEARCH_BUDGET when None). Raises
        SearchTooBroad when neither fits.
        """
        budget = SEARCH_BUDGET if budget is None else budget
        for ranked in (True, False):
            spent = 0

            def step() -> int:
                nonlocal spent
                spent += 1
                return 1 if spent > budget else 0  # non-zero interrupts the statement

            self._conn.set_progress_handler(step, STEP_EVERY)
            try:
                hits = search(self._conn, query, chat_id=chat_id, limit=limit,
                              newest_first=not ranked)
                return Found(hits, ranked)
            except sqlite3.OperationalError as exc:
                if "interrupted" not in str(exc):
                    raise
            finally:
                self._conn.set_progress_handler(None, 0)
        raise SearchTooBroad(query)


__all__ = ["ArchiveReads", "Found", "SEARCH_BUDGET", "SearchTooBroad"]
