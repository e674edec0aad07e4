"""SQL for what a forgotten person leaves outside their messages: logs, actors, opt-ins.

Their messages, edits, payloads and participant rows are erased in moderation_store. The
same person also appears where the bot recorded what they *did*: the audit log (a refused
Discord command names them by id and name; a moderator's decision by actor), the session
log (a session control "by discord:NAME"), a moderation event's actor, and the cursors
table (a Discord reminder opt-in is keyed by their user id, so reminders kept @-mentioning
them). The fact that something happened stays; who did it becomes the one-way subject
token the erasure's own audit entry uses, and their names in that entry's words become
"former participant". Opt-ins are deleted: a forgotten person is never pinged again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.archive.store import Archive

__all__ = ["SCRUBBED_COLUMNS", "Traces", "leaves_traces", "names_of", "scrub_traces"]

# (table, key column, columns that may name a person) outside the message tables.
SCRUBBED_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("audit_log", "id", ("actor", "target", "detail")),
    ("session_log", "id", ("detail",)),
    ("moderation_events", "id", ("actor", "reason")),
)
FORMER_WORDS = "former participant"


@dataclass(frozen=True)
class Traces:
    """How many log rows were de-identified and opt-ins (cursor rows) deleted."""

    rows: int = 0
    optins: int = 0


def names_of(archive: Archive, platform: str, author_id: str) -> list[str]:
    """Every display name and handle `author_id` had on `platform` (read before erasing)."""
    rows = archive.db.execute(
        "select author_name, author_handle from messages where platform = ? and author_id = ? "
        "union select name, handle from participants where platform = ? and id = ?",
        [platform, author_id, platform, author_id]).fetchall()
    found = {str(v).strip() for row in rows for v in row if v and str(v).strip()}
    found |= {v.lstrip("@") for v in found if v.startswith("@") and len(v) > 1}
    return sorted(found, key=len, reverse=True)  # longest first: "Ann Lee" before "Ann"


def _namespaces(platform: str) -> list[str]:
    """(platform, LIKE pattern) for the cursor namespaces of one platform."""
    return [platform, platform.replace("_", "\\_").replace("%", "\\%") + "-%"]


def leaves_traces(archive: Archive, platform: str, author_id: str) -> bool:
    """Whether `author_id` is known only by what they did: an opt-in or an audited action.

    Someone who ran `/chat join`, or was refused a command, and never wrote a message has
    no message or participant row; `forget discord:ID` must still find them.
    """
    row = archive.db.execute(
        "select exists(select 1 from cursors where key = ? and (platform = ? or platform "
        "like ? escape '\\')) or exists(select 1 from audit_log where actor = ?)",
        [author_id, *_namespaces(platform), f"{platform}:{author_id}"]).fetchone()
    return bool(row[0])


def _token(text: str) -> str:
    # A whole word only: "Bo" must not be erased out of "Bob".
    return rf"(?<![\w@]){re.escape(text)}(?!\w)"


def _rewriter(platform: str, author_id: str, names: Sequence[str], subject: str
              ) -> tuple[re.Pattern[str], Callable[[str], str]]:
    """(is_about_them(value), rewrite(value)) for one person."""
    forms = [f"{platform}:{author_id}", *(f"{platform}:{n}" for n in names)]
    about = re.compile("|".join(_token(f) for f in forms), re.IGNORECASE)
    bare = [author_id, *names]
    words = re.compile("|".join(_token(b) for b in bare), re.IGNORECASE)

    def rewrite(value: str) -> str:
        value = about.sub(subject, value)
        # Their bare name or id only where the row is about them (checked by the caller).
        return words.sub(FORMER_WORDS, value)

    return about, rewrite


def scrub_traces(archive: Archive, platform: str, author_id: str, names: Iterable[str],
                 subject: str) -> Traces:
    """De-identify every log row about one person and delete their opt-ins.

    A row is about them when any of its columns names them as `platform:id` or
    `platform:NAME` (how the bot writes actors). In such a row every form of them, and
    their bare name, handle or id, is rewritten; other rows are left as they are. Runs
    inside the caller's erasure transaction.
    """
    names = list(names)
    about, rewrite = _rewriter(platform, author_id, names, subject)
    needles = [f"{platform}:{author_id}", *(f"{platform}:{n}" for n in names)]
    changed = 0
    for table, key, columns in SCRUBBED_COLUMNS:
        where = " or ".join(f"instr(lower(coalesce({c}, '')), lower(?)) > 0"
                            for c in columns for _ in needles)
        args = [n for _ in columns for n in needles]
        rows = archive.db.execute(
            f"select {key}, {', '.join(columns)} from {table} where {where}", args).fetchall()
        updates = []
        for row in rows:
            values = [str(v) if v is not None else None for v in row[1:]]
            if not any(v is not None and about.search(v) for v in values):
                continue
            updates.append([*(rewrite(v) if v is not None else None for v in values), row[0]])
        if updates:
            sets = ", ".join(f"{c} = ?" for c in columns)
            archive.db.conn.executemany(
                f"update {table} set {sets} where {key} = ?", updates)
            changed += len(updates)
    # Cursor namespaces are the platform's name or start with it ("discord-optins"); a
    # person's key there is their user id, which names no channel, message or event.
    optins = archive.db.execute(
        "delete from cursors where key = ? and (platform = ? or platform like ? escape '\\')",
        [author_id, *_namespaces(platform)]).rowcount
    return Traces(changed, optins)
