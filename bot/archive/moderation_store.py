"""SQL for moderation: events and the review queue, message state reads, and erasure.

Only `archive/` writes SQL; bot/moderation calls these functions. Moderation events store
offsets and a reason, never the matched text, so the moderation tables do not become a
second copy of the identifiers they exist to keep out of sight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.archive.records import dumps, iso
from bot.archive.schema import guard_erased
from bot.archive.store import Archive

__all__ = [
    "add_events", "anonymise_author", "author_message_keys", "close_events",
    "erasing", "event", "events_for_message", "message_state", "moderator_redacted",
    "open_events", "orphan_payloads",
    "payloads_naming", "remove_author", "rewrite_payloads", "set_state",
]

# -- message state ---------------------------------------------------------------------------

def message_state(archive: Archive, platform: str, message_id: str) -> dict[str, Any] | None:
    """The moderation-relevant columns of one message (held is not in StoredMessage)."""
    row = archive.db.execute(
        "select text, hidden, held, deleted, redacted_text, session_id, author_id, author_name, "
        "is_host, edited from messages where platform = ? and id = ?",
        [platform, message_id],
    ).fetchone()
    if row is None:
        return None
    keys = ("text", "hidden", "held", "deleted", "redacted_text", "session_id", "author_id",
            "author_name", "is_host", "edited")
    state = dict(zip(keys, row, strict=True))
    for flag in ("hidden", "held", "deleted", "is_host"):
        state[flag] = bool(state[flag])
    return state

# The largest rowid SQLite stores (a 64-bit signed integer): larger ids name no event.
MAX_ROWID = 2**63 - 1


def set_state(archive: Archive, platform: str, message_id: str, *, hidden: bool, held: bool,
              redacted_text: str | None) -> None:
    """Set all three moderation columns at once through Archive.set_moderation_state.

    That keeps public_text in step; passing every value avoids its partial-update defaults.
    """
    archive.set_moderation_state(
        platform, message_id, hidden=hidden, held=held, redacted_text=redacted_text,
        clear_redaction=redacted_text is None,
    )


# -- events ----------------------------------------------------------------------------------

def events_for_message(archive: Archive, platform: str, message_id: str) -> list[dict[str, Any]]:
    """Every moderation event of one message, oldest first."""
    return list(archive.db.table("moderation_events").rows_where(
        "platform = ? and message_id = ?", [platform, message_id], order_by="id"))


def moderator_redacted(archive: Archive, platform: str, message_id: str) -> bool:
    """Whether a moderator's redaction of the message stands.

    True when the last redact-or-restore decision a moderator made on it was redact
    (review.decide closes events as "redacted" or "restored" under the moderator's name).
    """
    row = archive.db.execute(
        "select status from moderation_events where platform = ? and message_id = ? "
        "and status in ('redacted', 'restored') and actor != 'bot' and decided_at is not null "
        "order by decided_at desc, id desc limit 1", [platform, message_id]).fetchone()
    return row is not None and row[0] == "redacted"


def add_events(archive: Archive, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert moderation events (spans given as a list, stored as JSON); returns their ids."""
    ids = []
    with archive.db.atomic():
        table = archive.db.table("moderation_events")
        for row in rows:
            values = dict(row)
            values["spans"] = dumps(values.get("spans") or [])
            values["at"] = iso(values["at"]) if isinstance(values["at"], datetime) else values["at"]
            table.insert(values)
            ids.append(int(table.last_pk))  # type: ignore[arg-type]
    return ids


def event(archive: Archive, event_id: int) -> dict[str, Any] | None:
    """One moderation event by id, or None (also for an id no SQLite integer can be)."""
    if not 0 < event_id <= MAX_ROWID:
        return None
    return next(archive.db.table("moderation_events").rows_where("id = ?", [event_id]), None)


def open_events(archive: Archive, session_id: int | None = None) -> list[dict[str, Any]]:
    """Open events with their message (text, author, state), oldest first."""
    # An event recorded before its message had a session (an import writing rows ahead of
    # their sessions, or an edit) is of the session its message has now.
    sql = (
        "select e.*, coalesce(e.session_id, m.session_id) as message_session, "
        "m.text as message_text, m.author_id, m.author_name, m.author_handle, "
        "m.hidden, m.held, m.deleted, m.redacted_text, m.public_text "
        "from moderation_events e left join messages m "
        "on m.platform = e.platform and m.id = e.message_id where e.status = 'open'"
    )
    args: list[Any] = []
    if session_id is not None:
        sql += " and coalesce(e.session_id, m.session_id) = ?"
        args.append(session_id)
    return list(archive.db.query(sql + " order by e.at, e.id", args))


def close_events(archive: Archive, platform: str, message_id: str, *, also: int | None,
                 status: str, actor: str, at: datetime) -> int:
    """Close every open event of a message (and event `also`, open or not)."""
    with archive.db.atomic():
        cur = archive.db.execute(
            "update moderation_events set status = ?, actor = ?, decided_at = ? "
            "where platform = ? and message_id = ? and (status = 'open' or id = ?)",
            [status, actor, iso(at), platform, message_id, also if also is not None else -1],
        )
        return cur.rowcount


# -- erasure ---------------------------------------------------------------------------------

def author_message_keys(archive: Archive, platform: str, author_id: str
                        ) -> list[tuple[str, int | None]]:
    """(message id, session id) of every message one author wrote on a platform."""
    return [
        (r[0], r[1]) for r in archive.db.execute(
            "select id, session_id from messages where platform = ? and author_id = ?",
            [platform, author_id],
        ).fetchall()
    ]


@contextmanager
def erasing(archive: Archive) -> Iterator[None]:
    """One write transaction for a whole erasure, with overwritten and freed space zeroed.

    Finding a person's rows and erasing them in one transaction leaves no moment for an
    import running beside it to write a message row in between.
    """
    archive.db.execute("pragma secure_delete = on")  # overwritten text is zeroed, not freed
    with archive.db.atomic():
        yield


def orphan_payloads(archive: Archive, platform: str) -> Iterator[tuple[str, str]]:
    """(id, raw) of each payload on `platform` that no message row names, in id order.

    An import writes payloads as it reads and each message row only once its session is
    known (bot/importers/held_rows.py): killed in between, or still running, it leaves
    these. Only ids are read first (through the key's index: no payload is read for the
    many payloads that have their message), then the orphans' payloads 500 at a time.
    """
    ids = [row[0] for row in archive.db.execute(
        "select r.id from message_raw r where r.platform = ? and not exists "
        "(select 1 from messages m where m.platform = r.platform and m.id = r.id) "
        "order by r.id", [platform])]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        yield from archive.db.execute(
            f"select id, raw from message_raw where platform = ? and raw is not null "
            f"and id in ({','.join('?' * len(chunk))}) order by id", [platform, *chunk])


def payloads_naming(archive: Archive, platform: str, needle: str) -> Iterator[tuple[str, str]]:
    """(id, raw) of each payload on `platform` whose JSON text holds `needle` (an author id).

    The candidates for scrubbing someone else's payload of a forgotten person: their id is
    in every copy a platform embeds (a user object, a mention, an AT URI). instr() reads each
    payload once in C; only the matches come back to Python.
    """
    yield from archive.db.execute(
        "select id, raw from message_raw where platform = ? and raw is not null "
        "and instr(raw, ?) > 0 order by id", [platform, needle])


def rewrite_payloads(archive: Archive, platform: str, rows: Sequence[tuple[str, Any]]) -> None:
    """Store (id, payload) rows back as their new JSON (within the caller's erasure)."""
    archive.db.conn.executemany(
        "update message_raw set raw = ? where platform = ? and id = ?",
        [(dumps(raw), platform, mid) for mid, raw in rows])


def _erase_orphans(archive: Archive, platform: str, ids: Sequence[str]) -> None:
    """Erase payloads found without a message, for good: no later write brings them back.

    Their keys go to erased_messages first (schema m007), so an import still running,
    or run again, inserts no message, payload or reach row under them. A message row
    written since they were found is the author's own and the caller's statements on the
    author's rows take it; its payload stays for them (nulled or deleted with it).
    """
    _remember_erased(archive, platform, ids)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        for table in ("message_raw", "message_reach"):
            archive.db.execute(
                f"delete from {table} where platform = ? and id in ({marks}) and not exists "
                f"(select 1 from messages m where m.platform = {table}.platform "
                f"and m.id = {table}.id)", [platform, *chunk])


def _remember_erased(archive: Archive, platform: str, ids: Sequence[str]) -> None:
    """Record erased keys (schema m007) and make sure the guard that keeps them out exists."""
    if ids:
        guard_erased(archive.db)
        archive.db.conn.executemany(
            "insert or ignore into erased_messages (platform, id) values (?, ?)",
            [(platform, mid) for mid in ids])


def _forget_common(archive: Archive, platform: str, ids: Iterable[str], author_id: str,
                   at: datetime) -> None:
    id_list = list(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start:start + 500]
        marks = ",".join("?" * len(chunk))
        # Edit history holds old text; event spans point into text that no longer exists.
        archive.db.execute(
            f"delete from message_edits where platform = ? and id in ({marks})", [platform, *chunk])
        archive.db.execute(
            f"update moderation_events set spans = '[]', "
            f"status = case when status = 'open' then 'done' else status end, "
            f"decided_at = coalesce(decided_at, ?) where platform = ? and message_id in ({marks})",
            [iso(at), platform, *chunk],
        )
    # The participant row goes whether or not a message row names them: an unfinished
    # import writes it with their payloads, before their messages.
    archive.db.execute("delete from participants where platform = ? and id = ?",
                       [platform, author_id])
    archive.db.execute("delete from participant_roles where platform = ? and author_id = ?",
                       [platform, author_id])


def authors_matching(archive: Archive, platform: str, who: str) -> list[tuple[str, str]]:
    """(author id, name) of everyone on `platform` whose id, display name or handle is `who`.

    Names and handles match without regard to case or a leading @.
    """
    bare = who.strip().lstrip("@")
    # Participants too: someone whose every message an unfinished import still holds has
    # a participant row and payloads, and no message row yet.
    rows = archive.db.execute(
        "select author_id, max(author_name) from ("
        "select author_id, author_name from messages where platform = ? and not is_host "
        "and (author_id = ? or lower(author_name) = lower(?) "
        "or lower(ltrim(coalesce(author_handle, ''), '@')) = lower(?)) "
        "union all select id, name from participants where platform = ? "
        "and (id = ? or lower(name) = lower(?) "
        "or lower(ltrim(coalesce(handle, ''), '@')) = lower(?))) group by author_id",
        [platform, who.strip(), who.strip(), bare] * 2,
    ).fetchall()
    return [(str(r[0]), str(r[1] or "")) for r in rows]


def scrub_after_erasure(archive: Archive) -> bool:
    """Leave no copy of erased text anywhere in the archive's files.

    Merges the full-text index (its old segments still hold every indexed word), then
    checkpoints and truncates the WAL (it holds the pages as they were); with secure_delete
    on, freed space is zeroed. Returns False when another connection kept the WAL from
    being emptied (a running bot reading).
    """
    archive.db.execute("insert into messages_fts(messages_fts) values('optimize')")
    busy, _log, _done = archive.db.execute("pragma wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def anonymise_author(archive: Archive, platform: str, author_id: str, *, new_id: str,
                     name: str, placeholder: str, at: datetime,
                     orphans: Sequence[str] = ()) -> int:
    """Keep the rows (so reply trees stay whole) with no text, name, handle or payload.

    `orphans`: ids of their payloads no message row names (see `orphan_payloads`); with
    no row to keep as a placeholder they are erased for good, as `remove_author` does.
    """
    archive.db.execute("pragma secure_delete = on")  # overwritten text is zeroed, not freed
    with archive.db.atomic():
        _erase_orphans(archive, platform, orphans)
        ids = [mid for mid, _ in author_message_keys(archive, platform, author_id)]
        archive.db.execute(
            "update message_raw set raw = null where platform = ? and id in "
            "(select id from messages where platform = ? and author_id = ?)",
            [platform, platform, author_id],
        )
        # A follower count says something about the person: gone with their name.
        archive.db.execute(
            "update message_reach set followers = null where platform = ? and id in "
            "(select id from messages where platform = ? and author_id = ?)",
            [platform, platform, author_id],
        )
        archive.db.execute(
            "update messages set text = ?, public_text = ?, redacted_text = null, "
            "author_id = ?, author_name = ?, author_handle = null, url = null "
            "where platform = ? and author_id = ?",
            [placeholder, placeholder, new_id, name, platform, author_id],
        )
        _forget_common(archive, platform, [*ids, *orphans], author_id, at)
    return len(ids)


def remove_author(archive: Archive, platform: str, author_id: str, *, at: datetime,
                  orphans: Sequence[str] = ()) -> int:
    """Delete an author's messages, their edit history and participant row; returns how many.

    The deleted keys are kept in erased_messages, with `orphans` (their payloads no message
    row names), so no re-import or replay writes them again.
    """
    archive.db.execute("pragma secure_delete = on")
    with archive.db.atomic():
        _erase_orphans(archive, platform, orphans)
        ids = [mid for mid, _ in author_message_keys(archive, platform, author_id)]
        _remember_erased(archive, platform, ids)
        archive.db.execute("delete from messages where platform = ? and author_id = ?",
                           [platform, author_id])
        _forget_common(archive, platform, [*ids, *orphans], author_id, at)
    return len(ids)
