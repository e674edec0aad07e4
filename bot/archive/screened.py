"""An imported message's screening, written in the transaction that writes its row.

The importer judges each message as its row is built (bot/moderation/imported.py) and the
outcome rides in the row (`Batch` rows, at `SCREENED`): hidden, held, the masked text and
the moderation events. `insert_rows` writes the rows with the visible defaults and then,
in the same transaction, this: no imported message is ever visible unscreened, even to a
reader between two statements, and a kill at any point leaves either both or neither.

Like the live engine's `apply`, an event already recorded for the same message, check and
spans is not recorded again and changes nothing: importing the same file twice adds no
review item, and a moderator's decision (which closes the events) is never undone. A row the
archive already had with other text (an edit stored since) is left to the edit's screening.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.archive.messages import public_text
from bot.archive.store import Archive

__all__ = ["ACTOR", "SCREENED", "flagged", "record_screened"]

SCREENED = 29  # where a `Batch` row carries its screening (None: clean)
ACTOR = "import"  # the actor of the events an import records

_STATE = ("select text, hidden, held, deleted, redacted_text, is_host from messages "
          "where platform = ? and id = ?")
_EVENTS = ("select check_name, spans from moderation_events where platform = ? "
           "and message_id = ?")
_ADD_EVENT = ("insert into moderation_events (platform, message_id, session_id, check_name, "
              "action, spans, reason, status, actor, at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_SET_STATE = ("update messages set hidden = ?, held = ?, redacted_text = ?, public_text = ? "
              "where platform = ? and id = ?")


def flagged(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Of `Batch` rows, those whose screening found something, as `record_screened` takes them.

    Usually none of a batch. The events' time is the row's `received_at`.
    """
    return [(row[0], row[1], row[2], row[7], row[28], row[SCREENED]) for row in rows
            if len(row) > SCREENED and row[SCREENED] is not None]


def record_screened(archive: Archive, judged: Sequence[tuple[Any, ...]]) -> int:
    """Record the screening of messages just written; returns the events added.

    Each of `judged` is (platform, id, session id or None, the text judged, when (ISO),
    the screening). Runs inside the caller's transaction (see the module doc).
    """
    conn = archive.db.conn
    added = 0
    with archive.db.atomic():
        for platform, message_id, session_id, text, at, screening in judged:
            hidden, held, redacted, events = screening
            state = conn.execute(_STATE, [platform, message_id]).fetchone()
            if state is None or state[0] != text or state[5]:
                continue  # erased, edited since, or the host's: not this row's text to judge
            have = set(conn.execute(_EVENTS, [platform, message_id]).fetchall())
            new = [e for e in events if (e[0], e[2]) not in have]
            if not new:
                continue  # recorded before (a re-import): the decisions made since stand
            conn.executemany(_ADD_EVENT, [
                (platform, message_id, session_id, check, action, spans, reason, status,
                 ACTOR, at) for check, action, spans, reason, status in new])
            added += len(new)
            merged = {"text": text, "deleted": state[3], "hidden": int(bool(state[1]) or hidden),
                      "held": int(bool(state[2]) or held),
                      "redacted_text": redacted if redacted is not None else state[4]}
            conn.execute(_SET_STATE, [merged["hidden"], merged["held"], merged["redacted_text"],
                                      public_text(merged), platform, message_id])
    return added
